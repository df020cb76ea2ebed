"""The fix for a failed step as the exact line an admin pastes: a BIND zone record or a DHCP option.

DHCP options are netplan's codecs rendered the way its dnsmasq output renders them (``phonehome netplan
dhcp --format …`` gives the other servers' syntax). A record is one BIND line with an absolute owner (paste
it into any zone): dnspython rdata, written by netplan's BIND renderer (``render_bind.record_lines``), the
same one ``phonehome netplan dns`` uses; a name or value that is not valid raises ``ValueError`` rather
than reaching a zone file.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from phonehome.netplan.errors import NetplanError
from phonehome.netplan.opt_names import DomainSearch, SipServers
from phonehome.netplan.opt_vendor import MS_UC_CLIENT, MsUcClient
from phonehome.netplan.options import value_of
from phonehome.netplan.records import TTL as TTL  # re-exported: fix lines without a known address use it
from phonehome.netplan.records import PlannedRecord
from phonehome.netplan.render_bind import record_lines
from phonehome.netplan.render_dnsmasq import TAG, colon_hex


@dataclass(frozen=True, slots=True)
class Fix:
    why: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hints:
    """What the site plan ([site]) says should be there, so that fix lines carry real values."""

    registrar: str | None = None  # pool FQDN: option 120, _sipinternaltls._tcp target
    registrar_ip: str | None = None
    web_services: str | None = None  # option 43 sub-option 3
    web_port: int = 443
    time_source: str = "time.windows.com"  # _ntp._udp target
    # netplan's internal zone plan for this site, when [site] is complete enough to have one: a fix for a
    # record netplan plans is netplan's record (all its addresses), not a second rendering of it.
    planned: tuple[PlannedRecord, ...] = ()


def planned(hints: Hints, name: str, rdtype: str) -> tuple[str, ...]:
    """The lines ``phonehome netplan dns`` has for this record (absolute owner), or () if it plans none."""
    owner = dns.name.from_text(_fqdn(name))
    kind = dns.rdatatype.from_text(rdtype)
    for record in hints.planned:
        if record.owner == owner and record.rdtype == kind:
            return tuple(record_lines(record, sep=" "))
    return ()


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _check_name(name: str) -> None:
    try:
        dns.name.from_text(_fqdn(name))
    except dns.exception.DNSException as exc:
        raise ValueError(f"not a DNS name: {name!r}: {exc}") from exc


def _record(name: str, rdtype: str, value: str) -> str:
    try:
        kind = dns.rdatatype.from_text(rdtype)
        rdata = dns.rdata.from_text(dns.rdataclass.IN, kind, value)
        owner = dns.name.from_text(_fqdn(name))
    except (dns.exception.DNSException, ValueError) as exc:
        raise ValueError(f"cannot render {rdtype} record {name!r} {value!r}: {exc}") from exc
    # netplan's zone renderer writes the line, so the doctor's fix and `netplan dns` never disagree.
    return record_lines(PlannedRecord(owner, kind, (rdata,), "doctor fix", TTL), sep=" ")[0]


def a_record(name: str, ip: str) -> str:
    """``ucupdates-r2.contoso.com. 3600 IN A 192.0.2.10``"""
    ipaddress.IPv4Address(ip)
    return _record(name, "A", ip)


def srv_record(name: str, target: str, port: int, priority: int = 0, weight: int = 0) -> str:
    """``_sipinternaltls._tcp.fabrikam.com. 3600 IN SRV 0 0 5061 pool01.contoso.com.``"""
    return _record(name, "SRV", f"{priority} {weight} {port} {_fqdn(target)}")


def domain_search_option(domains: tuple[str, ...] | list[str]) -> str:
    """DHCP option 119 as netplan renders it for dnsmasq (which compresses the names itself)."""
    try:
        option = DomainSearch(domains)
    except NetplanError as exc:
        raise ValueError(exc.reason) from exc
    return f"dhcp-option={option.code}," + ",".join(n.to_text(True) for n in option.names)


def server_names_setting(names: list[str]) -> str:
    """The phonehome.toml line that puts names into the SAN of phonehome's own server certificate."""
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"server_names = [{quoted}]"


def ms_uc_client_options(web_fqdn: str | None, port: int = 443) -> tuple[str, ...]:
    """Option 43 for clients sending option 60 MS-UC-Client, as netplan's dnsmasq output has it."""
    if web_fqdn is None:
        return (
            f"dhcp-vendorclass=set:{TAG},{MS_UC_CLIENT}",
            f"dhcp-option=tag:{TAG},43,<hex: set [site] web_services_fqdn, then `phonehome netplan dhcp`>",
        )
    try:
        option = MsUcClient(web_fqdn, port)
        value = value_of(option)
    except NetplanError as exc:
        raise ValueError(exc.reason) from exc
    return (f"dhcp-vendorclass=set:{TAG},{MS_UC_CLIENT}", f"dhcp-option=tag:{TAG},43,{colon_hex(value)}")


def sip_server_option(registrar: str | None) -> str:
    """Option 120 (RFC 3361, one name) as netplan's dnsmasq output has it."""
    if registrar is None:
        return "dhcp-option=120,<hex: set [site] registrar_fqdn, then `phonehome netplan dhcp`>"
    try:
        value = value_of(SipServers(names=[registrar]))
    except NetplanError as exc:
        raise ValueError(exc.reason) from exc
    return f"dhcp-option=120,{colon_hex(value)}"
