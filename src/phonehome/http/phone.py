"""The phone-facing aiohttp applications: one for the HTTP listener (internal), one for HTTPS (external).

Slices contribute routes through a function ``routes(service, plane) -> list[web.RouteDef]`` whose
handlers close over their service; the list below is the whole phone URL map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Literal

from aiohttp import web

from phonehome import __version__
from phonehome.http.middleware import error_middleware, peer_identity, request_id_middleware
from phonehome.runtime import Runtime

Plane = Literal["internal", "external"]
RouteFactory = Callable[[Plane], Sequence[web.AbstractRouteDef]]

# Phones send small XML and settings files; uploads that stream (backups) raise this per route.
CLIENT_MAX_SIZE = 1 << 20


def create_phone_app(runtime: Runtime, plane: Plane, slices: Sequence[RouteFactory] = ()) -> web.Application:
    listener = "http" if plane == "internal" else "https"
    app = web.Application(
        middlewares=[request_id_middleware(listener, runtime.metrics), error_middleware],
        client_max_size=CLIENT_MAX_SIZE,
    )

    async def healthz(request: web.Request) -> web.Response:
        db_ok = await runtime.db.ping()
        body: dict[str, object] = {
            "status": "ok" if db_ok else "degraded",
            "listener": listener,
            "version": __version__,
            "db": db_ok,
        }
        if plane == "external":
            # Which client certificate the server saw: the first question when a phone's mTLS fails.
            peer = peer_identity(request)
            body["peer"] = asdict(peer) if peer else None
        return web.json_response(body, status=200 if db_ok else 503)

    app.router.add_get("/healthz", healthz)
    for factory in slices:
        app.router.add_routes(factory(plane))
    return app
