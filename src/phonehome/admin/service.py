"""Admin accounts and API tokens; CLI and REST call these same functions."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from phonehome.admin.errors import (
    AdminUserExists,
    AdminUserNotFound,
    BadAdminCredentials,
    BadToken,
    WeakPassword,
)
from phonehome.admin.models import AdminUser, ApiToken
from phonehome.changelog import Actor, record_change
from phonehome.db import Database, utcnow
from phonehome.errors import BadRequest
from phonehome.passwords import hash_password, hash_password_async, verify_password_async

_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal valid names."""
    return hash_password(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class AdminUserView:
    id: int
    name: str
    disabled: bool
    created_at: dt.datetime


def _view(user: AdminUser) -> AdminUserView:
    return AdminUserView(user.id, user.name, user.disabled, user.created_at)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AdminService:
    def __init__(self, db: Database, token_ttl: dt.timedelta = dt.timedelta(days=30)) -> None:
        self.db = db
        self.token_ttl = token_ttl

    async def add_user(self, actor: Actor, name: str, password: str) -> AdminUserView:
        if not _NAME.match(name):
            raise BadRequest(f"invalid admin user name {name!r}: letters, digits and . _ @ - only")
        if len(password) < 8:
            raise WeakPassword()
        password_hash = await hash_password_async(password)
        async with self.db.session() as session:
            if await session.scalar(select(AdminUser).where(AdminUser.name == name)) is not None:
                raise AdminUserExists(f"admin user {name!r} exists")
            user = AdminUser(name=name, password_hash=password_hash, disabled=False)
            session.add(user)
            await session.flush()
            await record_change(session, actor, "create", "admin_user", name, after={"name": name})
            return _view(user)

    async def set_password(self, actor: Actor, name: str, password: str) -> None:
        if len(password) < 8:
            raise WeakPassword()
        password_hash = await hash_password_async(password)
        async with self.db.session() as session:
            user = await session.scalar(select(AdminUser).where(AdminUser.name == name))
            if user is None:
                raise AdminUserNotFound(f"no admin user {name!r}")
            user.password_hash = password_hash
            # A new password ends every session and token issued under the old one.
            await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            await record_change(session, actor, "set-password", "admin_user", name)

    async def remove_user(self, actor: Actor, name: str) -> None:
        async with self.db.session() as session:
            user = await session.scalar(select(AdminUser).where(AdminUser.name == name))
            if user is None:
                raise AdminUserNotFound(f"no admin user {name!r}")
            await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            await session.delete(user)
            await record_change(session, actor, "delete", "admin_user", name, before={"name": name})

    async def list_users(self) -> list[AdminUserView]:
        async with self.db.session() as session:
            users = await session.scalars(select(AdminUser).order_by(AdminUser.name))
            return [_view(u) for u in users]

    async def authenticate(self, name: str, password: str) -> AdminUserView:
        async with self.db.session() as session:
            user = await session.scalar(select(AdminUser).where(AdminUser.name == name))
        if user is None:
            await verify_password_async(await asyncio.to_thread(_dummy_hash), password)
            raise BadAdminCredentials()
        if user.disabled or not await verify_password_async(user.password_hash, password):
            raise BadAdminCredentials()
        return _view(user)

    async def issue_token(self, name: str, label: str = "", ttl: dt.timedelta | None = None) -> str:
        token = "ph_" + secrets.token_urlsafe(32)
        async with self.db.session() as session:
            user = await session.scalar(select(AdminUser).where(AdminUser.name == name))
            if user is None:
                raise AdminUserNotFound(f"no admin user {name!r}")
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=_token_hash(token),
                    label=label[:100],
                    expires_at=utcnow() + (ttl or self.token_ttl),
                )
            )
        return token

    async def user_for_token(self, token: str) -> AdminUserView:
        now = utcnow()
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(ApiToken, AdminUser)
                    .join(AdminUser, AdminUser.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == _token_hash(token))
                )
            ).first()
            if row is None:
                raise BadToken()
            api_token, user = row
            if api_token.expires_at <= now or user.disabled:
                raise BadToken()
            # Written at most once a minute per token, so polling clients do not write on every call.
            if api_token.last_used_at is None or now - api_token.last_used_at > dt.timedelta(minutes=1):
                api_token.last_used_at = now
            return _view(user)

    async def revoke_token(self, token: str) -> None:
        async with self.db.session() as session:
            await session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
