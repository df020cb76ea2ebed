"""``phonehome audit analyze`` over a hand-written file in the documented Lync format (research §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phonehome.cli import app
from phonehome.updates.audit_analyze import analyse
from phonehome.updates.audit_cli import read_file
from phonehome.updates.versions import FilterRule

LYNC = Path(__file__).parent / "data" / "RequestHandlerAuditLog_LYNCFE01_20261120.log"


def test_lync_file_analysis() -> None:
    records = read_file(LYNC)
    result = analyse(
        records, approved={"CX700": "1.0.522.101"}, filters=[FilterRule.parse("OCPhone >= 1.0.199.*")]
    )
    assert result.lines == 7
    assert result.reference is not None and result.reference.isoformat() == "2026-11-20T09:31:00+00:00"
    assert result.by_model_version == (
        ("HP/4120/A/ENU", "4.0.7577.4455", 1),
        ("Polycom/CX700/A/ENU", "1.0.190.5", 1),
        ("Polycom/CX700/A/ENU", "1.0.199.123", 1),
        ("Polycom/CX700/A/ENU", "1.0.522.101", 1),
        ("Polycom/CX700/A/ENU", "3.5.6907.35", 1),
    )
    anna = next(p for p in result.phones if p.device == "00-04-F2-95-31-A2")
    assert (anna.check_ins, anna.user_id, anna.offered) == (2, "sip:anna@contoso.com", "")
    assert next(p for p in result.phones if p.device == "00-04-F2-00-00-02").offered == "1.0.522.101"
    assert [(b.phone.device, b.phone.version, b.approved) for b in result.behind] == [
        ("00-04-F2-00-00-02", "1.0.199.123", "1.0.522.101"),
        ("00-04-F2-00-00-10", "1.0.190.5", "1.0.522.101"),
    ]
    # Carl's last line is 57.5 h before the newest one; Anna checked in again within the window.
    assert [p.device for p in result.silent] == ["00-04-F2-00-00-09"]
    assert [(r.address, r.device) for r in result.refused] == [
        ("10.1.99.2", ""),
        ("10.1.20.60", "00-04-F2-00-00-10"),
    ]
    assert "refuses version 1.0.190.5" in result.refused[1].reason


def test_without_approved_versions_nothing_is_behind() -> None:
    result = analyse(read_file(LYNC))
    assert (result.approved_known, result.behind) == (False, ())
    assert [r.reason for r in result.refused] == ["names no device"]


def test_cli_json_and_now(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--data", str(tmp_path / "none"), "audit", "analyze", str(LYNC), "--json"]
    args += ["--approved", "cx700=3.5.6907.35", "--now", "2026-11-22T09:00:00Z"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["behind"]) == 3
    # Two days after the 20th's check-ins, everyone but the 09:12+ lines has gone quiet.
    assert {p["device"] for p in data["silent"]} == {
        "00-04-F2-95-31-A2",
        "00-04-F2-00-00-02",
        "00-04-F2-00-00-09",
    }
    assert not (tmp_path / "none").exists()


def test_cli_table() -> None:
    result = CliRunner().invoke(app, ["audit", "analyze", str(LYNC), "--approved", "CX700=1.0.522.101"])
    assert result.exit_code == 0, result.output
    for heading in (
        "Phones by model and version",
        "Behind the approved version",
        "Silent for 48 h",
        "Refused",
    ):
        assert heading in result.output


@pytest.mark.parametrize(
    ("content", "approved", "message"),
    [
        (b"not,a,header\r\n", [], "does not start with the RequestHandlerAuditLog header"),
        (LYNC.read_bytes() + b"2026-11-20 09:31:00,too,few\r\n", [], "line 9: 3 columns"),
        (b"\xff\xfe\x00\xd8", [], "not UTF-8 or UTF-16"),
        (LYNC.read_bytes(), ["CX700"], "MODEL=VERSION"),
        (LYNC.read_bytes(), ["CX700=latest"], "MODEL=VERSION"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, content: bytes, approved: list[str], message: str) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(content)
    args = ["audit", "analyze", str(path)] + [a for v in approved for a in ("--approved", v)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "analyze", str(tmp_path / "gone.log")])
    assert result.exit_code == 2
    assert "gone.log" in result.output
