"""Group commit, without a database: batches form while one runs, each caller gets its own outcome."""

from __future__ import annotations

import asyncio

import pytest

from phonehome.backups.group_commit import GroupCommit


class Failed(Exception):
    pass


async def test_callers_queued_during_a_batch_share_the_next_one() -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        await asyncio.sleep(0)
        return [Failed(str(i)) if i % 5 == 0 else i * 10 for i in items]

    commits: GroupCommit[int, int] = GroupCommit(run)
    results = await asyncio.gather(*(commits.submit(i) for i in range(1, 11)), return_exceptions=True)
    assert [r if not isinstance(r, Failed) else "failed" for r in results] == [
        10, 20, 30, 40, "failed", 60, 70, 80, 90, "failed",
    ]  # fmt: skip
    assert sorted(i for batch in batches for i in batch) == list(range(1, 11))
    assert len(batches) < 10


async def test_a_batch_that_raises_fails_each_caller_and_the_next_batch_runs() -> None:
    calls = 0

    async def run(items: list[str]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Failed("database gone")
        return list[str | Exception](items)

    commits: GroupCommit[str, str] = GroupCommit(run)
    with pytest.raises(Failed):
        await commits.submit("first")
    assert await commits.submit("second") == "second"
