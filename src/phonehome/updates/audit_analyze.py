"""``phonehome audit analyze``: what a pile of RequestHandlerAuditLog files says about the fleet.

It lives in the updates slice because that slice owns the format (``auditlog.parse_records`` is the one
parser), the version order and the client version filter the analysis compares against. Pure: records
and approved versions in, an :class:`Analysis` out.

"Refused" means what the log itself can show: a line that names no device (an unreadable, anonymous or
unauthenticated check-in: Lync and phonehome both log those with empty columns), or a line whose version
the client version filter turns away. A filter refusal looks like "no update" in the file, so it is only
found when the filter is known (from the data dir's config or ``--filter``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from phonehome.fleet.identity import try_mac, try_serial
from phonehome.updates.auditlog import AuditRecord
from phonehome.updates.versions import FilterRule, Version, VersionError, filter_refusal

SILENT_AFTER = dt.timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Phone:
    device: str  # the normalised MAC, else the serial
    model: str  # Vendor/Model/Revision/Locale as the phone sent it
    version: str
    last_seen: dt.datetime
    address: str
    user_id: str
    check_ins: int
    offered: str  # the version the last answer offered, "" for none


@dataclass(frozen=True, slots=True)
class Behind:
    phone: Phone
    approved: str


@dataclass(frozen=True, slots=True)
class Refused:
    time: dt.datetime
    address: str
    device: str
    reason: str


@dataclass(frozen=True, slots=True)
class Analysis:
    lines: int
    reference: dt.datetime | None  # "now" for the silence test: --now, else the newest line
    phones: tuple[Phone, ...]
    by_model_version: tuple[tuple[str, str, int], ...]
    behind: tuple[Behind, ...]
    silent: tuple[Phone, ...]
    refused: tuple[Refused, ...]
    approved_known: bool

    def as_dict(self) -> dict[str, object]:
        def phone(p: Phone) -> dict[str, object]:
            return {**asdict(p), "last_seen": p.last_seen.isoformat()}

        return {
            "lines": self.lines,
            "reference": self.reference.isoformat() if self.reference else None,
            "phones": [phone(p) for p in self.phones],
            "by_model_version": [
                {"model": m, "version": v, "phones": n} for m, v, n in self.by_model_version
            ],
            "approved_known": self.approved_known,
            "behind": [{**phone(b.phone), "approved": b.approved} for b in self.behind],
            "silent": [phone(p) for p in self.silent],
            "refused": [{**asdict(r), "time": r.time.isoformat()} for r in self.refused],
        }


def model_of(record: AuditRecord) -> str:
    return "/".join((record.vendor, record.model, record.revision, record.locale))


def version_of(record: AuditRecord) -> str:
    """The firmware the phone runs: its first module with a version (as the check-in reads it)."""
    return next((m.version for m in record.request_modules if m.version), "")


def _device(record: AuditRecord) -> str:
    return try_mac(record.mac) or try_serial(record.serial) or ""


def approved_for(approved: Mapping[str, str], record: AuditRecord) -> str | None:
    """The approved version for a phone: by rule name (``UCPhone/Polycom/CX700/A/ENU``), else by model."""
    keys = ("/".join((record.device_type or "UCPhone", model_of(record))), record.model)
    return next((approved[k.lower()] for k in keys if k.lower() in approved), None)


def _is_older(version: str, approved: str) -> bool:
    try:
        return Version.parse(version) < Version.parse(approved)
    except VersionError:
        return False  # a version we cannot order is reported in the model table, not guessed at


def analyse(
    records: Iterable[AuditRecord],
    *,
    approved: Mapping[str, str] | None = None,
    filters: Iterable[FilterRule] = (),
    now: dt.datetime | None = None,
) -> Analysis:
    """``approved`` maps a lower-case rule name or model to the version phones should run."""
    approved = {k.lower(): v for k, v in (approved or {}).items()}
    rules = list(filters)
    ordered = sorted(records, key=lambda r: r.time)
    latest: dict[str, AuditRecord] = {}
    counts: Counter[str] = Counter()
    refused: list[Refused] = []
    for record in ordered:
        device = _device(record)
        if not device:
            refused.append(Refused(record.time, record.user_host_address, "", "names no device"))
            continue
        version = version_of(record)
        reason = filter_refusal(rules, {(record.device_type or "UCPhone").lower()}, version or None)
        if reason:
            refused.append(Refused(record.time, record.user_host_address, device, reason))
        latest[device] = record
        counts[device] += 1
    phones = tuple(
        Phone(
            device,
            model_of(r),
            version_of(r),
            r.time,
            r.user_host_address,
            r.user_id,
            counts[device],
            next((m.version for m in r.response_modules if m.version), ""),
        )
        for device, r in sorted(latest.items())
    )
    reference = now or (ordered[-1].time if ordered else None)
    tally = Counter((p.model, p.version) for p in phones)
    behind = []
    for phone in phones:
        want = approved_for(approved, latest[phone.device])
        if want and _is_older(phone.version, want):
            behind.append(Behind(phone, want))
    silent = tuple(p for p in phones if reference and reference - p.last_seen > SILENT_AFTER)
    return Analysis(
        lines=len(ordered),
        reference=reference,
        phones=phones,
        by_model_version=tuple((m, v, n) for (m, v), n in sorted(tally.items())),
        behind=tuple(behind),
        silent=silent,
        refused=tuple(refused),
        approved_known=bool(approved),
    )
