"""The check-in service in-process, on SQLite and PostgreSQL: test-device scopes, samples, audit files."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from phonehome.backups.accounts import AccountService
from phonehome.changelog import Actor
from phonehome.config import UpdatesSettings
from phonehome.fleet.service import FleetService
from phonehome.http.phone import create_phone_app
from phonehome.runtime import Runtime
from phonehome.updates import phone
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.auditlog import AuditRecord, parse_records
from phonehome.updates.cab import Member
from phonehome.updates.checkin import CheckInRequest, CheckInService
from phonehome.updates.importer import FirmwareImporter
from phonehome.updates.models import CheckInSample
from phonehome.updates.package import Package, interpret
from phonehome.updates.service import UpdateService
from tests.integration.updates.packages import CX700, image_files
from tests.integration.updates.phones import checkin_body
from tests.support.runtime import migrated_runtime

ACTOR = Actor("test")
SETTINGS = UpdatesSettings(
    sites={"Redmond": ["10.1.0.0/16"], "Lab": ["10.1.2.0/24"], "Dublin": ["10.2.0.0/16"]},
    sample_bodies_per_model=2,
    sample_models=2,
    server_name="FE01",
)


@pytest.fixture
async def runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    async with migrated_runtime(tmp_path / "data", db_url, updates=SETTINGS) as rt:
        yield rt


def package(*versions: str) -> Package:
    files: dict[str, bytes] = {}
    for version in versions:
        files.update(image_files(version))
    return interpret([Member(k, v) for k, v in files.items()])


async def services(rt: Runtime) -> tuple[UpdateService, CheckInService]:
    fleet = FleetService(rt.db)
    updates = UpdateService(rt.db, SETTINGS, fleet)
    checkins = CheckInService(rt.db, rt.blobs, SETTINGS, AuditFile(rt.paths.logs, "FE01"))
    importer = FirmwareImporter(rt.db, rt.blobs, cabextract=None, max_size=1 << 20)
    updates.catalog_changed = importer.catalog_changed = checkins.catalog.invalidate  # as wiring.py does
    await importer.store(ACTOR, package("1.0.522.101"))
    await updates.approve(ACTOR, CX700)
    await importer.store(ACTOR, package("3.5.6907.35"))
    return updates, checkins


async def offer(checkins: CheckInService, ip: str, mac: str, serial: str = "", model: str = "CX700") -> bool:
    body = checkin_body(mac, "1.0.522.101", serial=serial, model=model)
    xml, _ = await checkins.check_in(CheckInRequest("internal", ip, "pool01.contoso.com", body))
    return b"<NumOfFiles>1</NumOfFiles>" in xml


async def test_test_devices_by_scope(runtime: Runtime) -> None:
    updates, checkins = await services(runtime)
    await updates.add_test_device(ACTOR, mac="00-04-F2-00-00-01", site="Redmond")
    await updates.add_test_device(ACTOR, serial="sn_2")
    assert await offer(checkins, "10.1.5.5", "00-04-F2-00-00-01")  # in Redmond
    assert not await offer(checkins, "10.2.5.5", "00-04-F2-00-00-01")  # same phone in Dublin
    assert await offer(checkins, "10.2.5.5", "00-04-F2-00-00-02", serial="SN_2")  # global, by serial
    assert not await offer(checkins, "10.1.5.5", "00-04-F2-00-00-03")
    # The most specific subnet names the site: 10.1.2.x is the Lab, not Redmond.
    assert not await offer(checkins, "10.1.2.9", "00-04-F2-00-00-01")
    [device] = [d for d in await updates.devices() if d.mac == "00-04-F2-00-00-01"]
    assert device.site == "Lab" and device.last_offer == "" and device.ip == "10.1.2.9"


async def test_samples_are_bounded(runtime: Runtime) -> None:
    _, checkins = await services(runtime)
    for model in ("CX700", "CX700", "CX700", "CX600", "CX3000"):
        await offer(checkins, "10.9.9.9", "00-04-F2-00-00-09", model=model)
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(CheckInSample.model_key, func.count()).group_by(CheckInSample.model_key)
            )
        ).all()
    assert dict(rows) == {"polycom/cx700": 2, "polycom/cx600": 1}


def test_audit_file_rotates_daily(tmp_path: Path) -> None:
    audit = AuditFile(tmp_path / "logs", "FE01")
    for day in (24, 25, 25):
        when = dt.datetime(2026, 11, day, 23, 59, 59, tzinfo=dt.UTC)
        audit.write(AuditRecord(when, "192.0.2.1", "UCPhone", "", "SN", "", "", "", "", (), (), ""))
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["RequestHandlerAuditLog_FE01_20261124.log", "RequestHandlerAuditLog_FE01_20261125.log"]
    assert len(parse_records((tmp_path / "logs" / files[1]).read_text())) == 2


@pytest.mark.parametrize("anonymous", [False, True])
async def test_anonymous_external_switch(runtime: Runtime, anonymous: bool) -> None:
    """The external routes over a real socket; no client certificate is presented."""
    settings = SETTINGS.model_copy(update={"anonymous_external": anonymous})
    fleet = FleetService(runtime.db)
    checkins = CheckInService(runtime.db, runtime.blobs, settings, AuditFile(runtime.paths.logs, "FE01"))
    app = create_phone_app(runtime, "external", [lambda plane: phone.routes(checkins, plane)])
    async with TestServer(app, host="127.0.0.1") as server, httpx.AsyncClient(timeout=30) as client:
        url = str(server.make_url("/RequestHandlerExt/ucdevice.upx"))
        response = await client.post(url, content=checkin_body("00-04-F2-00-00-07", "1.0.199.123"))
    assert response.status_code == (200 if anonymous else 401)
    assert (await fleet.list() != []) is anonymous


async def test_external_check_in_with_device_credentials(runtime: Runtime) -> None:
    """Basic credentials of a device account (the backups slice's accounts) admit an external check-in."""
    accounts = AccountService(runtime.db, runtime.settings.backups)
    await accounts.add(ACTOR, "4711", "correct horse battery")
    fleet = FleetService(runtime.db)
    checkins = CheckInService(runtime.db, runtime.blobs, SETTINGS, AuditFile(runtime.paths.logs, "FE01"))
    routes = [lambda plane: phone.routes(checkins, plane, accounts.authenticate_device)]
    app = create_phone_app(runtime, "external", routes)
    body = checkin_body("00-04-F2-00-00-08", "1.0.199.123")
    async with TestServer(app, host="127.0.0.1") as server, httpx.AsyncClient(timeout=30) as client:
        url = str(server.make_url("/RequestHandlerExt/ucdevice.upx"))
        good = await client.post(url, content=body, auth=("4711", "correct horse battery"))
        wrong = await client.post(url, content=body, auth=("4711", "wrong"))
        none = await client.post(url, content=body)
        bearer = await client.post(url, content=body, headers={"Authorization": "Bearer x"})
    assert good.status_code == 200 and "<NumOfFiles>0</NumOfFiles>" in good.text
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    assert none.status_code == 401 and none.headers["WWW-Authenticate"].startswith('Basic realm="phonehome')
    assert bearer.status_code == 401 and "use Basic" in bearer.text
    assert [d.mac for d in await fleet.list()] == ["00-04-F2-00-00-08"]
    assert len(parse_records(next(runtime.paths.logs.glob("RequestHandler*")).read_text())) == 4
