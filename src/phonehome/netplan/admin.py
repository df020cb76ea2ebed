"""``/api/v1/netplan/``: the same renderings as ``phonehome netplan`` for signed-in admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from phonehome.admin.deps import current_admin, get_service
from phonehome.netplan.service import NetplanService

router = APIRouter(prefix="/api/v1/netplan", tags=["netplan"], dependencies=[Depends(current_admin)])
Netplan = Annotated[NetplanService, Depends(get_service(NetplanService))]


class DnsFiles(BaseModel):
    zone: str
    format: str
    files: dict[str, str]


@router.get("/dhcp", response_class=PlainTextResponse)
def get_dhcp(netplan: Netplan, format: Annotated[str, Query()] = "kea") -> str:
    """The DHCP server configuration in ``format`` (kea, isc, dnsmasq, windows, powershell, cisco)."""
    return netplan.dhcp(format)


@router.get("/dns", response_model=DnsFiles)
def get_dns(
    netplan: Netplan,
    zone: Annotated[str, Query()] = "internal",
    format: Annotated[str, Query()] = "bind",
    serial: Annotated[int | None, Query(ge=1, lt=2**32)] = None,
) -> DnsFiles:
    """The zone files (bind: one per zone plus named.conf.<zone>) or the PowerShell script."""
    files = netplan.dns(zone, format, dt.datetime.now(dt.UTC).date(), serial)
    return DnsFiles(zone=zone, format=format, files=files)


@router.get("/explain", response_class=PlainTextResponse)
def get_explain(netplan: Netplan) -> str:
    """The plan in words."""
    return netplan.explain(dt.datetime.now(dt.UTC).date())
