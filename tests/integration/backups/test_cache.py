"""The server's cache of current versions against changes it did not make itself.

Another process (the ``phonehome backups restore|import`` CLI) and a second server node on the same
database change what is current; the next GET through the first server must return the new bytes.
SQLite checks ``PRAGMA data_version`` on every GET, so there is nothing to wait for; on PostgreSQL a
node polls the generation row at most every ``backups.current_check_ms``, so the test waits past that
bound (a wait, not a timing assertion). Each test runs on SQLite and on PostgreSQL (db_url).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from tests.integration.backups.conftest import curl, start_server, with_credentials
from tests.support.server import PhonehomeServer

PW = "s3cret-4711"
NAME = "4711_96xxdata.txt"
CHECK_MS = 50
V1 = b"ABKNAME001=Alice\r\n"
V2 = b"ABKNAME001=Bob\r\n"
V3 = b"ABKNAME001=Carol\r\n"


def _url(srv: PhonehomeServer) -> str:
    return with_credentials(srv.http, "4711", PW) + "/backup/" + NAME


def _start(tmp_path: Path, db_url: str) -> PhonehomeServer:
    config = f"[backups]\ncurrent_check_ms = {CHECK_MS}\n"
    return start_server(tmp_path, config, db_url=None if db_url.startswith("sqlite") else db_url)


def _past_the_bound(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        time.sleep(4 * CHECK_MS / 1000)


def _put(srv: PhonehomeServer, tmp_path: Path, data: bytes) -> int:
    body = tmp_path / f"body-{hashlib.sha256(data).hexdigest()[:8]}"
    body.write_bytes(data)
    return curl("-T", str(body), _url(srv)).status


def test_cli_restore_and_import_then_get_returns_their_bytes(tmp_path: Path, db_url: str) -> None:
    srv = _start(tmp_path, db_url)
    try:
        srv.cli("accounts", "add", "4711", "--password", PW)
        assert _put(srv, tmp_path, V1) == 201
        assert _put(srv, tmp_path, V2) == 204
        assert curl(_url(srv)).body == V2  # now in the server's cache

        srv.cli("backups", "restore", NAME, "--version", "1")
        _past_the_bound(db_url)
        got = curl(_url(srv))
        assert (got.status, got.body) == (200, V1)
        assert got.headers["etag"] == f'"{hashlib.sha256(V1).hexdigest()}"'

        (tmp_path / "imported").write_bytes(V3)
        srv.cli("backups", "import", NAME, str(tmp_path / "imported"))
        _past_the_bound(db_url)
        assert curl(_url(srv)).body == V3
        # The server's own next write lands on top of the CLI's versions, not beside them.
        assert _put(srv, tmp_path, V2) == 204
        assert curl(_url(srv)).body == V2
        history = srv.cli("backups", "history", NAME).stdout
        assert all(f" {n} " in history for n in (1, 2, 3, 4, 5))
    finally:
        srv.kill()


def test_second_node_sees_the_first_nodes_puts_and_deletes(tmp_path: Path, db_url: str) -> None:
    """Two server processes on one database and one data directory (shared blob storage)."""
    first = _start(tmp_path, db_url)
    second = PhonehomeServer(first.data_dir, db_url=first.db_url)
    try:
        first.cli("accounts", "add", "4711", "--password", PW)
        assert _put(first, tmp_path, V1) == 201
        second.start()
        assert curl(_url(second)).body == V1  # cached on the second node
        assert _put(first, tmp_path, V2) == 204
        _past_the_bound(db_url)
        assert curl(_url(second)).body == V2
        assert curl("-X", "DELETE", _url(first)).status == 204
        _past_the_bound(db_url)
        assert curl(_url(second)).status == 404
        assert _put(second, tmp_path, V3) == 201
        _past_the_bound(db_url)
        assert curl(_url(first)).body == V3
    finally:
        second.kill()
        first.kill()
