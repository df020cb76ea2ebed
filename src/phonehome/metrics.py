"""Prometheus metrics, one registry per server (tests run several in one process)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

RECENT_REFUSALS = 50


@dataclass(frozen=True, slots=True)
class Refusal:
    """A phone-listener answer of 400 or more, for the dashboard (this node only, since its start)."""

    time: dt.datetime
    listener: str
    method: str
    path: str
    status: int
    device: str | None
    peer: str | None
    reason: str


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "phonehome_http_requests",
            "HTTP requests answered, by listener, method and status.",
            ["listener", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "phonehome_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["listener"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60),
            registry=self.registry,
        )
        self.sent_bytes = Counter(
            "phonehome_http_sent_bytes", "Response bytes sent.", ["listener"], registry=self.registry
        )
        self.in_flight = Gauge(
            "phonehome_http_in_flight", "Requests being answered.", ["listener"], registry=self.registry
        )
        self.write_batches = Histogram(
            "phonehome_write_batch_items",
            "Items written together by one group commit (check-ins: inventory rows and audit lines).",
            ["writer"],
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
            registry=self.registry,
        )

        self.refusals: deque[Refusal] = deque(maxlen=RECENT_REFUSALS)

    def render(self) -> bytes:
        return generate_latest(self.registry)
