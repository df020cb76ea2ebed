"""Backup files and their versions: the only code here that opens sessions and blobs.

A PUT streams the body into the blob store first (temp + fsync + verify + rename); only then does
one transaction add the version row and make it current. A crash before that commit leaves the
previous version current; a crash after it leaves the new one whole. Commits are serialised per
process (SQLite takes one writer at a time anyway; PostgreSQL also locks the file row), and pruning
old versions removes a blob only when no version refers to it any more, under the same lock.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.diffs import unified_diff
from phonehome.backups.errors import (
    BackupNotFound,
    ChangedMeanwhile,
    ConcurrentUpload,
    NotYourFile,
    QuotaExceeded,
    ReadOnlyFile,
    VersionNotFound,
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
    keys_of,
    locked_file,
    no_body,
    owner_keys,
    read_capped,
    version_view,
)
from phonehome.blobs import BlobRef
from phonehome.changelog import Actor, record_change
from phonehome.config import BackupsSettings
from phonehome.db import utcnow
from phonehome.errors import PayloadTooLarge, StoreFull
from phonehome.runtime import Runtime

log = logging.getLogger("phonehome.backups")
_READ_INLINE = 64 << 10


class BackupService:
    def __init__(self, runtime: Runtime, accounts: AccountService) -> None:
        self.db = runtime.db
        self.blobs = runtime.blob_store("backups")
        self.settings: BackupsSettings = runtime.settings.backups
        self.accounts = accounts
        self._commit_lock = asyncio.Lock()

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
        files = _table(BackupFile)
        query = select(files.c.current_version, files.c.sha256, files.c.size, files.c.updated_at).where(
            files.c.name == name
        )
        async with self.db.session() as session:
            row = (await session.execute(query)).first()
        if row is None or row.current_version is None or row.sha256 is None:
            return None
        return Current(name, row.current_version, row.sha256, row.size, row.updated_at)

    async def read(self, sha256: str, size: int | None = None) -> bytes:
        if size is not None and size <= _READ_INLINE:
            # A few KiB read and hashed costs less than the hop to a worker thread.
            return self.blobs.read_bytes_sync(sha256)
        return await self.blobs.read_bytes(sha256)

    async def put(self, name: BackupName, upload: Upload) -> tuple[bool, Current]:
        """Store an upload as the new current version; returns (created, current)."""
        if upload.if_match is not None or upload.if_none_match is not None:
            # Fail before taking the body; the commit checks again against what is current then.
            self._check_conditions(await self.current(name.name), upload)
        if name.append:
            body = await read_capped(upload.chunks, self.settings.max_size)
            async with self._commit_lock:
                before = await self.current(name.name)
                old = await self.read(before.sha256) if before else b""
                blob = await self.blobs.put_bytes((old + body)[-self.settings.log_cap :])
                return await self._commit(name, blob, upload, "append")
        blob = await self.blobs.put_stream(upload.chunks, max_size=self.settings.max_size)
        async with self._commit_lock:
            return await self._commit(name, blob, upload, "put")

    async def delete(self, name: BackupName, if_match: str | None = None) -> None:
        """The file is gone for phones; every version stays for admins to restore."""
        async with self._commit_lock, self.db.session() as session:
            row = await locked_file(session, name.name)
            if row is None or row.current_version is None:
                raise BackupNotFound(f"no backup file {name.name}")
            current = conditions.etag_of(row.sha256) if row.sha256 else None
            if conditions.evaluate("DELETE", current, if_match, None) != "proceed":
                raise ChangedMeanwhile()
            row.current_version, row.sha256, row.size, row.updated_at = None, None, 0, utcnow()

    def _check_conditions(self, current: Current | None, upload: Upload) -> None:
        etag = current.etag if current else None
        if conditions.evaluate("PUT", etag, upload.if_match, upload.if_none_match) != "proceed":
            raise ChangedMeanwhile()

    async def _commit(
        self, name: BackupName, blob: BlobRef, upload: Upload, source: str
    ) -> tuple[bool, Current]:
        if not self.blobs.exists(blob.sha256):
            # Pruning removed an identical blob between our write and this lock: rare, and retryable.
            raise StoreFull("the upload raced with pruning of identical content; please retry")
        pruned: list[str] = []
        try:
            result, created = await self._commit_rows(name, blob, upload, source, pruned)
        except IntegrityError:
            # Another node created the same file in the same instant (PostgreSQL, several nodes).
            raise ConcurrentUpload() from None
        await self._forget_blobs(pruned)
        return created, result

    async def _commit_rows(
        self, name: BackupName, blob: BlobRef, upload: Upload, source: str, pruned: list[str]
    ) -> tuple[Current, bool]:
        # Core statements, not ORM objects: this is the hot path of every PUT.
        files, versions = _table(BackupFile), _table(BackupVersion)
        now = utcnow()
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(files.c.id, files.c.last_version, files.c.current_version, files.c.sha256)
                    .where(files.c.name == name.name)
                    .with_for_update()
                )
            ).first()
            current = conditions.etag_of(row.sha256) if row is not None and row.sha256 else None
            if conditions.evaluate("PUT", current, upload.if_match, upload.if_none_match) != "proceed":
                raise ChangedMeanwhile()
            created = row is None or row.current_version is None
            if row is None:
                inserted = await session.execute(
                    insert(files)
                    .values(name=name.name, owner=str(name.owner), last_version=0, size=0, updated_at=now)
                    .returning(files.c.id)
                )
                file_id, last = int(inserted.scalar_one()), 0
            else:
                file_id, last = row.id, row.last_version
            drop = await self._to_prune(session, file_id, last + 1)
            await self._check_quota(
                session, name.owner, upload.account, blob.size - sum(size for _, _, size in drop)
            )
            number = last + 1
            await session.execute(
                insert(versions).values(
                    file_id=file_id, number=number, sha256=blob.sha256, size=blob.size,
                    created_at=now, source=source, actor=upload.actor[:200], peer=upload.peer,
                )
            )  # fmt: skip
            await session.execute(
                update(files)
                .where(files.c.id == file_id)
                .values(
                    last_version=number,
                    current_version=number,
                    sha256=blob.sha256,
                    size=blob.size,
                    updated_at=now,
                )
            )
            if drop:
                await session.execute(delete(versions).where(versions.c.id.in_([i for i, _, _ in drop])))
                pruned.extend(sha for _, sha, _ in drop)
            return Current(name.name, number, blob.sha256, blob.size, now), created

    async def _to_prune(self, session: AsyncSession, file_id: int, new: int) -> list[tuple[int, str, int]]:
        """(id, sha256, size) of the versions beyond ``keep_versions`` once version ``new`` is added.

        Versions only ever leave by pruning, oldest first, so they are those numbered up to
        ``new - keep_versions``; before that many exist there is nothing to ask the database.
        """
        oldest_kept = new - self.settings.keep_versions + 1
        if oldest_kept <= 1:
            return []
        versions = _table(BackupVersion)
        rows = await session.execute(
            select(versions.c.id, versions.c.sha256, versions.c.size).where(
                versions.c.file_id == file_id, versions.c.number < oldest_kept
            )
        )
        return [(r.id, r.sha256, r.size) for r in rows]

    async def _check_quota(
        self, session: AsyncSession, owner: Owner, uploader: AccountView | None, growth: int
    ) -> None:
        quota = self.settings.quota
        if not quota or growth <= 0:
            return
        mine = uploader is not None and str(owner) in keys_of(uploader.name, uploader.mac)
        owners = (
            keys_of(uploader.name, uploader.mac) if mine and uploader else await owner_keys(session, owner)
        )
        used = await session.scalar(
            select(func.coalesce(func.sum(BackupVersion.size), 0))
            .join(BackupFile, BackupFile.id == BackupVersion.file_id)
            .where(BackupFile.owner.in_(owners))
        )
        if int(used or 0) + growth > quota:
            raise QuotaExceeded(f"backup quota of {quota} bytes for {owner} is used up ({used} bytes kept)")

    async def _forget_blobs(self, digests: list[str]) -> None:
        for digest in set(digests):
            async with self.db.session() as session:
                still = await session.scalar(
                    select(func.count()).select_from(BackupVersion).where(BackupVersion.sha256 == digest)
                )
            if not still:
                self.blobs.delete(digest)

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
        async with self._commit_lock:
            _, current = await self._commit(
                name, BlobRef(old.sha256, old.size), upload, f"restore of {version}"
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
        blob = await self.blobs.put_bytes(data)
        async with self._commit_lock:
            _, current = await self._commit(name, blob, Upload(no_body(), actor.name), "import")
        async with self.db.session() as session:
            await record_change(
                session, actor, "import", "backup_file", name.name, after={"version": current.version}
            )
        return current

    async def diff(self, name: str, a: int, b: int) -> str:
        va, data_a = await self.show(name, a)
        vb, data_b = await self.show(name, b)
        return unified_diff(name, f"v{va.number}", data_a, f"v{vb.number}", data_b)


def _table(model: type[BackupFile] | type[BackupVersion]) -> Table:
    return cast(Table, model.__table__)


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
