"""Kernel admin endpoints: tokens, admin users, change log, TLS reload."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from phonehome.admin.deps import AdminActor, current_admin, get_service
from phonehome.admin.service import AdminService, AdminUserView
from phonehome.changelog import list_changes
from phonehome.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["admin"])
Admin = Annotated[AdminService, Depends(get_service(AdminService))]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)


class UserOut(BaseModel):
    id: int
    name: str
    disabled: bool
    created_at: dt.datetime


class UserIn(BaseModel):
    name: str
    password: str


class ChangeOut(BaseModel):
    id: int
    time: dt.datetime
    actor: str
    request_id: str | None
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(
    admin: Admin, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> TokenOut:
    """OAuth2 password flow: form fields ``username`` and ``password`` give a bearer token."""
    user = await admin.authenticate(username, password)
    return TokenOut(access_token=await admin.issue_token(user.name, label="api"))


@router.get("/me", response_model=UserOut)
async def me(user: Annotated[AdminUserView, Depends(current_admin)]) -> AdminUserView:
    return user


@router.get("/admin-users", response_model=list[UserOut], dependencies=[Depends(current_admin)])
async def list_users(admin: Admin) -> list[AdminUserView]:
    return await admin.list_users()


@router.post("/admin-users", response_model=UserOut, status_code=201)
async def add_user(admin: Admin, actor: AdminActor, body: UserIn) -> AdminUserView:
    return await admin.add_user(actor, body.name, body.password)


@router.delete("/admin-users/{name}", status_code=204)
async def remove_user(admin: Admin, actor: AdminActor, name: str) -> None:
    await admin.remove_user(actor, name)


@router.get("/changelog", response_model=list[ChangeOut], dependencies=[Depends(current_admin)])
async def changelog(
    request: Request, object_type: str | None = None, object_id: str | None = None, limit: int = 100
) -> list[Any]:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.session() as session:
        return list(
            await list_changes(session, object_type=object_type, object_id=object_id, limit=min(limit, 1000))
        )


@router.post("/tls/reload", dependencies=[Depends(current_admin)])
async def reload_tls(request: Request) -> dict[str, bool]:
    """Load a renewed server certificate from the data dir without a restart."""
    reload = request.app.state.reload_tls
    return {"reloaded": bool(reload())}
