"""Network plan pages of the admin UI: DHCP and DNS configurations per format, download, the plan in words.

The same renderings as ``phonehome netplan`` and ``/api/v1/netplan/``; nothing here is stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phonehome.admin.deps import get_service
from phonehome.admin.web import NavItem, PageUser, render
from phonehome.netplan.errors import UnknownFormat
from phonehome.netplan.render import DHCP_RENDERERS, DNS_RENDERERS, ZONES
from phonehome.netplan.service import NetplanService

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Network plan", "/netplan/")]

router = APIRouter(prefix="/netplan", include_in_schema=False)
Netplan = Annotated[NetplanService, Depends(get_service(NetplanService))]

# The file name each DHCP server's admin expects, for the download button.
DHCP_FILES = {
    "kea": ("Kea", "kea-dhcp4.conf"),
    "isc": ("ISC dhcpd", "dhcpd.conf"),
    "dnsmasq": ("dnsmasq", "phonehome-dnsmasq.conf"),
    "windows": ("Windows netsh", "phonehome-dhcp.netsh"),
    "powershell": ("Windows PowerShell", "phonehome-dhcp.ps1"),
    "cisco": ("Cisco IOS", "phonehome-dhcp.ios"),
}
DNS_FORMATS = {"bind": "BIND", "powershell": "Windows PowerShell"}
assert set(DHCP_FILES) == set(DHCP_RENDERERS) and set(DNS_FORMATS) == set(DNS_RENDERERS)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _menu() -> dict[str, object]:
    return {"dhcp_formats": DHCP_FILES, "dns_formats": DNS_FORMATS, "zones": ZONES}


def _attachment(text: str, filename: str) -> Response:
    return Response(
        text.encode(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/", response_class=HTMLResponse)
async def explain(request: Request, user: PageUser, netplan: Netplan) -> HTMLResponse:
    return render(request, "netplan-explain.html", {**_menu(), "text": netplan.explain(_today())})


@router.get("/dhcp/{fmt}", response_class=HTMLResponse)
async def dhcp(request: Request, user: PageUser, netplan: Netplan, fmt: str) -> HTMLResponse:
    text = netplan.dhcp(fmt)
    label, filename = DHCP_FILES[fmt]
    files = [(filename, text, f"/netplan/dhcp/{fmt}/download")]
    context = {**_menu(), "title": f"DHCP: {label}", "files": files, "current": f"dhcp/{fmt}"}
    return render(request, "netplan-config.html", context)


@router.get("/dhcp/{fmt}/download")
async def dhcp_download(user: PageUser, netplan: Netplan, fmt: str) -> Response:
    text = netplan.dhcp(fmt)
    return _attachment(text, DHCP_FILES[fmt][1])


@router.get("/dns/{zone}/{fmt}", response_class=HTMLResponse)
async def dns(request: Request, user: PageUser, netplan: Netplan, zone: str, fmt: str) -> HTMLResponse:
    rendered = netplan.dns(zone, fmt, _today())
    files = [
        (name, text, f"/netplan/dns/{zone}/{fmt}/download?file={name}") for name, text in rendered.items()
    ]
    title = f"DNS: {zone} zone, {DNS_FORMATS[fmt]}"
    context = {**_menu(), "title": title, "files": files, "current": f"dns/{zone}/{fmt}"}
    return render(request, "netplan-config.html", context)


@router.get("/dns/{zone}/{fmt}/download")
async def dns_download(user: PageUser, netplan: Netplan, zone: str, fmt: str, file: str) -> Response:
    rendered = netplan.dns(zone, fmt, _today())
    if file not in rendered:
        raise UnknownFormat(
            f"the {zone} zone in {fmt} has no file {file[:80]!r}; one of {', '.join(rendered)}"
        )
    return _attachment(rendered[file], file)
