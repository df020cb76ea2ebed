"""``phonehome netplan …``: DHCP and DNS configuration for the servers admins run (no server needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from phonehome.cli_support import console, fail, options
from phonehome.errors import PhonehomeError, StoreFull
from phonehome.netplan.explain import explain
from phonehome.netplan.render import DHCP_RENDERERS, DNS_RENDERERS, ZONES, render_dhcp, render_dns
from phonehome.netplan.service import default_serial
from phonehome.netplan.site import Site, build_site

app = typer.Typer(help="DHCP options and DNS records for Lync Phone Edition phones.", no_args_is_help=True)


def _site(ctx: typer.Context) -> Site:
    return build_site(options(ctx).settings())


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreFull(f"cannot write {path}: {exc.strerror or exc}") from exc


@app.command()
def dhcp(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(DHCP_RENDERERS)}.")] = "kea",
) -> None:
    """Print the DHCP configuration (options 3 6 15 42 119 120, and 43 for MS-UC-Client)."""
    try:
        text = render_dhcp(_site(ctx), fmt)
    except PhonehomeError as exc:
        raise fail(exc) from None
    typer.echo(text, nl=False)


@app.command()
def dns(
    ctx: typer.Context,
    zone: Annotated[str, typer.Option(help=f"One of: {', '.join(ZONES)}.")] = "internal",
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(DNS_RENDERERS)}.")] = "bind",
    out: Annotated[
        Path | None, typer.Option(help="Write one file per zone (and named.conf.<zone>) into this directory.")
    ] = None,
    serial: Annotated[int | None, typer.Option(help="SOA serial [default: YYYYMMDD01 of today].")] = None,
) -> None:
    """Print (or write) the DNS records of the internal or external zones."""
    try:
        files = render_dns(_site(ctx), zone, fmt, serial or default_serial(dt.date.today()))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                _write(out / name, text)
    except PhonehomeError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(StoreFull(f"cannot write into {out}: {exc.strerror or exc}")) from None
    if out is not None:
        for name in files:
            console.print(f"wrote {out / name}", highlight=False)
        return
    for index, (name, text) in enumerate(files.items()):
        if len(files) > 1:
            typer.echo(
                ("\n" if index else "") + f"{'//' if name.startswith('named.conf') else ';'} ---- {name} ----"
            )
        typer.echo(text, nl=False)


@app.command("explain")
def explain_command(ctx: typer.Context) -> None:
    """Say in words what the plan tells the phones, and what is missing."""
    try:
        text = explain(_site(ctx), default_serial(dt.date.today()))
    except PhonehomeError as exc:
        raise fail(exc) from None
    typer.echo(text, nl=False)
