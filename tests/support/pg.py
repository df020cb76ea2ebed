"""A fresh PostgreSQL database per test on the server named by PHONEHOME_TEST_PG."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from tests.support.peers import missing_peer

ADMIN_URL = os.environ.get("PHONEHOME_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _conninfo(database: str | None = None) -> str:
    url = make_url(ADMIN_URL)
    if database:
        url = url.set(database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yield an asyncpg URL of a new, empty database; dropped afterwards."""
    name = f"phonehome_t_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(_conninfo(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing_peer(f"PostgreSQL at {ADMIN_URL} unreachable: {exc}")
        raise
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
