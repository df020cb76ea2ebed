from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest

from phonehome.devices.errors import BadDeviceFilter
from phonehome.devices.filters import DeviceFilter, render_csv

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Phone:
    mac: str | None = "0004f2aabbcc"
    serial: str | None = "SN1"
    device_type: str = "UCPhone"
    brand: str = "Polycom"
    model: str = "CX700"
    revision: str = "A"
    locale: str = "ENU"
    version: str = "1.0.522.101"
    ip: str = "192.0.2.101"
    user: str = "sip:alice@fabrikam.com"
    site: str = "berlin"
    first_seen: dt.datetime = NOW
    last_seen: dt.datetime = NOW - dt.timedelta(hours=3)
    last_offer: str = ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, True),
        ({"q": "ALICE"}, True),
        ({"q": "aabbcc"}, True),
        ({"q": "9611"}, False),
        ({"model": "cx700"}, True),
        ({"model": "CX600"}, False),
        ({"version": "1.0.522.101"}, True),
        ({"version": "1.0.522"}, False),
        ({"site": "Berlin"}, True),
        ({"site": "paris"}, False),
        ({"unseen_hours": "2"}, True),
        ({"unseen_hours": "4"}, False),
        ({"behind": "1"}, False),
    ],
)
def test_each_filter(query: dict[str, str], expected: bool) -> None:
    assert DeviceFilter.from_query(query).matches(Phone(), behind=False, now=NOW) is expected


def test_behind_is_what_the_caller_worked_out() -> None:
    assert DeviceFilter(behind=True).matches(Phone(), behind=True, now=NOW)


@pytest.mark.parametrize("hours", ["0", "-1", "x", "1.5", str(24 * 367)])
def test_bad_hours_are_refused(hours: str) -> None:
    with pytest.raises(BadDeviceFilter, match="unseen_hours"):
        DeviceFilter.from_query({"unseen_hours": hours})


def test_query_round_trips() -> None:
    f = DeviceFilter(q="ali ce", model="CX700", behind=True, unseen_hours=5)
    from urllib.parse import parse_qsl

    assert DeviceFilter.from_query(dict(parse_qsl(f.query()))) == f
    assert f.query(export="csv").endswith("&export=csv")


def test_csv_has_a_header_iso_times_and_no_formulas() -> None:
    text = render_csv([Phone(user="=HYPERLINK(1)"), Phone(mac=None)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["mac", "serial", "device_type"] and len(rows) == 3
    assert rows[1][9] == "'=HYPERLINK(1)"
    assert rows[1][12] == "2026-11-25T12:00:00+00:00"
    assert rows[2][0] == ""
