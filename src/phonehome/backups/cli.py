"""``phonehome accounts …`` (backup accounts) and ``phonehome backups …`` (files and versions)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from phonehome.backups.accounts import AccountService
from phonehome.backups.bruri import bruri_lines
from phonehome.backups.errors import BadBackupName
from phonehome.backups.names import BackupName, BadFileName, parse_backup_name
from phonehome.backups.service import BackupService
from phonehome.cli_support import cli_actor, console, fail, options, read_secret, run_with_runtime
from phonehome.errors import BadRequest
from phonehome.passwords import generate_password
from phonehome.runtime import Runtime

accounts_app = typer.Typer(help="Backup accounts: one per phone (extension), optionally bound to a MAC.")
app = typer.Typer(help="Backup files phones stored, their versions, restore and diff.", no_args_is_help=True)
accounts_app.info.no_args_is_help = True


def _accounts(runtime: Runtime) -> AccountService:
    return AccountService(runtime.db, runtime.settings.backups)


def _backups(runtime: Runtime) -> BackupService:
    return BackupService(runtime, _accounts(runtime))


def _name(text: str) -> BackupName:
    try:
        return parse_backup_name(text)
    except BadFileName as exc:
        raise fail(BadBackupName(str(exc))) from None


def _secret(password: str | None, generate: bool) -> str:
    if generate and password is not None:
        raise fail(BadRequest("give --password or --generate, not both"))
    if generate:
        return generate_password()
    return password if password is not None else read_secret("Password")


@accounts_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The account: the phone's extension, e.g. 4711.")],
    password: Annotated[
        str | None, typer.Option(help="The password (else prompted or read from stdin).")
    ] = None,
    generate: Annotated[bool, typer.Option("--generate", help="Generate a password and print it.")] = False,
    mac: Annotated[
        str | None, typer.Option(help="Bind a MAC: the account owns its Polycom/Yealink files.")
    ] = None,
    cert_only: Annotated[
        bool, typer.Option("--cert-only", help="No password: client certificate only.")
    ] = False,
) -> None:
    """Create a backup account; it owns <name>_96xxdata.txt (and the MAC's files when bound)."""
    secret = None if cert_only else _secret(password, generate)
    run_with_runtime(ctx, lambda runtime: _accounts(runtime).add(cli_actor(), name, secret, mac))
    console.print(
        f"backup account {name} created" + (f"; password: {secret}" if generate else ""), markup=False
    )


@accounts_app.command("list")
def list_accounts(ctx: typer.Context) -> None:
    """List backup accounts."""
    table = Table("name", "mac", "password", "disabled", "created")
    for a in run_with_runtime(ctx, lambda runtime: _accounts(runtime).list()):
        table.add_row(
            a.name, a.mac or "", "yes" if a.has_password else "cert only", "yes" if a.disabled else "",
            a.created_at.isoformat(timespec="seconds"),
        )  # fmt: skip
    console.print(table)


@accounts_app.command("remove")
def remove(ctx: typer.Context, name: str) -> None:
    """Delete a backup account (its files and versions stay)."""
    run_with_runtime(ctx, lambda runtime: _accounts(runtime).remove(cli_actor(), name))
    console.print(f"backup account {name} removed", markup=False)


@accounts_app.command("set-password")
def set_password(
    ctx: typer.Context,
    name: str,
    password: Annotated[str | None, typer.Option(help="The new password (else prompted).")] = None,
    generate: Annotated[bool, typer.Option("--generate", help="Generate a password and print it.")] = False,
) -> None:
    """Change an account's password; the old one stops working at once."""
    secret = _secret(password, generate)
    run_with_runtime(ctx, lambda runtime: _accounts(runtime).set_password(cli_actor(), name, secret))
    console.print(f"password of {name} changed" + (f"; password: {secret}" if generate else ""), markup=False)


@accounts_app.command("bind-mac")
def bind_mac(
    ctx: typer.Context,
    name: str,
    mac: Annotated[
        str | None, typer.Argument(help="00:04:f2:aa:bb:cc or 0004f2aabbcc; omit to unbind.")
    ] = None,
) -> None:
    """Bind a MAC to an account, so it owns <mac>-*.cfg/xml/log files."""
    view = run_with_runtime(ctx, lambda runtime: _accounts(runtime).bind_mac(cli_actor(), name, mac))
    console.print(f"{name}: MAC {view.mac or 'unbound'}", markup=False)


@accounts_app.command("show-bruri")
def show_bruri(
    ctx: typer.Context,
    name: str,
    password: Annotated[str | None, typer.Option(help="Put this password into the URL.")] = None,
    host: Annotated[str | None, typer.Option(help="Host name phones use [first server_names entry].")] = None,
) -> None:
    """Print the 46xxsettings lines for this account (Basic over HTTP(S), or a client certificate)."""
    settings = options(ctx).settings()
    run_with_runtime(ctx, lambda runtime: _accounts(runtime).get(name))
    server = host or (settings.server_names[0] if settings.server_names else socket.getfqdn())
    http, https = settings.http_listen.port, settings.https_listen.port
    for line in bruri_lines(name, password, server, http, https, settings.backups.prefix):
        typer.echo(line)


@app.command("list")
def list_files(
    ctx: typer.Context, account: Annotated[str | None, typer.Option(help="Only this account's files.")] = None
) -> None:
    """List backup files and their current versions."""
    table = Table("file", "owner", "version", "bytes", "updated")
    for f in run_with_runtime(ctx, lambda runtime: _backups(runtime).list_files(account)):
        version = str(f.current_version) if f.current_version is not None else "deleted"
        table.add_row(f.name, f.owner, version, str(f.size), f.updated_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command("history")
def history(ctx: typer.Context, file: str) -> None:
    """The versions of a file, newest first."""
    table = Table("version", "current", "bytes", "sha256", "created", "source", "by", "from")
    for v in run_with_runtime(ctx, lambda runtime: _backups(runtime).history(_name(file).name)):
        table.add_row(
            str(v.number), "*" if v.current else "", str(v.size), v.sha256[:12],
            v.created_at.isoformat(timespec="seconds"), v.source, v.actor, v.peer or "",
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    file: str,
    version: Annotated[int | None, typer.Option(help="Default: current.")] = None,
) -> None:
    """Write a version's bytes, exactly as stored, to stdout."""
    _, data = run_with_runtime(ctx, lambda runtime: _backups(runtime).show(_name(file).name, version))
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@app.command("restore")
def restore(
    ctx: typer.Context, file: str, version: Annotated[int, typer.Option(help="The version to restore.")]
) -> None:
    """Make an old version current again (as a new version); the phone gets it on its next GET."""
    name = _name(file)
    view = run_with_runtime(ctx, lambda runtime: _backups(runtime).restore(cli_actor(), name, version))
    console.print(f"{name.name}: version {version} restored as version {view.number}", markup=False)


@app.command("diff")
def diff(ctx: typer.Context, file: str, a: int, b: int) -> None:
    """Unified diff between two versions (decoded for reading; stored bytes are unchanged)."""
    typer.echo(
        run_with_runtime(ctx, lambda runtime: _backups(runtime).diff(_name(file).name, a, b)), nl=False
    )


@app.command("import")
def import_file(ctx: typer.Context, file: str, path: Path) -> None:
    """Store a file as a new version, e.g. the shared 9610data.txt that phones may only read."""
    name = _name(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(BadRequest(f"cannot read {path}: {exc.strerror}")) from None
    current = run_with_runtime(ctx, lambda runtime: _backups(runtime).import_file(cli_actor(), name, data))
    console.print(f"{name.name}: version {current.version} ({current.size} bytes)", markup=False)
