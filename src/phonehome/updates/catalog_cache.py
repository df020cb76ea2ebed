"""Keeping this node's catalog snapshot current: reload it when the database's generation moves.

The generation (table ``update_catalog``) is bumped by triggers in the same transaction as any change
to rules, images, files or test devices. A check-in reads the generation at most once every
``catalog_refresh_seconds`` (one tiny query shared by every check-in in flight) and reloads the whole
snapshot only when it moved. Changes made by this process (REST, web UI) call :meth:`invalidate`, so
they apply to the next check-in; changes from another process (the CLI, another node on the same
PostgreSQL) apply within ``catalog_refresh_seconds``. 0 checks the generation on every check-in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.db import Database
from phonehome.updates.catalog import Catalog, CatalogFile, CatalogImage, CatalogRule, TestDeviceEntry
from phonehome.updates.models import CatalogGeneration, FirmwareImage, TestDevice, UpdateRule
from phonehome.updates.rules import RuleState


class CatalogCache:
    def __init__(self, db: Database, refresh_seconds: float) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._catalog: Catalog | None = None
        self._checked = float("-inf")  # monotonic time the last generation check started
        self._epoch = 0  # bumped by invalidate(); a check that started before it does not count
        self._lock = asyncio.Lock()
        self.reloads = 0

    def invalidate(self) -> None:
        """This process changed the catalog: the next check-in checks the generation again."""
        self._epoch += 1
        self._checked = float("-inf")

    def fresh(self) -> Catalog | None:
        """The snapshot if it was confirmed current recently enough, without waiting."""
        if self._catalog is not None and time.monotonic() - self._checked < self.refresh_seconds:
            return self._catalog
        return None

    async def current(self) -> Catalog:
        catalog = self.fresh()
        if catalog is not None:
            return catalog
        started, epoch = time.monotonic(), self._epoch
        async with self._lock:
            # Another check-in may have confirmed it while this one waited: one query serves them all.
            if self._checked >= started and self._catalog is not None:
                return self._catalog
            started, epoch = time.monotonic(), self._epoch
            async with self.db.session() as session:
                # Generation first, rows second: rows newer than the generation only cause an extra
                # reload later, never a stale snapshot that looks current.
                generation = await session.scalar(
                    select(CatalogGeneration.generation).where(CatalogGeneration.id == 1)
                )
                if generation is None:
                    raise RuntimeError("update_catalog has no row: run the migrations")
                if self._catalog is None or self._catalog.generation != generation:
                    self._catalog = await _load(session, generation)
                    self.reloads += 1
            if self._epoch == epoch:
                self._checked = started
            return self._catalog


async def _load(session: AsyncSession, generation: int) -> Catalog:
    rules = [
        (
            r.device_type,
            r.brand,
            r.model,
            CatalogRule(
                r.match_key,
                r.revision,
                r.locale,
                RuleState(r.approved_version, r.pending_version, r.restore_version, r.restored),
            ),
        )
        for r in await session.scalars(select(UpdateRule))
    ]
    images = [
        CatalogImage(
            i.match_key,
            i.path,
            i.version,
            i.min_from,
            i.timestamp,
            i.imported_at,
            tuple(CatalogFile(f.path, f.path_key, f.sha256, f.size) for f in i.files),
        )
        for i in await session.scalars(select(FirmwareImage))
    ]
    testers = [
        TestDeviceEntry(t.identifier_type, t.identifier, t.site)
        for t in await session.scalars(select(TestDevice))
    ]
    return Catalog.build(generation, rules, images, testers)


def _nothing() -> None:
    return None


@asynccontextmanager
async def catalog_write(db: Database, changed: Callable[[], None] = _nothing) -> AsyncIterator[AsyncSession]:
    """A transaction that changes the catalog; ``changed`` (this node's :meth:`CatalogCache.invalidate`)
    runs after it ends, so this node's next check-in sees the change without waiting for the poll."""
    try:
        async with db.session() as session:
            yield session
    finally:
        changed()
