"""Opt-in modes: the PSN's shared account, empty 200 for first-time Avaya users, throttling, the realm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.backups.conftest import curl, start_server, with_credentials
from tests.support.server import PhonehomeServer

CONFIG = """
[backups]
realm = "Example Corp phones"
legacy_shared_account = "avaya"
empty_200_for_missing = true
max_failures = 3
failure_window = 600
"""


@pytest.fixture(scope="module")
def srv(module_tmp: Path) -> Iterator[PhonehomeServer]:
    server = start_server(module_tmp, CONFIG)
    try:
        server.cli("accounts", "add", "avaya", "--password", "shared-pw")
        server.cli("accounts", "add", "4711", "--password", "s3cret-4711")
        yield server
    finally:
        server.kill()


def test_shared_account_warns_and_touches_every_file(srv: PhonehomeServer, tmp_path: Path) -> None:
    warnings = [line for line in srv.log_lines() if line.get("level") == "warning"]
    assert any("legacy shared backup account enabled" in str(line["msg"]) for line in warnings)
    body = tmp_path / "body"
    body.write_bytes(b"SET FOO 1\n")
    shared = with_credentials(srv.http, "avaya", "shared-pw")
    assert curl("-T", str(body), f"{shared}/backup/4711_96xxdata.txt").status == 201
    assert curl("-T", str(body), f"{shared}/backup/9610data.txt").status == 201
    own = with_credentials(srv.http, "4711", "s3cret-4711")
    assert curl(f"{own}/backup/4711_96xxdata.txt").body == b"SET FOO 1\n"
    assert curl(f"{own}/backup/9610data.txt").status == 200
    assert curl("-T", str(body), f"{own}/backup/9610data.txt").status == 403


def test_empty_200_for_a_missing_file(srv: PhonehomeServer) -> None:
    own = with_credentials(srv.http, "4711", "s3cret-4711")
    got = curl(f"{own}/backup/4711_16xxdata.txt")
    assert (got.status, got.body, "etag" in got.headers) == (200, b"", False)
    assert curl(f"{srv.http}/backup/4711_16xxdata.txt").status == 401  # still needs credentials
    assert "4711_16xxdata.txt" not in srv.cli("backups", "list").stdout  # nothing was created


def test_realm_and_throttling(srv: PhonehomeServer) -> None:
    target = "/backup/4711_96xxdata.txt"
    first = curl(with_credentials(srv.http, "4711", "guess-1") + target)
    assert first.status == 401
    assert first.headers["www-authenticate"] == 'Basic realm="Example Corp phones", charset="UTF-8"'
    for guess in ("guess-2", "guess-3"):
        assert curl(with_credentials(srv.http, "4711", guess) + target).status == 401
    held = curl(with_credentials(srv.http, "4711", "s3cret-4711") + target)
    assert held.status == 429
    assert 0 < int(held.headers["retry-after"]) <= 600
    # Over HTTPS too, and for other accounts from this address.
    other = curl("--cacert", str(srv.ca_file), with_credentials(srv.https, "avaya", "shared-pw") + target)
    assert other.status == 429
