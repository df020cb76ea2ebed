from __future__ import annotations

import datetime as dt

import pytest

from phonehome.updates.auditlog import (
    AuditLogError,
    AuditRecord,
    RequestModule,
    ResponseModule,
    file_name,
    parse_records,
    render_header,
    render_record,
)

RECORD = AuditRecord(
    dt.datetime(2026, 11, 25, 9, 30, 1, tzinfo=dt.UTC),
    "192.0.2.50",
    "UCPhone",
    "00-04-F2-95-31-A2",
    "SN-1",
    "Polycom",
    "CX700",
    "A",
    "ENU",
    (RequestModule("CPE.nbt", "1.0.199.123", "2008-01-01T00:00:00"),),
    (ResponseModule("CPE.nbt", "CPE.cat", "1.0.522.101", "2010-07-01T12:00:00"),),
    "contoso\\ocstest1",
)


def test_header_and_columns() -> None:
    header = render_header()
    assert header.startswith("Logging DateTime,User Host Address,Device Type,Mac Address,")
    assert header.rstrip().split(",")[-3:] == ["Request Modules", "Response Modules", "User ID"]
    line = render_record(RECORD)
    assert line == (
        "2026-11-25 09:30:01,192.0.2.50,UCPhone,00-04-F2-95-31-A2,SN-1,Polycom,CX700,A,ENU,"
        "CPE.nbt;1.0.199.123;2008-01-01T00:00:00,CPE.nbt;CPE.cat;1.0.522.101;2010-07-01T12:00:00,"
        "contoso\\ocstest1\r\n"
    )


def test_round_trip_with_several_modules_and_hostile_values() -> None:
    record = AuditRecord(
        RECORD.time,
        "::1",
        "UC,Phone",
        'mac"',
        "",
        "Poly#com",
        "CX;700",
        "",
        "",
        (
            RequestModule("a", "1", ""),
            RequestModule("b", "2", "t"),
        ),
        (),
        "",
    )
    text = render_header() + render_record(RECORD) + render_record(record)
    back = parse_records(text)
    assert back[0] == RECORD
    assert back[1].vendor == "Poly_com" and back[1].model == "CX_700" and back[1].device_type == "UC,Phone"
    assert back[1].request_modules == record.request_modules


@pytest.mark.parametrize(
    "text", ["", "a,b\r\n", render_header() + "x,y\r\n", render_header() + "bad,1,2,3,4,5,6,7,8,,,\r\n"]
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(AuditLogError):
        parse_records(text)


def test_file_name() -> None:
    assert file_name("FE01", dt.date(2026, 11, 25)) == "RequestHandlerAuditLog_FE01_20261125.log"
    assert file_name("../x", dt.date(2026, 1, 2)) == "RequestHandlerAuditLog_.._x_20260102.log"
