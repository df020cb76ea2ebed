"""Device Updater pages of the admin UI: rules (approve, reset, restore, remove with a confirmation that
says what phones will do), firmware upload with a per-image result, test devices.

The same service calls as ``/api/v1/updates/`` and ``phonehome rules|firmware|test-devices``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from phonehome.admin.deps import get_service
from phonehome.admin.web import CheckedForm, NavItem, PageUser, object_changes, page_actor, render
from phonehome.changelog import Actor
from phonehome.errors import BadRequest
from phonehome.fleet.service import FleetService
from phonehome.runtime import Runtime
from phonehome.updates import rules
from phonehome.updates.consequences import ACTIONS, consequence
from phonehome.updates.errors import RuleStateConflict
from phonehome.updates.importer import FirmwareImporter
from phonehome.updates.rules import RuleState
from phonehome.updates.service import RuleView, UpdateService

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Device Updater", "/updates/")]

router = APIRouter(prefix="/updates", include_in_schema=False)
Updates = Annotated[UpdateService, Depends(get_service(UpdateService))]
Importer = Annotated[FirmwareImporter, Depends(get_service(FirmwareImporter))]
Fleet = Annotated[FleetService, Depends(get_service(FleetService))]
PageActor = Annotated[Actor, Depends(page_actor)]
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _state(rule: RuleView) -> RuleState:
    return RuleState(rule.approved_version, rule.pending_version, rule.restore_version, rule.restored)


def _field(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


async def _running(fleet: FleetService, rule: RuleView) -> dict[str, int]:
    """Firmware version → known phones of this rule on it."""
    key = rule.name.lower()
    counts: Counter[str] = Counter()
    for d in await fleet.list(model=rule.model):
        parts = (d.device_type or "UCPhone", d.brand, d.model, d.revision, d.locale)
        if "/".join(parts).lower() == key:
            counts[d.version or "unknown"] += 1
    return dict(counts)


# -- rules ------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def rule_list(request: Request, user: PageUser, updates: Updates) -> HTMLResponse:
    context = {"rules": await updates.list_rules(), "done": request.query_params.get("done", "")}
    return render(request, "updater-rules.html", context)


@router.get("/rules/{rule_id}/", response_class=HTMLResponse)
async def rule_page(
    request: Request, user: PageUser, updates: Updates, fleet: Fleet, rule_id: str
) -> HTMLResponse:
    rule = await updates.get_rule(rule_id)
    context = {
        "rule": rule,
        "running": sorted((await _running(fleet, rule)).items()),
        "possible": [a for a in ACTIONS if _allowed(a, _state(rule))],
        "changes": await object_changes(request, "update_rule", rule.name),
    }
    return render(request, "updater-rule.html", context)


def _allowed(action: str, state: RuleState) -> bool:
    if action == "remove":
        return True
    try:
        rules.apply(state, action)  # type: ignore[arg-type]
    except rules.InvalidTransition:
        return False
    return True


@router.get("/rules/{rule_id}/{action}", response_class=HTMLResponse)
async def confirm(
    request: Request, user: PageUser, updates: Updates, fleet: Fleet, rule_id: str, action: str
) -> HTMLResponse:
    if action not in ACTIONS:
        raise BadRequest(f"unknown rule action {action[:20]!r}; one of {', '.join(ACTIONS)}")
    rule = await updates.get_rule(rule_id)
    try:
        text = consequence(action, rule.name, _state(rule), await _running(fleet, rule))
    except rules.InvalidTransition as exc:
        raise RuleStateConflict(f"{action} {rule.name}: {exc}") from None
    return render(request, "updater-confirm.html", {"rule": rule, "action": action, "consequence": text})


@router.post("/rules/{rule_id}/{action}")
async def change_rule(
    form: CheckedForm, actor: PageActor, updates: Updates, rule_id: str, action: str
) -> Response:
    steps = {"approve": updates.approve, "reset": updates.reset, "restore": updates.restore}
    if action == "remove":
        rule = await updates.get_rule(rule_id)
        await updates.remove(actor, rule_id)
        return RedirectResponse(f"/updates/?done={quote(f'{rule.name}: removed')}", status_code=303)
    if action not in steps:
        raise BadRequest(f"unknown rule action {action[:20]!r}; one of {', '.join(ACTIONS)}")
    changed = await steps[action](actor, rule_id)
    return RedirectResponse(f"/updates/rules/{quote(changed.id)}/", status_code=303)


# -- firmware ---------------------------------------------------------------------------------------


@router.get("/firmware/", response_class=HTMLResponse)
async def firmware(request: Request, user: PageUser, importer: Importer) -> HTMLResponse:
    return render(request, "updater-firmware.html", {"images": await importer.list_images(), "result": None})


@router.post("/firmware/", response_class=HTMLResponse)
async def upload(request: Request, form: CheckedForm, actor: PageActor, importer: Importer) -> HTMLResponse:
    """A UCUpdates.cab / .exe from the browser: stored as a file, then imported as the CLI imports it."""
    package = form.get("package")
    if not isinstance(package, UploadFile) or not package.filename:
        raise BadRequest("choose a UCUpdates.cab or UCUpdates.exe to upload")
    runtime: Runtime = request.app.state.runtime
    runtime.paths.run.mkdir(parents=True, exist_ok=True)
    name = _UNSAFE_NAME.sub("_", Path(package.filename).name)[:100] or "package.cab"
    with tempfile.TemporaryDirectory(dir=runtime.paths.run, prefix="upload-") as scratch:
        path = Path(scratch) / name
        await asyncio.to_thread(_save, package, path)
        result = await importer.import_files(actor, [path])
    context = {"images": await importer.list_images(), "result": result, "package": name}
    return render(request, "updater-firmware.html", context)


def _save(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


# -- test devices -----------------------------------------------------------------------------------


@router.get("/test-devices/", response_class=HTMLResponse)
async def test_devices(request: Request, user: PageUser, updates: Updates) -> HTMLResponse:
    context = {
        "devices": await updates.list_test_devices(),
        "sites": sorted(updates.settings.sites),
        "changes": await object_changes(request, "test_device", ""),
    }
    return render(request, "updater-test-devices.html", context)


@router.post("/test-devices/")
async def add_test_device(form: CheckedForm, actor: PageActor, updates: Updates) -> Response:
    kind, value = _field(form, "kind"), _field(form, "identifier")
    await updates.add_test_device(
        actor,
        mac=value if kind == "mac" else None,
        serial=value if kind == "serial" else None,
        site=_field(form, "site") or None,
        name=_field(form, "name"),
    )
    return RedirectResponse("/updates/test-devices/", status_code=303)


@router.post("/test-devices/remove")
async def remove_test_device(form: CheckedForm, actor: PageActor, updates: Updates) -> Response:
    kind, value = _field(form, "kind"), _field(form, "identifier")
    await updates.remove_test_device(
        actor,
        mac=value if kind == "mac" else None,
        serial=value if kind == "serial" else None,
        site=_field(form, "site") or None,
    )
    return RedirectResponse("/updates/test-devices/", status_code=303)
