"""The typed site plan, built from ``[site]``; every bad or missing field is one line naming it."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import dns.name

from phonehome.config import Settings
from phonehome.netplan.errors import BadSite, NetplanError
from phonehome.netplan.opt_addresses import DnsServers, NtpServers, Routers
from phonehome.netplan.opt_names import DomainName, DomainSearch, SipServers
from phonehome.netplan.opt_vendor import MS_UC_CLIENT, MsUcClient
from phonehome.netplan.optionbase import Option, as_ipv4, as_name
from phonehome.netplan.options import value_of

IPv4 = ipaddress.IPv4Address


@contextlib.contextmanager
def field(name: str) -> Iterator[None]:
    """Re-raise a codec's complaint as one line that names the [site] field."""
    try:
        yield
    except NetplanError as exc:
        raise BadSite(f"[site] {name}: {exc.reason.split(': ', 1)[-1]}") from exc


@dataclass(frozen=True)
class Site:
    subnet: ipaddress.IPv4Network | None
    pool_start: IPv4 | None
    pool_end: IPv4 | None
    routers: tuple[IPv4, ...]
    lease_seconds: int
    dhcp_interfaces: tuple[str, ...]
    dhcp_domain: dns.name.Name | None
    search_domains: tuple[dns.name.Name, ...]
    dns_servers: tuple[IPv4, ...]
    ntp_servers: tuple[IPv4, ...]
    sip_domains: tuple[dns.name.Name, ...]
    registrar_fqdn: dns.name.Name | None
    registrar_ips: tuple[IPv4, ...]
    web_services_fqdn: dns.name.Name | None
    web_services_port: int
    web_services_ips: tuple[IPv4, ...]
    update_server_ips: tuple[IPv4, ...]
    time_source: dns.name.Name
    external_time_source: dns.name.Name
    autodiscover_ips: tuple[IPv4, ...]
    external_autodiscover_ips: tuple[IPv4, ...]
    access_edge_fqdn: dns.name.Name | None
    access_edge_ips: tuple[IPv4, ...]
    reverse_proxy_fqdn: dns.name.Name | None
    reverse_proxy_ips: tuple[IPv4, ...]
    external_web_services_fqdn: dns.name.Name | None
    external_nameservers: tuple[dns.name.Name, ...]
    external_nameserver_ips: tuple[IPv4, ...]

    def require(self, name: str, purpose: str) -> None:
        value = getattr(self, name)
        if value is None or value == ():
            raise BadSite(f"[site] {name} is required for {purpose}")


def _name(name: str, value: str) -> dns.name.Name | None:
    if not value.strip():
        return None
    with field(name):
        return as_name(value, name)


def _names(name: str, values: Sequence[str]) -> tuple[dns.name.Name, ...]:
    with field(name):
        return tuple(as_name(v, name) for v in values)


def _ips(name: str, values: Sequence[str]) -> tuple[IPv4, ...]:
    with field(name):
        return tuple(as_ipv4(v, name) for v in values)


def _ip(name: str, value: str) -> IPv4 | None:
    return _ips(name, [value])[0] if value.strip() else None


def build_site(settings: Settings) -> Site:
    s = settings.site
    subnet = None
    if s.subnet.strip():
        try:
            subnet = ipaddress.IPv4Network(s.subnet.strip())
        except ValueError as exc:
            raise BadSite(f"[site] subnet: {s.subnet!r} is not an IPv4 network ({exc})") from None
    pool_start, pool_end = _ip("pool_start", s.pool_start), _ip("pool_end", s.pool_end)
    for label, ip in (("pool_start", pool_start), ("pool_end", pool_end)):
        if ip is not None and subnet is not None and ip not in subnet:
            raise BadSite(f"[site] {label}: {ip} is outside subnet {subnet}")
    if pool_start is not None and pool_end is not None and pool_start > pool_end:
        raise BadSite(f"[site] pool_end: {pool_end} comes before pool_start {pool_start}")
    if not 60 <= s.lease_seconds <= 2**31:
        raise BadSite(f"[site] lease_seconds: {s.lease_seconds} is not in 60..2147483648")
    if not 1 <= s.web_services_port <= 65535:
        raise BadSite(f"[site] web_services_port: {s.web_services_port} is not a port 1..65535")
    for iface in s.dhcp_interfaces:
        if not iface or len(iface) > 15 or not all(c.isalnum() or c in "-_.@" for c in iface):
            raise BadSite(f"[site] dhcp_interfaces: {iface!r} is not an interface name")
    registrar_ips = _ips("registrar_ips", s.registrar_ips)
    update_ips = _ips("update_server_ips", s.update_server_ips)
    if not update_ips:
        update_ips = _ips("server_ips", [ip for ip in settings.server_ips if ":" not in ip]) or registrar_ips
    time_source = _name("time_source", s.time_source) or dns.name.from_text("time.windows.com")
    registrar = _name("registrar_fqdn", s.registrar_fqdn)
    return Site(
        subnet=subnet,
        pool_start=pool_start,
        pool_end=pool_end,
        routers=_ips("routers", s.routers),
        lease_seconds=s.lease_seconds,
        dhcp_interfaces=tuple(s.dhcp_interfaces),
        dhcp_domain=_name("dhcp_domain", s.dhcp_domain),
        search_domains=_names("search_domains", s.search_domains),
        dns_servers=_ips("dns_servers", s.dns_servers),
        ntp_servers=_ips("ntp_servers", s.ntp_servers),
        sip_domains=_names("sip_domains", s.sip_domains),
        registrar_fqdn=registrar,
        registrar_ips=registrar_ips,
        web_services_fqdn=_name("web_services_fqdn", s.web_services_fqdn) or registrar,
        web_services_port=s.web_services_port,
        web_services_ips=_ips("web_services_ips", s.web_services_ips),
        update_server_ips=update_ips,
        time_source=time_source,
        external_time_source=_name("external_time_source", s.external_time_source) or time_source,
        autodiscover_ips=_ips("autodiscover_ips", s.autodiscover_ips),
        external_autodiscover_ips=_ips("external_autodiscover_ips", s.external_autodiscover_ips),
        access_edge_fqdn=_name("access_edge_fqdn", s.access_edge_fqdn),
        access_edge_ips=_ips("access_edge_ips", s.access_edge_ips),
        reverse_proxy_fqdn=_name("reverse_proxy_fqdn", s.reverse_proxy_fqdn),
        reverse_proxy_ips=_ips("reverse_proxy_ips", s.reverse_proxy_ips),
        external_web_services_fqdn=_name("external_web_services_fqdn", s.external_web_services_fqdn),
        external_nameservers=_names("external_nameservers", s.external_nameservers),
        external_nameserver_ips=_ips("external_nameserver_ips", s.external_nameserver_ips),
    )


# -- the DHCP plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DhcpPlan:
    """One scope: options every client gets, and option 43 for clients sending MS-UC-Client."""

    subnet: ipaddress.IPv4Network
    pool_start: IPv4
    pool_end: IPv4
    lease_seconds: int
    interfaces: tuple[str, ...]
    options: tuple[Option, ...]  # in code order
    vendor_class: str
    vendor_options: MsUcClient

    def option(self, code: int) -> Option | None:
        return next((o for o in (*self.options, self.vendor_options) if o.code == code), None)


_FIELD_OF_OPTION = {3: "routers", 6: "dns_servers", 15: "dhcp_domain", 42: "ntp_servers"}
_FIELD_OF_OPTION |= {43: "web_services_fqdn", 119: "search_domains", 120: "registrar_fqdn"}


def dhcp_plan(site: Site) -> DhcpPlan:
    for name in ("subnet", "pool_start", "pool_end", "dhcp_domain", "dns_servers", "registrar_fqdn"):
        site.require(name, "the DHCP plan")
    assert site.subnet and site.pool_start and site.pool_end and site.dhcp_domain and site.registrar_fqdn
    assert site.web_services_fqdn is not None
    options: list[Option] = []
    if site.routers:
        options.append(Routers(site.routers))
    options.append(DnsServers(site.dns_servers))
    options.append(DomainName(site.dhcp_domain))
    if site.ntp_servers:
        options.append(NtpServers(site.ntp_servers))
    if site.search_domains:
        options.append(DomainSearch(site.search_domains))
    options.append(SipServers(names=[site.registrar_fqdn]))
    vendor = MsUcClient(site.web_services_fqdn.to_text(True), site.web_services_port)
    for option in (*options, vendor):
        with field(_FIELD_OF_OPTION[option.code]):
            value_of(option)
    return DhcpPlan(
        subnet=site.subnet,
        pool_start=site.pool_start,
        pool_end=site.pool_end,
        lease_seconds=site.lease_seconds,
        interfaces=site.dhcp_interfaces,
        options=tuple(options),
        vendor_class=MS_UC_CLIENT,
        vendor_options=vendor,
    )
