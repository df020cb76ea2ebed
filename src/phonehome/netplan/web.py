"""The admin web page ``/netplan/``: the plan in words and every rendering, ready to copy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from phonehome.admin.deps import get_service
from phonehome.admin.web import NavItem, PageUser, render
from phonehome.netplan.errors import NetplanError
from phonehome.netplan.render import DHCP_RENDERERS, DNS_RENDERERS, ZONES
from phonehome.netplan.service import NetplanService

TEMPLATES_DIR = Path(__file__).parent / "templates"
NAV = NavItem("Network plan", "/netplan/")

router = APIRouter(include_in_schema=False)
Netplan = Annotated[NetplanService, Depends(get_service(NetplanService))]


def _choices() -> list[tuple[str, str]]:
    """(label, query) for every rendering: the page's tabs."""
    tabs = [("In words", "")]
    tabs += [(f"DHCP: {fmt}", f"?show=dhcp&format={fmt}") for fmt in DHCP_RENDERERS]
    tabs += [
        (f"DNS {zone}: {fmt}", f"?show=dns&zone={zone}&format={fmt}")
        for zone in ZONES
        for fmt in DNS_RENDERERS
    ]
    return tabs


@router.get("/netplan/", response_class=HTMLResponse)
def netplan_page(
    request: Request,
    user: PageUser,
    netplan: Netplan,
    show: str = "explain",
    format: str = "",
    zone: str = "internal",
) -> HTMLResponse:
    today = dt.datetime.now(dt.UTC).date()
    files: dict[str, str] = {}
    error = None
    # A half-written [site] is what admins come here to fix: show the reason in the page.
    try:
        if show == "dhcp":
            files = {f"DHCP ({format})": netplan.dhcp(format)}
        elif show == "dns":
            files = netplan.dns(zone, format or "bind", today)
        else:
            files = {"The plan in words": netplan.explain(today)}
    except NetplanError as exc:
        error = exc.reason
    current = "" if show not in ("dhcp", "dns") else "?" + str(request.url.query)
    context = {"files": files, "error": error, "tabs": _choices(), "current": current}
    return render(request, "netplan.html", context, status_code=400 if error else 200)
