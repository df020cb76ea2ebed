"""``phonehome simulate`` option errors: exit 2 and one readable line, nothing sent."""

from __future__ import annotations

import csv
import io
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
