"""``phonehome pki``: the CA, the listener certificate, SCEP challenges and the Avaya settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from phonehome.cli_support import cli_actor, console, err_console, fail, options, run_with_runtime
from phonehome.config import ListenAddress
from phonehome.errors import BadRequest
from phonehome.pki.avaya import AvayaSettings, render_settings
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService, ServerCertView
from phonehome.runtime import Runtime

app = typer.Typer(help="CA, server certificate, root chain and SCEP.", no_args_is_help=True)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(BadRequest(f"cannot read {what} {path}: {exc.strerror}")) from None


def _print_server(view: ServerCertView) -> None:
    console.print(f"server certificate: {view.subject}", markup=False, highlight=False)
    console.print(f"  SANs (DNS): {', '.join(view.dns_names)}", markup=False, highlight=False)
    console.print(f"  SANs (IP):  {', '.join(view.ips)}", markup=False, highlight=False)
    console.print(f"  expires:    {view.not_after.isoformat()}", markup=False, highlight=False)
    console.print(f"  signature:  {view.signature_hash.upper()}", markup=False, highlight=False)
    for subject in view.chain:
        console.print(f"  chain:      {subject}", markup=False, highlight=False)
    console.print("what the phones will think of it:")
    for opinion in view.opinions:
        reasons = "; ".join(opinion.reasons)
        line = f"  {opinion.profile}: {opinion.verdict.value}" + (f" ({reasons})" if reasons else "")
        console.print(line, markup=False, highlight=False)
    for warning in view.warnings:
        err_console.print(f"warning: {warning}", markup=False, highlight=False)


@app.command("init")
def init_ca(
    ctx: typer.Context,
    cn: Annotated[str | None, typer.Option("--cn", help="CA common name.")] = None,
    days: Annotated[int, typer.Option(min=30, max=10950, help="CA validity in days.")] = 3650,
    replace: Annotated[bool, typer.Option(help="Replace an existing CA (devices must re-enrol).")] = False,
) -> None:
    """Generate a CA (a new data dir already has one: use --replace), then issue the server certificate."""

    async def work(runtime: Runtime) -> tuple[x509.Certificate | None, ServerCertView | None]:
        from phonehome.app import build_services

        pki: PkiService = build_services(runtime)[PkiService]
        if not replace:
            return None, None
        cert = await pki.new_ca(cli_actor(), cn, days)
        return cert, await pki.issue_server(cli_actor())

    cert, view = run_with_runtime(ctx, work)
    if cert is None or view is None:
        settings = options(ctx).settings()
        ca_file = settings.data_dir / "pki" / "ca.pem"
        console.print(f"a CA exists ({ca_file}); --replace makes a new one", markup=False, highlight=False)
        return
    console.print(f"new CA: {cert.subject.rfc4514_string()}", markup=False, highlight=False)
    _print_server(view)


@app.command("import-ca")
def import_ca(
    ctx: typer.Context,
    cert: Annotated[Path, typer.Argument(help="PEM CA certificate (your enterprise CA or an intermediate).")],
    key: Annotated[Path, typer.Argument(help="PEM private key of that CA.")],
    chain: Annotated[Path | None, typer.Option(help="PEM certificates above it, up to the root.")] = None,
    key_passphrase_file: Annotated[
        Path | None, typer.Option(help="File with the passphrase of an encrypted KEY.")
    ] = None,
) -> None:
    """Use your own CA for server and device certificates; re-issues the server certificate."""
    cert_pem, key_pem = _read(cert, "certificate"), _read(key, "key")
    chain_pem = _read(chain, "chain") if chain else b""
    passphrase = (
        _read(key_passphrase_file, "passphrase file").rstrip(b"\r\n") if key_passphrase_file else None
    )

    async def work(runtime: Runtime) -> tuple[x509.Certificate, ServerCertView]:
        from phonehome.app import build_services

        pki: PkiService = build_services(runtime)[PkiService]
        imported = await pki.import_ca(cli_actor(), cert_pem, key_pem, chain_pem, passphrase)
        return imported, await pki.issue_server(cli_actor())

    imported, view = run_with_runtime(ctx, work)
    console.print(f"CA imported: {imported.subject.rfc4514_string()}", markup=False, highlight=False)
    _print_server(view)


@app.command("issue-server")
def issue_server(
    ctx: typer.Context,
    legacy_sha1: Annotated[
        bool, typer.Option("--legacy-sha1", help="Sign with SHA-1 for CX700 1.0.x (OCS 2007 R2) phones.")
    ] = False,
) -> None:
    """Issue or renew the HTTPS listener certificate (the running server reloads it)."""

    async def work(runtime: Runtime) -> ServerCertView:
        from phonehome.app import build_services

        pki: PkiService = build_services(runtime)[PkiService]
        return await pki.issue_server(cli_actor(), legacy_sha1=legacy_sha1)

    _print_server(run_with_runtime(ctx, work))


@app.command("show")
def show(ctx: typer.Context) -> None:
    """The CA chain and the server certificate, and what each phone profile will think of it."""

    async def work(runtime: Runtime) -> tuple[list[x509.Certificate], ServerCertView]:
        from phonehome.app import build_services

        return build_services(runtime)[PkiService].show()  # type: ignore[no-any-return]

    chain, view = run_with_runtime(ctx, work)
    for position, cert in enumerate(chain):
        label = "CA" if position == 0 else "above"
        console.print(
            f"{label}: {cert.subject.rfc4514_string()} (expires {cert.not_valid_after_utc.date()})",
            markup=False,
            highlight=False,
        )
    _print_server(view)


@app.command("scep-challenge")
def scep_challenge(
    ctx: typer.Context,
    account: Annotated[str, typer.Option(help="Device account; the certificate's CN will be this.")],
    hours: Annotated[
        float | None, typer.Option(min=0.01, help="Validity [default pki.scep_challenge_hours].")
    ] = None,
) -> None:
    """Make a one-time SCEP challenge password for one device account (printed once)."""

    async def work(runtime: Runtime) -> str:
        from phonehome.app import build_services

        scep: ScepService = build_services(runtime)[ScepService]
        return await scep.new_challenge(cli_actor(), account, hours)

    typer.echo(run_with_runtime(ctx, work))


@app.command("scep-pending")
def scep_pending(ctx: typer.Context) -> None:
    """SCEP requests waiting for an admin (pki.scep_allow_pending)."""

    async def work(runtime: Runtime) -> list[tuple[str, str, str]]:
        from phonehome.app import build_services

        scep: ScepService = build_services(runtime)[ScepService]
        return [(p.transaction_id, p.subject, p.created_at.isoformat()) for p in await scep.pending()]

    for row in run_with_runtime(ctx, work):
        typer.echo("\t".join(row))


@app.command("scep-approve")
def scep_approve(
    ctx: typer.Context,
    transaction: Annotated[str, typer.Argument(help="SCEP transaction id (pki scep-pending).")],
    account: Annotated[str, typer.Option(help="Device account the certificate is for (its CN).")],
) -> None:
    """Issue a pending request; the phone gets it on its next poll."""
    _decide(ctx, transaction, account)


@app.command("scep-reject")
def scep_reject(
    ctx: typer.Context, transaction: Annotated[str, typer.Argument(help="SCEP transaction id.")]
) -> None:
    """Reject a pending request."""
    _decide(ctx, transaction, None)


def _decide(ctx: typer.Context, transaction: str, account: str | None) -> None:
    async def work(runtime: Runtime) -> str:
        from phonehome.app import build_services

        scep: ScepService = build_services(runtime)[ScepService]
        return await scep.decide(cli_actor(), transaction, account)

    typer.echo(f"{transaction}: {run_with_runtime(ctx, work)}")


@app.command("certificates")
def certificates(
    ctx: typer.Context, account: Annotated[str | None, typer.Option(help="Only this account.")] = None
) -> None:
    """Certificates phonehome issued: serial, kind, account, expiry, revoked, subject."""

    async def work(runtime: Runtime) -> list[str]:
        from phonehome.app import build_services

        pki: PkiService = build_services(runtime)[PkiService]
        return [
            "\t".join(
                [
                    c.serial,
                    c.kind,
                    c.account or "-",
                    c.not_after.date().isoformat(),
                    "revoked" if c.revoked else "valid",
                    c.subject,
                ]
            )
            for c in await pki.certificates(account)
        ]

    for line in run_with_runtime(ctx, work):
        typer.echo(line)


@app.command("revoke")
def revoke(ctx: typer.Context, serial: Annotated[str, typer.Argument(help="Serial (hex).")]) -> None:
    """Mark a certificate revoked (device authentication refuses it)."""

    async def work(runtime: Runtime) -> str:
        from phonehome.app import build_services

        return (await build_services(runtime)[PkiService].revoke(cli_actor(), serial)).serial  # type: ignore[no-any-return]

    typer.echo(f"revoked {run_with_runtime(ctx, work)}")


@app.command("avaya-settings")
def avaya_settings(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Host phones reach [default: first server_names entry].")
    ] = None,
    bruri_path: Annotated[str, typer.Option(help="Backup path on the HTTPS listener.")] = "/PhoneBackup",
    trust_file: Annotated[
        str, typer.Option(help="File name of the CA on the phones' file server.")
    ] = "phonehome-ca.pem",
    common_name: Annotated[str, typer.Option(help="MYCERTCN (must contain a macro).")] = "$SERIALNO",
) -> None:
    """Print the 46xxsettings.txt lines for this server (SCEP, trust, backup)."""
    settings = options(ctx).settings()
    name = host or (settings.server_names[0] if settings.server_names else None)
    if not name:
        import socket

        name = socket.getfqdn()
    http, https = ListenAddress.parse(settings.http), ListenAddress.parse(settings.https)
    scep_url = f"http://{name}{'' if http.port == 80 else f':{http.port}'}{settings.pki.scep_path}"
    bruri = f"https://{name}{'' if https.port == 443 else f':{https.port}'}{bruri_path}"
    try:
        text = render_settings(
            AvayaSettings(
                scep_url=scep_url,
                backup_url=bruri,
                trust_file=trust_file,
                common_name=common_name,
                key_bits=settings.pki.key_bits,
            )
        )
    except ValueError as exc:
        raise fail(BadRequest(str(exc))) from None
    typer.echo(text, nl=False)
