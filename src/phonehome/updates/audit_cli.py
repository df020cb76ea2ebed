"""``phonehome audit analyze FILE…``: phones by model and version, behind, silent, refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from phonehome.cli_support import console, fail, options, run_with_runtime
from phonehome.errors import BadRequest, PhonehomeError
from phonehome.runtime import Runtime
from phonehome.updates import audit_analyze, auditlog
from phonehome.updates.cli import updates
from phonehome.updates.rules import RuleKey
from phonehome.updates.versions import FilterRule, Version, VersionError

app = typer.Typer(help="RequestHandlerAuditLog files: analyze.", no_args_is_help=True)


class BadAuditInput(BadRequest):
    """Not an audit log file."""


def read_file(path: Path) -> list[auditlog.AuditRecord]:
    """One file through the one parser; IIS-era files may carry a BOM or be UTF-16."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
        return auditlog.parse_records(text)
    except OSError as exc:
        raise BadAuditInput(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadAuditInput(f"{path}: not UTF-8 or UTF-16 text") from None
    except auditlog.AuditLogError as exc:
        raise BadAuditInput(f"{path}: {exc}") from None


def parse_approved(items: list[str]) -> dict[str, str]:
    approved = {}
    for item in items:
        model, sep, version = item.partition("=")
        try:
            if not sep or not model.strip():
                raise VersionError("")
            Version.parse(version)
        except VersionError:
            raise BadAuditInput(
                f"--approved wants MODEL=VERSION (e.g. CX700=1.0.522.101), got {item!r}"
            ) from None
        approved[model.strip().lower()] = version.strip()
    return approved


def parse_now(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadAuditInput(f"--now wants an ISO time (2026-11-25T12:00:00Z), got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


async def served_versions(runtime: Runtime) -> dict[str, str]:
    """The version each rule serves: Approved, or the Restore version during a rollback."""
    served = {}
    for rule in await updates(runtime).list_rules():
        version = rule.restore_version if rule.restored else rule.approved_version
        if version:
            key = RuleKey(rule.device_type, rule.brand, rule.model, rule.revision, rule.locale)
            served[key.match_key] = version
    return served


def _table(analysis: audit_analyze.Analysis) -> None:
    ref = analysis.reference.strftime("%Y-%m-%d %H:%M") if analysis.reference else "-"
    console.print(f"{analysis.lines} line(s), {len(analysis.phones)} phone(s), reference time {ref} UTC")
    models = Table("model", "version", "phones", title="Phones by model and version")
    for model, version, count in analysis.by_model_version:
        models.add_row(model, version or "(none)", str(count))
    console.print(models)
    if not analysis.approved_known:
        console.print("behind: no approved versions known (give --approved MODEL=VERSION or --data)")
    else:
        behind = Table("phone", "model", "runs", "approved", "last seen", title="Behind the approved version")
        for b in analysis.behind:
            p = b.phone
            behind.add_row(p.device, p.model, p.version, b.approved, f"{p.last_seen:%Y-%m-%d %H:%M}")
        console.print(behind)
    silent = Table("phone", "model", "version", "last seen", "address", title="Silent for 48 h")
    for p in analysis.silent:
        silent.add_row(p.device, p.model, p.version, f"{p.last_seen:%Y-%m-%d %H:%M}", p.address)
    console.print(silent)
    refused = Table("time", "address", "phone", "reason", title="Refused requests")
    for r in analysis.refused:
        refused.add_row(f"{r.time:%Y-%m-%d %H:%M:%S}", r.address, r.device or "-", r.reason)
    console.print(refused)


@app.command("analyze")
def analyze(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="RequestHandlerAuditLog_*.log files (ours or Lync's)")],
    approved: Annotated[
        list[str] | None,
        typer.Option(help="MODEL=VERSION phones should run [default: the data dir's rules]."),
    ] = None,
    client_filter: Annotated[
        list[str] | None,
        typer.Option("--filter", help="Client version filter line [default: the data dir's config]."),
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="Reference time for 'silent' [default: newest line].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Analyze RequestHandlerAuditLog files: versions, phones behind, silent for 48 h, refused."""
    try:
        records = [record for path in files for record in read_file(path)]
        wanted = parse_approved(approved or [])
        reference = parse_now(now)
        filters = [FilterRule.parse(line) for line in client_filter or []]
    except VersionError as exc:
        raise fail(BadAuditInput(f"--filter: {exc}")) from None
    except BadAuditInput as exc:
        raise fail(exc) from None
    global_options = options(ctx)
    if global_options.data_dir or global_options.db_url:
        # On the box: the rules and the filter the running server uses.
        try:
            settings = global_options.settings()
        except PhonehomeError as exc:
            raise fail(exc) from None
        if client_filter is None:
            filters = [FilterRule.parse(line) for line in settings.updates.client_version_filter]
        if not wanted:
            wanted = run_with_runtime(ctx, served_versions)
    result = audit_analyze.analyse(records, approved=wanted, filters=filters, now=reference)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _table(result)
