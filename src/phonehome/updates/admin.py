"""``/api/v1/updates/``: rules (approve, reset, restore, remove), test devices, firmware, inventory."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from phonehome.admin.deps import AdminActor, current_admin, get_service
from phonehome.fleet.service import DeviceView
from phonehome.updates.checkin import CheckInService
from phonehome.updates.importer import FirmwareImporter, PruneResult
from phonehome.updates.service import RuleView, TestDeviceView, UpdateService

router = APIRouter(prefix="/api/v1/updates", tags=["updates"])
Updates = Annotated[UpdateService, Depends(get_service(UpdateService))]
Importer = Annotated[FirmwareImporter, Depends(get_service(FirmwareImporter))]
CheckIns = Annotated[CheckInService, Depends(get_service(CheckInService))]
SignedIn = [Depends(current_admin)]


class TestDeviceIn(BaseModel):
    mac: str | None = None
    serial: str | None = None
    site: str | None = None
    name: str = ""

    __test__ = False


class ImageOut(BaseModel):
    name: str
    version: str
    min_from: str | None
    size: int
    imported_at: dt.datetime


class SampleOut(BaseModel):
    model_key: str
    received_at: dt.datetime
    content_type: str
    user_agent: str
    body: str  # UTF-8, undecodable bytes replaced


class PruneOut(BaseModel):
    images: list[str]
    blobs: int


@router.get("/rules", response_model=list[RuleView], dependencies=SignedIn)
async def list_rules(updates: Updates) -> list[RuleView]:
    return await updates.list_rules()


@router.post("/rules/{action}/{rule:path}", response_model=RuleView)
async def change_rule(
    updates: Updates, actor: AdminActor, action: Literal["approve", "reset", "restore"], rule: str
) -> RuleView:
    """Approve-, Reset- or Restore-CsDeviceUpdateRule; ``rule`` is its id or UCPhone/Brand/Model/Rev/Locale."""
    step = {"approve": updates.approve, "reset": updates.reset, "restore": updates.restore}[action]
    return await step(actor, rule)


@router.get("/rules/{rule:path}", response_model=RuleView, dependencies=SignedIn)
async def get_rule(updates: Updates, rule: str) -> RuleView:
    return await updates.get_rule(rule)


@router.delete("/rules/{rule:path}", status_code=204)
async def remove_rule(updates: Updates, actor: AdminActor, rule: str) -> None:
    await updates.remove(actor, rule)


@router.get("/test-devices", response_model=list[TestDeviceView], dependencies=SignedIn)
async def list_test_devices(updates: Updates) -> list[TestDeviceView]:
    return await updates.list_test_devices()


@router.post("/test-devices", response_model=TestDeviceView, status_code=201)
async def add_test_device(updates: Updates, actor: AdminActor, body: TestDeviceIn) -> TestDeviceView:
    return await updates.add_test_device(
        actor, mac=body.mac, serial=body.serial, site=body.site, name=body.name
    )


@router.delete("/test-devices", status_code=204)
async def remove_test_device(
    updates: Updates,
    actor: AdminActor,
    mac: str | None = None,
    serial: str | None = None,
    site: str | None = None,
) -> None:
    await updates.remove_test_device(actor, mac=mac, serial=serial, site=site)


@router.get("/devices", response_model=list[DeviceView], dependencies=SignedIn)
async def list_devices(updates: Updates, behind: bool = False, model: str | None = None) -> list[DeviceView]:
    return await updates.devices(behind=behind, model=model)


@router.get("/firmware", response_model=list[ImageOut], dependencies=SignedIn)
async def list_firmware(importer: Importer) -> list[ImageOut]:
    return [
        ImageOut(name=n, version=v, min_from=m, size=s, imported_at=t)
        for n, v, m, s, t in await importer.list_images()
    ]


@router.post("/firmware/prune", response_model=PruneOut)
async def prune_firmware(importer: Importer, actor: AdminActor) -> PruneResult:
    return await importer.prune(actor)


@router.get("/checkin-samples", response_model=list[SampleOut], dependencies=SignedIn)
async def checkin_samples(checkins: CheckIns, model: str | None = None, limit: int = 100) -> list[SampleOut]:
    """Raw ucdevice.upx bodies, a bounded number per Vendor/Model: what a real phone really sends."""
    return [
        SampleOut(
            model_key=s.model_key,
            received_at=s.received_at,
            content_type=s.content_type,
            user_agent=s.user_agent,
            body=s.body.decode("utf-8", errors="replace"),
        )
        for s in await checkins.samples(model, min(limit, 1000))
    ]
