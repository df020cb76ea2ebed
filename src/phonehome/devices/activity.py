"""Check-ins over time for the dashboard (pure): counts per UTC hour, oldest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def hour_start(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hourly_counts(
    times: Iterable[dt.datetime], now: dt.datetime, hours: int = 48
) -> tuple[list[str], list[int]]:
    """(labels, counts) for the ``hours`` hours up to and including the current one."""
    last = hour_start(now)
    first = last - dt.timedelta(hours=hours - 1)
    counts = [0] * hours
    for moment in times:
        index = int((hour_start(moment) - first).total_seconds() // 3600)
        if 0 <= index < hours:
            counts[index] += 1
    labels = [(first + dt.timedelta(hours=i)).strftime("%d %H:00") for i in range(hours)]
    return labels, counts
