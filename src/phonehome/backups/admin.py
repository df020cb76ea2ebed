"""``/api/v1/backups/…``: backup accounts, files, versions, restore and diff for admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from phonehome.admin.deps import AdminActor, current_admin, get_service
from phonehome.backups.accounts import AccountService, AccountView
from phonehome.backups.errors import BadBackupName
from phonehome.backups.names import BackupName, BadFileName, parse_backup_name
from phonehome.backups.service import BackupService
from phonehome.backups.versions import FileView, VersionView
from phonehome.passwords import generate_password

router = APIRouter(prefix="/api/v1/backups", tags=["backups"])
Accounts = Annotated[AccountService, Depends(get_service(AccountService))]
Backups = Annotated[BackupService, Depends(get_service(BackupService))]
signed_in = [Depends(current_admin)]


class AccountOut(BaseModel):
    id: int
    name: str
    mac: str | None
    has_password: bool
    disabled: bool
    created_at: dt.datetime


class AccountIn(BaseModel):
    name: str
    password: str | None = None
    generate: bool = False
    mac: str | None = None


class AccountCreated(BaseModel):
    account: AccountOut
    password: str | None = None  # only when generated: shown once


class PasswordIn(BaseModel):
    password: str | None = None
    generate: bool = False


class MacIn(BaseModel):
    mac: str | None


class FileOut(BaseModel):
    name: str
    owner: str
    current_version: int | None
    size: int
    sha256: str | None
    updated_at: dt.datetime


class VersionOut(BaseModel):
    name: str
    number: int
    sha256: str
    size: int
    created_at: dt.datetime
    source: str
    actor: str
    peer: str | None
    current: bool


class RestoreIn(BaseModel):
    version: int


def _name(text: str) -> BackupName:
    try:
        return parse_backup_name(text)
    except BadFileName as exc:
        raise BadBackupName(str(exc)) from None


@router.get("/accounts", response_model=list[AccountOut], dependencies=signed_in)
async def list_accounts(accounts: Accounts) -> list[AccountView]:
    return await accounts.list()


@router.post("/accounts", response_model=AccountCreated, status_code=201)
async def add_account(accounts: Accounts, actor: AdminActor, body: AccountIn) -> AccountCreated:
    password = generate_password() if body.generate else body.password
    view = await accounts.add(actor, body.name, password, body.mac)
    return AccountCreated(
        account=AccountOut.model_validate(view, from_attributes=True),
        password=password if body.generate else None,
    )


@router.delete("/accounts/{name}", status_code=204)
async def remove_account(accounts: Accounts, actor: AdminActor, name: str) -> None:
    await accounts.remove(actor, name)


@router.put("/accounts/{name}/password")
async def set_password(accounts: Accounts, actor: AdminActor, name: str, body: PasswordIn) -> dict[str, str]:
    password = generate_password() if body.generate or body.password is None else body.password
    await accounts.set_password(actor, name, password)
    return {"password": password} if body.generate or body.password is None else {}


@router.put("/accounts/{name}/mac", response_model=AccountOut)
async def bind_mac(accounts: Accounts, actor: AdminActor, name: str, body: MacIn) -> AccountView:
    return await accounts.bind_mac(actor, name, body.mac)


@router.get("/files", response_model=list[FileOut], dependencies=signed_in)
async def list_files(backups: Backups, account: str | None = None) -> list[FileView]:
    return await backups.list_files(account)


@router.get("/files/{name}/versions", response_model=list[VersionOut], dependencies=signed_in)
async def history(backups: Backups, name: str) -> list[VersionView]:
    return await backups.history(_name(name).name)


@router.get("/files/{name}/content", dependencies=signed_in)
async def show(backups: Backups, name: str, version: int | None = None) -> Response:
    """The bytes of a version (default: the current one), exactly as the phone sent them."""
    view, data = await backups.show(_name(name).name, version)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"ETag": f'"{view.sha256}"', "X-Backup-Version": str(view.number)},
    )


@router.post("/files/{name}/restore", response_model=VersionOut)
async def restore(backups: Backups, actor: AdminActor, name: str, body: RestoreIn) -> VersionView:
    return await backups.restore(actor, _name(name), body.version)


@router.get("/files/{name}/diff", response_class=PlainTextResponse, dependencies=signed_in)
async def diff(backups: Backups, name: str, a: Annotated[int, Query()], b: Annotated[int, Query()]) -> str:
    return await backups.diff(_name(name).name, a, b)
