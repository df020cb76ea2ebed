"""The fleet as admins look at it: the filtered inventory, one device's story, the dashboard's numbers.

Reads what other slices keep (inventory, rules, audit log, backups); writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from phonehome.backups.names import normalise_mac
from phonehome.backups.service import BackupService
from phonehome.backups.versions import FileView
from phonehome.changelog import ChangeLogEntry
from phonehome.db import Database, utcnow
from phonehome.devices.activity import hourly_counts
from phonehome.devices.errors import DeviceNotFound
from phonehome.devices.filters import DeviceFilter
from phonehome.fleet.identity import try_mac, try_serial
from phonehome.fleet.models import Device
from phonehome.fleet.service import DeviceView, FleetService
from phonehome.metrics import Metrics
from phonehome.pki.service import CertificateView, PkiService
from phonehome.updates import auditlog
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.service import RuleView, UpdateService
from phonehome.updates.versions import Version, is_version

AUDIT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Listed:
    device: DeviceView
    behind: bool
    target: str | None  # the version its rule serves


@dataclass(frozen=True, slots=True)
class Fleet:
    """What the dashboard shows about the fleet."""

    by_model_version: list[tuple[str, int]]
    behind: list[Listed]
    pending_rules: list[RuleView]
    hours: list[str]
    checkins: list[int]


def device_rule_key(device: DeviceView) -> str:
    parts = (device.device_type or "UCPhone", device.brand, device.model, device.revision, device.locale)
    return "/".join(parts).lower()


def is_behind(version: str, target: str | None) -> bool:
    if not target:
        return False
    return not is_version(version) or Version.parse(version) < Version.parse(target)


def _serving(rule: RuleView) -> str | None:
    return rule.restore_version if rule.restored else rule.approved_version


class DevicesService:
    def __init__(
        self,
        db: Database,
        fleet: FleetService,
        updates: UpdateService,
        audit: AuditFile,
        backups: BackupService,
        metrics: Metrics,
        pki: PkiService,
    ) -> None:
        self.pki = pki
        self.metrics = metrics
        self.db = db
        self.fleet = fleet
        self.updates = updates
        self.audit = audit
        self.backups = backups

    async def find(self, wanted: DeviceFilter, now: dt.datetime | None = None) -> list[Listed]:
        moment = now or utcnow()
        serving = {r.name.lower(): _serving(r) for r in await self.updates.list_rules()}
        out = []
        for device in await self.fleet.list():
            target = serving.get(device_rule_key(device))
            behind = is_behind(device.version, target)
            if wanted.matches(device, behind=behind, now=moment):
                out.append(Listed(device, behind, target))
        return out

    async def get(self, device_id: int) -> Listed:
        async with self.db.session() as session:
            row = await session.scalar(select(Device).where(Device.id == device_id))
        if row is None:
            raise DeviceNotFound(f"no device {device_id}")
        found = [
            d for d in await self.find(DeviceFilter(q=row.mac or row.serial or "")) if d.device.id == row.id
        ]
        if not found:
            raise DeviceNotFound(f"no device {device_id}")
        return found[0]

    async def check_ins(self, device: DeviceView, days: int = AUDIT_DAYS) -> list[auditlog.AuditRecord]:
        """This device's lines in the audit log of the last ``days`` days, newest first."""
        records = await self._audit_records(days)
        mine = [
            r
            for r in records
            if (device.mac and try_mac(r.mac) == device.mac)
            or (device.serial and try_serial(r.serial) == device.serial)
        ]
        return sorted(reversed(mine), key=lambda r: r.time, reverse=True)  # same second: file order

    async def backup_files(self, device: DeviceView) -> list[FileView]:
        """Files the device's MAC owns (Polycom/Yealink) and those of an account bound to it."""
        if not device.mac:
            return []
        mac = normalise_mac(device.mac)  # backups spell MACs as Polycom file names do: 0004f2aabbcc
        owners = {f"mac:{mac}"}
        for account in await self.backups.accounts.list():
            if account.mac == mac:
                owners.add(f"extension:{account.name}")
        return [f for f in await self.backups.list_files() if f.owner in owners]

    async def certificates(self, device: DeviceView) -> list[CertificateView]:
        """Certificates phonehome issued to this device's accounts (its MAC or a bound extension)."""
        if not device.mac:
            return []
        mac = normalise_mac(device.mac)
        accounts = {mac, device.mac} | {a.name for a in await self.backups.accounts.list() if a.mac == mac}
        return [c for c in await self.pki.certificates() if c.account in accounts]

    async def changes(self, device: DeviceView) -> list[ChangeLogEntry]:
        """Changes naming this device: test-device entries by MAC or serial."""
        ids = [i for i in (device.mac, device.serial) if i]
        async with self.db.session() as session:
            query = (
                select(ChangeLogEntry)
                .where(ChangeLogEntry.object_type == "test_device")
                .order_by(ChangeLogEntry.id.desc())
                .limit(500)
            )
            rows = list(await session.scalars(query))
        return [c for c in rows if c.object_id.rsplit("/", 1)[-1] in ids]

    async def overview(self, now: dt.datetime | None = None) -> Fleet:
        moment = now or utcnow()
        listed = await self.find(DeviceFilter(), moment)
        counts = Counter(f"{d.device.model or '?'} {d.device.version or '?'}" for d in listed)
        rules = await self.updates.list_rules()
        records = await self._audit_records(3)
        hours, checkins = hourly_counts((r.time for r in records), moment)
        return Fleet(
            by_model_version=sorted(counts.items()),
            behind=[d for d in listed if d.behind],
            pending_rules=[r for r in rules if r.pending_version],
            hours=hours,
            checkins=checkins,
        )

    async def _audit_records(self, days: int) -> list[auditlog.AuditRecord]:
        today = utcnow().date()
        paths = [self.audit.path(today - dt.timedelta(days=n)) for n in range(days)]
        return await asyncio.to_thread(_read_audit, paths)


def _read_audit(paths: list[Path]) -> list[auditlog.AuditRecord]:
    records: list[auditlog.AuditRecord] = []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")  # keep the CR LF line ends
        except FileNotFoundError:
            continue
        # A check-in may be writing its line right now: read up to the last complete one.
        complete = text[: text.rfind("\r\n") + 2] if "\r\n" in text else ""
        try:
            records += auditlog.parse_records(complete)
        except auditlog.AuditLogError:
            continue  # a damaged file must not take the pages down; the audit log stays for tools
    return records
