"""CLI input errors: exit 2 with one readable line, nothing probed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from phonehome.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["doctor"], "give --dhcp-domain and --sip-domain"),
        (["doctor", "--dhcp-domain", "contoso..com", "--sip-domain", "f.com"], "not a DNS domain"),
        (
            ["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--dns-server", "dns.local"],
            "IP[:PORT]",
        ),
        (
            ["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--dns-server", "127.0.0.1:0"],
            "out of range",
        ),
        (["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--option42", "ntp.local"], "IPv4"),
        (
            ["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--ca", "/nonexistent.pem"],
            "no such file",
        ),
        (["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--http-port", "0"], "out of range"),
        (["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--timeout", "0"], "--timeout"),
        (["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--netbios", "a.b"], "NetBIOS"),
        (
            ["doctor", "--dhcp-domain", "c.com", "--sip-domain", "f.com", "--dhcp-ports", "67"],
            "SERVER,CLIENT",
        ),
        (["decode-status", "0x2F0D"], "expected a Last Update Status"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(tmp_path), *args], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_decode_status_prints_the_explanation(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["decode-status", "0x2F0D/0"])
    assert result.exit_code == 0
    assert "ERROR_INTERNET_INVALID_CA" in result.output
