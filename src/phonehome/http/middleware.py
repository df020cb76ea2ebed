"""The phone planes' middlewares (request id, errors → responses) and their JSON access logger."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import Counter

from phonehome.errors import PhonehomeError
from phonehome.http.identity import PeerIdentity, identity_from_der
from phonehome.logs import access_log
from phonehome.metrics import Metrics, Refusal

log = logging.getLogger("phonehome.http")

DEVICE = web.RequestKey("device", str)
REQUEST_ID = web.RequestKey("request_id", str)


def set_device(request: web.Request, device: str) -> None:
    """Name the device a request came from, for the access log (MAC, serial or account)."""
    request[DEVICE] = device


def peer_identity(request: web.BaseRequest) -> PeerIdentity | None:
    """The verified client certificate of this connection, or None (plain HTTP, or no certificate)."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return identity_from_der(der) if der else None


def error_response(exc: PhonehomeError) -> web.Response:
    return web.Response(status=exc.status, text=exc.reason + "\n", headers=exc.headers)


def request_id_middleware(listener: str, metrics: Metrics) -> Middleware:
    in_flight = metrics.in_flight.labels(listener)
    # Unique per process start and request, without a call into the OS random source per request.
    prefix, sequence = secrets.token_hex(4), itertools.count(1)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[REQUEST_ID] = request.headers.get("X-Request-Id", "")[:64] or f"{prefix}{next(sequence):x}"
        in_flight.inc()
        try:
            return await handler(request)
        finally:
            in_flight.dec()

    return middleware


def access_logger_class(listener: str, metrics: Metrics) -> type[AbstractAccessLogger]:
    """An aiohttp access logger: it runs after the response is sent, so the byte count is real."""

    duration, sent_bytes = metrics.duration.labels(listener), metrics.sent_bytes.labels(listener)
    answered: dict[tuple[str, int], Counter] = {}  # (method, status) → its counter, looked up once

    class JsonAccessLogger(AbstractAccessLogger):
        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            sent = response.body_length or _promised(request, response)
            key = (request.method, response.status)
            counter = answered.get(key)
            if counter is None:
                counter = answered[key] = metrics.requests.labels(listener, key[0], str(key[1]))
            counter.inc()
            duration.observe(time)
            sent_bytes.inc(sent)
            if response.status < 400 and not access_log.isEnabledFor(logging.INFO):
                return
            peer = peer_identity(request)
            device = request.get(DEVICE) or (peer.common_name if peer else None)
            if response.status >= 400:
                metrics.refusals.append(
                    Refusal(
                        dt.datetime.now(dt.UTC), listener, request.method, request.rel_url.raw_path[:200],
                        response.status, device, request.remote, _reason(response),
                    )
                )  # fmt: skip
            access_log.info(
                "request",
                extra={
                    "listener": listener,
                    "method": request.method,
                    "path": request.rel_url.raw_path,
                    "status": response.status,
                    "bytes": sent,
                    "duration_ms": round(time * 1000, 2),
                    "peer": request.remote,
                    "device": device,
                    "request_id": request.get(REQUEST_ID),
                },
            )

        @property
        def enabled(self) -> bool:
            return True

    return JsonAccessLogger


def _promised(request: web.BaseRequest, response: web.StreamResponse) -> int:
    """Body bytes of a response aiohttp did not count (sendfile, and bodies sent with the headers)."""
    if request.method == "HEAD" or response.status in (204, 304) or response.status < 200:
        return 0
    return response.content_length or 0


def _reason(response: web.StreamResponse) -> str:
    """The one reason line an error response carries (errors are short text bodies)."""
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes):
        return response.reason or ""
    return body[:200].decode("utf-8", errors="replace").strip().splitlines()[0] if body.strip() else ""


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PhonehomeError as exc:
        return error_response(exc)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error", extra={"path": request.rel_url.raw_path})
        return web.Response(status=500, text="internal error: see the server log\n")
