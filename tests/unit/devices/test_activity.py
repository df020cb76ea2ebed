from __future__ import annotations

import datetime as dt

from phonehome.devices.activity import hourly_counts

NOW = dt.datetime(2026, 11, 25, 15, 20, tzinfo=dt.UTC)


def test_counts_fall_into_their_hour_and_old_or_future_ones_are_left_out() -> None:
    times = [
        NOW,
        NOW.replace(minute=0),
        NOW - dt.timedelta(hours=1),
        NOW - dt.timedelta(hours=47, minutes=20),  # the first hour shown
        NOW - dt.timedelta(hours=48),  # too old
        NOW + dt.timedelta(hours=1),  # a clock ahead of ours
    ]
    labels, counts = hourly_counts(times, NOW)
    assert len(labels) == len(counts) == 48
    assert counts[-1] == 2 and counts[-2] == 1 and counts[0] == 1 and sum(counts) == 4
    assert labels[-1] == "25 15:00" and labels[0] == "23 16:00"


def test_other_time_zones_count_by_utc_hour() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    _, counts = hourly_counts([dt.datetime(2026, 11, 25, 16, 5, tzinfo=cet)], NOW, hours=2)
    assert counts == [0, 1]
