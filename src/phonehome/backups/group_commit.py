"""Group commit: concurrent writers queue their changes; one batch at a time commits all that queued.

Each caller awaits its own outcome, a value or the error its change failed with. While one batch
commits, the next one gathers, so under load a batch holds about as many changes as arrived during a
commit; alone, a change commits by itself at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_MAX_BATCH = 256


class GroupCommit(Generic[T, R]):
    def __init__(self, run: Callable[[list[T]], Awaitable[list[R | Exception]]]) -> None:
        self._run = run
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
                try:
                    outcomes = await self._run([item for item, _ in batch])
                except Exception as exc:
                    outcomes = [exc] * len(batch)
                except BaseException:
                    # Cancelled (the server is stopping): nobody may wait forever.
                    for _, future in batch + self._queue:
                        future.cancel()
                    self._queue = []
                    raise
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():  # the caller went away; its change is committed all the same
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._task = None
