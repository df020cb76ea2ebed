"""The device list's filters and CSV export (pure): one filter object for the page, the API and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Protocol
from urllib.parse import urlencode

from phonehome.devices.errors import BadDeviceFilter

MAX_HOURS = 24 * 366


class DeviceLike(Protocol):
    @property
    def mac(self) -> str | None: ...
    @property
    def serial(self) -> str | None: ...
    @property
    def brand(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def ip(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def last_seen(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    """``q`` free text (MAC, serial, model, version, address, user, site); the others match exactly."""

    q: str = ""
    model: str = ""
    version: str = ""
    site: str = ""
    behind: bool = False  # older than the Approved version of its rule
    unseen_hours: int | None = None  # not seen for at least this many hours

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> DeviceFilter:
        hours_text = params.get("unseen_hours", "").strip()
        hours = None
        if hours_text:
            if not hours_text.isdigit() or not 1 <= int(hours_text) <= MAX_HOURS:
                raise BadDeviceFilter(f"unseen_hours: give a whole number of hours from 1 to {MAX_HOURS}")
            hours = int(hours_text)
        return cls(
            q=params.get("q", "").strip()[:100],
            model=params.get("model", "").strip()[:64],
            version=params.get("version", "").strip()[:64],
            site=params.get("site", "").strip()[:64],
            behind=params.get("behind", "") in ("1", "true", "on", "yes"),
            unseen_hours=hours,
        )

    def query(self, **extra: str) -> str:
        """The URL query that gives this filter back (for the CSV link and pagination)."""
        pairs = {f.name: getattr(self, f.name) for f in fields(self)}
        pairs["behind"] = "1" if self.behind else ""
        pairs["unseen_hours"] = str(self.unseen_hours) if self.unseen_hours else ""
        return urlencode({k: v for k, v in {**pairs, **extra}.items() if v})

    def matches(self, device: DeviceLike, *, behind: bool, now: dt.datetime) -> bool:
        if self.model and device.model.lower() != self.model.lower():
            return False
        if self.version and device.version != self.version:
            return False
        if self.site and device.site.lower() != self.site.lower():
            return False
        if self.behind and not behind:
            return False
        if self.unseen_hours and now - device.last_seen < dt.timedelta(hours=self.unseen_hours):
            return False
        if self.q:
            needle = self.q.lower()
            haystack = (device.mac, device.serial, device.brand, device.model, device.version, device.ip)
            words = [*haystack, device.user, device.site]
            if not any(needle in (w or "").lower() for w in words):
                return False
        return True


CSV_COLUMNS = (
    "mac", "serial", "device_type", "brand", "model", "revision", "locale", "version", "ip", "user", "site",
    "first_seen", "last_seen", "last_offer",
)  # fmt: skip


def render_csv(devices: Iterable[object]) -> str:
    """The filtered list as CSV (UTF-8, header first); times in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for device in devices:
        row = []
        for column in CSV_COLUMNS:
            value = getattr(device, column, "")
            if isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC).isoformat(timespec="seconds")
            text = "" if value is None else str(value)
            # A cell starting with = + - @ is a formula to a spreadsheet: phones supply these values.
            row.append("'" + text if text[:1] in ("=", "+", "-", "@") else text)
        writer.writerow(row)
    return out.getvalue()
