"""Backup accounts: one per phone (the Avaya extension, optionally bound to a MAC).

:meth:`AccountService.authenticate_device` is the one way to check a device's Basic credentials; the
Device Update Service uses it too. A verified (user, password) pair is remembered for a while (keyed
by a BLAKE2b MAC of the password, never the password), so a phone's steady traffic costs one SELECT instead
of an argon2 verify; a changed password or removed account takes effect at once because the cached
entry is only valid for the password hash it was verified against.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
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
# A cached login is trusted without a database lookup for this long. Changes made through this
# process (REST API) apply at once; a password changed or account removed by the CLI, another
# process, applies within these seconds.
_RECHECK_SECONDS = 5.0


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


@dataclass(slots=True)
class _Verified:
    password_hash: str
    view: AccountView
    expires: float
    checked: float


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
        self._verified: dict[tuple[str, bytes], _Verified] = {}
        self._in_flight: dict[tuple[tuple[str, bytes], str], asyncio.Future[bool]] = {}
        self._verify_slots = asyncio.Semaphore(2)
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
            self._forget(name)
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
            self._forget(name)
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
            self._forget(name)
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
        # Keyed BLAKE2b is a MAC in CPython itself: no OpenSSL context per request, unlike hmac.digest.
        cache_key = (user, hashlib.blake2b(password.encode(), key=self._cache_key, digest_size=32).digest())
        entry = self._verified.get(cache_key)
        if entry is not None and entry.expires > now and now - entry.checked < _RECHECK_SECONDS:
            return entry.view
        async with self.db.session() as session:
            account = await session.scalar(select(BackupAccount).where(BackupAccount.name == user))
        if account is None or account.password_hash is None or account.disabled:
            self._verified.pop(cache_key, None)
            async with self._verify_slots:
                await verify_password_async(await asyncio.to_thread(_dummy_hash), password)
            self.throttle.failed(keys, self.clock())
            raise BadCredentials()
        view = _view(account)
        if entry is not None and entry.password_hash == account.password_hash and entry.expires > now:
            self._verified[cache_key] = _Verified(account.password_hash, view, entry.expires, now)
            return view
        if not await self._verify_once(cache_key, account.password_hash, password):
            self.throttle.failed(keys, self.clock())
            raise BadCredentials()
        if len(self._verified) >= _CACHE_MAX:
            self._verified.clear()
        expires = now + self.settings.credential_cache_seconds
        self._verified[cache_key] = _Verified(account.password_hash, view, expires, now)
        return view

    def _forget(self, name: str) -> None:
        for key in [k for k in self._verified if k[0] == name]:
            del self._verified[key]

    async def _verify_once(self, key: tuple[str, bytes], password_hash: str, password: str) -> bool:
        """One argon2 verify per (user, password, hash) at a time, at most two at once.

        A phone's PUT and GET, or a whole floor of phones after a restart, arrive together: the
        waiters share the one verify in flight, and the bound keeps argon2 (~64 MiB and tens of ms of
        CPU each) from filling the thread pool that blob writes and reads also need.
        """
        flight_key = (key, password_hash)
        pending = self._in_flight.get(flight_key)
        if pending is None:

            async def verify() -> bool:
                async with self._verify_slots:
                    return await verify_password_async(password_hash, password)

            pending = asyncio.ensure_future(verify())
            self._in_flight[flight_key] = pending
            pending.add_done_callback(lambda _: self._in_flight.pop(flight_key, None))
        return await asyncio.shield(pending)

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
