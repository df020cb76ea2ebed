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
from phonehome.doctor.fixes import Hints
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile, Site
from phonehome.errors import PhonehomeError
from phonehome.netplan.errors import NetplanError
from phonehome.netplan.records import PlannedRecord, zone_plan
from phonehome.netplan.site import build_site


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


def planned_records(settings: Settings) -> tuple[PlannedRecord, ...]:
    """netplan's internal zone plan, if [site] holds enough for one (else the doctor renders its own)."""
    try:
        return tuple(zone_plan(build_site(settings), "internal").records())
    except NetplanError:
        return ()


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
    plan = settings.site  # netplan's [site]: the defaults for everything the phone learns
    dhcp = dhcp_domain or plan.dhcp_domain
    sip = sip_domain or (plan.sip_domains[0] if plan.sip_domains else None)
    if not dhcp or not sip:
        raise BadDoctorInput(
            "give --dhcp-domain and --sip-domain (or set [site] dhcp_domain and sip_domains)"
        )
    search = _list(search_list) if search_list is not None else _list(",".join(plan.search_domains))
    ntp = _list(option42) if option42 is not None else _list(",".join(plan.ntp_servers))
    try:
        site = Site(
            dhcp.rstrip(".").lower(),
            sip.rstrip(".").lower(),
            search,
            netbios.strip() if netbios is not None else None,
            tuple(_ip(ip, "--option42") for ip in ntp),
        )
    except ValueError as exc:
        raise BadDoctorInput(str(exc)) from None
    hints = Hints(
        registrar=plan.registrar_fqdn.rstrip(".") or None,
        registrar_ip=plan.registrar_ips[0] if plan.registrar_ips else None,
        web_services=(plan.web_services_fqdn or plan.registrar_fqdn).rstrip(".") or None,
        web_port=plan.web_services_port,
        time_source=plan.time_source.rstrip(".") or "time.windows.com",
        planned=planned_records(settings),
    )
    if ca is None and (settings.data_dir / "pki" / "ca.pem").is_file():
        ca = settings.data_dir / "pki" / "ca.pem"
    if ca is not None and not ca.is_file():
        raise BadDoctorInput(f"--ca {ca}: no such file")
    if server_ip is None:
        ips = [*plan.update_server_ips, *(ip for ip in settings.server_ips if ":" not in ip)]
        server_ip = ips[0] if ips else None
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
        hints=hints,
    )


def doctor(
    ctx: typer.Context,
    dhcp_domain: Annotated[
        str | None, typer.Option(help="DHCP option 15 domain [default: [site] dhcp_domain].")
    ] = None,
    sip_domain: Annotated[
        str | None,
        typer.Option(help="Right side of the sign-in address [default: first [site] sip_domains]."),
    ] = None,
    search_list: Annotated[
        str | None,
        typer.Option(help="DHCP option 119 domains, comma separated [default: [site] search_domains]."),
    ] = None,
    netbios: Annotated[str | None, typer.Option(help="DOMAIN of a DOMAIN\\user sign-in.")] = None,
    dns_server: Annotated[str | None, typer.Option(help="IP[:PORT] to ask [default: system].")] = None,
    profile: Annotated[Profile, typer.Option(help="Phone firmware whose walk to follow.")] = Profile.LPE_40,
    ca: Annotated[Path | None, typer.Option(help="CA the phones trust [default: phonehome's].")] = None,
    option42: Annotated[
        str | None, typer.Option(help="NTP servers DHCP option 42 hands out [default: [site] ntp_servers].")
    ] = None,
    server_ip: Annotated[
        str | None, typer.Option(help="Update server address for fix lines [default: [site]/server_ips].")
    ] = None,
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
