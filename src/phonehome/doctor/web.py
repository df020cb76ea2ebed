"""Doctor pages of the admin UI: walk a phone's boot sequence from the server, decode a Last Update Status.

The walk is ``phonehome doctor`` (same options, same runner); decoding is ``phonehome decode-status``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from phonehome.admin.web import CheckedForm, NavItem, PageUser, render
from phonehome.doctor import report, runner, status_codes
from phonehome.doctor.cli import build_options
from phonehome.doctor.errors import BadDoctorInput
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile
from phonehome.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"
NAV = [NavItem("Doctor", "/doctor/")]
FIELDS = ("dhcp_domain", "sip_domain", "search_list", "dns_server", "http_port", "https_port", "timeout")

router = APIRouter(prefix="/doctor", include_in_schema=False)


def _text(form: dict[str, Any], key: str) -> str | None:
    value = form.get(key, "")
    return value.strip() or None if isinstance(value, str) else None


def _number(form: dict[str, Any], key: str, default: float) -> float:
    text = _text(form, key)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise BadDoctorInput(f"{key.replace('_', ' ')}: {text[:20]!r} is not a number") from None


def _context(status: str = "", decoded: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "profiles": list(Profile),
        "status": status,
        "decoded": decoded,
        "results": None,
        "form": {},
        **extra,
    }


@router.get("/", response_class=HTMLResponse)
async def doctor_page(request: Request, user: PageUser, status: str = "") -> HTMLResponse:
    decoded = None
    if status:
        try:
            decoded = report.render_status(status_codes.decode(status))
        except ValueError as exc:
            raise BadDoctorInput(str(exc)) from None
    return render(request, "doctor.html", _context(status, decoded))


@router.post("/", response_class=HTMLResponse)
async def walk(request: Request, form: CheckedForm) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    profile_text = _text(form, "profile") or Profile.LPE_40.value
    if profile_text not in {p.value for p in Profile}:
        raise BadDoctorInput(f"unknown phone profile {profile_text[:30]!r}")
    options = build_options(
        runtime.settings,
        dhcp_domain=_text(form, "dhcp_domain"),
        sip_domain=_text(form, "sip_domain"),
        search_list=_text(form, "search_list"),
        netbios=None,
        dns_server=_text(form, "dns_server"),
        profile=Profile(profile_text),
        ca=None,
        option42=None,
        server_ip=None,
        http_port=int(_number(form, "http_port", 80)),
        https_port=int(_number(form, "https_port", 443)),
        ntp_port=None,
        timeout=_number(form, "timeout", 3.0),
    )
    # The probes block (DNS, NTP, TLS, HTTP with timeouts): off the event loop, as the CLI runs them.
    results = await asyncio.to_thread(runner.run, options)
    failed = any(r.status is Status.FAIL for r in results)
    values = {k: _text(form, k) or "" for k in FIELDS} | {"profile": profile_text}
    return render(request, "doctor.html", _context(results=results, failed=failed, form=values))
