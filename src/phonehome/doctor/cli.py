"""``phonehome doctor`` (walk the phone's boot sequence) and ``phonehome decode-status``."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from phonehome.cli_support import console, fail, options
from phonehome.config import Settings
from phonehome.doctor import report, runner, status_codes
from phonehome.doctor.errors import BadDoctorInput
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile, Site
from phonehome.errors import PhonehomeError


def _site_default(settings: Settings, *names: str) -> str | None:
    """A value from the [site] section, whose fields the netplan slice defines (looked up by name so
    this works before and after that slice lands)."""
    for name in names:
        value = getattr(settings.site, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip().rstrip(".").lower() for part in (text or "").split(",") if part.strip())


def _dns_server(text: str | None) -> tuple[str | None, int]:
    if not text:
        return None, 53
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "53"
    try:
        ipaddress.ip_address(host.strip("[]"))
        number = int(port)
    except ValueError:
        raise BadDoctorInput(f"--dns-server wants IP[:PORT], got {text!r}") from None
    if not 0 < number < 65536:
        raise BadDoctorInput(f"--dns-server port out of range: {text!r}")
    return host.strip("[]"), number


def _ip(text: str, flag: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise BadDoctorInput(f"{flag} wants an IPv4 address, got {text!r}") from None


def build_options(
    settings: Settings,
    *,
    dhcp_domain: str | None,
    sip_domain: str | None,
    search_list: str | None,
    netbios: str | None,
    dns_server: str | None,
    profile: Profile,
    ca: Path | None,
    option42: str | None,
    server_ip: str | None,
    http_port: int,
    https_port: int,
    ntp_port: int | None,
    timeout: float,
    dhcp_inform: str | None = None,
    dhcp_ports: str | None = None,
) -> runner.Options:
    dhcp = dhcp_domain or _site_default(settings, "dhcp_domain", "domain_name")
    sip = sip_domain or _site_default(settings, "sip_domain")
    if not dhcp or not sip:
        raise BadDoctorInput("give --dhcp-domain and --sip-domain (or set them in the [site] section)")
    try:
        site = Site(
            dhcp.rstrip(".").lower(),
            sip.rstrip(".").lower(),
            _list(search_list),
            netbios.strip() if netbios is not None else None,
            tuple(_ip(ip, "--option42") for ip in _list(option42)),
        )
    except ValueError as exc:
        raise BadDoctorInput(str(exc)) from None
    if ca is None and (settings.data_dir / "pki" / "ca.pem").is_file():
        ca = settings.data_dir / "pki" / "ca.pem"
    if ca is not None and not ca.is_file():
        raise BadDoctorInput(f"--ca {ca}: no such file")
    if server_ip is None and settings.server_ips:
        server_ip = settings.server_ips[0]
    server, port = _dns_server(dns_server)
    for flag, value in (("--http-port", http_port), ("--https-port", https_port), ("--ntp-port", ntp_port)):
        if value is not None and not 0 < value < 65536:
            raise BadDoctorInput(f"{flag} out of range: {value}")
    if timeout <= 0 or timeout > 60:
        raise BadDoctorInput("--timeout must be between 0 and 60 seconds")
    dhcp_server, dhcp_client = 67, 68
    if dhcp_ports:
        try:
            dhcp_server, dhcp_client = (int(p) for p in dhcp_ports.split(","))
        except ValueError:
            raise BadDoctorInput(f"--dhcp-ports wants SERVER,CLIENT, got {dhcp_ports!r}") from None
        if not (0 < dhcp_server < 65536 and 0 < dhcp_client < 65536):
            raise BadDoctorInput(f"--dhcp-ports out of range: {dhcp_ports!r}")
    return runner.Options(
        site=site,
        profile=profile,
        dns_server=server,
        dns_port=port,
        ca_file=ca,
        http_port=http_port,
        https_port=https_port,
        ntp_port=ntp_port,
        server_ip=_ip(server_ip, "--server-ip") if server_ip else None,
        timeout=timeout,
        dhcp_iface=dhcp_inform,
        dhcp_server_port=dhcp_server,
        dhcp_client_port=dhcp_client,
    )


def doctor(
    ctx: typer.Context,
    dhcp_domain: Annotated[str | None, typer.Option(help="DHCP option 15 domain (AD domain).")] = None,
    sip_domain: Annotated[str | None, typer.Option(help="Right side of the sign-in address.")] = None,
    search_list: Annotated[str | None, typer.Option(help="DHCP option 119 domains, comma separated.")] = None,
    netbios: Annotated[str | None, typer.Option(help="DOMAIN of a DOMAIN\\user sign-in.")] = None,
    dns_server: Annotated[str | None, typer.Option(help="IP[:PORT] to ask [default: system].")] = None,
    profile: Annotated[Profile, typer.Option(help="Phone firmware whose walk to follow.")] = Profile.LPE_40,
    ca: Annotated[Path | None, typer.Option(help="CA the phones trust [default: phonehome's].")] = None,
    option42: Annotated[str | None, typer.Option(help="NTP servers DHCP option 42 hands out.")] = None,
    server_ip: Annotated[str | None, typer.Option(help="phonehome's address, for fix lines.")] = None,
    http_port: Annotated[int, typer.Option(help="Port of the update service's HTTP (phones: 80).")] = 80,
    https_port: Annotated[int, typer.Option(help="Port of its HTTPS (phones: 443).")] = 443,
    ntp_port: Annotated[int | None, typer.Option(help="NTP port [default: from SRV, else 123].")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per DNS/NTP/TLS/HTTP probe.")] = 3.0,
    dhcp_inform: Annotated[
        str | None, typer.Option(help="Send a DHCPINFORM (MS-UC-Client, 43+120) on this interface (root).")
    ] = None,
    dhcp_ports: Annotated[
        str | None, typer.Option(help="DHCP SERVER,CLIENT ports for the INFORM [default 67,68].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Walk a phone's boot sequence against the network; name the fix for each failed step."""
    try:
        built = build_options(
            options(ctx).settings(),
            dhcp_domain=dhcp_domain,
            sip_domain=sip_domain,
            search_list=search_list,
            netbios=netbios,
            dns_server=dns_server,
            profile=profile,
            ca=ca,
            option42=option42,
            server_ip=server_ip,
            http_port=http_port,
            https_port=https_port,
            ntp_port=ntp_port,
            timeout=timeout,
            dhcp_inform=dhcp_inform,
            dhcp_ports=dhcp_ports,
        )
    except PhonehomeError as exc:
        raise fail(exc) from None
    results = runner.run(built)
    if as_json:
        typer.echo(report.render_json(results))
    else:
        title = f"phonehome doctor: {built.profile.value}, DHCP {built.site.dhcp_domain}, SIP {built.site.sip_domain}"
        report.render_table(console, results, title)
    if any(r.status is Status.FAIL for r in results):
        raise typer.Exit(1)


def decode_status(
    status: Annotated[str, typer.Argument(help='Last Update Status from the phone, e.g. "0x2F0D/0".')],
) -> None:
    """Explain a phone's Last Update Status pair (WinInet error / HTTP status)."""
    try:
        decoded = status_codes.decode(status)
    except ValueError as exc:
        raise fail(BadDoctorInput(str(exc))) from None
    typer.echo(report.render_status(decoded))
