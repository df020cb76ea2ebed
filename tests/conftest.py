from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pg import fresh_database
from tests.support.server import PhonehomeServer


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PhonehomeServer]:
    """A running phonehome (SQLite) on ephemeral loopback ports."""
    srv = PhonehomeServer(tmp_path / "data").start()
    try:
        yield srv
    finally:
        srv.kill()


@pytest.fixture
def server_pg(tmp_path: Path, pg_url: str) -> Iterator[PhonehomeServer]:
    """A running phonehome on a fresh PostgreSQL database."""
    srv = PhonehomeServer(tmp_path / "data", db_url=pg_url).start()
    try:
        yield srv
    finally:
        srv.kill()
