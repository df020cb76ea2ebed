"""``/api/v1/devices``: the device list with the same filter object as the Devices page (and CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from phonehome.admin.deps import current_admin, get_service
from phonehome.devices.filters import CSV_COLUMNS, DeviceFilter, render_csv
from phonehome.devices.service import DevicesService

router = APIRouter(prefix="/api/v1", tags=["devices"], dependencies=[Depends(current_admin)])


@router.get("/devices")
async def list_devices(
    request: Request, devices: Annotated[DevicesService, Depends(get_service(DevicesService))]
) -> Response:
    """Filters: ``q`` (free text), ``model``, ``version``, ``site``, ``behind=1``, ``unseen_hours=N``;
    ``format=csv`` answers CSV instead of JSON."""
    found = await devices.find(DeviceFilter.from_query(request.query_params))
    if request.query_params.get("format") == "csv":
        return Response(render_csv(d.device for d in found), media_type="text/csv; charset=utf-8")
    rows = []
    for d in found:
        row = {c: getattr(d.device, c) for c in CSV_COLUMNS}
        row |= {k: row[k].isoformat() for k in ("first_seen", "last_seen")}
        rows.append({"id": d.device.id, **row, "behind": d.behind, "rule_serves": d.target})
    return JSONResponse(rows)
