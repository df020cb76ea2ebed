"""``phonehome audit analyze`` over the audit files the real server wrote during real check-ins.

The approved versions and the client version filter come from the server's own data dir (its rules and
its config), as an admin would run it on the box.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.updates.packages import CX700, build_cab, image_files
from tests.integration.updates.phones import check_in, checkin_body, offered
from tests.support.server import PhonehomeServer

CHECKIN = "/RequestHandler/ucdevice.upx"
OLD, CURRENT, ANCIENT = "00-04-F2-33-00-01", "00-04-F2-33-00-02", "00-04-F2-33-00-03"


def analyze(srv: PhonehomeServer, *args: str) -> dict[str, Any]:
    files = sorted(str(p) for p in (srv.data_dir / "logs").glob("RequestHandlerAuditLog_FE01_*.log"))
    assert files
    data: dict[str, Any] = json.loads(srv.cli("audit", "analyze", *files, "--json", *args).stdout)
    return data


def test_analysis_of_real_check_ins(update_server: PhonehomeServer, tmp_path: Path) -> None:
    srv = update_server
    (tmp_path / "522.cab").write_bytes(build_cab(image_files("1.0.522.101")))
    srv.cli("firmware", "import", str(tmp_path / "522.cab"))
    srv.cli("rules", "approve", CX700)
    with httpx.Client(base_url=srv.http, timeout=30) as phone:
        assert (
            offered(check_in(phone, CHECKIN, OLD, "1.0.199.123", user="sip:old@contoso.com")) == "1.0.522.101"
        )
        assert offered(check_in(phone, CHECKIN, CURRENT, "1.0.522.101")) is None
        # Below the client version filter (OCPhone >= 1.0.199.*): refused, and logged.
        ancient = phone.post(
            CHECKIN, content=checkin_body(ANCIENT, "1.0.190.5"), headers={"Content-Type": "text/xml"}
        )
        assert ancient.status_code == 403
        anonymous = phone.post(CHECKIN, content=b"<Request><Model>CX700</Model></Request>")
        assert anonymous.status_code == 400

    data = analyze(srv)
    phones = {p["device"]: p for p in data["phones"]}
    assert set(phones) == {OLD, CURRENT, ANCIENT}
    assert (phones[OLD]["version"], phones[OLD]["offered"], phones[OLD]["user_id"]) == (
        "1.0.199.123",
        "1.0.522.101",
        "sip:old@contoso.com",
    )
    assert phones[OLD]["address"] == "127.0.0.1"
    assert {(m["model"], m["version"], m["phones"]) for m in data["by_model_version"]} == {
        ("Polycom/CX700/A/ENU", "1.0.199.123", 1),
        ("Polycom/CX700/A/ENU", "1.0.522.101", 1),
        ("Polycom/CX700/A/ENU", "1.0.190.5", 1),
    }
    # Approved comes from the data dir's rule; 1.0.190.5 is behind too (and refused).
    assert data["approved_known"] is True
    assert sorted((b["device"], b["approved"]) for b in data["behind"]) == [
        (OLD, "1.0.522.101"),
        (ANCIENT, "1.0.522.101"),
    ]
    refused = {(r["device"], r["reason"].split(":")[0]) for r in data["refused"]}
    assert refused == {
        (ANCIENT, "client version filter 'OCPhone >= 1.0.199.*' refuses version 1.0.190.5"),
        ("", "names no device"),
    }
    assert data["silent"] == []

    # Three days on, every phone in the file has been silent for more than 48 h.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    assert {p["device"] for p in analyze(srv, "--now", later)["silent"]} == {OLD, CURRENT, ANCIENT}
    # --approved overrides the rules (and needs no database).
    overridden = analyze(srv, "--approved", "CX700=1.0.199.123")
    assert [b["device"] for b in overridden["behind"]] == [ANCIENT]
