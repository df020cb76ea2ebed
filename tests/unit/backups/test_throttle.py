from __future__ import annotations

from phonehome.backups.throttle import Throttle


def test_limit_window_and_expiry() -> None:
    throttle = Throttle(limit=3, window=60)
    keys = ["ip:192.0.2.1", "account:4711"]
    for t in (0.0, 1.0, 2.0):
        assert throttle.retry_after(keys, t) == 0
        throttle.failed(keys, t)
    assert throttle.retry_after(keys, 2.5) == 58  # the oldest of the last 3 failures ends at 60
    assert throttle.retry_after(["account:4711"], 30) == 30
    assert throttle.retry_after(["ip:192.0.2.2", "account:4712"], 3) == 0
    assert throttle.retry_after(keys, 60.0) == 0


def test_one_address_many_accounts() -> None:
    throttle = Throttle(limit=2, window=10)
    throttle.failed(["ip:a", "account:1"], 0)
    throttle.failed(["ip:a", "account:2"], 0)
    assert throttle.retry_after(["ip:a", "account:3"], 1) == 9
    assert throttle.retry_after(["ip:b", "account:3"], 1) == 0


def test_memory_is_bounded() -> None:
    throttle = Throttle(limit=2, window=10, max_keys=100)
    for i in range(1000):
        throttle.failed([f"ip:{i}"], float(i))
    assert len(throttle._failures) <= 100
