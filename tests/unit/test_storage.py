"""Migrations and the kernel's own tables, on SQLite and PostgreSQL (the db_url fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect

from phonehome.admin.errors import AdminUserExists, BadAdminCredentials, BadToken, WeakPassword
from phonehome.admin.service import AdminService
from phonehome.changelog import Actor, list_changes
from phonehome.db import Database, normalise_url
from phonehome.errors import ConfigError


async def test_migrate_is_idempotent(db_url: str) -> None:
    db = Database(db_url)
    try:
        await db.migrate()
        await db.migrate()
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"admin_users", "admin_tokens", "changelog", "alembic_version"} <= tables
    finally:
        await db.close()


async def test_admin_accounts_tokens_and_changelog(db_url: str) -> None:
    db = Database(db_url)
    await db.migrate()
    service = AdminService(db)
    actor = Actor("cli:test")
    try:
        await service.add_user(actor, "alice", "s3cret-pass")
        with pytest.raises(AdminUserExists):
            await service.add_user(actor, "alice", "another-pass")
        with pytest.raises(WeakPassword):
            await service.add_user(actor, "bob", "short")
        assert (await service.authenticate("alice", "s3cret-pass")).name == "alice"
        with pytest.raises(BadAdminCredentials):
            await service.authenticate("alice", "wrong-pass")
        with pytest.raises(BadAdminCredentials):
            await service.authenticate("nobody", "wrong-pass")

        token = await service.issue_token("alice")
        assert (await service.user_for_token(token)).name == "alice"
        with pytest.raises(BadToken):
            await service.user_for_token(token + "x")
        expired = await service.issue_token("alice", ttl=dt.timedelta(seconds=-1))
        with pytest.raises(BadToken):
            await service.user_for_token(expired)

        await service.set_password(actor, "alice", "new-s3cret-pass")
        with pytest.raises(BadToken):  # a new password revokes old tokens
            await service.user_for_token(token)

        async with db.session() as session:
            changes = await list_changes(session, object_type="admin_user")
        assert [(c.action, c.actor, c.object_id) for c in changes] == [
            ("set-password", "cli:test", "alice"),
            ("create", "cli:test", "alice"),
        ]
        assert changes[1].time.tzinfo is not None
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    "url", ["nonsense", "mysql://u@h/db", "postgresql+pg8000://u@h/db", "postgresql://u@h"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        normalise_url(url)
