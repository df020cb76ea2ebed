"""Backup files and their versions: the only code here that opens sessions and blobs.

A PUT streams the body into the blob store first (temp + fsync + verify + rename); only then does
one transaction add the version row and make it current. A crash before that commit leaves the
previous version current; a crash after it leaves the new one whole. Commits are serialised per
process (SQLite takes one writer at a time anyway; PostgreSQL also locks the file row), and pruning
old versions removes a blob only when no version refers to it any more, under the same lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.diffs import unified_diff
from phonehome.backups.errors import (
    BackupNotFound,
    ChangedMeanwhile,
    NotYourFile,
    QuotaExceeded,
    ReadOnlyFile,
    VersionNotFound,
)
from phonehome.backups.models import BackupAccount, BackupFile, BackupVersion
from phonehome.backups.names import BackupName, Owner
from phonehome.blobs import BlobRef
from phonehome.changelog import Actor, record_change
from phonehome.config import BackupsSettings
from phonehome.db import utcnow
from phonehome.errors import PayloadTooLarge, StoreFull
from phonehome.runtime import Runtime

log = logging.getLogger("phonehome.backups")


@dataclass(frozen=True, slots=True)
class Current:
    name: str
    version: int
    sha256: str
    size: int
    updated_at: dt.datetime

    @property
    def etag(self) -> str:
        return conditions.etag_of(self.sha256)


@dataclass(frozen=True, slots=True)
class FileView:
    name: str
    owner: str
    current_version: int | None
    size: int
    sha256: str | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VersionView:
    name: str
    number: int
    sha256: str
    size: int
    created_at: dt.datetime
    source: str
    actor: str
    peer: str | None
    current: bool


@dataclass(frozen=True, slots=True)
class Upload:
    """What a phone sent: the body, who sent it and the conditions it attached."""

    chunks: AsyncIterable[bytes]
    actor: str
    peer: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None


def _file_view(row: BackupFile) -> FileView:
    return FileView(row.name, row.owner, row.current_version, row.size, row.sha256, row.updated_at)


def _version_view(name: str, row: BackupVersion, current: int | None) -> VersionView:
    return VersionView(
        name, row.number, row.sha256, row.size, row.created_at, row.source, row.actor, row.peer,
        row.number == current,
    )  # fmt: skip


class BackupService:
    def __init__(self, runtime: Runtime, accounts: AccountService) -> None:
        self.db = runtime.db
        self.blobs = runtime.blobs
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
        async with self.db.session() as session:
            row = await session.scalar(select(BackupFile).where(BackupFile.name == name))
        if row is None or row.current_version is None or row.sha256 is None:
            return None
        return Current(row.name, row.current_version, row.sha256, row.size, row.updated_at)

    async def read(self, sha256: str) -> bytes:
        return await self.blobs.read_bytes(sha256)

    async def put(self, name: BackupName, upload: Upload) -> tuple[bool, Current]:
        """Store an upload as the new current version; returns (created, current)."""
        before = await self.current(name.name)
        self._check_conditions(before, upload)
        if name.append:
            body = await _read_capped(upload.chunks, self.settings.max_size)
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
            row = await _locked_file(session, name.name)
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
        async with self.db.session() as session:
            row = await _locked_file(session, name.name)
            current = conditions.etag_of(row.sha256) if row is not None and row.sha256 else None
            if conditions.evaluate("PUT", current, upload.if_match, upload.if_none_match) != "proceed":
                raise ChangedMeanwhile()
            created = row is None or row.current_version is None
            if row is None:
                row = BackupFile(name=name.name, owner=str(name.owner), last_version=0, size=0)
                session.add(row)
                await session.flush()
            drop = await self._to_prune(session, row.id)
            await self._check_quota(session, name.owner, blob.size - sum(v.size for v in drop))
            row.last_version += 1
            now = utcnow()
            session.add(
                BackupVersion(
                    file_id=row.id, number=row.last_version, sha256=blob.sha256, size=blob.size,
                    created_at=now, source=source, actor=upload.actor[:200], peer=upload.peer,
                )
            )  # fmt: skip
            row.current_version, row.sha256, row.size, row.updated_at = (
                row.last_version,
                blob.sha256,
                blob.size,
                now,
            )
            for version in drop:
                pruned.append(version.sha256)
                await session.delete(version)
            result = Current(row.name, row.last_version, blob.sha256, blob.size, now)
        await self._forget_blobs(pruned)
        return created, result

    async def _to_prune(self, session: AsyncSession, file_id: int) -> list[BackupVersion]:
        """Versions beyond ``keep_versions`` once one more is added (oldest first out)."""
        query = (
            select(BackupVersion)
            .where(BackupVersion.file_id == file_id)
            .order_by(BackupVersion.number.desc())
            .offset(self.settings.keep_versions - 1)
        )
        return list(await session.scalars(query))

    async def _check_quota(self, session: AsyncSession, owner: Owner, growth: int) -> None:
        quota = self.settings.quota
        if not quota or growth <= 0:
            return
        owners = await _owner_keys(session, owner)
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
            return [_file_view(r) for r in await session.scalars(query)]

    async def history(self, name: str) -> list[VersionView]:
        async with self.db.session() as session:
            row = await _file(session, name)
            versions = await session.scalars(
                select(BackupVersion)
                .where(BackupVersion.file_id == row.id)
                .order_by(BackupVersion.number.desc())
            )
            return [_version_view(name, v, row.current_version) for v in versions]

    async def show(self, name: str, version: int | None = None) -> tuple[VersionView, bytes]:
        async with self.db.session() as session:
            row = await _file(session, name)
            number = version if version is not None else row.current_version
            if number is None:
                raise VersionNotFound(f"{name} was deleted; name a version (see history)")
            found = await session.scalar(
                select(BackupVersion).where(BackupVersion.file_id == row.id, BackupVersion.number == number)
            )
            if found is None:
                raise VersionNotFound(f"{name} has no version {number}")
            view = _version_view(name, found, row.current_version)
        return view, await self.read(view.sha256)

    async def restore(self, actor: Actor, name: BackupName, version: int) -> VersionView:
        """Make an old version current again, as a new version (history is never rewritten)."""
        old, _ = await self.show(name.name, version)
        upload = Upload(_no_body(), actor.name)
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
            _, current = await self._commit(name, blob, Upload(_no_body(), actor.name), "import")
        async with self.db.session() as session:
            await record_change(
                session, actor, "import", "backup_file", name.name, after={"version": current.version}
            )
        return current

    async def diff(self, name: str, a: int, b: int) -> str:
        va, data_a = await self.show(name, a)
        vb, data_b = await self.show(name, b)
        return unified_diff(name, f"v{va.number}", data_a, f"v{vb.number}", data_b)


async def _no_body() -> AsyncIterable[bytes]:
    return
    yield b""  # pragma: no cover


async def _read_capped(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def _locked_file(session: AsyncSession, name: str) -> BackupFile | None:
    return await session.scalar(select(BackupFile).where(BackupFile.name == name).with_for_update())


async def _file(session: AsyncSession, name: str) -> BackupFile:
    row = await session.scalar(select(BackupFile).where(BackupFile.name == name))
    if row is None:
        raise BackupNotFound(f"no backup file {name}")
    return row


async def _owner_keys(session: AsyncSession, owner: Owner) -> list[str]:
    """Every owner key of the account behind ``owner``: its extension and its bound MAC."""
    keys = {str(owner)}
    account = None
    if owner.kind == "extension":
        account = await session.scalar(select(BackupAccount).where(BackupAccount.name == owner.value))
    elif owner.kind == "mac":
        account = await session.scalar(select(BackupAccount).where(BackupAccount.mac == owner.value))
    if account is not None:
        keys.add(str(Owner("extension", account.name)))
        if account.mac:
            keys.add(str(Owner("mac", account.mac)))
    return sorted(keys)


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
