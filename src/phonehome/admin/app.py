"""The admin plane: FastAPI on its own listener (never exposed to phones)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phonehome import __version__
from phonehome.admin import api, web
from phonehome.errors import PhonehomeError
from phonehome.logs import access_log
from phonehome.runtime import Runtime


async def _phonehome_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PhonehomeError)
    if not request.url.path.startswith("/api/") and exc.status >= 400:
        return await web.error_page(request, exc)
    return JSONResponse({"detail": exc.reason}, status_code=exc.status, headers=exc.headers)


class AccessLogMiddleware:
    """One JSON line per request (never the Authorization header), plus the admin listener's metrics."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.metrics = runtime.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        headers = dict(scope.get("headers") or [])
        state["request_id"] = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or secrets.token_hex(8)
        status, sent = 500, 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - started
            self.metrics.requests.labels("admin", scope["method"], str(status)).inc()
            self.metrics.duration.labels("admin").observe(duration)
            self.metrics.sent_bytes.labels("admin").inc(sent)
            client = scope.get("client")
            access_log.info(
                "request",
                extra={
                    "listener": "admin",
                    "method": scope["method"],
                    "path": scope.get("raw_path", b"").decode("latin-1") or scope["path"],
                    "status": status,
                    "bytes": sent,
                    "duration_ms": round(duration * 1000, 2),
                    "peer": client[0] if client else None,
                    "device": None,
                    "user": state.get("admin_user"),
                    "request_id": state["request_id"],
                },
            )


def create_admin_app(
    runtime: Runtime,
    services: dict[type[Any], Any],
    routers: Sequence[APIRouter] = (),
    reload_tls: Callable[[], bool] = lambda: False,
    ui: web.Ui | None = None,
) -> FastAPI:
    app = FastAPI(
        title="phonehome admin API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        exception_handlers={PhonehomeError: _phonehome_error, web.LoginRequired: web.login_redirect},
    )
    app.state.runtime = runtime
    app.state.services = services
    app.state.reload_tls = reload_tls
    app.state.ui = ui or web.make_ui()
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        db_ok = await runtime.db.ping()
        return JSONResponse(
            {
                "status": "ok" if db_ok else "degraded",
                "listener": "admin",
                "version": __version__,
                "db": db_ok,
            },
            status_code=200 if db_ok else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    app.include_router(api.router)
    app.include_router(web.router)
    for router in routers:
        app.include_router(router)
    app.add_middleware(AccessLogMiddleware, runtime=runtime)
    return app
