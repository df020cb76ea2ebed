"""Backup files and their versions: with :mod:`phonehome.backups.writer`, the only code here that
opens sessions and blobs.

A PUT takes the body (in memory up to 64 KiB, else into a temp file), hashing it on the way, and
hands its change to the writer, which commits everything queued in one go: it fsyncs, verifies and
names each blob, then one transaction (:func:`phonehome.backups.ledger.apply_batch`) adds the version
rows, makes them current, prunes and checks quotas. Only then is the PUT answered. A crash before
that commit leaves the previous version current; a crash after it leaves the new one whole.

GETs are answered from the current-version cache (:mod:`phonehome.backups.current`), kept exact by
the generation row every batch bumps, and small bodies from memory (content-addressed, so they never
change under a digest).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import event, make_url, select

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.current import CurrentCache, Generation, PolledWatch, SqliteWatch
from phonehome.backups.diffs import unified_diff
from phonehome.backups.errors import (
    ChangedMeanwhile,
    NotYourFile,
    ReadOnlyFile,
    VersionNotFound,
)
from phonehome.backups.ledger import (
    NewVersion,
    Removal,
    load_current,
    read_generation,
)
from phonehome.backups.models import BackupAccount, BackupFile, BackupVersion
from phonehome.backups.names import BackupName, Owner
from phonehome.backups.versions import (
    Current,
    FileView,
    Upload,
    VersionView,
    file_row,
    file_view,
    no_body,
    read_capped,
    version_view,
)
from phonehome.backups.writer import Write, Writer
from phonehome.blobs import BlobRef, Staged
from phonehome.changelog import Actor, record_change
from phonehome.config import BackupsSettings
from phonehome.errors import PayloadTooLarge
from phonehome.runtime import Runtime

log = logging.getLogger("phonehome.backups")
_READ_INLINE = 64 << 10
_BODY_CACHE = 32 << 20


class _Bodies:
    """Small blobs' bytes by digest, up to a total size (oldest out first); digests never change."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._data: dict[str, bytes] = {}

    def get(self, sha256: str) -> bytes | None:
        return self._data.get(sha256)

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > _READ_INLINE or sha256 in self._data:
            return
        while self._data and self.used + len(data) > self.budget:
            self.used -= len(self._data.pop(next(iter(self._data))))
        self._data[sha256] = data
        self.used += len(data)

    def drop(self, sha256: str) -> None:
        data = self._data.pop(sha256, None)
        if data is not None:
            self.used -= len(data)


class BackupService:
    def __init__(self, runtime: Runtime, accounts: AccountService) -> None:
        self.db = runtime.db
        self.blobs = runtime.blob_store("backups")
        self.settings: BackupsSettings = runtime.settings.backups
        self.accounts = accounts
        self._cache = CurrentCache()
        self._bodies = _Bodies(_BODY_CACHE)
        self._append_lock = asyncio.Lock()
        self._watch: SqliteWatch | None = None
        self._polled: PolledWatch | None = None
        sqlite_file = make_url(self.db.url).database if self.db.is_sqlite else None
        if sqlite_file == ":memory:":
            sqlite_file = ""  # another connection could not see it: write and watch as for PostgreSQL
        if sqlite_file:
            self._watch = SqliteWatch(sqlite_file)
        else:
            interval = self.settings.current_check_ms / 1000 if sqlite_file is None else 0.0
            self._polled = PolledWatch(self._read_generation, interval)
        self.writer = Writer(self.db, self.blobs, self.settings, self._cache, self._bodies.drop, sqlite_file)
        event.listen(self.db.engine.sync_engine, "engine_disposed", lambda _: self.close())

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self.writer.close()

    # -- who may touch what --------------------------------------------------------------------

    def is_legacy(self, account: AccountView) -> bool:
        shared = self.settings.legacy_shared_account
        return bool(shared) and account.name == shared

    def authorize(self, account: AccountView, name: BackupName, *, write: bool) -> None:
        if self.is_legacy(account):
            return
        owner = name.owner
        if owner.kind == "shared":
            if write:
                raise ReadOnlyFile(f"{name.name} is shared by every 9610 and read-only for phones")
            return
        if (owner.kind == "extension" and owner.value == account.name) or (
            owner.kind == "mac" and owner.value == account.mac
        ):
            return
        raise NotYourFile(f"account {account.name!r} may not touch {name.name}")

    # -- phones --------------------------------------------------------------------------------

    async def current(self, name: str) -> Current | None:
        if self._watch is not None:
            generation = self._watch.changed_generation()
        else:
            assert self._polled is not None
            generation = await self._polled.changed_generation()
        if generation is not None:
            self._cache.seen(generation)
        found, current = self._cache.lookup(name)
        if found:
            return current
        async with self.db.engine.connect() as conn:
            loaded_at, current = await conn.run_sync(load_current, name)
        self._cache.loaded(loaded_at, name, current)
        return current

    async def read(self, sha256: str, size: int | None = None) -> bytes:
        data = self._bodies.get(sha256)
        if data is not None:
            return data
        if size is not None and size <= _READ_INLINE:
            # A few KiB read and hashed costs less than the hop to a worker thread.
            data = self.blobs.read_bytes_sync(sha256)
        else:
            data = await self.blobs.read_bytes(sha256)
        self._bodies.put(sha256, data)
        return data

    async def put(self, name: BackupName, upload: Upload) -> tuple[bool, Current]:
        """Store an upload as the new current version; returns (created, current)."""
        if upload.if_match is not None or upload.if_none_match is not None:
            # Fail before taking the body; the commit checks again against what is current then.
            self._check_conditions(await self.current(name.name), upload)
        if name.append:
            body = await read_capped(upload.chunks, self.settings.max_size)
            async with self._append_lock:
                before = await self.current(name.name)
                old = await self.read(before.sha256, before.size) if before else b""
                data = (old + body)[-self.settings.log_cap :]
                staged = self.blobs.stage_bytes(data)  # hashed in memory, written by the writer
                return await self._new_version(name, staged, upload, "append")
        staged = await self.blobs.stage_stream(
            upload.chunks, max_size=self.settings.max_size, keep=_READ_INLINE
        )
        return await self._new_version(name, staged, upload, "put")

    async def delete(self, name: BackupName, if_match: str | None = None) -> None:
        """The file is gone for phones; every version stays for admins to restore."""
        await self.writer.submit(Write(Removal(name, if_match)))

    def _check_conditions(self, current: Current | None, upload: Upload) -> None:
        etag = current.etag if current else None
        if conditions.evaluate("PUT", etag, upload.if_match, upload.if_none_match) != "proceed":
            raise ChangedMeanwhile()

    async def _new_version(
        self,
        name: BackupName,
        staged: Staged | None,
        upload: Upload,
        source: str,
        blob: BlobRef | None = None,
    ) -> tuple[bool, Current]:
        change = NewVersion(
            name, staged.ref if staged else blob or BlobRef("", 0), source, upload.actor, upload.peer,
            upload.if_match, upload.if_none_match, upload.account,
        )  # fmt: skip
        outcome = await self.writer.submit(Write(change, staged))
        assert outcome is not None
        if staged is not None and staged.data is not None:
            self._bodies.put(staged.sha256, staged.data)
        return outcome

    async def _read_generation(self) -> Generation:
        async with self.db.engine.connect() as conn:
            return await conn.run_sync(read_generation)

    # -- admins (CLI and REST) -----------------------------------------------------------------

    async def list_files(self, account: str | None = None) -> list[FileView]:
        async with self.db.session() as session:
            query = select(BackupFile).order_by(BackupFile.name)
            if account is not None:
                acc = await session.scalar(select(BackupAccount).where(BackupAccount.name == account))
                owners = [str(Owner("extension", account))] + (
                    [str(Owner("mac", acc.mac))] if acc and acc.mac else []
                )
                query = query.where(BackupFile.owner.in_(owners))
            return [file_view(r) for r in await session.scalars(query)]

    async def history(self, name: str) -> list[VersionView]:
        async with self.db.session() as session:
            row = await file_row(session, name)
            versions = await session.scalars(
                select(BackupVersion)
                .where(BackupVersion.file_id == row.id)
                .order_by(BackupVersion.number.desc())
            )
            return [version_view(name, v, row.current_version) for v in versions]

    async def show(self, name: str, version: int | None = None) -> tuple[VersionView, bytes]:
        async with self.db.session() as session:
            row = await file_row(session, name)
            number = version if version is not None else row.current_version
            if number is None:
                raise VersionNotFound(f"{name} was deleted; name a version (see history)")
            found = await session.scalar(
                select(BackupVersion).where(BackupVersion.file_id == row.id, BackupVersion.number == number)
            )
            if found is None:
                raise VersionNotFound(f"{name} has no version {number}")
            view = version_view(name, found, row.current_version)
        return view, await self.read(view.sha256)

    async def restore(self, actor: Actor, name: BackupName, version: int) -> VersionView:
        """Make an old version current again, as a new version (history is never rewritten)."""
        old, _ = await self.show(name.name, version)
        upload = Upload(no_body(), actor.name)
        _, current = await self._new_version(
            name, None, upload, f"restore of {version}", BlobRef(old.sha256, old.size)
        )
        async with self.db.session() as session:
            await record_change(
                session, actor, "restore", "backup_file", name.name,
                before={"version": version}, after={"version": current.version, "sha256": current.sha256},
            )  # fmt: skip
        return (await self.history(name.name))[0]

    async def import_file(self, actor: Actor, name: BackupName, data: bytes) -> Current:
        """An admin puts a file (e.g. the shared 9610data.txt) as a new version."""
        if len(data) > self.settings.max_size:
            raise PayloadTooLarge(f"file larger than the limit of {self.settings.max_size} bytes")
        staged = await asyncio.to_thread(self.blobs.stage_bytes, data)
        _, current = await self._new_version(name, staged, Upload(no_body(), actor.name), "import")
        async with self.db.session() as session:
            await record_change(
                session, actor, "import", "backup_file", name.name, after={"version": current.version}
            )
        return current

    async def diff(self, name: str, a: int, b: int) -> str:
        va, data_a = await self.show(name, a)
        vb, data_b = await self.show(name, b)
        return unified_diff(name, f"v{va.number}", data_a, f"v{vb.number}", data_b)


def build(runtime: Runtime) -> tuple[AccountService, BackupService]:
    accounts = AccountService(runtime.db, runtime.settings.backups)
    backups = BackupService(runtime, accounts)
    shared = runtime.settings.backups.legacy_shared_account
    if shared:
        log.warning(
            "legacy shared backup account enabled: anyone who reads the phones' settings file can read"
            " and overwrite every backup (PSN003568's insecure mode); use per-device accounts",
            extra={"account": shared},
        )
    return accounts, backups
