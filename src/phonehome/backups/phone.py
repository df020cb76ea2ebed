"""The phones' BRURI routes: PUT / GET / HEAD / DELETE ``<prefix><file>`` on HTTP and HTTPS.

A handler decodes the name, finds the account (a verified client certificate on HTTPS wins over an
Authorization header, because Avaya phones over TLS send their call-server credentials there), checks
ownership and calls one service function. The raw path is parsed here, not aiohttp's decoded one, so
an encoded slash or dot segment cannot slip through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.basic_auth import MalformedAuthorization, NotBasic, parse_authorization
from phonehome.backups.conditions import http_date
from phonehome.backups.errors import (
    BackupMethodNotAllowed,
    BackupNotFound,
    BadBackupName,
    ChangedMeanwhile,
    MalformedCredentials,
    MissingCredentials,
    UploadAborted,
)
from phonehome.backups.names import BackupName, BadFileName, parse_backup_name
from phonehome.backups.service import BackupService
from phonehome.backups.versions import Upload
from phonehome.errors import PayloadTooLarge, Unauthorized
from phonehome.http.middleware import peer_identity, set_device

_CHUNK = 64 << 10
_METHODS = ("GET", "HEAD", "PUT", "DELETE")


def routes(service: BackupService, plane: str) -> list[web.RouteDef]:
    settings = service.settings
    prefix = settings.prefix
    realm = settings.realm
    accounts: AccountService = service.accounts

    def backup_name(request: web.Request) -> BackupName:
        raw = request.rel_url.raw_path
        if not raw.startswith(prefix):
            raise BadBackupName(f"backup files live under {prefix}")
        try:
            return parse_backup_name(raw[len(prefix) :])
        except BadFileName as exc:
            raise BadBackupName(f"{exc}; nothing stored") from None

    async def who(request: web.Request) -> AccountView:
        peer = peer_identity(request)
        if peer is not None:
            account = await accounts.account_for_certificate(peer)
        else:
            header = request.headers.get("Authorization")
            if header is None:
                raise MissingCredentials(realm=realm)
            try:
                credentials = parse_authorization(header)
            except NotBasic as exc:
                raise MissingCredentials(str(exc), realm=realm) from None
            except MalformedAuthorization as exc:
                raise MalformedCredentials(str(exc)) from None
            try:
                account = await accounts.authenticate_device(
                    credentials.user, credentials.password, request.remote
                )
            except Unauthorized as exc:
                raise type(exc)(exc.reason, realm=realm) from None
        set_device(request, account.name)
        return account

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method not in _METHODS:
            raise BackupMethodNotAllowed(headers={"Allow": ", ".join(_METHODS)})
        name = backup_name(request)
        account = await who(request)
        write = request.method in ("PUT", "DELETE")
        service.authorize(account, name, write=write)
        if request.method == "PUT":
            return await put_backup(request, name, account)
        if request.method == "DELETE":
            await service.delete(name, request.headers.get("If-Match"))
            return web.Response(status=204)
        return await get_backup(request, name)

    async def get_backup(request: web.Request, name: BackupName) -> web.Response:
        current = await service.current(name.name)
        if current is None:
            if settings.empty_200_for_missing and request.headers.get("If-Match") is None:
                return web.Response(status=200, body=b"", content_type=name.content_type)
            raise BackupNotFound(f"no backup file {name.name} yet")
        headers = {
            "ETag": current.etag,
            "Cache-Control": "no-cache",
            "Last-Modified": http_date(current.updated_at),
        }
        outcome = conditions.evaluate(
            request.method,
            current.etag,
            request.headers.get("If-Match"),
            request.headers.get("If-None-Match"),
        )
        if outcome == "not_modified":
            del headers["Last-Modified"]
            return web.Response(status=304, headers=headers)
        if outcome == "failed":
            raise ChangedMeanwhile()
        body = await service.read(current.sha256, current.size)
        return web.Response(status=200, body=body, content_type=name.content_type, headers=headers)

    async def put_backup(request: web.Request, name: BackupName, account: AccountView) -> web.Response:
        declared = request.content_length
        if declared is not None and declared > settings.max_size:
            raise PayloadTooLarge(f"body of {declared} bytes is over the limit of {settings.max_size} bytes")
        # A small body (a phone's settings file) is usually in the buffer already: one read, no iterator.
        small = declared is not None and declared <= _CHUNK
        upload = Upload(
            chunks=_whole(request) if small else request.content.iter_chunked(_CHUNK),
            actor=account.name,
            peer=request.remote,
            if_match=request.headers.get("If-Match"),
            if_none_match=request.headers.get("If-None-Match"),
            account=account,
        )
        try:
            created, current = await service.put(name, upload)
        except ConnectionResetError:
            # The phone went away mid-body: nothing was stored, and there is nobody to answer.
            raise UploadAborted() from None
        return web.Response(status=201 if created else 204, headers={"ETag": current.etag})

    return [web.route("*", prefix + "{name:.*}", handle)]


async def _whole(request: web.Request) -> AsyncIterator[bytes]:
    """The body in one piece, read when the service takes it (after its precondition check)."""
    yield await request.read()
