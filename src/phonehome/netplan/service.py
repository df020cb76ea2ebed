"""The netplan service: renders from the configured ``[site]``; no database, no I/O.

The site is checked when asked for, not at start, so a half-written ``[site]`` never stops the
phone listeners; the admin API then answers 400 with the field at fault.
"""

from __future__ import annotations

import datetime as dt

from phonehome.config import Settings
from phonehome.netplan.explain import explain
from phonehome.netplan.render import render_dhcp, render_dns
from phonehome.netplan.site import Site, build_site


def default_serial(today: dt.date) -> int:
    """YYYYMMDD01: the usual zone serial, increasing day by day."""
    return int(today.strftime("%Y%m%d")) * 100 + 1


class NetplanService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def site(self) -> Site:
        return build_site(self.settings)

    def dhcp(self, fmt: str) -> str:
        return render_dhcp(self.site(), fmt)

    def dns(self, zone: str, fmt: str, today: dt.date, serial: int | None = None) -> dict[str, str]:
        return render_dns(self.site(), zone, fmt, serial or default_serial(today))

    def explain(self, today: dt.date) -> str:
        return explain(self.site(), default_serial(today))
