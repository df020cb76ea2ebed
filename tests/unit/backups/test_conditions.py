from __future__ import annotations

import datetime as dt

import pytest
from aiohttp import web

from phonehome.backups.conditions import etag_of, evaluate, http_date

A = etag_of("a" * 64)
B = etag_of("b" * 64)


@pytest.mark.parametrize(
    ("method", "current", "if_match", "if_none_match", "outcome"),
    [
        ("GET", A, None, None, "proceed"),
        ("GET", A, None, A, "not_modified"),
        ("HEAD", A, None, f"{B}, {A}", "not_modified"),
        ("GET", A, None, B, "proceed"),
        ("GET", A, None, f"W/{A}", "proceed"),
        ("GET", A, B, None, "failed"),
        ("PUT", None, None, "*", "proceed"),
        ("PUT", A, None, "*", "failed"),
        ("PUT", A, A, None, "proceed"),
        ("PUT", A, B, None, "failed"),
        ("PUT", None, "*", None, "failed"),
        ("PUT", A, "*", None, "proceed"),
        ("DELETE", A, f"W/{A}", None, "failed"),
    ],
)
def test_evaluate(
    method: str, current: str | None, if_match: str | None, if_none_match: str | None, outcome: str
) -> None:
    assert evaluate(method, current, if_match, if_none_match) == outcome


def test_http_date_is_what_aiohttp_writes() -> None:
    when = dt.datetime(2026, 11, 25, 17, 22, 3, 123456, tzinfo=dt.UTC)
    response = web.Response()
    response.last_modified = when
    assert http_date(when) == response.headers["Last-Modified"] == "Wed, 25 Nov 2026 17:22:04 GMT"
