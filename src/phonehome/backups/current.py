"""Which version of each backup file is current, cached in the server for the phones' GETs.

The cache holds entries for one *generation* of the database, the number in the ``backup_generation``
row that every writing batch bumps (see :mod:`phonehome.backups.ledger`):

- this process's own batch that moves the generation from ``g`` to ``g + 1`` applies its changes to
  the cache, which then stands for ``g + 1``;
- any other generation seen (the CLI restored a file, another node took a PUT) empties the cache.

How a server learns the database's generation:

- SQLite: ``PRAGMA data_version`` on a private connection changes whenever any other connection, in
  this process or another, commits. It is read on every lookup (microseconds, on the event loop), and
  only when it changed is the generation read. A GET therefore never sees a state older than one
  committed before it started, whoever committed it.
- PostgreSQL: the generation is read on a lookup at most every ``backups.current_check_ms``
  milliseconds. This node's own writes apply at once; another node's or process's within that bound
  (plus one query).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from phonehome.backups.versions import Current

_MAX_ENTRIES = 200_000


class CurrentCache:
    """name → current version (None: no such file, or deleted), valid for :attr:`generation`.

    Lookups and :meth:`seen`/:meth:`loaded` run on the event loop; :meth:`landed` is called by the
    writer (a worker thread for SQLite) right after its commit, so the loop can apply the batch as soon
    as it sees its generation in the database, even before the writer's result reaches the loop.
    """

    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.generation: int | None = None
        self.max_entries = max_entries
        self._entries: dict[str, Current | None] = {}
        self._landed: dict[int, dict[str, Current | None]] = {}

    def lookup(self, name: str) -> tuple[bool, Current | None]:
        """(found, current); found is False when the database must be asked."""
        try:
            return True, self._entries[name]
        except KeyError:
            return False, None

    def landed(self, generation: int, currents: dict[str, Current | None]) -> None:
        """This process committed the batch that made ``generation``, changing ``currents``."""
        if self.generation is not None and generation > self.generation:
            self._landed[generation] = currents

    def catch_up(self) -> None:
        """Apply our own committed batches that directly follow the cache's generation."""
        while self.generation is not None and self.generation + 1 in self._landed:
            self.generation += 1
            self._entries.update(self._landed.pop(self.generation))
        if len(self._entries) > self.max_entries:
            self._entries.clear()

    def seen(self, generation: int) -> None:
        """The database is at ``generation`` (or later): anything we did not write empties the cache."""
        self.catch_up()
        if self.generation is None or generation > self.generation:
            self._entries.clear()
            self.generation = generation
            for stale in [g for g in list(self._landed) if g <= generation]:
                self._landed.pop(stale, None)

    def loaded(self, generation: int, name: str, current: Current | None) -> None:
        """A read found ``current`` at ``generation`` or later (the row was read after the number)."""
        self.catch_up()
        if self.generation is not None and generation < self.generation:
            return  # our own later commit overtook this read
        self.seen(generation)
        self._entries[name] = current


class SqliteWatch:
    """Reads ``PRAGMA data_version`` and the generation on a private connection (event loop only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._data_version: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Autocommit: each statement reads the latest committed state, nothing stays open.
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        return self._conn

    def changed_generation(self) -> int | None:
        """The generation if anything was committed since the last call (or on the first), else None."""
        conn = self._connection()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return None
        self._data_version = version
        return int(conn.execute("SELECT number FROM backup_generation WHERE id = 1").fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PolledWatch:
    """Reads the generation through ``read`` at most every ``interval`` seconds; concurrent callers share one read."""

    def __init__(
        self,
        read: Callable[[], Awaitable[int]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.interval = interval
        self.clock = clock
        self._checked = -float("inf")
        self._pending: asyncio.Future[int] | None = None

    async def changed_generation(self) -> int | None:
        if self._pending is None and self.clock() - self._checked < self.interval:
            return None
        if self._pending is None:
            started = self.clock()
            self._pending = asyncio.ensure_future(self.read())

            def done(_: asyncio.Future[int]) -> None:
                self._pending = None
                self._checked = started

            self._pending.add_done_callback(done)
        return await asyncio.shield(self._pending)
