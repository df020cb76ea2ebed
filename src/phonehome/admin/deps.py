"""FastAPI dependencies shared by every slice's admin router: the signed-in admin and the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from phonehome.admin.csrf import HEADER, csrf_valid
from phonehome.admin.errors import BadToken
from phonehome.admin.service import AdminService, AdminUserView
from phonehome.changelog import Actor
from phonehome.errors import Forbidden

T = TypeVar("T")

SESSION_COOKIE = "phonehome_session"


def get_service(cls: type[T]) -> Callable[[Request], T]:
    """``Depends(get_service(UpdateService))``: the one instance the composition root built."""

    def dependency(request: Request) -> T:
        services: dict[type[Any], Any] = request.app.state.services
        return services[cls]  # type: ignore[no-any-return]

    dependency.__name__ = f"get_{cls.__name__}"
    return dependency


_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    # A browser session may call the API, but a write must prove it came from our own pages.
    if cookie and request.method not in _SAFE_METHODS and not csrf_valid(cookie, request.headers.get(HEADER)):
        raise Forbidden(f"a write with a session cookie needs the {HEADER} header")
    return cookie


async def current_admin(
    request: Request, admin: Annotated[AdminService, Depends(get_service(AdminService))]
) -> AdminUserView:
    token = _bearer(request)
    if not token:
        raise BadToken("sign in: send 'Authorization: Bearer <token>' (phonehome admin token NAME)")
    user = await admin.user_for_token(token)
    request.state.admin_user = user.name
    return user


async def current_actor(request: Request, user: Annotated[AdminUserView, Depends(current_admin)]) -> Actor:
    return Actor(user.name, getattr(request.state, "request_id", None))


AdminActor = Annotated[Actor, Depends(current_actor)]
