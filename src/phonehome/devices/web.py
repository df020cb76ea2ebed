"""Device pages of the admin UI: the filtered list (CSV export) and a page per device with tabs.

The tabs follow NetBox's detail views: check-ins (from the audit log), offers, backups, changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phonehome.admin.deps import get_service
from phonehome.admin.web import NavItem, PageUser, render
from phonehome.db import utcnow
from phonehome.devices.filters import DeviceFilter, render_csv
from phonehome.devices.service import DevicesService, Listed

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Devices", "/devices/")]
TABS = [
    ("", "Check-ins"),
    ("offers/", "Offers"),
    ("backups/", "Backups"),
    ("certificates/", "Certificates"),
    ("changelog/", "Change log"),
]

router = APIRouter(prefix="/devices", include_in_schema=False)
Devices = Annotated[DevicesService, Depends(get_service(DevicesService))]


@router.get("/", response_model=None)
async def device_list(request: Request, user: PageUser, devices: Devices) -> Response:
    wanted = DeviceFilter.from_query(request.query_params)
    found = await devices.find(wanted)
    if request.query_params.get("export") == "csv":
        return Response(
            render_csv(d.device for d in found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="phonehome-devices.csv"'},
        )
    context = {"devices": found, "filter": wanted, "csv": "?" + wanted.query(export="csv"), "now": utcnow()}
    return render(request, "device-list.html", context)


def _tab(request: Request, listed: Listed, tab: str, **extra: object) -> HTMLResponse:
    context = {"d": listed.device, "listed": listed, "tabs": TABS, "tab": tab, **extra}
    return render(request, f"device-{tab.rstrip('/') or 'checkins'}.html", context)


@router.get("/{device_id}/", response_class=HTMLResponse)
async def check_ins(request: Request, user: PageUser, devices: Devices, device_id: int) -> HTMLResponse:
    listed = await devices.get(device_id)
    records = await devices.check_ins(listed.device)
    return _tab(request, listed, "", records=records)


@router.get("/{device_id}/offers/", response_class=HTMLResponse)
async def offers(request: Request, user: PageUser, devices: Devices, device_id: int) -> HTMLResponse:
    listed = await devices.get(device_id)
    records = [r for r in await devices.check_ins(listed.device) if r.response_modules]
    return _tab(request, listed, "offers/", records=records)


@router.get("/{device_id}/backups/", response_class=HTMLResponse)
async def backups(request: Request, user: PageUser, devices: Devices, device_id: int) -> HTMLResponse:
    listed = await devices.get(device_id)
    return _tab(request, listed, "backups/", files=await devices.backup_files(listed.device))


@router.get("/{device_id}/certificates/", response_class=HTMLResponse)
async def certificates(request: Request, user: PageUser, devices: Devices, device_id: int) -> HTMLResponse:
    listed = await devices.get(device_id)
    found = await devices.certificates(listed.device)
    return _tab(request, listed, "certificates/", certificates=found)


@router.get("/{device_id}/changelog/", response_class=HTMLResponse)
async def changelog(request: Request, user: PageUser, devices: Devices, device_id: int) -> HTMLResponse:
    listed = await devices.get(device_id)
    return _tab(request, listed, "changelog/", changes=await devices.changes(listed.device))
