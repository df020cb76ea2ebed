"""One simulated phone's boot: check in until up to date (downloading what it is offered, maybe cut off
and resumed with Range, hashing as it goes), and back up then read back its settings file.

Every request goes through the fleet's shared aiohttp session, whose connector bounds the sockets;
every failure is counted by kind in ``Stats`` and ends that phone's boot, as a real phone would retry
only at its next boot.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from phonehome.sim import wire
from phonehome.sim.identities import Identity
from phonehome.sim.plan import MAX_CHECK_INS, PhonePlan, backup_content
from phonehome.sim.stats import Stats

_CHUNK = 256 << 10
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class Failed(Exception):
    """A step failed; ``kind`` is what the summary counts (``download:sha256_mismatch``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Target:
    server: str  # http://127.0.0.1:8080 or https://…
    backup_prefix: str = "/backup/"

    @property
    def external(self) -> bool:
        return self.server.startswith("https:")

    @property
    def check_in_url(self) -> str:
        path = wire.CHECK_IN_PATH_EXTERNAL if self.external else wire.CHECK_IN_PATH
        return self.server.rstrip("/") + path


async def boot(
    session: aiohttp.ClientSession, target: Target, phone: Identity, plan: PhonePlan, stats: Stats
) -> None:
    stats.phones_started += 1
    installed = Installed(phone.version)
    try:
        if phone.family == "lpe":
            await _update(session, target, phone, plan, stats, installed)
        if plan.backs_up:
            await _backup(session, target, phone, stats)
    except Failed as exc:
        stats.error(exc.kind)
        stats.phones_failed += 1
    except Exception as exc:  # a simulator bug must show in the summary, not vanish in a task
        stats.error(f"simulator:{type(exc).__name__}")
        stats.phones_failed += 1
    else:
        stats.phones_finished += 1
    finally:
        if phone.family == "lpe":
            stats.versions_after[f"{phone.model} {installed.version}"] += 1


@dataclass
class Installed:
    """The image a phone runs now: a failure later in its boot leaves the last one it installed."""

    version: str


async def _update(
    session: aiohttp.ClientSession,
    target: Target,
    phone: Identity,
    plan: PhonePlan,
    stats: Stats,
    installed: Installed,
) -> None:
    for _ in range(MAX_CHECK_INS):
        offer = await _check_in(session, target, phone, installed.version, stats)
        offered = offer.version
        if offered is None or offered == installed.version or not plan.downloads:
            return
        for file in offer.files:
            await _download(session, file.url(target.server, external=target.external), plan, stats)
        installed.version = offered  # the phone reboots and checks in again on the new image


async def _check_in(
    session: aiohttp.ClientSession, target: Target, phone: Identity, version: str, stats: Stats
) -> wire.Offer:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    body = wire.render_check_in(phone, version, stamp)
    headers = {"Content-Type": "text/xml; charset=utf-8", "User-Agent": f"OCPhone/{version} ({phone.model})"}
    reply = await _request(
        session, "check_in", "POST", target.check_in_url, stats, data=body, headers=headers
    )
    try:
        return wire.parse_offer(reply)
    except wire.BadOffer:
        raise Failed("check_in:bad_offer") from None


async def _request(
    session: aiohttp.ClientSession,
    kind: str,
    method: str,
    url: str,
    stats: Stats,
    *,
    ok: tuple[int, ...] = (200,),
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    started = time.perf_counter()
    try:
        async with session.request(method, url, data=data, headers=headers) as response:
            body = await response.read()
            status = response.status
    except TimeoutError:
        raise Failed(f"{kind}:timeout") from None
    except aiohttp.ClientError as exc:
        raise Failed(f"{kind}:{type(exc).__name__}") from None
    stats.request(kind, time.perf_counter() - started)
    stats.bytes_sent += len(data or b"")
    stats.bytes_received += len(body)
    if status not in ok:
        raise Failed(f"{kind}:http_{status}")
    return body


async def _download(session: aiohttp.ClientSession, url: str, plan: PhonePlan, stats: Stats) -> None:
    digest = hashlib.sha256()
    have = 0
    started = time.perf_counter()
    try:
        async with session.get(url) as response:
            if response.status != 200:
                raise Failed(f"download:http_{response.status}")
            size = response.content_length
            expected = _announced_sha256(response.headers)
            cut = int(size * plan.interrupt_at) if plan.interrupt_at is not None and size else None
            async for chunk in response.content.iter_chunked(_CHUNK):
                if cut is not None and have + len(chunk) >= cut:
                    chunk = chunk[: cut - have]
                    digest.update(chunk)
                    have += len(chunk)
                    response.close()  # the phone lost power / the link dropped mid-image
                    break
                digest.update(chunk)
                have += len(chunk)
        stats.request("download", time.perf_counter() - started)
        stats.bytes_received += have
        if cut is not None:
            have = await _resume(session, url, have, size, digest, stats)
            stats.downloads_resumed += 1
    except TimeoutError:
        raise Failed("download:timeout") from None
    except aiohttp.ClientError as exc:
        raise Failed(f"download:{type(exc).__name__}") from None
    if size is not None and have != size:
        raise Failed("download:short")
    actual = digest.hexdigest()
    if expected is not None and actual != expected:
        raise Failed("download:sha256_mismatch")
    known = stats.digests.setdefault(url, actual)
    if known != actual:
        raise Failed("download:sha256_mismatch")
    stats.downloads_verified += 1


async def _resume(
    session: aiohttp.ClientSession, url: str, have: int, size: int | None, digest: hashlib._Hash, stats: Stats
) -> int:
    started = time.perf_counter()
    async with session.get(url, headers={"Range": f"bytes={have}-"}) as response:
        if response.status != 206:
            raise Failed(f"download:resume_http_{response.status}")
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if match is None or int(match[1]) != have or (size is not None and match[3] != str(size)):
            raise Failed("download:bad_content_range")
        async for chunk in response.content.iter_chunked(_CHUNK):
            digest.update(chunk)
            have += len(chunk)
            stats.bytes_received += len(chunk)
    stats.request("download_resume", time.perf_counter() - started)
    return have


def _announced_sha256(headers: Mapping[str, str]) -> str | None:
    """A sha-256 the server announces (``Repr-Digest``, RFC 9530, or the older ``Digest``), as hex."""
    for name in ("Repr-Digest", "Digest"):
        value = headers.get(name, "")
        match = re.search(r"sha-256=:?([A-Za-z0-9+/=]+):?", value, re.IGNORECASE)
        if match:
            try:
                return base64.b64decode(match[1], validate=True).hex()
            except (binascii.Error, ValueError):
                raise Failed("download:bad_digest_header") from None
    return None


async def _backup(session: aiohttp.ClientSession, target: Target, phone: Identity, stats: Stats) -> None:
    name = phone.backup_file
    assert name is not None
    url = target.server.rstrip("/") + target.backup_prefix + name
    auth = {"Authorization": aiohttp.encode_basic_auth(phone.account, phone.password)}
    # At boot the phone restores what it last backed up (a first boot finds nothing yet), then backs up.
    before = await _request(session, "backup_get", "GET", url, stats, ok=(200, 404), headers=auth)
    content = backup_content(phone, boot=1)
    if content == before:  # make sure this PUT changes the file, so the read-back proves the round trip
        content = backup_content(phone, boot=2)
    await _request(session, "backup_put", "PUT", url, stats, ok=(200, 201, 204), data=content, headers=auth)
    after = await _request(session, "backup_get", "GET", url, stats, headers=auth)
    if after != content:
        raise Failed("backup:content_differs")
    stats.backups_round_tripped += 1
