"""Bad input at start: one readable line, the documented exit code, nothing half-initialised."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import PhonehomeServer


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phonehome", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("phonehome: error: ")
    return lines[0]


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0 and result.stdout.startswith("phonehome ")


def test_unknown_config_key_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('http = "127.0.0.1:0"\n[tls]\nclient_cas = []\n')
    result = run("--data", str(tmp_path / "d"), "--config", str(cfg), "serve")
    assert result.returncode == 2
    line = one_line(result)
    assert "tls.client_cas" in line and str(cfg) in line
    assert not (tmp_path / "d").exists()


def test_invalid_db_url_exits_2(tmp_path: Path) -> None:
    result = run("--data", str(tmp_path / "d"), "--db", "mysql://nope/x", "init")
    assert result.returncode == 2
    assert "invalid --db URL" in one_line(result)
    assert not (tmp_path / "d").exists()


def test_data_dir_not_writable_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run("--data", str(blocker / "data"), "init")
    assert result.returncode == 1
    line = one_line(result)
    assert "not writable" in line and str(blocker / "data") in line


def test_unreachable_database_leaves_nothing_behind(tmp_path: Path) -> None:
    result = run("--data", str(tmp_path / "d"), "--db", "postgresql://nobody@127.0.0.1:1/none", "init")
    assert result.returncode == 1
    assert "database" in one_line(result)
    assert not (tmp_path / "d").exists()


def test_port_in_use_exits_1_naming_address(tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        result = run(
            "--data",
            str(tmp_path / "d"),
            "serve",
            "--http",
            "127.0.0.1:0",
            "--https",
            f"127.0.0.1:{port}",
            "--admin",
            "127.0.0.1:0",
        )
    finally:
        holder.close()
    assert result.returncode == 1
    line = one_line(result)
    assert f"127.0.0.1:{port}" in line and "in use" in line
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("flag", ["--http", "--admin"])
def test_bad_listen_flag_exits_2(tmp_path: Path, flag: str) -> None:
    result = run("--data", str(tmp_path / "d"), "serve", flag, "localhost")
    assert result.returncode == 2
    assert flag.lstrip("-") in one_line(result)


def test_init_is_idempotent_and_serve_initialises_empty_dir(tmp_path: Path) -> None:
    data = tmp_path / "d"
    first = run("--data", str(data), "init")
    assert first.returncode == 0 and "initialised" in first.stdout
    ca = (data / "pki" / "ca.pem").read_bytes()
    assert (data / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600
    second = run("--data", str(data), "init")
    assert second.returncode == 0 and "already initialised" in second.stdout
    assert (data / "pki" / "ca.pem").read_bytes() == ca

    empty = tmp_path / "empty"
    empty.mkdir()
    srv = PhonehomeServer(empty).start()
    try:
        assert (empty / ".phonehome").exists() and (empty / "pki" / "server.pem").exists()
    finally:
        assert srv.stop() == 0


def test_env_precedence_for_data_dir(tmp_path: Path) -> None:
    env_dir = tmp_path / "from-env"
    result = subprocess.run(
        [sys.executable, "-m", "phonehome", "init"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PHONEHOME_DATA": str(env_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert (env_dir / ".phonehome").exists()
    assert not (tmp_path / "phonehome-data").exists()
