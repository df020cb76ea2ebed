"""Run a fleet: boot every phone at its planned moment over one bounded connection pool, stop at the
deadline, and hand back the counts.

Bounded twice: at most ``len(phones)`` boots, and nothing runs past ``duration`` seconds (phones still
booting then are cancelled and counted as ``deadline``; phones never started as ``not_booted``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from phonehome.sim.identities import Identity
from phonehome.sim.phone import Target, boot
from phonehome.sim.plan import PhonePlan
from phonehome.sim.stats import Stats

Tick = Callable[[Stats, float], None]


@dataclass(frozen=True, slots=True)
class Limits:
    duration: float = 120.0  # the whole run, seconds
    connections: int = 256  # sockets open at once, all phones together
    request_timeout: float = 30.0
    new_connections: bool = False  # one TCP connection per request, as a phone after power-on has


async def run(
    target: Target,
    phones: list[Identity],
    plans: list[PhonePlan],
    limits: Limits,
    *,
    ssl_context: ssl.SSLContext | None = None,
    tick: Tick | None = None,
) -> tuple[Stats, float]:
    """Boot the fleet; returns the counts and the elapsed seconds."""
    stats = Stats()
    for phone in phones:
        if phone.family == "lpe":
            stats.versions_before[f"{phone.model} {phone.version}"] += 1
    connector = aiohttp.TCPConnector(
        limit=limits.connections, force_close=limits.new_connections, ssl=ssl_context or True
    )
    timeout = aiohttp.ClientTimeout(total=limits.request_timeout)
    order = sorted(range(len(phones)), key=lambda i: plans[i].boot_at)
    tasks: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False) as session:
        ticker = asyncio.create_task(_tick(stats, started, tick)) if tick else None
        booted = 0
        try:
            async with asyncio.timeout(limits.duration):
                for i in order:
                    delay = plans[i].boot_at - (time.perf_counter() - started)
                    if delay > 0:
                        await asyncio.sleep(delay)
                    task = asyncio.create_task(boot(session, target, phones[i], plans[i], stats))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    booted += 1
                if tasks:
                    await asyncio.wait(set(tasks))
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(set(tasks))
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        unfinished = stats.phones_started - stats.phones_finished - stats.phones_failed
        if unfinished > 0:
            stats.errors["deadline"] += unfinished
        if booted < len(phones):
            stats.errors["not_booted"] += len(phones) - booted
    elapsed = time.perf_counter() - started
    if tick:
        tick(stats, elapsed)
    return stats, elapsed


async def _tick(stats: Stats, started: float, tick: Tick) -> None:
    while True:
        tick(stats, time.perf_counter() - started)
        await asyncio.sleep(0.25)
