"""Group commit: many concurrent requests share one write, and each still waits for its own to land.

A boot storm sends hundreds of check-ins a second; one database transaction (or one file append) per
request costs more than the request itself. :class:`GroupCommit` gathers the items submitted while the
previous batch was being written and writes them together. A caller's ``await submit(item)`` returns
only after the batch holding its item was written (or raises what the write raised), so "answered"
still means "recorded", and a crash loses nothing that was answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("phonehome.batching")
T = TypeVar("T")
Flush = Callable[[list[T]], Awaitable[None]]


def _ignore(_: int) -> None:
    return None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class GroupCommit(Generic[T]):
    """Write submitted items in batches of at most ``max_batch``, one batch at a time."""

    def __init__(
        self,
        flush: Flush[T],
        *,
        max_batch: int = 2000,
        linger: float = 0.0,
        linger_step: float = 0.005,
        enough: int = 32,
        name: str = "group-commit",
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        # Before its first batch the writer waits up to ``linger`` seconds while items keep arriving
        # (checked every ``linger_step``), so that at a moderate rate (a boot storm's few hundred a
        # second) items share a write instead of each paying for its own; once a step brings nothing
        # new, or once ``enough`` items wait, waiting longer would only add latency: clients that send
        # their next request only after this answer (every one may already be waiting here) gain nothing.
        self._linger = linger
        self._linger_step = linger_step
        self._enough = enough
        self._submitted = 0
        self._wake: asyncio.Future[None] | None = None  # resolves a lingering writer early
        self._name = name
        # Batches not yet written, oldest first; each future resolves when its batch is written.
        self._queue: list[tuple[list[T], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # written so far, for tests
        self.items = 0
        self.observe: Callable[[int], None] = _ignore  # items per written batch, for a metric

    async def submit(self, item: T) -> None:
        if not self._queue or len(self._queue[-1][0]) >= self._max_batch:
            self._queue.append(([], asyncio.get_running_loop().create_future()))
        batch, done = self._queue[-1]
        batch.append(item)
        self._submitted += 1
        if self._wake is not None and len(self._queue[0][0]) >= self._enough and not self._wake.done():
            self._wake.set_result(None)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name=self._name)
        # shield: a caller that goes away (client disconnect) must not cancel the others' batch.
        await asyncio.shield(done)

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (shutdown, tests)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _linger_while_arriving(self) -> None:
        loop = asyncio.get_running_loop()
        waited = 0.0
        while waited < self._linger and self._queue and len(self._queue[0][0]) < self._enough:
            before = self._submitted
            self._wake = wake = loop.create_future()
            timer = loop.call_later(self._linger_step, _resolve, wake)
            try:
                await wake
            finally:
                timer.cancel()
                self._wake = None
            waited += self._linger_step
            if self._submitted == before:
                return

    async def _write(self) -> None:
        try:
            await self._linger_while_arriving()
            while self._queue:
                batch, done = self._queue.pop(0)
                try:
                    await self._flush(batch)
                except asyncio.CancelledError:
                    done.set_exception(RuntimeError(f"{self._name} stopped while writing"))
                    done.exception()
                    raise
                except Exception as exc:
                    done.set_exception(exc)
                    done.exception()  # waiters that went away never read it; asyncio must not log it
                else:
                    done.set_result(None)
                    self.batches += 1
                    self.items += len(batch)
                    try:
                        self.observe(len(batch))
                    except Exception:  # a metric must never strand the next batch
                        log.exception("observing a batch failed", extra={"writer": self._name})
        finally:
            self._writer = None
            # Cancelled (shutdown) with batches still queued: fail them rather than leave them hanging.
            for _, done in self._queue:
                done.set_exception(RuntimeError(f"{self._name} stopped before writing"))
                done.exception()
            self._queue.clear()
