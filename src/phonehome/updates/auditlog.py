"""``RequestHandlerAuditLog_<server>_<YYYYMMDD>.log``: the Device Update audit log, one CSV line a check-in.

The twelve columns are the documented ones, in order (research §5); the header spells them the way
existing report scripts read them with Import-Csv (``Logging DateTime``, ``Mac Address`` …). Module
lists go in one column each: modules separated by ``#``, fields by ``;`` (request modules
``Filename;Version;Timestamp``, response modules ``Filename;Signature Filename;Version;Timestamp``).
Phones supply most values, so ``#`` and ``;`` inside a value are replaced to keep that encoding sound.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

HEADER = (
    "Logging DateTime",
    "User Host Address",
    "Device Type",
    "Mac Address",
    "Serial Number",
    "Vendor",
    "Model",
    "Revision",
    "Locale",
    "Request Modules",
    "Response Modules",
    "User ID",
)
_UNSAFE = re.compile(r"[#;\r\n\x00-\x1f]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class AuditLogError(ValueError):
    """A line is not an audit log record."""


@dataclass(frozen=True, slots=True)
class RequestModule:
    filename: str
    version: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class ResponseModule:
    filename: str
    signature_filename: str
    version: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    time: dt.datetime
    user_host_address: str
    device_type: str
    mac: str
    serial: str
    vendor: str
    model: str
    revision: str
    locale: str
    request_modules: tuple[RequestModule, ...]
    response_modules: tuple[ResponseModule, ...]
    user_id: str


def file_name(server: str, day: dt.date) -> str:
    return f"RequestHandlerAuditLog_{_SAFE_NAME.sub('_', server) or 'phonehome'}_{day:%Y%m%d}.log"


def _safe(value: str) -> str:
    return _UNSAFE.sub("_", value)


def _modules(modules: tuple[RequestModule, ...] | tuple[ResponseModule, ...]) -> str:
    return "#".join(";".join(_safe(str(v)) for v in _fields(m)) for m in modules)


def _fields(module: RequestModule | ResponseModule) -> tuple[str, ...]:
    if isinstance(module, RequestModule):
        return (module.filename, module.version, module.timestamp)
    return (module.filename, module.signature_filename, module.version, module.timestamp)


def render_header() -> str:
    return _csv_line(HEADER)


def render_record(record: AuditRecord) -> str:
    return _csv_line(
        (
            record.time.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            _safe(record.user_host_address),
            _safe(record.device_type),
            _safe(record.mac),
            _safe(record.serial),
            _safe(record.vendor),
            _safe(record.model),
            _safe(record.revision),
            _safe(record.locale),
            _modules(record.request_modules),
            _modules(record.response_modules),
            _safe(record.user_id),
        )
    )


def _csv_line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def _split(text: str, width: int) -> list[list[str]]:
    if not text:
        return []
    modules = [part.split(";") for part in text.split("#")]
    for fields in modules:
        if len(fields) != width:
            raise AuditLogError(f"module {';'.join(fields)!r} has {len(fields)} fields, expected {width}")
    return modules


def parse_records(text: str) -> list[AuditRecord]:
    """Read a whole audit log file back (header first)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != HEADER:
        raise AuditLogError("audit log does not start with the RequestHandlerAuditLog header")
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(HEADER):
            raise AuditLogError(f"line {number}: {len(row)} columns, expected {len(HEADER)}")
        try:
            time = dt.datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        except ValueError as exc:
            raise AuditLogError(f"line {number}: bad time {row[0]!r}") from exc
        records.append(
            AuditRecord(
                time=time,
                user_host_address=row[1],
                device_type=row[2],
                mac=row[3],
                serial=row[4],
                vendor=row[5],
                model=row[6],
                revision=row[7],
                locale=row[8],
                request_modules=tuple(RequestModule(*m) for m in _split(row[9], 3)),
                response_modules=tuple(ResponseModule(*m) for m in _split(row[10], 4)),
                user_id=row[11],
            )
        )
    return records
