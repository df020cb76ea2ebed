"""Which renderer makes which output: one table for the CLI, the admin API and the docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from phonehome.netplan.errors import UnknownFormat
from phonehome.netplan.records import ZonePlan, zone_plan
from phonehome.netplan.render_bind import render_bind
from phonehome.netplan.render_cisco import render_cisco
from phonehome.netplan.render_dnsmasq import render_dnsmasq
from phonehome.netplan.render_isc import render_isc
from phonehome.netplan.render_kea import render_kea
from phonehome.netplan.render_powershell import render_powershell
from phonehome.netplan.render_windows import render_windows
from phonehome.netplan.site import DhcpPlan, Site, dhcp_plan

DhcpFormat = Literal["kea", "isc", "dnsmasq", "windows", "powershell", "cisco"]
DnsFormat = Literal["bind", "powershell"]
Zone = Literal["internal", "external"]

DHCP_RENDERERS: dict[str, Callable[[DhcpPlan], str]] = {
    "kea": render_kea,
    "isc": render_isc,
    "dnsmasq": render_dnsmasq,
    "windows": lambda plan: render_windows(plan, "netsh"),
    "powershell": lambda plan: render_windows(plan, "powershell"),
    "cisco": render_cisco,
}
DNS_RENDERERS: dict[str, Callable[[ZonePlan], dict[str, str]]] = {
    "bind": render_bind,
    "powershell": render_powershell,
}
ZONES = ("internal", "external")


def render_dhcp(site: Site, fmt: str) -> str:
    renderer = DHCP_RENDERERS.get(fmt)
    if renderer is None:
        raise UnknownFormat(f"unknown DHCP format {fmt!r}; one of {', '.join(DHCP_RENDERERS)}")
    return renderer(dhcp_plan(site))


def render_dns(site: Site, zone: str, fmt: str, serial: int = 1) -> dict[str, str]:
    """File name → text: one zone file per zone for BIND, one script for PowerShell."""
    renderer = DNS_RENDERERS.get(fmt)
    if renderer is None:
        raise UnknownFormat(f"unknown DNS format {fmt!r}; one of {', '.join(DNS_RENDERERS)}")
    if zone not in ZONES:
        raise UnknownFormat(f"unknown zone {zone!r}; one of {', '.join(ZONES)}")
    return renderer(zone_plan(site, zone, serial))
