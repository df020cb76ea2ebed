"""Backup accounts, files and their versions; the bytes live in the blob store, named by sha256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from phonehome.db import Base, UtcDateTime, utcnow


class BackupAccount(Base):
    """A phone's login: the name is the Avaya extension; a bound MAC owns that MAC's Polycom/Yealink files."""

    __tablename__ = "backup_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # None: the account signs in by client certificate only.
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mac: Mapped[str | None] = mapped_column(String(12), unique=True, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class BackupFile(Base):
    __tablename__ = "backup_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # "extension:4711", "mac:0004f2aabbcc" or "shared": who may touch it, and whose quota it uses.
    owner: Mapped[str] = mapped_column(String(80), index=True)
    # None after DELETE: the file is gone for phones, its versions stay for admins.
    current_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class BackupVersion(Base):
    __tablename__ = "backup_versions"
    __table_args__ = (UniqueConstraint("file_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("backup_files.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # "put", "append", "restore of 3", "import": how this version came to be.
    source: Mapped[str] = mapped_column(String(64))
    # The account, "cli:<user>" or the admin who made it; the peer address for phone uploads.
    actor: Mapped[str] = mapped_column(String(200))
    peer: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BackupGeneration(Base):
    """One row, bumped by every transaction that changes which version of a file is current.

    A server caches the current versions for phones' GETs; a generation it did not write itself means
    another process (the CLI, another node) changed something, and the cache starts over.
    """

    __tablename__ = "backup_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, default=0)
    # A token naming the batch that wrote ``number``: seeing its own token proves a server's commit.
    writer: Mapped[str | None] = mapped_column(String(40), nullable=True)
