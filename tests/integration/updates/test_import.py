"""Firmware import, add and prune through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from phonehome.changelog import Actor, list_changes
from phonehome.fleet.service import FleetService
from phonehome.runtime import Runtime
from phonehome.updates.cab import default_cabextract
from phonehome.updates.errors import BadPackage
from phonehome.updates.importer import FirmwareImporter, image_from_files
from phonehome.updates.models import FirmwareFile, FirmwareImage, UpdateRule
from phonehome.updates.rules import RuleKey
from phonehome.updates.service import UpdateService
from tests.integration.updates.packages import CX700, build_cab, build_exe, image_files, sha256
from tests.support.corpus import cab_corpus
from tests.support.runtime import migrated_runtime

ACTOR = Actor("test")
RULE = CX700


@pytest.fixture
async def runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    async with migrated_runtime(tmp_path / "data", db_url) as rt:
        yield rt


def make_importer(rt: Runtime) -> FirmwareImporter:
    return FirmwareImporter(rt.db, rt.blobs, cabextract=default_cabextract(), max_size=64 << 20)


async def counts(rt: Runtime) -> tuple[int, int, int, int]:
    async with rt.db.session() as session:
        images = await session.scalar(select(func.count()).select_from(FirmwareImage))
        files = await session.scalar(select(func.count()).select_from(FirmwareFile))
        rules = await session.scalar(select(func.count()).select_from(UpdateRule))
    return int(images or 0), int(files or 0), int(rules or 0), len(list(rt.blobs.digests()))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_hostile_cabinets_are_refused_with_one_line_and_write_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    hostile = cab_corpus() / "hostile"
    before = sorted(p for p in tmp_path.parent.rglob("*") if "data" not in p.parts)
    importer = make_importer(runtime)
    for cabinet in sorted(hostile.glob("*.cab")):
        with pytest.raises(BadPackage) as refused:
            await importer.import_files(ACTOR, [cabinet])
        reason = refused.value.reason
        assert reason.startswith(cabinet.name + ": ") and "\n" not in reason, reason
        assert await counts(runtime) == (0, 0, 0, 0), cabinet.name
        assert list(runtime.blobs.tmp.iterdir()) == []
    # dirwalk-vulns.cab and friends: nothing appeared anywhere outside the data dir.
    assert sorted(p for p in tmp_path.parent.rglob("*") if "data" not in p.parts) == before


async def test_import_is_idempotent_and_reads_self_extractors(runtime: Runtime, tmp_path: Path) -> None:
    importer = make_importer(runtime)
    files = {**image_files("1.0.522.101"), **image_files("3.5.6907.35")}
    cab = write(tmp_path, "UCUpdates.cab", build_cab(files))
    first = await importer.import_files(ACTOR, [cab])
    assert [(i.name.rsplit("/", 1)[-1], i.new) for i in first.images] == [
        ("1.0.522.101", True),
        ("3.5.6907.35", True),
    ]
    rules = await UpdateService(runtime.db, runtime.settings.updates, FleetService(runtime.db)).list_rules()
    assert [(r.name, r.pending_version, r.approved_version) for r in rules] == [(RULE, "3.5.6907.35", None)]
    state = await counts(runtime)
    again = await importer.import_files(
        ACTOR, [cab, write(tmp_path, "UCUpdates.exe", build_exe(build_cab(files)))]
    )
    assert not again.changed
    assert await counts(runtime) == state == (2, 6, 1, 6)
    nbt = files[f"{RULE}/1.0.522.101/CPE/CPE.nbt"]
    assert runtime.blobs.read_bytes_sync(sha256(nbt)) == nbt


async def test_failed_import_leaves_nothing_behind(runtime: Runtime, tmp_path: Path) -> None:
    importer = make_importer(runtime)
    await importer.import_files(ACTOR, [write(tmp_path, "a.cab", build_cab(image_files("1.0.522.101")))])
    state = await counts(runtime)
    clash = {
        **image_files("3.5.6907.35"),
        **image_files("1.0.522.101", size=100),
    }  # same version, other bytes
    with pytest.raises(BadPackage, match="imported before with different files"):
        await importer.import_files(ACTOR, [write(tmp_path, "b.cab", build_cab(clash))])
    assert await counts(runtime) == state
    new_nbt = image_files("3.5.6907.35")[f"{RULE}/3.5.6907.35/CPE/CPE.nbt"]
    assert not runtime.blobs.exists(sha256(new_nbt))


async def test_add_approve_reset_prune(runtime: Runtime, tmp_path: Path) -> None:
    importer = make_importer(runtime)
    updates = UpdateService(runtime.db, runtime.settings.updates, FleetService(runtime.db))
    key = RuleKey("UCPhone", "Polycom", "CX700", "A", "ENU")
    loose = []
    for name, data in image_files("1.0.522.101").items():
        loose.append(write(tmp_path, name.rsplit("/", 1)[-1], data))
    await importer.add_image(ACTOR, image_from_files(key, "1.0.522.101", loose, None))
    await updates.approve(ACTOR, RULE.lower())
    await importer.import_files(ACTOR, [write(tmp_path, "b.cab", build_cab(image_files("3.5.6907.35")))])
    await updates.reset(ACTOR, RULE)
    pruned = await importer.prune(ACTOR)
    assert pruned.images == (f"{RULE}/3.5.6907.35",) and pruned.blobs == 3
    assert await counts(runtime) == (1, 3, 1, 3)
    with pytest.raises(BadPackage, match=r"0 \.nbt files"):
        await importer.add_image(ACTOR, image_from_files(key, "9.9", loose[1:], None))
    async with runtime.db.session() as session:
        actions = [c.action for c in await list_changes(session, object_type="update_rule")]
    assert actions == ["reset", "import", "approve", "import"]
