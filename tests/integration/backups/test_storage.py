"""Accounts, versions, retention, quota, restore and concurrency at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from phonehome.backups.accounts import AccountService
from phonehome.backups.errors import (
    AccountExists,
    BadAccountInput,
    BadCredentials,
    ChangedMeanwhile,
    MacInUse,
    NotYourFile,
    QuotaExceeded,
    ReadOnlyFile,
    UnknownCertificate,
    VersionNotFound,
)
from phonehome.backups.names import parse_backup_name
from phonehome.backups.service import build
from phonehome.backups.versions import Upload
from phonehome.changelog import Actor, list_changes
from phonehome.config import BackupsSettings
from phonehome.errors import PayloadTooLarge, TooManyRequests
from phonehome.http.identity import PeerIdentity
from phonehome.runtime import Runtime
from tests.support.runtime import start_runtime

ADMIN = Actor("cli:test")


async def _body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _upload(data: bytes, if_match: str | None = None, if_none_match: str | None = None) -> Upload:
    chunks = _body(data[: len(data) // 2], data[len(data) // 2 :])
    return Upload(chunks, "4711", "192.0.2.7", if_match=if_match, if_none_match=if_none_match)


async def _runtime(tmp_path: Path, db_url: str, **backups: object) -> Runtime:
    return await start_runtime(tmp_path / "data", db_url, backups=BackupsSettings.model_validate(backups))


def _peer(cn: str | None, dns: tuple[str, ...] = ()) -> PeerIdentity:
    return PeerIdentity(f"CN={cn}", cn, dns, (), (), "01", "0" * 64, "CN=phonehome CA")


async def test_accounts_auth_cache_and_throttle(tmp_path: Path, db_url: str) -> None:
    clock = [1000.0]
    runtime = await _runtime(tmp_path, db_url, max_failures=3, failure_window=60)
    accounts = AccountService(runtime.db, runtime.settings.backups, clock=lambda: clock[0])
    try:
        await accounts.add(ADMIN, "4711", "secret-4711", mac="00:04:F2:AA:BB:CC")
        with pytest.raises(AccountExists):
            await accounts.add(ADMIN, "4711", "other-pass")
        with pytest.raises(MacInUse):
            await accounts.add(ADMIN, "4712", "secret-4712", mac="0004f2aabbcc")
        for name, password in (("a:b", "secret-1"), ("", "secret-1"), ("4713", "short")):
            with pytest.raises(BadAccountInput):
                await accounts.add(ADMIN, name, password)
        assert [a.name for a in await accounts.list()] == ["4711"]

        view = await accounts.authenticate_device("4711", "secret-4711", "192.0.2.7")
        assert (view.name, view.mac) == ("4711", "0004f2aabbcc")
        assert len(accounts._verified) == 1  # the next request skips argon2
        assert (await accounts.authenticate_device("4711", "secret-4711", "192.0.2.7")).name == "4711"

        await accounts.set_password(ADMIN, "4711", "new-secret")  # the cached pair dies with the old hash
        with pytest.raises(BadCredentials):
            await accounts.authenticate_device("4711", "secret-4711", "192.0.2.7")
        with pytest.raises(BadCredentials):
            await accounts.authenticate_device("nobody", "x", "192.0.2.7")
        for _ in range(2):
            with pytest.raises(BadCredentials):
                await accounts.authenticate_device("4711", "wrong", "192.0.2.8")
        # Three failures for account 4711 (from two addresses): the account is held, whatever the address.
        with pytest.raises(TooManyRequests) as held:
            await accounts.authenticate_device("4711", "new-secret", "192.0.2.9")
        assert held.value.headers["Retry-After"] == "60"
        clock[0] += 61
        assert (await accounts.authenticate_device("4711", "new-secret", "192.0.2.9")).name == "4711"

        assert (await accounts.account_for_certificate(_peer("4711"))).name == "4711"
        assert (
            await accounts.account_for_certificate(_peer("SEP0004F2AABBCC", ("0004F2AABBCC",)))
        ).name == "4711"
        with pytest.raises(UnknownCertificate):
            await accounts.account_for_certificate(_peer("9999"))
        await accounts.remove(ADMIN, "4711")
        with pytest.raises(BadCredentials):
            await accounts.authenticate_device("4711", "new-secret", "192.0.2.10")
        async with runtime.db.session() as session:
            actions = [c.action for c in await list_changes(session, object_type="backup_account")]
        assert actions == ["delete", "set-password", "create"]
    finally:
        await runtime.close()


async def test_versions_retention_restore_and_blobs(tmp_path: Path, db_url: str) -> None:
    runtime = await _runtime(tmp_path, db_url, keep_versions=3)
    _, backups = build(runtime)
    name = parse_backup_name("4711_96xxdata.txt")
    try:
        bodies = [f"ABKNAME001=v{i}\n".encode() for i in range(1, 6)]
        created = [(await backups.put(name, _upload(b)))[0] for b in bodies]
        assert created == [True, False, False, False, False]
        history = await backups.history(name.name)
        assert [(v.number, v.current) for v in history] == [(5, True), (4, False), (3, False)]
        # Pruned versions' blobs are gone; kept ones are there.
        digests = set(runtime.blob_store("backups").digests())
        assert {v.sha256 for v in history} == digests
        with pytest.raises(VersionNotFound):
            await backups.show(name.name, 1)

        restored = await backups.restore(ADMIN, name, 3)
        assert (restored.number, restored.source, restored.current) == (6, "restore of 3", True)
        current = await backups.current(name.name)
        assert current is not None and await backups.read(current.sha256) == bodies[2]
        assert "-ABKNAME001=v3\n+ABKNAME001=v5\n" in await backups.diff(name.name, 6, 5)

        await backups.delete(name)
        assert await backups.current(name.name) is None
        assert [v.number for v in await backups.history(name.name)] == [6, 5, 4]  # nothing lost
        created_again, _ = await backups.put(name, _upload(b"again\n"))
        assert created_again
    finally:
        await runtime.close()


async def test_conditions_size_quota_and_append(tmp_path: Path, db_url: str) -> None:
    runtime = await _runtime(tmp_path, db_url, max_size=100, quota=250, log_cap=30, keep_versions=20)
    accounts, backups = build(runtime)
    await accounts.add(ADMIN, "4711", "secret-4711", mac="0004f2aabbcc")
    name = parse_backup_name("4711_96xxdata.txt")
    try:
        _, first = await backups.put(name, _upload(b"a" * 80, if_none_match="*"))
        with pytest.raises(ChangedMeanwhile):
            await backups.put(name, _upload(b"b" * 80, if_none_match="*"))
        with pytest.raises(ChangedMeanwhile):
            await backups.put(name, _upload(b"b" * 80, if_match='"' + "0" * 64 + '"'))
        await backups.put(name, _upload(b"b" * 80, if_match=first.etag))
        with pytest.raises(PayloadTooLarge):
            await backups.put(name, _upload(b"c" * 101))
        # 160 bytes kept for 4711; the bound MAC's files count against the same account.
        log = parse_backup_name("0004F2AABBCC-app.log")
        await backups.put(log, _upload(b"0123456789" * 2))
        await backups.put(log, _upload(b"abcdefghij" * 2))
        current = await backups.current(log.name)
        assert current is not None
        assert await backups.read(current.sha256) == (b"0123456789" * 2 + b"abcdefghij" * 2)[-30:]
        with pytest.raises(QuotaExceeded):  # 160 + 20 + 30 + 80 > 250
            await backups.put(name, _upload(b"d" * 80))
        assert [v.number for v in await backups.history(name.name)] == [2, 1]
    finally:
        await runtime.close()


async def test_authorize(tmp_path: Path, db_url: str) -> None:
    runtime = await _runtime(tmp_path, db_url, legacy_shared_account="shared")
    accounts, backups = build(runtime)
    try:
        a = await accounts.add(ADMIN, "4711", "secret-4711", mac="0004f2aabbcc")
        shared = await accounts.add(ADMIN, "shared", "secret-shared")
        backups.authorize(a, parse_backup_name("4711_96xxdata.txt"), write=True)
        backups.authorize(a, parse_backup_name("0004f2aabbcc-directory.xml"), write=True)
        backups.authorize(a, parse_backup_name("9610data.txt"), write=False)
        with pytest.raises(ReadOnlyFile):
            backups.authorize(a, parse_backup_name("9610data.txt"), write=True)
        for other in ("4712_96xxdata.txt", "0004f2aabbcd-directory.xml", "001565aabbcc-contact.xml"):
            with pytest.raises(NotYourFile):
                backups.authorize(a, parse_backup_name(other), write=False)
        backups.authorize(shared, parse_backup_name("4712_96xxdata.txt"), write=True)
        backups.authorize(shared, parse_backup_name("9610data.txt"), write=True)
    finally:
        await runtime.close()


async def test_concurrent_puts_keep_every_body(tmp_path: Path, db_url: str) -> None:
    runtime = await _runtime(tmp_path, db_url)
    _, backups = build(runtime)
    name = parse_backup_name("0004f2aabbcc-directory.xml")
    bodies = [f"<directory><item>{i}</item></directory>".encode() * 50 for i in range(12)]
    try:
        results = await asyncio.gather(*(backups.put(name, _upload(b)) for b in bodies))
        assert sum(created for created, _ in results) == 1
        history = await backups.history(name.name)
        assert sorted(v.number for v in history) == list(range(1, 13))
        contents = [(await backups.show(name.name, v.number))[1] for v in history]
        assert sorted(contents) == sorted(bodies)
        current = await backups.current(name.name)
        assert current is not None and current.version == 12
        assert await backups.read(current.sha256) == contents[0]
        assert history[0].created_at <= dt.datetime.now(dt.UTC)
    finally:
        await runtime.close()
