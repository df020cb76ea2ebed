from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from tests.support.pg import fresh_database
from tests.support.server import PhonehomeServer

CONFIG = """
[updates]
server_name = "FE01"
client_version_filter = ["OCPhone >= 1.0.199.*"]
sites = { Redmond = ["127.0.0.0/8"] }
"""


@pytest.fixture(scope="module")
def update_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PhonehomeServer]:
    """One phonehome for a module's scenario, with a client version filter and a site for 127/8.

    A module with ``DATABASE = "postgresql"`` gets a fresh PostgreSQL database, else SQLite.
    """
    data = tmp_path_factory.mktemp("updates") / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(CONFIG)
    with contextlib.ExitStack() as stack:
        db_url = None
        if getattr(request.module, "DATABASE", "sqlite") == "postgresql":
            db_url = stack.enter_context(fresh_database())
        server = PhonehomeServer(data, db_url=db_url).start()
        try:
            yield server
        finally:
            server.kill()


@pytest.fixture(scope="module")
def admin(update_server: PhonehomeServer) -> Iterator[httpx.Client]:
    """An admin REST client for the module's server (one token, issued once)."""
    update_server.cli("admin", "add-user", "admin", "--password", "correct horse battery")
    token = update_server.cli("admin", "token", "admin").stdout.strip()
    with update_server.admin_client(token) as client:
        yield client
