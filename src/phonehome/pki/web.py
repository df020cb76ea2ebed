"""Certificate pages of the admin UI: the CA, the server certificate's names and each phone profile's
verdict on it, SCEP challenges and pending requests, issued device certificates (revoke).

The same service calls as ``/api/v1/pki/`` and ``phonehome pki …``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phonehome.admin.deps import get_service
from phonehome.admin.web import CheckedForm, NavItem, PageUser, object_changes, page_actor, render
from phonehome.changelog import Actor
from phonehome.pki.errors import CertificateNotFound
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Certificates", "/certificates/")]

router = APIRouter(prefix="/certificates", include_in_schema=False)
Pki = Annotated[PkiService, Depends(get_service(PkiService))]
Scep = Annotated[ScepService, Depends(get_service(ScepService))]
PageActor = Annotated[Actor, Depends(page_actor)]


def _field(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


async def _page(request: Request, pki: PkiService, scep: ScepService, **extra: object) -> HTMLResponse:
    chain, server = pki.show()
    account = request.query_params.get("account", "").strip()
    cas = [
        {
            "subject": c.subject.rfc4514_string(),
            "not_after": c.not_valid_after_utc,
            "sha256": hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest(),
        }
        for c in chain
    ]
    context = {
        "cas": cas,
        "server": server,
        "pending": await scep.pending(),
        "issued": await pki.certificates(account or None),
        "account": account,
        "challenge": None,
        **extra,
    }
    return render(request, "certificates.html", context)


@router.get("/", response_class=HTMLResponse)
async def certificates(request: Request, user: PageUser, pki: Pki, scep: Scep) -> HTMLResponse:
    return await _page(request, pki, scep)


@router.get("/ca.pem")
async def ca_pem(user: PageUser, pki: Pki) -> Response:
    chain, _ = pki.show()
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain[:1])
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="ca.pem"'},
    )


@router.post("/scep-challenges", response_class=HTMLResponse)
async def new_challenge(
    request: Request, form: CheckedForm, actor: PageActor, pki: Pki, scep: Scep
) -> HTMLResponse:
    hours_text = _field(form, "hours")
    hours = float(hours_text) if hours_text.replace(".", "", 1).isdigit() else None
    account = _field(form, "account")
    password = await scep.new_challenge(actor, account, hours)
    return await _page(request, pki, scep, challenge={"account": account, "password": password})


@router.post("/scep-requests/{transaction_id}")
async def decide(form: CheckedForm, actor: PageActor, scep: Scep, transaction_id: str) -> Response:
    account = _field(form, "account") if form.get("decision") == "approve" else None
    await scep.decide(actor, transaction_id, account)
    return RedirectResponse("/certificates/", status_code=303)


@router.get("/issued/{serial}/", response_class=HTMLResponse)
async def issued(request: Request, user: PageUser, pki: Pki, serial: str) -> HTMLResponse:
    found = [c for c in await pki.certificates() if c.serial == serial.upper()]
    if not found:
        raise CertificateNotFound(f"no certificate with serial {serial[:40]}")
    changes = await object_changes(request, "certificate", found[0].serial)
    return render(request, "certificate.html", {"cert": found[0], "changes": changes})


@router.post("/issued/{serial}/revoke")
async def revoke(form: CheckedForm, actor: PageActor, pki: Pki, serial: str) -> Response:
    view = await pki.revoke(actor, serial)
    return RedirectResponse(f"/certificates/issued/{quote(view.serial)}/", status_code=303)
