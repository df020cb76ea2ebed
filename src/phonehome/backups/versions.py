"""What a backup file and its versions look like to callers, and the small queries that read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountView
from phonehome.backups.errors import BackupNotFound
from phonehome.backups.models import BackupAccount, BackupFile, BackupVersion
from phonehome.backups.names import Owner
from phonehome.errors import PayloadTooLarge


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
    account: AccountView | None = None  # the uploader, whose quota this is when it owns the file


def file_view(row: BackupFile) -> FileView:
    return FileView(row.name, row.owner, row.current_version, row.size, row.sha256, row.updated_at)


def version_view(name: str, row: BackupVersion, current: int | None) -> VersionView:
    return VersionView(
        name, row.number, row.sha256, row.size, row.created_at, row.source, row.actor, row.peer,
        row.number == current,
    )  # fmt: skip


async def no_body() -> AsyncIterable[bytes]:
    return
    yield b""  # pragma: no cover


async def read_capped(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def locked_file(session: AsyncSession, name: str) -> BackupFile | None:
    return await session.scalar(select(BackupFile).where(BackupFile.name == name).with_for_update())


async def file_row(session: AsyncSession, name: str) -> BackupFile:
    row = await session.scalar(select(BackupFile).where(BackupFile.name == name))
    if row is None:
        raise BackupNotFound(f"no backup file {name}")
    return row


async def owner_keys(session: AsyncSession, owner: Owner) -> list[str]:
    """Every owner key of the account behind ``owner``: its extension and its bound MAC."""
    keys = {str(owner)}
    account = None
    if owner.kind == "extension":
        account = await session.scalar(select(BackupAccount).where(BackupAccount.name == owner.value))
    elif owner.kind == "mac":
        account = await session.scalar(select(BackupAccount).where(BackupAccount.mac == owner.value))
    if account is not None:
        keys.update(keys_of(account.name, account.mac))
    return sorted(keys)


def keys_of(name: str, mac: str | None) -> list[str]:
    return [str(Owner("extension", name))] + ([str(Owner("mac", mac))] if mac else [])
