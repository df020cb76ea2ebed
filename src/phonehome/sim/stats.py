"""What a simulation run counts, pure: requests, errors by kind, latencies, bytes, versions.

Latencies are kept per request kind (``check_in``, ``download``, ``backup_put``, ``backup_get``) as
plain lists of seconds; a 20,000-phone storm makes well under a million samples, so exact percentiles
(nearest rank) are cheaper than a sketch and need no explanation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(samples: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of ``samples`` (None when empty); ``pct`` in (0, 100]."""
    if not 0 < pct <= 100:
        raise ValueError("percentile must be in (0, 100]")
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    bytes_sent: int = 0
    versions_before: Counter[str] = field(default_factory=Counter)
    versions_after: Counter[str] = field(default_factory=Counter)
    phones_started: int = 0
    phones_finished: int = 0
    phones_failed: int = 0
    downloads_verified: int = 0
    downloads_resumed: int = 0
    backups_round_tripped: int = 0
    digests: dict[str, str] = field(default_factory=dict)

    def request(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str) -> None:
        """``kind`` names what went wrong, e.g. ``check_in:http_503`` or ``download:sha256_mismatch``."""
        self.errors[kind] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def summary(self, elapsed: float) -> dict[str, Any]:
        """A JSON-ready summary; latencies in milliseconds."""
        kinds: dict[str, Any] = {}
        for kind, samples in sorted(self.latencies.items()):
            kinds[kind] = {
                "count": len(samples),
                **{f"p{p}_ms": _ms(percentile(samples, p)) for p in (50, 95, 99)},
                "max_ms": _ms(max(samples)),
            }
        return {
            "elapsed_s": round(elapsed, 3),
            "phones": {
                "started": self.phones_started,
                "finished": self.phones_finished,
                "failed": self.phones_failed,
            },
            "requests": self.requests,
            "requests_per_s": round(self.requests / elapsed, 1) if elapsed > 0 else None,
            "errors": dict(sorted(self.errors.items())),
            "error_count": sum(self.errors.values()),
            "latency": kinds,
            "bytes": {"received": self.bytes_received, "sent": self.bytes_sent},
            "downloads": {"verified": self.downloads_verified, "resumed": self.downloads_resumed},
            "backups_round_tripped": self.backups_round_tripped,
            "versions_before": dict(sorted(self.versions_before.items())),
            "versions_after": dict(sorted(self.versions_after.items())),
            "image_sha256": dict(sorted(self.digests.items())),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
