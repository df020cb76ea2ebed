"""Recording sightings in batches: one transaction for every check-in that arrived meanwhile.

A boot storm is thousands of phones saying "I am here, on this version" within a minute; one upsert
transaction each would make the inventory the bottleneck of the check-in. The check-in service
gathers concurrent sightings (batching.GroupCommit) and hands them here: the sightings of one device
are merged and the batch is written in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from phonehome.db import Database
from phonehome.fleet.models import Device
from phonehome.fleet.service import Sighting

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
    """Writes a batch in one transaction: one SELECT, then at most one executemany UPDATE and one
    executemany INSERT, whatever the batch size. On SQLite the whole transaction runs in one worker
    thread (:meth:`write_blocking`); on PostgreSQL through the async engine (:meth:`write`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(self, batch: list[tuple[Sighting, dt.datetime]]) -> None:
        if self.db.is_sqlite:
            await asyncio.to_thread(self.write_blocking, batch)
            return
        merged = _checked(batch)
        try:
            async with self.db.engine.begin() as conn:
                await conn.run_sync(upsert, merged)
        except IntegrityError:
            # Another node created one of these devices meanwhile; now it will be found.
            async with self.db.engine.begin() as conn:
                await conn.run_sync(upsert, merged)

    def write_blocking(self, batch: list[tuple[Sighting, dt.datetime]]) -> None:
        """The SQLite path, in the calling (worker) thread."""
        merged = _checked(batch)
        try:
            with self.db.thread_engine.begin() as conn:
                upsert(conn, merged)
        except IntegrityError:
            with self.db.thread_engine.begin() as conn:
                upsert(conn, merged)


def _checked(batch: list[tuple[Sighting, dt.datetime]]) -> list[tuple[Sighting, dt.datetime]]:
    if any(not s.mac and not s.serial for s, _ in batch):
        raise ValueError("a sighting needs a MAC address or a serial number")
    return list(merge_batch(batch).values())


def upsert(conn: Connection, merged: list[tuple[Sighting, dt.datetime]]) -> None:
    updates, inserts = plan(_candidates(conn, merged), merged)
    if updates:
        conn.execute(_UPDATE_BY_ID, [_update_params(i, s, t) for i, (s, t) in updates.items()])
    if inserts:
        conn.execute(insert(_devices), [_insert_params(s, t) for s, t in inserts])


Row = tuple[int, str | None, str | None]  # id, mac, serial


def plan(
    rows: Iterable[Row], merged: list[tuple[Sighting, dt.datetime]]
) -> tuple[dict[int, tuple[Sighting, dt.datetime]], list[tuple[Sighting, dt.datetime]]]:
    """Which stored row each sighting updates (by id), and the new rows to insert.

    A row is found the way fleet.service finds one device at a time: by MAC, else the oldest row with
    the serial (for a sighting with a MAC, only a row without a MAC yet, which it then completes).
    Within the batch, new devices are found by the same rules.
    """
    stored, pending = _Index(), _Index()
    for stored_id, mac, serial in sorted(rows):
        stored.add(stored_id, mac, serial)
    updates: dict[int, tuple[Sighting, dt.datetime]] = {}
    inserts: list[tuple[Sighting, dt.datetime]] = []
    for sighting, when in merged:
        row_id = stored.find(sighting)
        if row_id is not None:
            updates[row_id] = _combine(updates.get(row_id), sighting, when)
            stored.add(row_id, sighting.mac, sighting.serial)
            continue
        index = pending.find(sighting)
        if index is None:
            pending.add(len(inserts), sighting.mac, sighting.serial)
            inserts.append((sighting, when))
        else:
            inserts[index] = _combine(inserts[index], sighting, when)
            pending.add(index, sighting.mac, sighting.serial)
    return updates, inserts


class _Index:
    """Rows (stored or about to be) by MAC and by serial, oldest first."""

    def __init__(self) -> None:
        self.by_mac: dict[str, int] = {}
        self.by_serial: dict[str, list[int]] = {}
        self.has_mac: set[int] = set()

    def add(self, key: int, mac: str | None, serial: str | None) -> None:
        if mac:
            self.by_mac.setdefault(mac, key)
            self.has_mac.add(key)
        if serial and key not in self.by_serial.setdefault(serial, []):
            self.by_serial[serial].append(key)

    def find(self, sighting: Sighting) -> int | None:
        if sighting.mac and sighting.mac in self.by_mac:
            return self.by_mac[sighting.mac]
        for key in self.by_serial.get(sighting.serial or "", ()):
            if not (sighting.mac and key in self.has_mac):
                return key
        return None


def _combine(
    before: tuple[Sighting, dt.datetime] | None, sighting: Sighting, when: dt.datetime
) -> tuple[Sighting, dt.datetime]:
    if before is None:
        return sighting, when
    return merge(before[0], sighting), max(before[1], when)


def _candidates(conn: Connection, merged: list[tuple[Sighting, dt.datetime]]) -> list[Row]:
    """Rows with one of these MACs or serials (chunked: SQLite limits bound parameters)."""
    macs = sorted({s.mac for s, _ in merged if s.mac})
    serials = sorted({s.serial for s, _ in merged if s.serial})
    found: list[Row] = []
    c = _devices.c
    for start in range(0, max(len(macs), len(serials)), _IN_CHUNK):
        mac_chunk, serial_chunk = macs[start : start + _IN_CHUNK], serials[start : start + _IN_CHUNK]
        query = select(c.id, c.mac, c.serial).where(or_(c.mac.in_(mac_chunk), c.serial.in_(serial_chunk)))
        found.extend((r.id, r.mac, r.serial) for r in conn.execute(query))
    return found


_devices = cast(Table, Device.__table__)
_SAID = (
    "mac",
    "serial",
    "device_type",
    "brand",
    "model",
    "revision",
    "locale",
    "version",
    "ip",
    "site",
    "user",
)


def _kept_unless_said(column: str) -> ColumnElement[Any]:
    """SET column = the sighting's value, or the stored one when the sighting left it empty."""
    return func.coalesce(func.nullif(bindparam(f"b_{column}", type_=String()), ""), _devices.c[column])


_UPDATE_BY_ID = (
    update(_devices)
    .where(_devices.c.id == bindparam("b_id"))
    .values(
        last_seen=bindparam("b_seen", type_=_devices.c.last_seen.type),
        last_offer=func.coalesce(bindparam("b_last_offer", type_=String()), _devices.c.last_offer),
        **{column: _kept_unless_said(column) for column in _SAID},
    )
)


def _said(sighting: Sighting) -> dict[str, str]:
    values = {c: (getattr(sighting, c) or "")[:64] for c in _SAID}
    values["user"] = sighting.user[:256]
    return values


def _update_params(row_id: int, sighting: Sighting, seen: dt.datetime) -> dict[str, Any]:
    params: dict[str, Any] = {f"b_{c}": v for c, v in _said(sighting).items()}
    params.update(b_id=row_id, b_seen=seen, b_last_offer=sighting.last_offer)
    return params


def _insert_params(sighting: Sighting, seen: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = _said(sighting)
    values.update(
        mac=sighting.mac or None,
        serial=sighting.serial or None,
        first_seen=seen,
        last_seen=seen,
        last_offer=sighting.last_offer or "",
    )
    return values
