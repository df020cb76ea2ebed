from __future__ import annotations

import pytest

from phonehome.sim.stats import Stats, percentile


@pytest.mark.parametrize(
    ("samples", "pct", "expected"),
    [
        ([], 50, None),
        ([3.0], 99, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 51, 3.0),
        ([4.0, 3.0, 2.0, 1.0], 100, 4.0),
        ([float(i) for i in range(1, 101)], 95, 95.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
    ],
)
def test_nearest_rank_percentile(samples: list[float], pct: float, expected: float | None) -> None:
    assert percentile(samples, pct) == expected


@pytest.mark.parametrize("pct", [0, -1, 100.5])
def test_percentile_out_of_range(pct: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], pct)


def test_summary() -> None:
    stats = Stats()
    for ms in (10, 20, 30, 40):
        stats.request("check_in", ms / 1000)
    stats.request("download", 1.5)
    stats.error("check_in:http_503")
    stats.error("check_in:http_503")
    stats.error("download:sha256_mismatch")
    stats.versions_before["CX700 1.0.199.123"] += 2
    stats.versions_after["CX700 1.0.522.101"] += 2
    stats.bytes_received = 1234
    summary = stats.summary(elapsed=2.0)
    assert summary["requests"] == 5
    assert summary["requests_per_s"] == 2.5
    assert summary["errors"] == {"check_in:http_503": 2, "download:sha256_mismatch": 1}
    assert summary["error_count"] == 3
    assert summary["latency"]["check_in"] == {
        "count": 4,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "p99_ms": 40.0,
        "max_ms": 40.0,
    }
    assert summary["latency"]["download"]["p50_ms"] == 1500.0
    assert summary["versions_before"] == {"CX700 1.0.199.123": 2}
    assert summary["versions_after"] == {"CX700 1.0.522.101": 2}
    assert summary["bytes"] == {"received": 1234, "sent": 0}
    assert Stats().summary(elapsed=0.0)["requests_per_s"] is None
