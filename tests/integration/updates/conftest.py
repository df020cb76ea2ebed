from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import PhonehomeServer

CONFIG = """
[updates]
server_name = "FE01"
client_version_filter = ["OCPhone >= 1.0.199.*"]
sites = { Redmond = ["127.0.0.0/8"] }
"""


@pytest.fixture(scope="module")
def update_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    """One phonehome for a module's scenario, with a client version filter and a site for 127/8."""
    data = tmp_path_factory.mktemp("updates") / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(CONFIG)
    server = PhonehomeServer(data).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def admin(update_server: PhonehomeServer) -> Iterator[httpx.Client]:
    """An admin REST client for the module's server (one token, issued once)."""
    with update_server.admin_client() as client:
        yield client
