"""GroupCommit: concurrent submits share batches, each caller waits for (and fails with) its own batch."""

from __future__ import annotations

import asyncio

import pytest

from phonehome.batching import GroupCommit

BOUND = 5.0  # seconds any single wait may take before the test fails instead of hanging


class Sink:
    """A flush that records its batches; ``hold`` keeps a batch in flight until ``release`` is set."""

    def __init__(self, *, hold: bool = False) -> None:
        self.written: list[list[int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def flush(self, batch: list[int]) -> None:
        self.started.set()
        await asyncio.wait_for(self.release.wait(), BOUND)
        if any(item < 0 for item in batch):
            raise ValueError(f"refused {batch}")
        self.written.append(list(batch))

    @property
    def items(self) -> list[int]:
        return [item for batch in self.written for item in batch]


async def first_batch_in_flight(commit: GroupCommit[int], sink: Sink, item: int = 0) -> asyncio.Task[None]:
    """Submit ``item`` and wait until its batch is being flushed (and held)."""
    task = asyncio.create_task(commit.submit(item))
    await asyncio.wait_for(sink.started.wait(), BOUND)
    return task


def submit_all(commit: GroupCommit[int], items: range | list[int]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(commit.submit(i)) for i in items]


async def test_concurrent_submits_share_batches_in_order() -> None:
    sink = Sink()
    commit: GroupCommit[int] = GroupCommit(sink.flush)
    sizes: list[int] = []
    commit.observe = sizes.append
    await asyncio.wait_for(asyncio.gather(*(commit.submit(i) for i in range(100))), BOUND)
    assert sink.items == list(range(100))  # every item once, in submission order
    assert 1 <= len(sink.written) < 100
    assert (commit.batches, commit.items) == (len(sink.written), 100)
    assert sizes == [len(b) for b in sink.written]


async def test_items_submitted_during_a_flush_form_the_next_batch() -> None:
    sink = Sink(hold=True)
    commit: GroupCommit[int] = GroupCommit(sink.flush)
    first = await first_batch_in_flight(commit, sink)
    rest = submit_all(commit, range(1, 10))
    await asyncio.sleep(0)  # let them queue behind the batch in flight
    assert not any(t.done() for t in [first, *rest])  # nobody returns before its batch is written
    sink.release.set()
    await asyncio.wait_for(asyncio.gather(first, *rest), BOUND)
    assert sink.written == [[0], list(range(1, 10))]
    assert commit.batches == 2


async def test_a_failed_batch_fails_exactly_its_callers() -> None:
    sink = Sink(hold=True)
    commit: GroupCommit[int] = GroupCommit(sink.flush, max_batch=3)
    first = await first_batch_in_flight(commit, sink)
    bad = submit_all(commit, [1, -2, 3])  # one batch of three, refused as a whole
    good = submit_all(commit, [4, 5])  # the next batch
    await asyncio.sleep(0)
    sink.release.set()
    results = await asyncio.wait_for(asyncio.gather(first, *bad, *good, return_exceptions=True), BOUND)
    assert results[0] is None
    assert all(isinstance(r, ValueError) and "refused [1, -2, 3]" in str(r) for r in results[1:4])
    assert results[4:] == [None, None]
    assert sink.written == [[0], [4, 5]]
    assert (commit.batches, commit.items) == (2, 3)  # the failed batch is not counted
    # The writer is not broken: a later submit is written.
    await asyncio.wait_for(commit.submit(6), BOUND)
    assert sink.written[-1] == [6]


async def test_a_failed_flush_alone_raises_to_its_caller() -> None:
    sink = Sink()
    commit: GroupCommit[int] = GroupCommit(sink.flush)
    with pytest.raises(ValueError, match="refused"):
        await asyncio.wait_for(commit.submit(-1), BOUND)
    await asyncio.wait_for(commit.submit(1), BOUND)
    assert sink.written == [[1]]


async def test_a_cancelled_caller_does_not_cancel_the_batch() -> None:
    sink = Sink(hold=True)
    commit: GroupCommit[int] = GroupCommit(sink.flush)
    first = await first_batch_in_flight(commit, sink)
    waiting = submit_all(commit, [1, 2, 3])
    await asyncio.sleep(0)
    waiting[1].cancel()  # the client of item 2 hung up while its batch waited
    first.cancel()  # and the one whose submit started the writer, while its batch is being written
    sink.release.set()
    results = await asyncio.wait_for(asyncio.gather(first, *waiting, return_exceptions=True), BOUND)
    assert isinstance(results[0], asyncio.CancelledError) and isinstance(results[2], asyncio.CancelledError)
    assert results[1] is None and results[3] is None
    # Both batches were written in full, cancelled callers' items included.
    assert sink.written == [[0], [1, 2, 3]]
    await asyncio.wait_for(commit.drain(), BOUND)
    assert commit.items == 4


async def test_max_batch_is_respected() -> None:
    sink = Sink(hold=True)
    commit: GroupCommit[int] = GroupCommit(sink.flush, max_batch=4)
    first = await first_batch_in_flight(commit, sink)
    rest = submit_all(commit, range(1, 11))
    await asyncio.sleep(0)
    sink.release.set()
    await asyncio.wait_for(asyncio.gather(first, *rest), BOUND)
    assert sink.written == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


async def test_drain_waits_for_everything_submitted() -> None:
    sink = Sink(hold=True)
    commit: GroupCommit[int] = GroupCommit(sink.flush, max_batch=2)
    await asyncio.wait_for(commit.drain(), BOUND)  # nothing submitted: returns at once
    tasks = submit_all(commit, range(5))
    await asyncio.wait_for(sink.started.wait(), BOUND)
    drained = asyncio.create_task(commit.drain())
    await asyncio.sleep(0)
    assert not drained.done()  # a batch is still held
    sink.release.set()
    await asyncio.wait_for(drained, BOUND)
    assert sink.items == [0, 1, 2, 3, 4] and commit.batches == 3
    await asyncio.wait_for(asyncio.gather(*tasks), BOUND)


async def test_a_failing_observe_hook_does_not_strand_the_batch() -> None:
    sink = Sink()
    commit: GroupCommit[int] = GroupCommit(sink.flush)

    def broken(_: int) -> None:
        raise RuntimeError("metrics backend gone")

    commit.observe = broken
    # Written, so the caller returns; the next batch is written too.
    await asyncio.wait_for(commit.submit(1), BOUND)
    await asyncio.wait_for(commit.submit(2), BOUND)
    assert sink.written == [[1], [2]]
