"""The ``phonehome`` command: global options, ``init``, ``serve``, ``version`` and each slice's sub-app."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from phonehome import __version__
from phonehome.admin import cli as admin_cli
from phonehome.backups import cli as backups_cli
from phonehome.cli_support import GlobalOptions, console, fail, options
from phonehome.doctor import cli as doctor_cli
from phonehome.errors import PhonehomeError
from phonehome.logs import setup_logging
from phonehome.netplan import cli as netplan_cli
from phonehome.pki import cli as pki_cli
from phonehome.runtime import Runtime
from phonehome.updates import audit_cli
from phonehome.updates import cli as updates_cli

app = typer.Typer(
    name="phonehome",
    help="The server enterprise desk phones phone home to.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(admin_cli.app, name="admin")
app.command("doctor")(doctor_cli.doctor)
app.command("decode-status")(doctor_cli.decode_status)
app.add_typer(netplan_cli.app, name="netplan")
app.add_typer(backups_cli.accounts_app, name="accounts")
app.add_typer(backups_cli.app, name="backups")
app.add_typer(pki_cli.app, name="pki")
app.add_typer(updates_cli.firmware_app, name="firmware")
app.add_typer(updates_cli.rules_app, name="rules")
app.add_typer(updates_cli.test_devices_app, name="test-devices")
app.add_typer(updates_cli.devices_app, name="devices")
app.add_typer(audit_cli.app, name="audit")


@app.callback()
def main_options(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Data directory [env PHONEHOME_DATA; default ./phonehome-data]."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML config file [env PHONEHOME_CONFIG].")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL [env PHONEHOME_DB; default SQLite in the data dir]."),
    ] = None,
) -> None:
    ctx.obj = GlobalOptions(data_dir=data, config_file=config, db_url=db)


@app.command()
def version() -> None:
    """Print the phonehome version."""
    typer.echo(f"phonehome {__version__}")


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory: CA, server certificate, database."""
    from phonehome.app import initialise

    async def work() -> bool:
        runtime = Runtime.create(options(ctx).settings())
        try:
            return await initialise(runtime)
        finally:
            await runtime.close()

    setup_logging("warning")
    try:
        settings = options(ctx).settings()
        new = asyncio.run(work())
    except PhonehomeError as exc:
        raise fail(exc) from None
    console.print(f"{'initialised' if new else 'already initialised'}: {settings.data_dir.resolve()}")


@app.command()
def serve(
    ctx: typer.Context,
    http: Annotated[
        str | None, typer.Option(help="Phone HTTP listener HOST:PORT [default 0.0.0.0:8080].")
    ] = None,
    https: Annotated[
        str | None, typer.Option(help="Phone HTTPS listener HOST:PORT [default 0.0.0.0:8443].")
    ] = None,
    admin: Annotated[
        str | None, typer.Option(help="Admin listener HOST:PORT [default 127.0.0.1:8081].")
    ] = None,
) -> None:
    """Run the phone HTTP/HTTPS listeners and the admin listener (initialises an empty data dir)."""
    from phonehome.app import serve as serve_forever

    try:
        settings = options(ctx).settings(http=http, https=https, admin=admin)
        setup_logging(settings.log_level)
        asyncio.run(serve_forever(settings))
    except PhonehomeError as exc:
        raise fail(exc) from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
