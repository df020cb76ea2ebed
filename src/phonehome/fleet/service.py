"""The device inventory: record what a device said about itself, list devices with filters.

Generic on purpose: updates (check-ins) and backups (uploads) both report sightings here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.db import Database, utcnow
from phonehome.fleet.models import Device


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one contact told us; empty strings mean "not said" and leave stored values alone."""

    mac: str | None
    serial: str | None
    device_type: str = ""
    brand: str = ""
    model: str = ""
    revision: str = ""
    locale: str = ""
    version: str = ""
    ip: str = ""
    user: str = ""
    site: str = ""
    last_offer: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: int
    mac: str | None
    serial: str | None
    device_type: str
    brand: str
    model: str
    revision: str
    locale: str
    version: str
    ip: str
    user: str
    site: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    last_offer: str


def _view(device: Device) -> DeviceView:
    return DeviceView(**{f.name: getattr(device, f.name) for f in fields(DeviceView)})


async def _find(session: AsyncSession, mac: str | None, serial: str | None) -> Device | None:
    if mac:
        found = await session.scalar(select(Device).where(Device.mac == mac))
        if found is not None:
            return found
    if serial:
        query = select(Device).where(Device.serial == serial)
        if mac:
            query = query.where(Device.mac.is_(None))
        return await session.scalar(query.order_by(Device.id).limit(1))
    return None


def apply_sighting(device: Device, sighting: Sighting, now: dt.datetime) -> None:
    """Write what a sighting said onto the device row; fields it left empty keep their values."""
    device.last_seen = now
    if sighting.mac:
        device.mac = sighting.mac
    if sighting.serial:
        device.serial = sighting.serial
    for name in ("device_type", "brand", "model", "revision", "locale", "version", "ip", "site"):
        value = getattr(sighting, name)
        if value:
            setattr(device, name, value[:64])
    if sighting.user:
        device.user = sighting.user[:256]
    if sighting.last_offer is not None:
        device.last_offer = sighting.last_offer


async def record_sighting(session: AsyncSession, sighting: Sighting, now: dt.datetime) -> DeviceView:
    """Upsert a device inside the caller's transaction (a check-in records it with its decision).

    Two first contacts of one device at once make the later commit fail with IntegrityError; callers
    retry the transaction once, which then finds the row.
    """
    if not sighting.mac and not sighting.serial:
        raise ValueError("a sighting needs a MAC address or a serial number")
    device = await _find(session, sighting.mac, sighting.serial)
    if device is None:
        device = Device(first_seen=now)
        session.add(device)
    apply_sighting(device, sighting, now)
    await session.flush()
    return _view(device)


class FleetService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, sighting: Sighting, now: dt.datetime | None = None) -> DeviceView:
        if not sighting.mac and not sighting.serial:
            raise ValueError("a sighting needs a MAC address or a serial number")
        try:
            return await self._record(sighting, now or utcnow())
        except IntegrityError:
            # Two first check-ins of one device raced; the other one created the row.
            return await self._record(sighting, now or utcnow())

    async def _record(self, sighting: Sighting, now: dt.datetime) -> DeviceView:
        async with self.db.session() as session:
            return await record_sighting(session, sighting, now)

    async def list(
        self, *, model: str | None = None, brand: str | None = None, limit: int = 10000
    ) -> list[DeviceView]:
        async with self.db.session() as session:
            query = select(Device).order_by(Device.brand, Device.model, Device.mac, Device.serial)
            if model:
                query = query.where(func.lower(Device.model) == model.lower())
            if brand:
                query = query.where(func.lower(Device.brand) == brand.lower())
            return [_view(d) for d in await session.scalars(query.limit(limit))]
