"""The admin web UI's kernel pages: sign-in, sign-out, dashboard, change log, admin accounts.

Server-rendered (Jinja2), readable without JavaScript; every form carries a CSRF token; every page
needs a session. Slices add pages with their own routers and templates, and dashboard panels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from phonehome import __version__
from phonehome.admin.csrf import FIELD, csrf_token, csrf_valid
from phonehome.admin.deps import SESSION_COOKIE, get_service
from phonehome.admin.errors import BadAdminCredentials, BadToken
from phonehome.admin.service import AdminService, AdminUserView
from phonehome.changelog import Actor, list_changes
from phonehome.errors import Forbidden, PhonehomeError
from phonehome.runtime import Runtime

TEMPLATES_DIR = Path(__file__).parent / "templates"
SESSION_HOURS = 12


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str


@dataclass(frozen=True, slots=True)
class Panel:
    """A dashboard card: a title and already-escaped HTML (tables, SVG charts)."""

    title: str
    html: str


PanelSource = Callable[[], Awaitable[Sequence[Panel]]]


@dataclass
class Ui:
    templates: Jinja2Templates
    nav: list[NavItem] = field(default_factory=list)
    panels: list[PanelSource] = field(default_factory=list)


def make_ui(extra_template_dirs: Sequence[Path] = (), nav: Sequence[NavItem] = ()) -> Ui:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader([TEMPLATES_DIR, *extra_template_dirs])])
    env = jinja2.Environment(loader=loader, autoescape=True)
    templates = Jinja2Templates(env=env)
    base_nav = [
        NavItem("Dashboard", "/"),
        *nav,
        NavItem("Change log", "/changelog/"),
        NavItem("Admins", "/admins/"),
    ]
    return Ui(templates=templates, nav=base_nav)


class LoginRequired(PhonehomeError):
    """Sign in to continue."""

    status = 303


async def login_redirect(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def page_user(
    request: Request, admin: Annotated[AdminService, Depends(get_service(AdminService))]
) -> AdminUserView:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        user = await admin.user_for_token(token)
    except BadToken:
        raise LoginRequired() from None
    request.state.admin_user = user.name
    return user


PageUser = Annotated[AdminUserView, Depends(page_user)]


async def checked_form(request: Request, user: PageUser) -> dict[str, Any]:
    """The posted form, after checking its CSRF token against the session."""
    form = await request.form()
    if not csrf_valid(request.cookies.get(SESSION_COOKIE, ""), str(form.get(FIELD, ""))):
        raise Forbidden("the form expired or did not come from this site: reload the page and try again")
    return {k: v for k, v in form.items() if k != FIELD}


CheckedForm = Annotated[dict[str, Any], Depends(checked_form)]


def page_actor(request: Request, user: PageUser) -> Actor:
    return Actor(user.name, getattr(request.state, "request_id", None))


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ui: Ui = request.app.state.ui
    token = request.cookies.get(SESSION_COOKIE, "")
    base = {
        "request": request,
        "nav": ui.nav,
        "csrf_field": FIELD,
        "csrf": csrf_token(token) if token else "",
        "user": getattr(request.state, "admin_user", None),
        "version": __version__,
        "path": request.url.path,
    }
    return ui.templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


async def object_changes(request: Request, object_type: str, object_id: str, limit: int = 50) -> list[Any]:
    """The change log of one object, newest first: every object page shows it (who, when, before/after)."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.session() as session:
        return list(await list_changes(session, object_type=object_type, object_id=object_id, limit=limit))


def listener_ports(request: Request) -> tuple[int, int]:
    """The phone listeners' (HTTP, HTTPS) ports as bound: with port 0 in the config, the kernel picks them."""
    runtime: Runtime = request.app.state.runtime
    listening = getattr(request.app.state, "listening", None)
    if listening is not None:
        return _port(listening.http), _port(listening.https)
    return runtime.settings.http_listen.port, runtime.settings.https_listen.port


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def error_page(request: Request, exc: PhonehomeError) -> HTMLResponse:
    """A refused page or form: the reason line on a page with the way back, same status as the API."""
    back = _safe_next(_local_path(request.headers.get("referer", "")))
    return render(request, "error.html", {"error": exc, "back": back}, status_code=exc.status)


def _local_path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path else "/"


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after sign-in would be a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_model=None)
async def login(
    request: Request,
    admin: Annotated[AdminService, Depends(get_service(AdminService))],
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = await admin.authenticate(username, password)
    except BadAdminCredentials as exc:
        return render(request, "login.html", {"next": _safe_next(next), "error": exc.reason}, status_code=401)
    from datetime import timedelta

    token = await admin.issue_token(user.name, label="web", ttl=timedelta(hours=SESSION_HOURS))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict", path="/"
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, form: CheckedForm, admin: Annotated[AdminService, Depends(get_service(AdminService))]
) -> Response:
    await admin.revoke_token(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, user: PageUser) -> HTMLResponse:
    ui: Ui = request.app.state.ui
    panels: list[Panel] = []
    for source in ui.panels:
        panels.extend(await source())
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.session() as session:
        changes = await list_changes(session, limit=10)
    return render(request, "dashboard.html", {"panels": panels, "changes": changes})


@router.get("/changelog/", response_class=HTMLResponse)
async def changelog(
    request: Request, user: PageUser, object_type: str | None = None, object_id: str | None = None
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.session() as session:
        changes = await list_changes(
            session, object_type=object_type or None, object_id=object_id or None, limit=500
        )
    return render(
        request,
        "changelog.html",
        {"changes": changes, "object_type": object_type or "", "object_id": object_id or ""},
    )


@router.get("/admins/", response_class=HTMLResponse)
async def admins(
    request: Request, user: PageUser, admin: Annotated[AdminService, Depends(get_service(AdminService))]
) -> HTMLResponse:
    return render(request, "admins.html", {"admins": await admin.list_users(), "message": None})


@router.post("/admins/", response_class=HTMLResponse)
async def add_admin(
    request: Request,
    form: CheckedForm,
    actor: Annotated[Actor, Depends(page_actor)],
    admin: Annotated[AdminService, Depends(get_service(AdminService))],
) -> HTMLResponse:
    message, status = "", 200
    try:
        await admin.add_user(actor, str(form.get("name", "")), str(form.get("password", "")))
        message = f"admin {form.get('name')} created"
    except PhonehomeError as exc:
        message, status = exc.reason, exc.status
    return render(request, "admins.html", {"admins": await admin.list_users(), "message": message}, status)
