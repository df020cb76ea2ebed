"""Backup pages of the admin UI: accounts (create, password, MAC, BRURI line), files, versions, diff, restore.

Each handler reads the request, calls the same service function the REST API and CLI call, and renders.
"""

from __future__ import annotations

import codecs
import socket
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phonehome.admin.deps import get_service
from phonehome.admin.web import (
    CheckedForm,
    NavItem,
    PageUser,
    listener_ports,
    object_changes,
    page_actor,
    render,
)
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.bruri import bruri_lines
from phonehome.backups.diffs import decode_for_display
from phonehome.backups.errors import BadBackupName
from phonehome.backups.names import BackupName, BadFileName, parse_backup_name
from phonehome.backups.service import BackupService
from phonehome.changelog import Actor
from phonehome.passwords import generate_password
from phonehome.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Backups", "/backups/")]

router = APIRouter(prefix="/backups", include_in_schema=False)
Accounts = Annotated[AccountService, Depends(get_service(AccountService))]
Backups = Annotated[BackupService, Depends(get_service(BackupService))]
PageActor = Annotated[Actor, Depends(page_actor)]


def _name(text: str) -> BackupName:
    try:
        return parse_backup_name(text)
    except BadFileName as exc:
        raise BadBackupName(str(exc)) from None


def _field(form: dict[str, object], key: str) -> str:
    return str(form.get(key, "")).strip()


def encoding_of(data: bytes) -> str:
    """How the bytes were decoded for display (the stored bytes never change)."""
    if data.startswith(codecs.BOM_UTF16_LE):
        return "UTF-16LE with BOM"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "UTF-16BE with BOM"
    if data.startswith(codecs.BOM_UTF8):
        return "UTF-8 with BOM"
    return "UTF-8"


def _bruri(request: Request, account: str, password: str | None) -> list[str]:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    server = settings.server_names[0] if settings.server_names else socket.getfqdn()
    http, https = listener_ports(request)
    return bruri_lines(account, password, server, http, https, settings.backups.prefix)


async def _account_page(
    request: Request,
    accounts: AccountService,
    backups: BackupService,
    account: AccountView,
    *,
    message: str | None = None,
    password: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "account": account,
        "files": await backups.list_files(account.name),
        "bruri": _bruri(request, account.name, password),
        "password": password,
        "message": message,
        "changes": await object_changes(request, "backup_account", account.name),
    }
    return render(request, "backup-account.html", context, status_code)


# -- files ------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def files(request: Request, user: PageUser, backups: Backups, account: str = "") -> HTMLResponse:
    listed = await backups.list_files(account or None)
    return render(request, "backup-files.html", {"files": listed, "account": account})


@router.get("/files/{name}/", response_class=HTMLResponse)
async def file_history(request: Request, user: PageUser, backups: Backups, name: str) -> HTMLResponse:
    canonical = _name(name).name
    versions = await backups.history(canonical)
    context = {
        "name": canonical,
        "versions": versions,
        "restored": request.query_params.get("restored"),
        "changes": await object_changes(request, "backup_file", canonical),
    }
    return render(request, "backup-file.html", context)


@router.get("/files/{name}/versions/{number}", response_class=HTMLResponse)
async def version(request: Request, user: PageUser, backups: Backups, name: str, number: int) -> HTMLResponse:
    view, data = await backups.show(_name(name).name, number)
    context = {"version": view, "text": decode_for_display(data), "encoding": encoding_of(data)}
    return render(request, "backup-version.html", context)


@router.get("/files/{name}/versions/{number}/raw")
async def version_bytes(user: PageUser, backups: Backups, name: str, number: int) -> Response:
    """The version's bytes exactly as the phone sent them."""
    view, data = await backups.show(_name(name).name, number)
    filename = quote(f"{view.number}-{view.name}")
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@router.get("/files/{name}/diff", response_class=HTMLResponse)
async def diff(request: Request, user: PageUser, backups: Backups, name: str, a: int, b: int) -> HTMLResponse:
    canonical = _name(name).name
    text = await backups.diff(canonical, a, b)
    return render(request, "backup-diff.html", {"name": canonical, "a": a, "b": b, "diff": text})


@router.get("/files/{name}/restore", response_class=HTMLResponse)
async def confirm_restore(
    request: Request, user: PageUser, backups: Backups, name: str, version: int
) -> HTMLResponse:
    view, _ = await backups.show(_name(name).name, version)
    current = next((v for v in await backups.history(view.name) if v.current), None)
    return render(request, "backup-restore.html", {"version": view, "current": current})


@router.post("/files/{name}/restore")
async def restore(form: CheckedForm, actor: PageActor, backups: Backups, name: str) -> Response:
    parsed = _name(name)
    try:
        number = int(_field(form, "version"))
    except ValueError:
        raise BadBackupName("choose the version to restore") from None
    await backups.restore(actor, parsed, number)
    return RedirectResponse(f"/backups/files/{quote(parsed.name)}/?restored={number}", status_code=303)


# -- accounts ---------------------------------------------------------------------------------------


@router.get("/accounts/", response_class=HTMLResponse)
async def accounts_list(request: Request, user: PageUser, accounts: Accounts) -> HTMLResponse:
    return render(request, "backup-accounts.html", {"accounts": await accounts.list()})


@router.post("/accounts/", response_class=HTMLResponse)
async def add_account(
    request: Request, form: CheckedForm, actor: PageActor, accounts: Accounts, backups: Backups
) -> HTMLResponse:
    name, mac = _field(form, "name"), _field(form, "mac") or None
    cert_only = bool(form.get("cert_only"))
    password = None if cert_only else (_field(form, "password") or generate_password())
    view = await accounts.add(actor, name, password, mac)
    shown = password if password and not _field(form, "password") else None
    return await _account_page(
        request, accounts, backups, view, message=f"backup account {view.name} created", password=shown
    )


@router.get("/accounts/{name}/", response_class=HTMLResponse)
async def account(
    request: Request, user: PageUser, accounts: Accounts, backups: Backups, name: str
) -> HTMLResponse:
    return await _account_page(request, accounts, backups, await accounts.get(name))


@router.post("/accounts/{name}/password", response_class=HTMLResponse)
async def reset_password(
    request: Request, form: CheckedForm, actor: PageActor, accounts: Accounts, backups: Backups, name: str
) -> HTMLResponse:
    given = _field(form, "password")
    password = given or generate_password()
    await accounts.set_password(actor, name, password)
    return await _account_page(
        request,
        accounts,
        backups,
        await accounts.get(name),
        message=f"password of {name} changed: the old one no longer works",
        password=None if given else password,
    )


@router.post("/accounts/{name}/mac", response_class=HTMLResponse)
async def bind_mac(
    request: Request, form: CheckedForm, actor: PageActor, accounts: Accounts, backups: Backups, name: str
) -> HTMLResponse:
    view = await accounts.bind_mac(actor, name, _field(form, "mac") or None)
    message = f"{name}: MAC {view.mac}" if view.mac else f"{name}: no MAC bound"
    return await _account_page(request, accounts, backups, view, message=message)
