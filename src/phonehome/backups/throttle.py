"""Failed-login throttling, pure: a sliding window of failure times per key; ``now`` is passed in.

Keys are ``ip:<address>`` and ``account:<name>``, so neither one address guessing many accounts nor
many addresses guessing one account get more than ``limit`` tries per window.
"""

from __future__ import annotations

import math
from collections import deque


class Throttle:
    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: list[str], now: float) -> int:
        """Seconds until any of ``keys`` may try again; 0 when none is throttled."""
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.limit:
                wait = max(wait, times[-self.limit] + self.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._failures) >= self.max_keys:
            # Bounded memory under a spray of addresses: forget the expired keys first, then the oldest.
            for key in list(self._failures):
                self._recent(key, now)
            while len(self._failures) >= self.max_keys:
                del self._failures[next(iter(self._failures))]
        for key in keys:
            times = self._failures.setdefault(key, deque())
            times.append(now)
            while len(times) > self.limit:
                times.popleft()
