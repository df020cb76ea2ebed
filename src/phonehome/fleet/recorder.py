"""Recording sightings in batches: one transaction for every check-in that arrived meanwhile.

A boot storm is thousands of phones saying "I am here, on this version" within a minute; one upsert
transaction each would make the inventory the bottleneck of the check-in. The check-in service
gathers concurrent sightings (batching.GroupCommit) and hands them here: the sightings of one device
are merged and the batch is written in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from phonehome.db import Database
from phonehome.fleet.models import Device
from phonehome.fleet.service import Sighting, apply_sighting

# Stay under SQLite's limit of bound parameters per statement.
_IN_CHUNK = 500
DeviceKey = tuple[str, str]  # ("mac", …) or ("serial", …)


def device_key(sighting: Sighting) -> DeviceKey:
    return ("mac", sighting.mac) if sighting.mac else ("serial", sighting.serial or "")


_FIELDS = tuple(f.name for f in fields(Sighting))


def merge(older: Sighting, newer: Sighting) -> Sighting:
    """One sighting saying what both said; the newer wins where both said something."""
    if newer == older:  # a phone that checks in twice within one batch usually repeats itself
        return newer
    said = {name: getattr(newer, name) for name in _FIELDS if getattr(newer, name)}
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

    async def write(self, batch: list[tuple[Sighting, dt.datetime]]) -> None:
        """Commit a batch of (sighting, when) in one transaction."""
        if any(not s.mac and not s.serial for s, _ in batch):
            raise ValueError("a sighting needs a MAC address or a serial number")
        merged = merge_batch(batch)
        try:
            await self._upsert(merged)
        except IntegrityError:
            # Another node (or process) created one of these devices meanwhile; now it will be found.
            await self._upsert(merged)

    async def _upsert(self, merged: dict[DeviceKey, tuple[Sighting, dt.datetime]]) -> None:
        async with self.db.session() as session:
            # Devices seen before (nearly every check-in): one executemany UPDATE by MAC.
            known = await _known_macs(session, sorted(s.mac for s, _ in merged.values() if s.mac))
            if known:
                rows = [_update_params(s, t) for s, t in merged.values() if s.mac in known]
                await session.execute(_UPDATE_BY_MAC, rows)
            first = [(s, t) for s, t in merged.values() if s.mac not in known]
            if first:
                await _create_or_adopt(session, first)


async def _known_macs(session: AsyncSession, macs: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(macs), _IN_CHUNK):
        chunk = macs[start : start + _IN_CHUNK]
        known.update(m for m in await session.scalars(select(Device.mac).where(Device.mac.in_(chunk))) if m)
    return known


_devices = cast(Table, Device.__table__)
_SAID = ("serial", "device_type", "brand", "model", "revision", "locale", "version", "ip", "site", "user")


def _kept_unless_said(column: str) -> ColumnElement[Any]:
    """SET column = the sighting's value, or the stored one when the sighting left it empty."""
    return func.coalesce(func.nullif(bindparam(f"b_{column}", type_=String()), ""), _devices.c[column])


_UPDATE_BY_MAC = (
    update(_devices)
    .where(_devices.c.mac == bindparam("b_mac"))
    .values(
        last_seen=bindparam("b_seen", type_=_devices.c.last_seen.type),
        last_offer=func.coalesce(bindparam("b_last_offer", type_=String()), _devices.c.last_offer),
        **{column: _kept_unless_said(column) for column in _SAID},
    )
)


def _update_params(sighting: Sighting, seen: dt.datetime) -> dict[str, Any]:
    params: dict[str, Any] = {f"b_{c}": (getattr(sighting, c) or "")[:64] for c in _SAID}
    params["b_user"] = sighting.user[:256]
    params.update(b_mac=sighting.mac, b_seen=seen, b_last_offer=sighting.last_offer)
    return params


async def _create_or_adopt(session: AsyncSession, first: list[tuple[Sighting, dt.datetime]]) -> None:
    """First sightings of a MAC, and sightings with a serial only: a new row, or the serial-only row a
    MAC now completes; found the way fleet.service finds one device at a time."""
    macs = sorted({s.mac for s, _ in first if s.mac})
    serials = sorted({s.serial for s, _ in first if s.serial})
    by_mac = {d.mac: d for d in await _rows(session, Device.mac, macs) if d.mac}
    by_serial: dict[str, list[Device]] = {}
    for d in sorted(await _rows(session, Device.serial, serials), key=lambda d: d.id):
        by_serial.setdefault(d.serial or "", []).append(d)
    for sighting, when in first:
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
