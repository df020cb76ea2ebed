from __future__ import annotations

import datetime as dt

import pytest

from phonehome.updates.ranges import RangeNotSatisfiable, etag_matches, if_range_allows, parse_ranges


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", [(0, 9)]),
        ("bytes=10-", [(10, 99)]),
        ("bytes=-10", [(90, 99)]),
        ("bytes=-1000", [(0, 99)]),
        ("bytes=0-0,-1", [(0, 0), (99, 99)]),
        ("bytes=90-200", [(90, 99)]),
        ("bytes=0-9, 20-29", [(0, 9), (20, 29)]),
        ("bytes=200-300,0-1", [(0, 1)]),
        ("items=0-9", None),
        ("bytes=9-0", None),
        ("bytes=x-y", None),
        ("bytes=-", None),
        ("bytes=" + ",".join(["0-1"] * 17), None),
    ],
)
def test_parse_ranges(header: str | None, expected: list[tuple[int, int]] | None) -> None:
    assert parse_ranges(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200,300-400", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_ranges(header, 100)


def test_if_range() -> None:
    modified = dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.UTC)
    assert if_range_allows(None, '"abc"', modified)
    assert if_range_allows('"abc"', '"abc"', modified)
    assert not if_range_allows('"old"', '"abc"', modified)
    assert not if_range_allows('W/"abc"', '"abc"', modified)
    assert if_range_allows("Wed, 25 Nov 2026 09:00:00 GMT", '"abc"', modified)
    assert not if_range_allows("Wed, 25 Nov 2026 08:59:59 GMT", '"abc"', modified)
    assert not if_range_allows("garbage", '"abc"', modified)


def test_etag_matching() -> None:
    assert etag_matches('"a", "b"', '"b"', weak=False)
    assert etag_matches('W/"b"', '"b"', weak=True)
    assert not etag_matches('W/"b"', '"b"', weak=False)
    assert etag_matches("*", '"b"', weak=False)
    assert not etag_matches(None, '"b"', weak=True)
