"""The catalog generation and the cache that follows it, on SQLite and PostgreSQL.

Triggers bump ``update_catalog.generation`` on every change to rules, images, files and test devices,
whoever makes it (a service, the importer, raw SQL). A CatalogCache reloads its snapshot only when the
generation moved, and checks it at most every ``refresh_seconds`` unless invalidated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, text

from phonehome.changelog import Actor
from phonehome.config import UpdatesSettings
from phonehome.fleet.service import FleetService
from phonehome.http.phone import create_phone_app
from phonehome.runtime import Runtime
from phonehome.updates import phone
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.cab import Member
from phonehome.updates.catalog import CatalogRule, DeviceAsks
from phonehome.updates.catalog_cache import CatalogCache
from phonehome.updates.checkin import CheckInRequest, CheckInService
from phonehome.updates.importer import FirmwareImporter
from phonehome.updates.models import CatalogGeneration
from phonehome.updates.package import Package, interpret
from phonehome.updates.rules import RuleState
from phonehome.updates.service import UpdateService
from tests.integration.updates.packages import CX700, image_files
from tests.integration.updates.phones import checkin_body
from tests.support.runtime import migrated_runtime

ACTOR = Actor("test")
SETTINGS = UpdatesSettings(sites={"Redmond": ["10.1.0.0/16"]}, server_name="FE01", sample_bodies_per_model=0)
OLD, NEW = "1.0.522.101", "3.5.6907.35"
CX700_ASKS = DeviceAsks("UCPhone", "Polycom", "CX700", "A", "ENU", OLD, "00-04-F2-00-00-01", None, "")


@pytest.fixture
async def runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    async with migrated_runtime(tmp_path / "data", db_url, updates=SETTINGS) as rt:
        yield rt


def package(*versions: str, interim: bytes | None = None) -> Package:
    files: dict[str, bytes] = {}
    for version in versions:
        files.update(image_files(version))
    if interim is not None:
        files["OCInterim/ENU/cpe.nbt"] = interim
    return interpret([Member(k, v) for k, v in files.items()])


async def generation(rt: Runtime) -> int:
    async with rt.db.session() as session:
        value = await session.scalar(select(CatalogGeneration.generation).where(CatalogGeneration.id == 1))
    assert value is not None
    return value


def admin_services(rt: Runtime) -> tuple[UpdateService, FirmwareImporter]:
    """An admin side that does not tell any cache: like another process or node."""
    updates = UpdateService(rt.db, SETTINGS, FleetService(rt.db))
    importer = FirmwareImporter(rt.db, rt.blobs, cabextract=None, max_size=1 << 20)
    return updates, importer


def check_in_service(rt: Runtime, cache: CatalogCache) -> CheckInService:
    """A node's check-in side answering from ``cache``."""
    return CheckInService(rt.db, rt.blobs, SETTINGS, AuditFile(rt.paths.logs, "FE01"), catalog=cache)


def cx700_state(rule: CatalogRule | str) -> RuleState:
    assert isinstance(rule, CatalogRule), rule
    return rule.state


async def test_every_kind_of_catalog_change_bumps_the_generation(runtime: Runtime) -> None:
    updates, importer = admin_services(runtime)

    async def raw_sql(statement: str, **params: object) -> None:
        async with runtime.db.engine.begin() as conn:
            await conn.execute(text(statement), params)

    async def prune() -> None:
        result = await importer.prune(ACTOR)
        assert result.images == (f"{CX700}/{NEW}",)  # reset left 6907 unreferenced

    changes: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("import an image", lambda: importer.store(ACTOR, package(OLD))),
        ("approve a rule", lambda: updates.approve(ACTOR, CX700)),
        ("import a pending image", lambda: importer.store(ACTOR, package(NEW))),
        ("reset a rule", lambda: updates.reset(ACTOR, CX700)),
        ("add a test device", lambda: updates.add_test_device(ACTOR, mac="00-04-F2-00-00-01")),
        ("add a site test device", lambda: updates.add_test_device(ACTOR, serial="SN1", site="Redmond")),
        ("remove a test device", lambda: updates.remove_test_device(ACTOR, mac="00-04-F2-00-00-01")),
        ("prune", prune),
        ("import an interim file", lambda: importer.store(ACTOR, package(interim=b"interim 1"))),
        ("replace an interim file", lambda: importer.store(ACTOR, package(interim=b"interim 2"))),
        ("raw UPDATE update_rules", lambda: raw_sql("UPDATE update_rules SET pending_version = :v", v=NEW)),
        ("raw UPDATE firmware_files", lambda: raw_sql("UPDATE firmware_files SET size = size + 0")),
        ("remove a rule", lambda: updates.remove(ACTOR, CX700)),
    ]
    before = await generation(runtime)
    for name, change in changes:
        await change()
        after = await generation(runtime)
        assert after > before, f"{name} did not bump the catalog generation"
        before = after

    # Reading changes nothing.
    await updates.list_rules()
    await updates.list_test_devices()
    await importer.list_images()
    assert await generation(runtime) == before


async def test_a_cache_that_was_not_told_keeps_its_snapshot_until_invalidated(runtime: Runtime) -> None:
    updates, importer = admin_services(runtime)
    await importer.store(ACTOR, package(OLD))
    await importer.store(ACTOR, package(NEW))  # the rule: pending 522 then 6907 → pending NEW
    cache = CatalogCache(runtime.db, refresh_seconds=3600)
    before = await cache.current()
    assert cx700_state(before.rule_for(CX700_ASKS)) == RuleState(pending=NEW)
    assert before.decide(CX700_ASKS)[0].version is None  # nothing approved yet

    await updates.approve(ACTOR, CX700)  # another service instance: nobody invalidates this cache
    assert await generation(runtime) > before.generation
    stale = await cache.current()
    assert stale is before and cache.reloads == 1  # the snapshot is what answers, not the database

    cache.invalidate()
    after = await cache.current()
    assert after.generation == await generation(runtime) and cache.reloads == 2
    assert cx700_state(after.rule_for(CX700_ASKS)) == RuleState(approved=NEW)
    assert after.decide(CX700_ASKS)[0].version == NEW


async def test_check_ins_answer_from_the_cache(runtime: Runtime) -> None:
    updates, importer = admin_services(runtime)
    await importer.store(ACTOR, package(OLD))
    await updates.approve(ACTOR, CX700)
    await importer.store(ACTOR, package(NEW))
    cache = CatalogCache(runtime.db, refresh_seconds=3600)
    checkins = check_in_service(runtime, cache)

    async def offered(mac: str) -> bool:
        body = checkin_body(mac, OLD)
        xml, _ = await checkins.check_in(CheckInRequest("internal", "10.9.9.9", "pool01", body))
        return NEW.encode() in xml

    assert not await offered("00-04-F2-00-00-01")
    await updates.add_test_device(ACTOR, mac="00-04-F2-00-00-01")  # not wired to this cache
    assert not await offered("00-04-F2-00-00-01")
    cache.invalidate()
    assert await offered("00-04-F2-00-00-01")
    assert cache.reloads == 2


async def test_refresh_zero_follows_every_change_and_reloads_only_when_it_moved(runtime: Runtime) -> None:
    updates, importer = admin_services(runtime)
    await importer.store(ACTOR, package(OLD))
    cache = CatalogCache(runtime.db, refresh_seconds=0)
    first = await cache.current()
    assert cache.reloads == 1
    assert await cache.current() is first  # the generation did not move: same snapshot, no reload
    assert cache.reloads == 1
    cache.invalidate()
    assert await cache.current() is first and cache.reloads == 1

    await updates.approve(ACTOR, CX700)
    second = await cache.current()
    assert cache.reloads == 2 and second.generation > first.generation
    assert cx700_state(second.rule_for(CX700_ASKS)).approved == OLD

    async with runtime.db.engine.begin() as conn:  # an admin's SQL, behind every service's back
        await conn.execute(text("UPDATE update_rules SET approved_version = :v"), {"v": NEW})
    third = await cache.current()
    assert cache.reloads == 3 and cx700_state(third.rule_for(CX700_ASKS)).approved == NEW
    assert await cache.current() is third and cache.reloads == 3


async def test_concurrent_check_ins_share_one_reload(runtime: Runtime) -> None:
    updates, importer = admin_services(runtime)
    await importer.store(ACTOR, package(OLD))
    cache = CatalogCache(runtime.db, refresh_seconds=3600)
    cold = await asyncio.wait_for(asyncio.gather(*(cache.current() for _ in range(50))), 60)
    assert cache.reloads == 1 and all(c is cold[0] for c in cold)

    await updates.approve(ACTOR, CX700)
    cache.invalidate()
    warm = await asyncio.wait_for(asyncio.gather(*(cache.current() for _ in range(50))), 60)
    assert cache.reloads == 2 and all(c is warm[0] for c in warm)
    assert warm[0] is not cold[0] and cx700_state(warm[0].rule_for(CX700_ASKS)).approved == OLD


async def test_a_download_from_a_snapshot_older_than_a_prune_is_a_404(runtime: Runtime) -> None:
    """Another node prunes while this node's snapshot still lists the image: the phone gets a 404 with
    a reason (the file is gone from the store), never a 500, and the other files are still served."""
    updates, importer = admin_services(runtime)
    await importer.store(ACTOR, package(OLD))
    await updates.approve(ACTOR, CX700)
    await importer.store(ACTOR, package(NEW))
    await updates.reset(ACTOR, CX700)  # 6907 is referenced by no rule any more
    checkins = check_in_service(runtime, CatalogCache(runtime.db, refresh_seconds=3600))
    snapshot = await checkins.catalog.current()
    tails = {
        version: f"{found.image.path}/{version}/{found.file.path}"
        for (_, version, _), found in snapshot.files.items()
        if found.file.path_key.endswith(".nbt")
    }
    assert (await importer.prune(ACTOR)).images == (f"{CX700}/{NEW}",)
    assert await checkins.catalog.current() is snapshot  # not told: still lists the pruned image

    app = create_phone_app(runtime, "internal", [lambda plane: phone.routes(checkins, plane)])
    async with TestServer(app, host="127.0.0.1") as server, httpx.AsyncClient(timeout=30) as client:
        gone = await client.get(str(server.make_url(f"/DeviceUpdateFiles_Int/{tails[NEW]}")))
        kept = await client.get(str(server.make_url(f"/DeviceUpdateFiles_Int/{tails[OLD]}")))
    assert gone.status_code == 404 and "missing from the store" in gone.text
    assert kept.status_code == 200 and kept.content
