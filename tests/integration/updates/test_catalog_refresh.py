"""The production refresh setting on a real server: this node's own changes apply to the very next
check-in; changes from another process (the CLI) apply within ``catalog_refresh_seconds``.

The other server tests check the generation on every check-in (tests/support/server.py sets 0); here
the server runs with 1 second, as in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.updates.packages import CX700, build_cab, image_files
from tests.integration.updates.phones import check_in, offered
from tests.support.server import PhonehomeServer

CHECKIN = "/RequestHandler/ucdevice.upx"
OLD, NEW = "1.0.522.101", "3.5.6907.35"
OTHER = "00-04-F2-00-00-01"
TESTER = "00-04-F2-00-00-05"
TRIES, PAUSE = 10, 0.5  # a CLI change must show within TRIES check-ins, PAUSE seconds apart


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[PhonehomeServer]:
    server = PhonehomeServer(
        tmp_path / "data", env={"PHONEHOME_UPDATES__CATALOG_REFRESH_SECONDS": "1"}
    ).start()
    try:
        yield server
    finally:
        server.kill()


def until_offered(phone: httpx.Client, mac: str, version: str, expected: str) -> list[str | None]:
    """Check in up to TRIES times until ``expected`` is offered; every answer seen, last one first."""
    seen: list[str | None] = []
    for _ in range(TRIES):
        seen.insert(0, offered(check_in(phone, CHECKIN, mac, version)))
        if seen[0] == expected:
            break
        time.sleep(PAUSE)
    return seen


def pending_rule(srv: PhonehomeServer, tmp_path: Path, phone: httpx.Client) -> None:
    """With the CLI: 522 approved, 6907 pending; returns once the server answers from that catalog."""
    for version in (OLD, NEW):
        cab = tmp_path / f"UCUpdates-{version}.cab"
        cab.write_bytes(build_cab(image_files(version)))
        srv.cli("firmware", "import", str(cab))
        if version == OLD:
            srv.cli("rules", "approve", CX700)
    # A phone on 1.0.199.123 is offered 522 once the approval is seen (the first check-in loads the
    # catalog, so this is normally at once).
    assert until_offered(phone, OTHER, "1.0.199.123", OLD)[0] == OLD


def test_changes_through_this_servers_api_apply_to_the_next_check_in(
    srv: PhonehomeServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=srv.http, timeout=30) as phone, srv.admin_client() as admin:
        pending_rule(srv, tmp_path, phone)
        assert offered(check_in(phone, CHECKIN, TESTER, OLD)) is None  # not a test device yet

        assert admin.post("/api/v1/updates/test-devices", json={"mac": TESTER}).status_code == 201
        assert offered(check_in(phone, CHECKIN, TESTER, OLD)) == NEW  # the very next check-in
        assert offered(check_in(phone, CHECKIN, OTHER, OLD)) is None

        approved = admin.post(f"/api/v1/updates/rules/approve/{CX700}")
        assert approved.status_code == 200 and approved.json()["approved_version"] == NEW
        assert offered(check_in(phone, CHECKIN, OTHER, OLD)) == NEW

        removed = admin.delete("/api/v1/updates/test-devices", params={"mac": TESTER})
        assert removed.status_code == 204
        reset_back = admin.post(f"/api/v1/updates/rules/restore/{CX700}")
        assert reset_back.status_code == 200 and reset_back.json()["status"] == "restored"
        assert offered(check_in(phone, CHECKIN, OTHER, NEW)) == OLD  # the rollback, at once


def test_changes_from_the_cli_apply_within_the_refresh_bound(srv: PhonehomeServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=srv.http, timeout=30) as phone:
        pending_rule(srv, tmp_path, phone)
        assert offered(check_in(phone, CHECKIN, TESTER, OLD)) is None

        srv.cli("test-devices", "add", "--mac", TESTER)
        seen = until_offered(phone, TESTER, OLD, NEW)
        assert seen[0] == NEW, f"the CLI's test device never reached check-ins: {seen}"
        assert offered(check_in(phone, CHECKIN, OTHER, OLD)) is None  # only the test device

        srv.cli("rules", "approve", CX700)
        seen = until_offered(phone, OTHER, OLD, NEW)
        assert seen[0] == NEW, f"the CLI's approval never reached check-ins: {seen}"
        assert offered(check_in(phone, CHECKIN, OTHER, OLD)) == NEW  # and it stays
