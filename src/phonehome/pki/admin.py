"""``/api/v1/pki/``: issued certificates, SCEP challenges and pending requests for the admin API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from phonehome.admin.deps import AdminActor, current_admin, get_service
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService

router = APIRouter(prefix="/api/v1/pki", tags=["pki"])


class CertificateOut(BaseModel):
    serial: str
    kind: str
    subject: str
    account: str | None
    not_after: dt.datetime
    sha256: str
    revoked: bool


class ChallengeIn(BaseModel):
    account: str
    hours: float | None = None


class ChallengeOut(BaseModel):
    account: str
    password: str


class DecisionIn(BaseModel):
    account: str | None = None  # None rejects


@router.get("/certificates", response_model=list[CertificateOut], dependencies=[Depends(current_admin)])
async def list_certificates(
    pki: Annotated[PkiService, Depends(get_service(PkiService))], account: str | None = None
) -> list[CertificateOut]:
    return [_out(c) for c in await pki.certificates(account)]


def _out(view: object) -> CertificateOut:
    return CertificateOut(**{name: getattr(view, name) for name in CertificateOut.model_fields})


@router.post("/scep-challenges", response_model=ChallengeOut, status_code=201)
async def new_challenge(
    body: ChallengeIn, scep: Annotated[ScepService, Depends(get_service(ScepService))], actor: AdminActor
) -> ChallengeOut:
    return ChallengeOut(
        account=body.account, password=await scep.new_challenge(actor, body.account, body.hours)
    )


class PendingOut(BaseModel):
    transaction_id: str
    subject: str
    created_at: dt.datetime


@router.get("/scep-requests", response_model=list[PendingOut], dependencies=[Depends(current_admin)])
async def pending_requests(
    scep: Annotated[ScepService, Depends(get_service(ScepService))],
) -> list[PendingOut]:
    return [
        PendingOut(transaction_id=p.transaction_id, subject=p.subject, created_at=p.created_at)
        for p in await scep.pending()
    ]


@router.post("/scep-requests/{transaction_id}/decision")
async def decide(
    transaction_id: str,
    body: DecisionIn,
    scep: Annotated[ScepService, Depends(get_service(ScepService))],
    actor: AdminActor,
) -> dict[str, str]:
    return {"status": await scep.decide(actor, transaction_id, body.account)}
