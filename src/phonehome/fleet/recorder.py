"""Recording sightings in batches: one transaction for every check-in that arrived meanwhile.

A boot storm is thousands of phones saying "I am here, on this version" within a minute; one upsert
transaction each would make the inventory the bottleneck of the check-in. The recorder merges the
sightings of one device and writes a batch in one transaction (batching.GroupCommit); every caller
still returns only after its sighting is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import fields, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from phonehome.batching import GroupCommit
from phonehome.db import Database
from phonehome.fleet.models import Device
from phonehome.fleet.service import Sighting, apply_sighting

# Stay under SQLite's limit of bound parameters per statement.
_IN_CHUNK = 500
DeviceKey = tuple[str, str]  # ("mac", …) or ("serial", …)


def device_key(sighting: Sighting) -> DeviceKey:
    return ("mac", sighting.mac) if sighting.mac else ("serial", sighting.serial or "")


def merge(older: Sighting, newer: Sighting) -> Sighting:
    """One sighting saying what both said; the newer wins where both said something."""
    said = {f.name: getattr(newer, f.name) for f in fields(Sighting) if getattr(newer, f.name)}
    if newer.last_offer is not None:  # "" is said too: nothing offered this time
        said["last_offer"] = newer.last_offer
    return replace(older, **said)


def merge_batch(
    batch: Iterable[tuple[Sighting, dt.datetime]],
) -> dict[DeviceKey, tuple[Sighting, dt.datetime]]:
    merged: dict[DeviceKey, tuple[Sighting, dt.datetime]] = {}
    for sighting, when in batch:
        key = device_key(sighting)
        if key in merged:
            before, seen = merged[key]
            merged[key] = merge(before, sighting), max(seen, when)
        else:
            merged[key] = sighting, when
    return merged


class SightingRecorder:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.group: GroupCommit[tuple[Sighting, dt.datetime]] = GroupCommit(self._write, name="inventory")

    async def record(self, sighting: Sighting, now: dt.datetime) -> None:
        """Returns once the sighting is committed (with the others of its batch)."""
        if not sighting.mac and not sighting.serial:
            raise ValueError("a sighting needs a MAC address or a serial number")
        await self.group.submit((sighting, now))

    async def _write(self, batch: list[tuple[Sighting, dt.datetime]]) -> None:
        merged = merge_batch(batch)
        try:
            await self._upsert(merged)
        except IntegrityError:
            # Another node (or process) created one of these devices meanwhile; now it will be found.
            await self._upsert(merged)

    async def _upsert(self, merged: dict[DeviceKey, tuple[Sighting, dt.datetime]]) -> None:
        macs = sorted({s.mac for s, _ in merged.values() if s.mac})
        serials = sorted({s.serial for s, _ in merged.values() if s.serial})
        async with self.db.session() as session:
            by_mac = {d.mac: d for d in await _rows(session, Device.mac, macs) if d.mac}
            by_serial: dict[str, list[Device]] = {}
            for d in sorted(await _rows(session, Device.serial, serials), key=lambda d: d.id):
                by_serial.setdefault(d.serial or "", []).append(d)
            for sighting, when in merged.values():
                device = _find(by_mac, by_serial, sighting)
                if device is None:
                    device = Device(first_seen=when)
                    session.add(device)
                    if sighting.serial:
                        by_serial.setdefault(sighting.serial, []).append(device)
                was_mac = device.mac
                apply_sighting(device, sighting, when)
                if device.mac and device.mac != was_mac:
                    by_mac[device.mac] = device


def _find(by_mac: dict[str, Device], by_serial: dict[str, list[Device]], sighting: Sighting) -> Device | None:
    """The row a sighting updates, as fleet.service finds it one at a time: by MAC, else the first row
    with its serial (for a sighting with a MAC, only a row that has no MAC yet)."""
    if sighting.mac and sighting.mac in by_mac:
        return by_mac[sighting.mac]
    if sighting.serial:
        for device in by_serial.get(sighting.serial, ()):
            if not sighting.mac or device.mac is None:
                return device
    return None


async def _rows(
    session: AsyncSession, column: InstrumentedAttribute[str | None], values: list[str]
) -> list[Device]:
    found: list[Device] = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        found.extend(await session.scalars(select(Device).where(column.in_(chunk))))
    return found
