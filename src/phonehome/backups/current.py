"""Which version of each backup file is current, cached in the server for the phones' GETs.

The cache holds entries for one *generation* of the database: the ``backup_generation`` row that
every writing batch bumps (see :mod:`phonehome.backups.ledger`), together with a token naming the
batch that wrote it. Entries stand for the state at :attr:`CurrentCache.generation`:

- this process's own batch registers its changes (:meth:`CurrentCache.expect`) before it commits;
  they are applied once the commit is known, either because the writer says so
  (:meth:`~CurrentCache.committed`) or because a read of the row shows that generation with this
  batch's token, which proves the commit;
- any other generation seen (the CLI restored a file, another node took a PUT) empties the cache.

How a server learns the database's generation:

- SQLite: ``PRAGMA data_version`` on a private connection changes whenever any other connection, in
  this process or another, commits. It is read on every lookup (microseconds, on the event loop), and
  only when it changed is the generation row read. A GET therefore never sees a state older than one
  committed before it started, whoever committed it.
- PostgreSQL: the row is read on a lookup at most every ``backups.current_check_ms`` milliseconds.
  This node's own writes apply at once; another node's or process's within that bound (plus one query).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from phonehome.backups.versions import Current

_MAX_ENTRIES = 200_000

# (number, token of the batch that wrote it) as read from the generation row.
Generation = tuple[int, str | None]
Currents = dict[str, Current | None]


class CurrentCache:
    """name → current version (None: no such file, or deleted), valid for :attr:`generation`.

    Everything runs on the event loop except :meth:`expect` and :meth:`abandon`, which the writer
    (a worker thread on SQLite) calls around its commit; they only add or remove one pending entry.
    """

    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.generation: int | None = None
        self.max_entries = max_entries
        self._entries: Currents = {}
        self._pending: dict[int, tuple[str, Currents]] = {}

    def lookup(self, name: str) -> tuple[bool, Current | None]:
        """(found, current); found is False when the database must be asked."""
        try:
            return True, self._entries[name]
        except KeyError:
            return False, None

    # -- the writer ----------------------------------------------------------------------------

    def expect(self, number: int, token: str, currents: Currents) -> None:
        """Our batch wrote generation ``number`` with ``token`` and is about to commit."""
        self._pending[number] = (token, currents)

    def abandon(self, number: int) -> None:
        """Our batch's commit failed."""
        self._pending.pop(number, None)

    def committed(self, number: int) -> None:
        """Our batch that made generation ``number`` is committed."""
        pending = self._pending.pop(number, None)
        if pending is not None and (self.generation is None or number > self.generation):
            self._advance(number, pending[1])

    # -- readers -------------------------------------------------------------------------------

    def seen(self, generation: Generation) -> None:
        """The database is at ``generation`` (or later)."""
        number, token = generation
        if self.generation is not None and number <= self.generation:
            return
        pending = self._pending.pop(number, None)
        ours = pending[1] if pending is not None and pending[0] == token else None
        if ours is None:
            self._entries.clear()
            self.generation = number
        else:
            self._advance(number, ours)
        for stale in [n for n in list(self._pending) if n <= number]:
            self._pending.pop(stale, None)

    def loaded(self, generation: Generation, name: str, current: Current | None) -> None:
        """A read found ``current`` after reading ``generation`` (so the row is at least that new)."""
        if self.generation is not None and generation[0] < self.generation:
            return  # a later commit overtook this read
        self.seen(generation)
        self._entries[name] = current

    def _advance(self, number: int, ours: Currents) -> None:
        if self.generation is None or number != self.generation + 1 or len(self._entries) > self.max_entries:
            # Someone else committed in between: only our own batch's names are known at ``number``.
            self._entries.clear()
        self._entries.update(ours)
        self.generation = number


class SqliteWatch:
    """Reads ``PRAGMA data_version`` and the generation row on a private connection (event loop only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._data_version: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Autocommit: each statement reads the latest committed state, nothing stays open.
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        return self._conn

    def changed_generation(self) -> Generation | None:
        """The generation if anything was committed since the last call (or on the first), else None."""
        conn = self._connection()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return None
        self._data_version = version
        number, token = conn.execute("SELECT number, writer FROM backup_generation WHERE id = 1").fetchone()
        return int(number), token

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PolledWatch:
    """Reads the generation through ``read`` at most every ``interval`` seconds; callers share one read."""

    def __init__(
        self,
        read: Callable[[], Awaitable[Generation]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.interval = interval
        self.clock = clock
        self._checked = -float("inf")
        self._reading: asyncio.Future[Generation] | None = None

    async def changed_generation(self) -> Generation | None:
        if self._reading is None and self.clock() - self._checked < self.interval:
            return None
        if self._reading is None:
            started = self.clock()
            self._reading = asyncio.ensure_future(self.read())

            def done(_: asyncio.Future[Generation]) -> None:
                self._reading = None
                self._checked = started

            self._reading.add_done_callback(done)
        return await asyncio.shield(self._reading)
