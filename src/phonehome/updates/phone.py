"""Phone routes: ``ucdevice.upx`` check-ins and the update store, on both listeners.

Internal (HTTP): ``/RequestHandler/ucdevice.upx``, ``/DeviceUpdateFiles_Int/…``, ``/RequestHandler/Files/…``.
External (HTTPS): ``/RequestHandlerExt/ucdevice.upx``, ``/DeviceUpdateFiles_Ext/…``,
``/RequestHandlerExt/Files/…``. Routes match any Host, so ``ucupdates-r2.<domain>`` works unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from phonehome.backups.basic_auth import MalformedAuthorization, NotBasic, parse_authorization
from phonehome.http.middleware import peer_identity, set_device
from phonehome.http.phone import Plane
from phonehome.updates.checkin import STORE_PREFIXES, CheckInRequest, CheckInService
from phonehome.updates.download import send_file
from phonehome.updates.errors import CheckInTooLarge, ExternalCheckInNeedsCredential, RevokedDeviceCertificate

MAX_CHECKIN_BODY = 64 * 1024
_XML = "text/xml"
REALM = "phonehome device update"
# (user, password, source address) → raises Unauthorized / TooManyRequests unless they are good.
DeviceAuthenticator = Callable[[str, str, str | None], Awaitable[object]]
RevocationCheck = Callable[[str], Awaitable[bool]]


async def _read_body(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_CHECKIN_BODY:
        raise CheckInTooLarge()
    chunks: list[bytes] = []
    total = 0
    while chunk := await request.content.read(MAX_CHECKIN_BODY + 1 - total):
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_CHECKIN_BODY:
            raise CheckInTooLarge()
    return b"".join(chunks)


def routes(
    service: CheckInService,
    plane: Plane,
    authenticate: DeviceAuthenticator | None = None,
    revoked: RevocationCheck | None = None,
) -> list[web.RouteDef]:
    """``authenticate`` checks Basic device credentials (the backups slice's device accounts);
    ``revoked`` tells whether a client certificate was revoked in the PKI (by DER sha256)."""
    external = plane == "external"
    settings = service.settings

    def describe(request: web.Request, body: bytes = b"") -> CheckInRequest:
        return CheckInRequest(
            plane=plane,
            remote=request.remote or "",
            host=request.host,
            body=body,
            content_type=request.headers.get("Content-Type", ""),
            user_agent=request.headers.get("User-Agent", ""),
        )

    async def check_in(request: web.Request) -> web.Response:
        # OCS 2007 R2 closed anonymous external access; anonymous_external reopens it for old phones.
        # Device credentials: today a client certificate the HTTPS listener verified.
        peer = peer_identity(request) if external else None
        if peer is not None and revoked is not None and await revoked(peer.sha256):
            await service.refuse(describe(request))
            raise RevokedDeviceCertificate(f"client certificate serial {peer.serial} was revoked")
        if external and not settings.anonymous_external and peer is None:
            try:
                await device_credentials(request)
            except Exception:
                await service.refuse(describe(request))
                raise
        try:
            body = await _read_body(request)
        except CheckInTooLarge:
            await service.refuse(describe(request))
            raise
        xml, device = await service.check_in(describe(request, body))
        if device:
            set_device(request, device)
        return web.Response(body=xml, content_type=_XML, charset="utf-8")

    async def device_credentials(request: web.Request) -> None:
        header = request.headers.get("Authorization")
        realm = REALM if authenticate is not None else None
        if authenticate is None or header is None:
            raise ExternalCheckInNeedsCredential(realm=realm)
        try:
            credentials = parse_authorization(header)
        except (NotBasic, MalformedAuthorization) as exc:
            raise ExternalCheckInNeedsCredential(str(exc), realm=realm) from exc
        await authenticate(credentials.user, credentials.password, request.remote)

    async def status(request: web.Request) -> web.Response:
        return web.Response(body=await service.status(), content_type=_XML, charset="utf-8")

    async def download(request: web.Request) -> web.StreamResponse:
        stored = await service.locate(request.match_info["tail"])
        return await send_file(request, stored, sendfile=not external)

    handler = "/RequestHandlerExt/ucdevice.upx" if external else "/RequestHandler/ucdevice.upx"
    table = [web.post(handler, check_in), web.get(handler, status)]
    for layout in ("ocs2007r2", "lync"):
        table.append(web.get(STORE_PREFIXES[(layout, plane)] + "/{tail:.+}", download))
    return table
