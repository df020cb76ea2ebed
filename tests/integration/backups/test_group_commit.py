"""Group commit at the service level: concurrent changes share a transaction, each keeps its own outcome.

On SQLite and PostgreSQL (db_url).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from phonehome.backups.ledger import Change, NewVersion, Removal, apply_batch
from phonehome.backups.names import parse_backup_name
from phonehome.backups.service import BackupService, build
from phonehome.backups.versions import Upload
from phonehome.changelog import Actor
from phonehome.config import BackupsSettings
from phonehome.db import utcnow
from phonehome.runtime import Runtime
from tests.support.runtime import start_runtime


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _upload(data: bytes, if_none_match: str | None = None) -> Upload:
    return Upload(_body(data), "4711", "192.0.2.7", if_none_match=if_none_match)


async def _runtime(tmp_path: Path, db_url: str, **backups: object) -> Runtime:
    return await start_runtime(tmp_path / "data", db_url, backups=BackupsSettings.model_validate(backups))


async def test_concurrent_puts_of_one_file_each_become_a_version_the_last_current(
    tmp_path: Path, db_url: str
) -> None:
    runtime = await _runtime(tmp_path, db_url, keep_versions=30)
    _, backups = build(runtime)
    name = parse_backup_name("4711_96xxdata.txt")
    bodies = [f"ABKNAME001=v{i}\r\n".encode() * 40 for i in range(24)]
    try:
        results = await asyncio.gather(*(backups.put(name, _upload(b)) for b in bodies))
        assert backups.writer.batches < len(bodies)  # they were grouped
        assert sum(created for created, _ in results) == 1
        numbers = sorted(current.version for _, current in results)
        assert numbers == list(range(1, 25))
        last = max((current for _, current in results), key=lambda c: c.version)
        # The put that got the highest number is current, in this server's cache and in the database.
        cached = await backups.current(name.name)
        fresh = await BackupService(runtime, backups.accounts).current(name.name)
        assert cached == fresh == last
        assert await backups.read(last.sha256) == bodies[[c for _, c in results].index(last)]
        history = await backups.history(name.name)
        assert [v.number for v in history] == list(range(24, 0, -1))
        assert {(await backups.show(name.name, v.number))[1] for v in history} == set(bodies)
    finally:
        await runtime.close()


async def test_pruning_within_one_batch_removes_the_versions_and_their_blobs(
    tmp_path: Path, db_url: str
) -> None:
    runtime = await _runtime(tmp_path, db_url, keep_versions=3)
    _, backups = build(runtime)
    name = parse_backup_name("4711_96xxdata.txt")
    bodies = [f"ABKNAME001=p{i}\r\n".encode() for i in range(10)]
    try:
        await backups.put(name, _upload(b"first\r\n"))
        await asyncio.gather(*(backups.put(name, _upload(b)) for b in bodies))
        history = await backups.history(name.name)
        assert [v.number for v in history] == [11, 10, 9]
        assert set(backups.blobs.digests()) == {v.sha256 for v in history}
    finally:
        await runtime.close()


async def test_a_failing_change_does_not_fail_its_batch(tmp_path: Path, db_url: str) -> None:
    """One batch, one transaction (the ledger called directly, so nothing depends on scheduling)."""
    runtime = await _runtime(tmp_path, db_url, quota=1000)
    _, backups = build(runtime)
    new = parse_backup_name("4711_96xxdata.txt")
    other = parse_backup_name("4711_16xxdata.txt")
    one, two, big, fits = (
        backups.blobs.put_bytes_sync(data) for data in (b"one\r\n", b"two\r\n", b"x" * 1001, b"fits\r\n")
    )
    changes: list[Change] = [
        NewVersion(new, one, "put", "4711", if_none_match="*"),
        NewVersion(new, two, "put", "4711", if_none_match="*"),  # the file exists by then
        NewVersion(other, big, "put", "4711"),  # over the quota
        Removal(parse_backup_name("4711_9610data.txt")),  # no such file
        NewVersion(other, fits, "put", "4711"),
    ]
    try:
        async with runtime.db.engine.begin() as conn:
            applied = await conn.run_sync(
                lambda sync: apply_batch(
                    sync, changes, keep_versions=20, quota=1000, now=utcnow(), writer="t"
                )
            )
        outcomes = applied.outcomes
        assert [type(o).__name__ for o in outcomes[1:4]] == [
            "ChangedMeanwhile",
            "QuotaExceeded",
            "BackupNotFound",
        ]
        assert isinstance(outcomes[0], tuple) and outcomes[0][1].version == 1
        assert isinstance(outcomes[4], tuple) and outcomes[4][1].version == 1
        assert set(applied.currents) == {new.name, other.name}
        assert [v.number for v in await backups.history(new.name)] == [1]
        current = await backups.current(other.name)
        assert current is not None and await backups.read(current.sha256) == b"fits\r\n"
    finally:
        await runtime.close()


async def test_concurrent_creators_one_wins(tmp_path: Path, db_url: str) -> None:
    runtime = await _runtime(tmp_path, db_url)
    _, backups = build(runtime)
    name = parse_backup_name("4711_96xxdata.txt")
    try:
        outcomes = await asyncio.gather(
            *(backups.put(name, _upload(f"v{i}\r\n".encode(), if_none_match="*")) for i in range(4)),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["ChangedMeanwhile"] * 3 + ["tuple"]
        assert [v.number for v in await backups.history(name.name)] == [1]
    finally:
        await runtime.close()


@pytest.mark.parametrize("restore_first", [False, True])
async def test_delete_restore_and_put_in_turn(tmp_path: Path, db_url: str, restore_first: bool) -> None:
    runtime = await _runtime(tmp_path, db_url)
    _, backups = build(runtime)
    name = parse_backup_name("4711_96xxdata.txt")
    try:
        await backups.put(name, _upload(b"v1\r\n"))
        await backups.delete(name)
        assert await backups.current(name.name) is None
        if restore_first:
            await backups.restore(Actor("cli:test"), name, 1)
        created, current = await backups.put(name, _upload(b"v3\r\n"))
        assert created is not restore_first
        assert current.version == (3 if restore_first else 2)
        assert await backups.current(name.name) == current
    finally:
        await runtime.close()
