"""The writer: every change to backup files goes through here, grouped into batches.

A batch first names its blobs (fsync, verify, rename, or nothing when the store already holds that
content), then runs :func:`phonehome.backups.ledger.apply_batch` in one transaction, then deletes the
blobs pruning freed. Callers await their own outcome (:mod:`phonehome.backups.group_commit`).

- SQLite: the whole batch is one hop to the writer thread, on a synchronous connection of its own.
- PostgreSQL: the blobs are one hop to a worker thread; the transaction runs on the async engine.

Around its commit a batch tells the current-version cache what it changed (see
:mod:`phonehome.backups.current`), so a GET that reads the new generation back already finds it.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncTransaction

from phonehome.backups.current import CurrentCache
from phonehome.backups.errors import ConcurrentUpload
from phonehome.backups.group_commit import GroupCommit
from phonehome.backups.ledger import Applied, Change, Done, NewVersion, apply_batch
from phonehome.blobs import BlobStore, Staged
from phonehome.config import BackupsSettings
from phonehome.db import Database, utcnow
from phonehome.errors import StoreFull


@dataclass(frozen=True, slots=True)
class Write:
    change: Change
    staged: Staged | None = None  # the body, still to be fsynced and named


class Writer:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        settings: BackupsSettings,
        cache: CurrentCache,
        forgotten: Callable[[str], None],
        sqlite_file: str | None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.settings = settings
        self.cache = cache
        self.forgotten = forgotten  # told each digest pruning deleted
        self.batches = 0
        self._token = secrets.token_hex(8)
        self._commits: GroupCommit[Write, Done] = GroupCommit(self._batch)
        # One thread (SQLite): the same connection and warm caches for every batch, and no waiting
        # behind argon2 verifies in the default pool.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="backups-writer")
        self._engine = _sqlite_engine(sqlite_file) if sqlite_file else None

    async def submit(self, write: Write) -> Done:
        return await self._commits.submit(write)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._thread.shutdown(wait=False)

    async def _batch(self, writes: list[Write]) -> list[Done | Exception]:
        self.batches += 1
        token = f"{self._token}-{self.batches}"
        if self._engine is not None:
            loop = asyncio.get_running_loop()
            applied, outcomes = await loop.run_in_executor(
                self._thread, self._sqlite, self._engine, writes, token
            )
        else:
            applied, outcomes = await self._async(writes, token)
        if applied is not None:
            self.cache.committed(applied.generation)
            for digest in applied.unreferenced:
                self.forgotten(digest)
        return outcomes

    def _sqlite(
        self, engine: Engine, writes: list[Write], token: str
    ) -> tuple[Applied | None, list[Done | Exception]]:
        """In the writer thread: name the blobs, commit the batch, delete what pruning freed."""
        landed = self._land(writes)
        changes = [c for c in landed if not isinstance(c, Exception)]
        applied = None
        if changes:
            try:
                with engine.connect() as conn:
                    transaction = conn.begin()
                    applied = self._apply(conn, changes, token)
                    # Announced before the commit: the loop applies it once it reads this token back.
                    self.cache.expect(applied.generation, token, applied.currents)
                    try:
                        transaction.commit()
                    except BaseException:
                        self.cache.abandon(applied.generation)
                        raise
            except IntegrityError:
                applied = None
            else:
                self._forget(applied.unreferenced)
        return applied, _merge(landed, applied)

    async def _async(self, writes: list[Write], token: str) -> tuple[Applied | None, list[Done | Exception]]:
        landed = await asyncio.to_thread(self._land, writes)
        changes = [c for c in landed if not isinstance(c, Exception)]
        applied = None
        if changes:
            try:
                async with self.db.engine.connect() as conn:
                    transaction = await conn.begin()
                    batch = await conn.run_sync(lambda sync: self._apply(sync, changes, token))
                    await self._commit(transaction, batch)
                    applied = batch
            except IntegrityError:
                applied = None
            else:
                if applied.unreferenced:
                    await asyncio.to_thread(self._forget, applied.unreferenced)
        return applied, _merge(landed, applied)

    async def _commit(self, transaction: AsyncTransaction, applied: Applied) -> None:
        self.cache.expect(applied.generation, applied.token, applied.currents)
        try:
            await transaction.commit()
        except BaseException:
            self.cache.abandon(applied.generation)
            raise

    def _land(self, writes: list[Write]) -> list[Change | Exception]:
        """fsync, verify and name each staged blob; a change whose blob failed gets that error."""
        landed: list[Change | Exception] = []
        for write in writes:
            try:
                if write.staged is not None:
                    self.blobs.commit_staged(write.staged)
                elif isinstance(write.change, NewVersion) and not self.blobs.exists(write.change.blob.sha256):
                    raise StoreFull("the blob of that version is missing from the store; please retry")
            except Exception as exc:
                landed.append(exc)
            else:
                landed.append(write.change)
        return landed

    def _apply(self, conn: Connection, changes: list[Change], token: str) -> Applied:
        settings = self.settings
        return apply_batch(
            conn,
            changes,
            keep_versions=settings.keep_versions,
            quota=settings.quota,
            now=utcnow(),
            writer=token,
        )

    def _forget(self, digests: set[str]) -> None:
        for digest in digests:
            self.blobs.delete(digest)


def _merge(landed: list[Change | Exception], applied: Applied | None) -> list[Done | Exception]:
    """Each write's outcome: its blob's error, its change's outcome, or ConcurrentUpload if the batch failed."""
    outcomes = iter(applied.outcomes) if applied is not None else None
    merged: list[Done | Exception] = []
    for item in landed:
        if isinstance(item, Exception):
            merged.append(item)
        elif outcomes is None:
            # Another node created the same file in the same instant. Every batch bumps the generation
            # row first, which serialises writers, so this needs a writer that does not (an old node).
            merged.append(ConcurrentUpload())
        else:
            merged.append(next(outcomes))
    return merged


def _sqlite_engine(path: str) -> Engine:
    """A synchronous engine on the SQLite file, for the writer thread (pragmas as in phonehome.db)."""
    engine = create_engine(
        make_url("sqlite://").set(database=path), connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    return engine
