"""The fix for a failed step as the exact line an admin pastes: a BIND zone record or a DHCP option.

Kept apart on purpose: once the netplan slice (DNS record renderers, DHCP option codecs) is merged, these
functions become thin calls into it. Records are built and printed by dnspython, so a name or value that
is not valid DNS raises ``ValueError`` here rather than ending up in a zone file. DHCP options are given as
dnsmasq ``dhcp-option=`` lines (one server's syntax until netplan renders the others).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

TTL = 3600


@dataclass(frozen=True, slots=True)
class Fix:
    why: str
    lines: tuple[str, ...] = ()


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _check_name(name: str) -> None:
    try:
        dns.name.from_text(_fqdn(name))
    except dns.exception.DNSException as exc:
        raise ValueError(f"not a DNS name: {name!r}: {exc}") from exc


def _record(name: str, rdtype: str, value: str) -> str:
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), value)
        owner = dns.name.from_text(_fqdn(name))
    except (dns.exception.DNSException, ValueError) as exc:
        raise ValueError(f"cannot render {rdtype} record {name!r} {value!r}: {exc}") from exc
    return f"{owner.to_text()} {TTL} IN {rdtype} {rdata.to_text()}"


def a_record(name: str, ip: str) -> str:
    """``ucupdates-r2.contoso.com. 3600 IN A 192.0.2.10``"""
    ipaddress.IPv4Address(ip)
    return _record(name, "A", ip)


def srv_record(name: str, target: str, port: int, priority: int = 0, weight: int = 0) -> str:
    """``_sipinternaltls._tcp.fabrikam.com. 3600 IN SRV 0 0 5061 pool01.contoso.com.``"""
    return _record(name, "SRV", f"{priority} {weight} {port} {_fqdn(target)}")


def domain_search_option(domains: tuple[str, ...] | list[str]) -> str:
    """DHCP option 119 (RFC 3397 search list) as a dnsmasq line."""
    for domain in domains:
        _check_name(domain)
    return f"dhcp-option=option:domain-search,{','.join(domains)}"


def server_names_setting(names: list[str]) -> str:
    """The phonehome.toml line that puts names into the SAN of phonehome's own server certificate."""
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"server_names = [{quoted}]"


CERTPROV_PATH = "/CertProv/CertProvisioningService.svc"


def ms_uc_client_options(web_fqdn: str, port: int = 443) -> tuple[str, ...]:
    """Option 43 for vendor class MS-UC-Client, sub-options 1-5 as ASCII (research §6.2), dnsmasq syntax
    (quoted so that dnsmasq sends the port as text, not as a number)."""
    if not web_fqdn.startswith("<"):
        _check_name(web_fqdn)
    values = ("MS-UC-Client", "https", web_fqdn, str(port), CERTPROV_PATH)
    return tuple(f'dhcp-option=vendor:MS-UC-Client,{code},"{value}"' for code, value in enumerate(values, 1))


def sip_server_option(registrar: str) -> str:
    """Option 120 (RFC 3361, names) as a dnsmasq line."""
    if not registrar.startswith("<"):
        _check_name(registrar)
    return f"dhcp-option=option:sip-server,{registrar}"
