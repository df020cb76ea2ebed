"""The inventory written in batches (SightingRecorder) and by concurrent check-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phonehome.changelog import Actor
from phonehome.config import UpdatesSettings
from phonehome.db import Database
from phonehome.fleet.models import Device
from phonehome.fleet.recorder import SightingRecorder
from phonehome.fleet.service import FleetService, Sighting
from phonehome.runtime import Runtime
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.auditlog import parse_records
from phonehome.updates.cab import Member
from phonehome.updates.checkin import CheckInRequest, CheckInService
from phonehome.updates.importer import FirmwareImporter
from phonehome.updates.package import interpret
from phonehome.updates.service import UpdateService
from tests.integration.updates.packages import CX700, image_files
from tests.integration.updates.phones import checkin_body
from tests.support.runtime import migrated_runtime

ACTOR = Actor("test")
SETTINGS = UpdatesSettings(sites={"Redmond": ["10.1.0.0/16"]}, server_name="FE01")
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MAC1, MAC2 = "00-04-F2-00-00-01", "00-04-F2-00-00-02"


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
async def runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    async with migrated_runtime(tmp_path / "data", db_url, updates=SETTINGS) as rt:
        yield rt


async def rows(db: Database) -> list[Device]:
    async with db.session() as session:
        return list(await session.scalars(select(Device).order_by(Device.id)))


async def test_distinct_devices_get_one_row_each(runtime: Runtime) -> None:
    recorder = SightingRecorder(runtime.db)
    await recorder.write(
        [
            (Sighting(MAC1, "SN1", model="CX700", version="1.0.522.101", last_offer="3.5.6907.35"), at(0)),
            (Sighting(MAC2, None, model="CX600", ip="10.1.0.2", site="Redmond"), at(1)),
            (Sighting(None, "SN3", model="CX3000"), at(2)),
        ]
    )
    found = {(d.mac, d.serial): d for d in await rows(runtime.db)}
    assert set(found) == {(MAC1, "SN1"), (MAC2, None), (None, "SN3")}
    one = found[(MAC1, "SN1")]
    assert (one.model, one.version, one.last_offer, one.first_seen, one.last_seen) == (
        "CX700",
        "1.0.522.101",
        "3.5.6907.35",
        at(0),
        at(0),
    )
    two = found[(MAC2, None)]
    assert (two.model, two.ip, two.site, two.last_offer) == ("CX600", "10.1.0.2", "Redmond", "")
    assert found[(None, "SN3")].model == "CX3000"


async def test_the_same_mac_twice_in_a_batch_is_one_merged_row(runtime: Runtime) -> None:
    recorder = SightingRecorder(runtime.db)
    # First sightings (the create path) ...
    await recorder.write(
        [
            (Sighting(MAC1, None, model="CX700", version="1.0.199.123", ip="10.1.0.1"), at(0)),
            (Sighting(MAC1, "SN1", version="1.0.522.101", user="alice@contoso.com"), at(5)),
        ]
    )
    [device] = await rows(runtime.db)
    assert (device.mac, device.serial, device.model, device.version, device.ip, device.user) == (
        MAC1,
        "SN1",
        "CX700",
        "1.0.522.101",
        "10.1.0.1",
        "alice@contoso.com",
    )
    assert (device.first_seen, device.last_seen) == (at(5), at(5))
    # ... and a known MAC twice (the UPDATE path).
    await recorder.write(
        [
            (Sighting(MAC1, None, ip="10.1.0.9"), at(20)),
            (Sighting(MAC1, None, version="3.5.6907.35"), at(10)),
        ]
    )
    [device] = await rows(runtime.db)
    assert (device.serial, device.model, device.version, device.ip, device.user) == (
        "SN1",
        "CX700",
        "3.5.6907.35",
        "10.1.0.9",
        "alice@contoso.com",
    )
    assert (device.first_seen, device.last_seen) == (at(5), at(20))


async def test_a_serial_only_row_is_adopted_by_a_later_mac_sighting(runtime: Runtime) -> None:
    recorder = SightingRecorder(runtime.db)
    await recorder.write([(Sighting(None, "SN1", model="CX700", user="bob@contoso.com"), at(0))])
    [before] = await rows(runtime.db)
    await recorder.write([(Sighting(MAC1, "SN1", version="1.0.522.101"), at(10))])
    [after] = await rows(runtime.db)
    assert after.id == before.id
    assert (after.mac, after.serial, after.model, after.user, after.version) == (
        MAC1,
        "SN1",
        "CX700",
        "bob@contoso.com",
        "1.0.522.101",
    )
    assert (after.first_seen, after.last_seen) == (at(0), at(10))
    # A row that has a MAC is not taken over by another MAC with the same serial.
    await recorder.write([(Sighting(MAC2, "SN1"), at(20))])
    assert sorted((d.mac or "", d.serial) for d in await rows(runtime.db)) == [(MAC1, "SN1"), (MAC2, "SN1")]


@pytest.mark.parametrize("mac_first", [False, True])
async def test_serial_only_and_mac_sightings_in_one_batch_are_one_row(
    runtime: Runtime, mac_first: bool
) -> None:
    batch = [
        (Sighting(None, "SN1", model="CX700"), at(0)),
        (Sighting(MAC1, "SN1", version="1.0.522.101"), at(1)),
    ]
    await SightingRecorder(runtime.db).write(batch[::-1] if mac_first else batch)
    [device] = await rows(runtime.db)
    assert (device.mac, device.serial, device.model, device.version) == (MAC1, "SN1", "CX700", "1.0.522.101")


async def test_rows_are_found_as_fleet_service_finds_them(runtime: Runtime) -> None:
    """A serial-only sighting updates the first row with its serial, MAC or not; of two new MACs with
    the serial of a serial-only row, the first adopts it and the second gets a row of its own."""
    recorder = SightingRecorder(runtime.db)
    await recorder.write([(Sighting(None, "SN1", model="CX700"), at(0)), (Sighting(MAC1, "SN2"), at(0))])
    ids = {d.serial: d.id for d in await rows(runtime.db)}
    await recorder.write(
        [
            (Sighting(None, "SN2", version="1.0.522.101"), at(1)),  # the row MAC1 has
            (Sighting(MAC2, "SN1", version="1.0.199.123"), at(1)),  # adopts the serial-only row
            (Sighting("00-04-F2-00-00-03", "SN1", version="3.5.6907.35"), at(1)),  # a new row
        ]
    )
    found = [(d.id, d.mac, d.serial, d.version) for d in await rows(runtime.db)]
    assert found == [
        (ids["SN1"], MAC2, "SN1", "1.0.199.123"),
        (ids["SN2"], MAC1, "SN2", "1.0.522.101"),
        (found[2][0], "00-04-F2-00-00-03", "SN1", "3.5.6907.35"),
    ]


async def test_large_batches_of_known_and_new_devices(runtime: Runtime) -> None:
    """More devices than one IN (...) chunk holds, some known and some new, in one write."""
    recorder = SightingRecorder(runtime.db)
    macs = [f"00-04-F2-00-{i // 256:02X}-{i % 256:02X}" for i in range(1200)]
    await recorder.write([(Sighting(m, None, version="1.0.199.123"), at(0)) for m in macs[:700]])
    await recorder.write([(Sighting(m, f"SN{i}", version="1.0.522.101"), at(1)) for i, m in enumerate(macs)])
    devices = await rows(runtime.db)
    assert sorted(d.mac or "" for d in devices) == macs
    assert {(d.version, d.last_seen) for d in devices} == {("1.0.522.101", at(1))}
    assert sum(d.first_seen == at(0) for d in devices) == 700
    assert all(d.serial == f"SN{macs.index(d.mac or '')}" for d in devices)


async def test_two_writers_creating_the_same_device_leave_one_row(runtime: Runtime) -> None:
    """Two nodes (two recorders) see a new phone at once: the loser's insert conflicts, it retries and
    updates the winner's row."""
    first, second = SightingRecorder(runtime.db), SightingRecorder(runtime.db)
    await asyncio.wait_for(
        asyncio.gather(
            first.write([(Sighting(MAC1, "SN1", model="CX700"), at(0))]),
            second.write([(Sighting(MAC1, None, version="1.0.522.101"), at(1))]),
        ),
        60,
    )
    [device] = await rows(runtime.db)
    assert (device.mac, device.serial, device.model, device.version) == (MAC1, "SN1", "CX700", "1.0.522.101")


async def test_last_offer_empty_overwrites_none_keeps(runtime: Runtime) -> None:
    recorder = SightingRecorder(runtime.db)

    async def offer() -> str:
        [device] = await rows(runtime.db)
        return device.last_offer

    await recorder.write([(Sighting(MAC1, None, version="1.0.522.101"), at(0))])
    assert await offer() == ""
    await recorder.write([(Sighting(MAC1, None, last_offer="3.5.6907.35"), at(1))])
    assert await offer() == "3.5.6907.35"
    await recorder.write([(Sighting(MAC1, None, version="1.0.522.101"), at(2))])  # None: not said
    assert await offer() == "3.5.6907.35"
    await recorder.write([(Sighting(MAC1, None, last_offer=""), at(3))])  # "": offered nothing
    assert await offer() == ""
    # Within one batch: the later "" wins over an earlier offer; a later None does not undo it.
    await recorder.write(
        [
            (Sighting(MAC1, None, last_offer="3.5.6907.35"), at(4)),
            (Sighting(MAC1, None, last_offer=""), at(5)),
            (Sighting(MAC1, None), at(6)),
        ]
    )
    assert await offer() == ""
    [device] = await rows(runtime.db)
    assert device.version == "1.0.522.101"  # empty fields kept the stored value throughout


async def test_a_sighting_without_identity_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="MAC address or a serial number"):
        await SightingRecorder(runtime.db).write([(Sighting(MAC1, None), at(0)), (Sighting(None, ""), at(0))])
    assert await rows(runtime.db) == []  # the whole batch, the good sighting included


async def test_concurrent_check_ins_share_batches(runtime: Runtime) -> None:
    fleet = FleetService(runtime.db)
    updates = UpdateService(runtime.db, SETTINGS, fleet)
    checkins = CheckInService(runtime.db, runtime.blobs, SETTINGS, AuditFile(runtime.paths.logs, "FE01"))
    importer = FirmwareImporter(runtime.db, runtime.blobs, cabextract=None, max_size=1 << 20)
    updates.catalog_changed = importer.catalog_changed = checkins.catalog.invalidate
    await importer.store(ACTOR, interpret([Member(k, v) for k, v in image_files("1.0.522.101").items()]))
    await updates.approve(ACTOR, CX700)

    macs = [f"00-04-F2-00-01-{i:02X}" for i in range(100)]

    async def check_in(mac: str) -> bytes:
        body = checkin_body(mac, "1.0.199.123", serial=f"SN{mac[-5:].replace('-', '')}")
        xml, name = await checkins.check_in(CheckInRequest("internal", "10.1.0.7", "pool01", body))
        assert name == mac
        return xml

    answers = await asyncio.wait_for(asyncio.gather(*(check_in(m) for m in macs)), 120)
    assert all(b"<NumOfFiles>1</NumOfFiles>" in a for a in answers)
    assert 1 <= checkins.log.batches < 100 and checkins.log.items == 100

    devices = await rows(runtime.db)
    assert sorted(d.mac or "" for d in devices) == macs
    assert {(d.version, d.site, d.last_offer, d.model) for d in devices} == {
        ("1.0.199.123", "Redmond", "1.0.522.101", "CX700")
    }
    records = [
        r
        for path in sorted(runtime.paths.logs.glob("RequestHandlerAuditLog_FE01_*.log"))
        for r in parse_records(path.read_text())
    ]
    assert sorted(r.mac for r in records) == macs
    assert all(r.user_host_address == "10.1.0.7" and len(r.response_modules) == 1 for r in records)


async def test_control_characters_in_one_check_in_do_not_fail_the_batch_it_shares(runtime: Runtime) -> None:
    """A form body with %00 (which PostgreSQL refuses in text) and other control characters checks in
    together with well-formed phones: every one is answered and recorded, the values cleaned."""
    checkins = CheckInService(runtime.db, runtime.blobs, SETTINGS, AuditFile(runtime.paths.logs, "FE01"))
    hostile = b"MACAddress=00-04-F2-00-02-FF&Vendor=Poly%00com&Model=CX%0D%0A700%1B&UserID=a%00b&Version=1.0.199.123"
    bodies = [checkin_body(f"00-04-F2-00-02-{i:02X}", "1.0.199.123") for i in range(20)] + [hostile]

    async def check_in(body: bytes) -> str:
        request = CheckInRequest("internal", "10.1.0.7", "pool01", body, "application/x-www-form-urlencoded")
        return (await checkins.check_in(request))[1]

    names = await asyncio.wait_for(asyncio.gather(*(check_in(b) for b in bodies)), 120)
    assert "00-04-F2-00-02-FF" in names and len(set(names)) == 21
    assert checkins.log.batches < len(bodies)  # the hostile one shared a batch
    stored = {d.mac: d for d in await rows(runtime.db)}
    assert len(stored) == 21
    odd = stored["00-04-F2-00-02-FF"]
    assert (odd.brand, odd.model, odd.user) == ("Poly com", "CX  700", "a b")
    audit = [
        r
        for path in sorted(runtime.paths.logs.glob("RequestHandlerAuditLog_FE01_*.log"))
        for r in parse_records(path.read_text())
    ]
    assert len(audit) == 21 and not any("\x00" in r.vendor or "\n" in r.model for r in audit)
