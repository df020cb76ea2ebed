"""Backup accounts: one per phone (the Avaya extension, optionally bound to a MAC).

:meth:`AccountService.authenticate_device` is the one way to check a device's Basic credentials; the
Device Update Service uses it too. A verified (user, password) pair is remembered for a while (keyed
by an HMAC of the password, never the password), so a phone's steady traffic costs one SELECT instead
of an argon2 verify; a changed password or removed account takes effect at once because the cached
entry is only valid for the password hash it was verified against.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from phonehome.backups.errors import (
    AccountExists,
    AccountNotFound,
    BadAccountInput,
    BadCredentials,
    MacInUse,
    RevokedCertificate,
    UnknownCertificate,
)
from phonehome.backups.models import BackupAccount
from phonehome.backups.names import normalise_mac
from phonehome.backups.throttle import Throttle
from phonehome.changelog import Actor, record_change
from phonehome.config import BackupsSettings
from phonehome.db import Database
from phonehome.errors import TooManyRequests
from phonehome.http.identity import PeerIdentity
from phonehome.passwords import hash_password, hash_password_async, verify_password_async

# No colon: RFC 7617 user-ids cannot hold one. Extensions, MACs and plain names fit.
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 6
_CACHE_MAX = 50_000


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so timing does not tell which accounts exist."""
    return hash_password(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    name: str
    mac: str | None
    has_password: bool
    disabled: bool
    created_at: dt.datetime


def _view(account: BackupAccount) -> AccountView:
    return AccountView(
        account.id,
        account.name,
        account.mac,
        account.password_hash is not None,
        account.disabled,
        account.created_at,
    )


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadAccountInput(f"account name {name[:80]!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or not password.isprintable():
        raise BadAccountInput(f"password: use at least {MIN_PASSWORD} printable characters")
    return password


def _mac(text: str) -> str:
    try:
        return normalise_mac(text)
    except ValueError as exc:
        raise BadAccountInput(str(exc)) from None


class AccountService:
    def __init__(
        self, db: Database, settings: BackupsSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.throttle = Throttle(settings.max_failures, settings.failure_window)
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, bytes], tuple[str, float]] = {}
        # Set by the composition root to the PKI's revocation lookup (by DER sha256): the listener
        # trusts every certificate the CA signed, so a revoked device must be refused here.
        self.certificate_revoked: Callable[[str], Awaitable[bool]] | None = None

    # -- administration (CLI and REST) -------------------------------------------------------

    async def add(self, actor: Actor, name: str, password: str | None, mac: str | None = None) -> AccountView:
        check_name(name)
        password_hash = await hash_password_async(check_password(password)) if password is not None else None
        bound = _mac(mac) if mac else None
        try:
            async with self.db.session() as session:
                if await session.scalar(select(BackupAccount.id).where(BackupAccount.name == name)):
                    raise AccountExists(f"backup account {name!r} exists")
                if bound and await session.scalar(
                    select(BackupAccount.name).where(BackupAccount.mac == bound)
                ):
                    raise MacInUse(f"MAC {bound} is bound to another account")
                account = BackupAccount(name=name, password_hash=password_hash, mac=bound)
                session.add(account)
                await session.flush()
                await record_change(
                    session, actor, "create", "backup_account", name, after={"name": name, "mac": bound}
                )
                return _view(account)
        except IntegrityError:
            raise AccountExists(f"backup account {name!r} or MAC {bound} exists") from None

    async def get(self, name: str) -> AccountView:
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == name))
            if account is None:
                raise AccountNotFound(f"no backup account {name!r}")
            return _view(account)

    async def list(self) -> list[AccountView]:
        async with self.db.session() as session:
            return [
                _view(a) for a in await session.scalars(select(BackupAccount).order_by(BackupAccount.name))
            ]

    async def remove(self, actor: Actor, name: str) -> None:
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == name))
            if account is None:
                raise AccountNotFound(f"no backup account {name!r}")
            await session.delete(account)
            await record_change(
                session, actor, "delete", "backup_account", name, before={"name": name, "mac": account.mac}
            )

    async def set_password(self, actor: Actor, name: str, password: str) -> None:
        password_hash = await hash_password_async(check_password(password))
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == name))
            if account is None:
                raise AccountNotFound(f"no backup account {name!r}")
            account.password_hash = password_hash
            await record_change(session, actor, "set-password", "backup_account", name)

    async def bind_mac(self, actor: Actor, name: str, mac: str | None) -> AccountView:
        bound = _mac(mac) if mac else None
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == name))
            if account is None:
                raise AccountNotFound(f"no backup account {name!r}")
            if bound:
                other = await session.scalar(select(BackupAccount.name).where(BackupAccount.mac == bound))
                if other is not None and other != name:
                    raise MacInUse(f"MAC {bound} is bound to account {other!r}")
            before = account.mac
            account.mac = bound
            await record_change(
                session,
                actor,
                "bind-mac",
                "backup_account",
                name,
                before={"mac": before},
                after={"mac": bound},
            )
            return _view(account)

    # -- devices -----------------------------------------------------------------------------

    async def authenticate_device(self, user: str, password: str, source_ip: str | None) -> AccountView:
        """A device's Basic credentials → its account; BadCredentials (401) or TooManyRequests (429).

        Failures are counted per source address and per account name; over the limit, even the right
        password is refused until the window passes, so guessing does not pay.
        """
        now = self.clock()
        keys = [f"ip:{source_ip or '-'}", f"account:{user}"]
        wait = self.throttle.retry_after(keys, now)
        if wait:
            raise TooManyRequests("too many failed logins: try again later", retry_after=wait)
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == user))
        if account is None or account.password_hash is None or account.disabled:
            await verify_password_async(await asyncio.to_thread(_dummy_hash), password)
            self.throttle.failed(keys, self.clock())
            raise BadCredentials()
        cache_key = (user, hmac.digest(self._cache_key, password.encode(), hashlib.sha256))
        cached = self._verified.get(cache_key)
        if cached is not None and cached[0] == account.password_hash and cached[1] > now:
            return _view(account)
        if not await verify_password_async(account.password_hash, password):
            self.throttle.failed(keys, self.clock())
            raise BadCredentials()
        if len(self._verified) >= _CACHE_MAX:
            self._verified.clear()
        self._verified[cache_key] = (account.password_hash, now + self.settings.credential_cache_seconds)
        return _view(account)

    async def account_for_certificate(self, peer: PeerIdentity) -> AccountView:
        """The account a verified client certificate stands for: configured mapping, then CN, then SANs.

        A name that is a MAC address also finds the account bound to that MAC.
        """
        if self.certificate_revoked is not None and await self.certificate_revoked(peer.sha256):
            raise RevokedCertificate(
                f"client certificate {peer.subject!r} (serial {peer.serial}) was revoked"
            )
        mapping = self.settings.cert_accounts
        candidates = [mapping[n] for n in peer.names() if n in mapping] + list(peer.names())
        async with self.db.session() as session:
            for candidate in candidates:
                account = await session.scalar(select(BackupAccount).where(BackupAccount.name == candidate))
                if account is None:
                    try:
                        mac = normalise_mac(candidate)
                    except ValueError:
                        continue
                    account = await session.scalar(select(BackupAccount).where(BackupAccount.mac == mac))
                if account is not None and not account.disabled:
                    return _view(account)
        raise UnknownCertificate(f"client certificate {peer.subject!r} maps to no backup account")
