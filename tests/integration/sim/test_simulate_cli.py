"""``phonehome simulate`` option errors: exit 2 and one readable line, nothing sent."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys

import pytest

from phonehome.sim.identities import fleet


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phonehome", "simulate", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--server", "http://127.0.0.1:9", "--profile", "cisco"], "unknown profile 'cisco'"),
        (["--server", "ftp://127.0.0.1"], "--server must be an http:// or https:// URL"),
        ([], "--server must be an http:// or https:// URL"),
        (
            ["--server", "http://127.0.0.1:9", "--download-fraction", "1.5"],
            "download fraction must be between 0",
        ),
        (["--server", "http://127.0.0.1:9", "--boot-storm", "-1"], None),
        (["--server", "http://127.0.0.1:9", "--phones", "2000000"], None),
    ],
)
def test_bad_options(args: list[str], reason: str | None) -> None:
    result = simulate(*args)
    assert result.returncode == 2, result.stderr
    if reason is not None:
        assert result.stderr.strip().startswith("phonehome: error: ")
        assert reason in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_list_accounts_matches_the_fleet() -> None:
    result = simulate("--phones", "40", "--profile", "mix", "--seed", "5", "--list-accounts")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = [p for p in fleet("mix", 40, seed=5) if p.backup_file is not None]
    assert [(r["account"], r["password"]) for r in rows] == [(p.account, p.password) for p in expected]
    assert all(
        r["mac"] == (p.mac if p.family == "polycom" else "") for r, p in zip(rows, expected, strict=True)
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_counts_as_errors() -> None:
    result = simulate(
        *["--server", f"http://127.0.0.1:{_closed_port()}", "--phones", "3", "--profile", "cx600"],
        *["--boot-storm", "0", "--duration", "30", "--json"],
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["errors"] == {"check_in:ClientConnectorError": 3}
    assert result.stderr.strip() == "phonehome: error: 3 phones saw errors"


def test_the_duration_bounds_the_run() -> None:
    # 50 phones would boot over 60 s; the run stops after 1 s and says how many never booted.
    result = simulate(
        *["--server", f"http://127.0.0.1:{_closed_port()}", "--phones", "50", "--profile", "cx600"],
        *["--boot-storm", "60", "--duration", "1", "--json"],
    )
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    booted = summary["phones"]["started"]
    assert summary["errors"]["not_booted"] == 50 - booted > 0
    assert summary["errors"].get("check_in:ClientConnectorError", 0) == booted
