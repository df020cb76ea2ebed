"""Never lose a backup: kill -9 of the server mid-upload, a disk that refuses the write, a full disk.

Each test runs the real server on SQLite and on PostgreSQL (the db_url fixture).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.backups.conftest import curl, start_server, with_credentials
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer

PW = "s3cret-4711"
OLD = b"ABKNAME001=Alice\nABKNUMBER001=100\n"
NAME = "4711_96xxdata.txt"


def _url(srv: PhonehomeServer) -> str:
    return with_credentials(srv.http, "4711", PW) + "/backup/" + NAME


def _server(tmp_path: Path, db_url: str) -> PhonehomeServer:
    srv = start_server(tmp_path, "", db_url=None if db_url.startswith("sqlite") else db_url)
    srv.cli("accounts", "add", "4711", "--password", PW)
    (tmp_path / "old").write_bytes(OLD)
    assert curl("-T", str(tmp_path / "old"), _url(srv)).status == 201
    return srv


def _wait_for_partial_upload(tmp_dir: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = [p for p in tmp_dir.glob("*.part") if p.stat().st_size > 0]
        if parts:
            return parts[0]
        time.sleep(0.05)
    raise AssertionError("the upload never reached the server's temp file")


def test_kill_9_mid_upload_keeps_previous_version(tmp_path: Path, db_url: str) -> None:
    srv = _server(tmp_path, db_url)
    big = tmp_path / "big"
    big.write_bytes(b"ABKNAME999=Mallory\n" * 52_000)  # ~1 MB, under the 1 MiB limit
    uploader = subprocess.Popen(
        [require_binary("curl"), "-sS", "--limit-rate", "100k", "-T", str(big), _url(srv)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        partial = _wait_for_partial_upload(srv.data_dir / "blobs" / "backups" / "tmp")
        assert srv.proc is not None
        srv.proc.kill()  # SIGKILL: no cleanup, no finally blocks
        srv.proc.wait(timeout=10)
        assert partial.exists() and partial.stat().st_size < big.stat().st_size
    finally:
        uploader.kill()
        uploader.wait(timeout=10)
    try:
        srv.start()
        got = curl(_url(srv))
        assert (got.status, got.body) == (200, OLD)
        assert not any(
            (srv.data_dir / "blobs" / "backups" / "tmp").iterdir()
        )  # the torn part was removed at start
        history = srv.cli("backups", "history", NAME).stdout
        assert " 1 " in history and " 2 " not in history
        assert any(
            line.get("msg") == "removed partial uploads left by an interrupted run"
            for line in srv.log_lines()
        )
        # And the service is whole again: the next upload lands.
        assert curl("-T", str(big), _url(srv)).status == 204
        assert curl(_url(srv)).body == big.read_bytes()
    finally:
        srv.kill()


def test_write_error_and_full_disk_are_507_and_previous_version_intact(tmp_path: Path) -> None:
    """Blob-store failures do not depend on the database, so SQLite alone is enough here."""
    srv = _server(tmp_path, "sqlite")
    try:
        objects = srv.data_dir / "blobs" / "backups" / "sha256"
        aside = objects.with_name("sha256.aside")
        objects.rename(aside)
        objects.write_bytes(b"")  # a file where a directory must be: every new blob's mkdir fails
        (tmp_path / "new").write_bytes(b"ABKNAME001=Bob\n")
        answer = curl("-T", str(tmp_path / "new"), _url(srv))
        assert answer.status == 507
        assert b"data directory" in answer.body
        objects.unlink()
        aside.rename(objects)
        assert curl(_url(srv)).body == OLD

        tmp_dir = srv.data_dir / "blobs" / "backups" / "tmp"
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tmp_dir)], capture_output=True, text=True
        )
        if mount.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here (needs CAP_SYS_ADMIN): {mount.stderr.strip()}")
        try:
            (tmp_path / "big").write_bytes(b"x" * 200_000)
            full = curl("-T", str(tmp_path / "big"), _url(srv))
            assert (full.status, full.body) == (507, b"insufficient storage: the data directory is full\n")
            assert not any(tmp_dir.iterdir())  # the partial temp file was removed
        finally:
            subprocess.run(["umount", str(tmp_dir)], check=False)
        assert curl(_url(srv)).body == OLD
        assert " 2 " not in srv.cli("backups", "history", NAME).stdout
    finally:
        srv.kill()
        shutil.rmtree(srv.data_dir, ignore_errors=True)
