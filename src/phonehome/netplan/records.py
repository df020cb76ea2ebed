"""The DNS record plan: the CX700 guide's internal and external zone table, each record with its reason.

Records go into the zone of the longest matching origin among the planned zones (the SIP domains
and the DHCP domain); a name outside every planned zone (a pool FQDN in another domain) is left out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from phonehome.netplan.errors import BadSite, BadValue, UnknownFormat
from phonehome.netplan.site import Site

TTL = 3600
A = dns.rdatatype.A
SRV = dns.rdatatype.SRV


@dataclass(frozen=True)
class PlannedRecord:
    owner: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    rdatas: tuple[dns.rdata.Rdata, ...]
    why: str
    ttl: int = TTL
    # SOA, NS and name server addresses: what any zone needs, not what a phone asks for.
    infrastructure: bool = False


@dataclass
class Zone:
    origin: dns.name.Name
    records: list[PlannedRecord] = field(default_factory=list)

    def find(self, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> PlannedRecord | None:
        return next((r for r in self.records if r.owner == owner and r.rdtype == rdtype), None)


@dataclass(frozen=True)
class ZonePlan:
    view: str  # "internal" or "external"
    zones: tuple[Zone, ...]
    serial: int

    def records(self) -> list[PlannedRecord]:
        return [r for z in self.zones for r in z.records]


def _rdata(rdtype: dns.rdatatype.RdataType, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)


class _Builder:
    def __init__(self, origins: Sequence[dns.name.Name]) -> None:
        unique = list(dict.fromkeys(origins))
        self.zones = [Zone(o) for o in unique]

    def zone_of(self, owner: dns.name.Name) -> Zone | None:
        matches = [z for z in self.zones if owner.is_subdomain(z.origin)]
        return max(matches, key=lambda z: len(z.origin.labels), default=None)

    def add(
        self, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType, texts: Sequence[str], why: str
    ) -> None:
        zone = self.zone_of(owner)
        if zone is None or not texts or zone.find(owner, rdtype) is not None:
            return
        rdatas = tuple(dict.fromkeys(_rdata(rdtype, t) for t in texts))
        zone.records.append(PlannedRecord(owner, rdtype, rdatas, why))

    def a(self, owner: dns.name.Name | None, ips: Sequence[ipaddress.IPv4Address], why: str) -> None:
        if owner is not None:
            self.add(owner, A, [str(ip) for ip in ips], why)

    def srv(self, owner: dns.name.Name, port: int, target: dns.name.Name, why: str) -> None:
        self.add(owner, SRV, [f"0 0 {port} {target.to_text()}"], why)


def _head(
    zone: Zone,
    nameservers: Sequence[dns.name.Name],
    glue: dict[dns.name.Name, ipaddress.IPv4Address],
    serial: int,
) -> None:
    """SOA and NS first, with addresses for name servers inside the zone."""
    origin = zone.origin
    soa = f"{nameservers[0].to_text()} hostmaster.{origin.to_text()} {serial} 3600 600 1209600 300"
    head = [
        PlannedRecord(
            origin,
            dns.rdatatype.SOA,
            (_rdata(dns.rdatatype.SOA, soa),),
            "start of authority",
            infrastructure=True,
        )
    ]
    ns_texts = [n.to_text() for n in nameservers]
    head.append(
        PlannedRecord(
            origin,
            dns.rdatatype.NS,
            tuple(_rdata(dns.rdatatype.NS, t) for t in ns_texts),
            "name servers",
            infrastructure=True,
        )
    )
    for ns in nameservers:
        if ns.is_subdomain(origin) and zone.find(ns, A) is None:
            if ns not in glue:
                raise BadSite(
                    f"[site] external_nameserver_ips: {ns.to_text(True)} is inside zone "
                    f"{origin.to_text(True)} and needs an address"
                )
            head.append(
                PlannedRecord(
                    ns,
                    A,
                    (_rdata(A, str(glue[ns])),),
                    "address of this zone's name server",
                    infrastructure=True,
                )
            )
    zone.records[:0] = head


def zone_plan(site: Site, view: str, serial: int = 1) -> ZonePlan:
    if view not in ("internal", "external"):
        raise UnknownFormat(f"unknown zone {view!r}; one of internal, external")
    if not 1 <= serial < 2**32:
        raise BadValue(f"zone serial {serial} is not in 1..4294967295")
    return ZonePlan(
        view, tuple(_external(site, serial) if view == "external" else _internal(site, serial)), serial
    )


def _internal(site: Site, serial: int) -> list[Zone]:
    for name in ("sip_domains", "dhcp_domain", "registrar_fqdn", "registrar_ips", "dns_servers"):
        site.require(name, "the internal DNS zones")
    assert site.dhcp_domain is not None and site.registrar_fqdn is not None
    b = _Builder([*site.sip_domains, site.dhcp_domain])
    for sip in site.sip_domains:
        b.srv(
            dns.name.from_text("_sipinternaltls._tcp", sip),
            5061,
            site.registrar_fqdn,
            "automatic sign-in: the phone's first lookup for its pool (TLS 5061)",
        )
        b.a(
            dns.name.from_text("sip", sip),
            site.registrar_ips,
            "sign-in fallback when the SRV lookups fail (sip.<SIP domain>:5061); the pool running Device Update",
        )
        b.srv(
            dns.name.from_text("_ntp._udp", sip),
            123,
            site.time_source,
            "time: phones look for _ntp._udp.<SIP domain>, else fall back to time.windows.com",
        )
        b.a(
            dns.name.from_text("autodiscover", sip),
            site.autodiscover_ips,
            "Exchange Autodiscover (calendar, voicemail); assumes SIP URI = primary SMTP address",
        )
    dhcp = site.dhcp_domain
    b.a(site.registrar_fqdn, site.registrar_ips, "the pool that option 120 and _sipinternaltls._tcp name")
    b.a(
        dns.name.from_text("ucupdates-r2", dhcp),
        site.update_server_ips,
        "Device Update: phones look up ucupdates-r2.<option 15 domain> at power-on, signed in or not",
    )
    b.a(
        dns.name.from_text("ucupdates", dhcp),
        site.update_server_ips,
        "Device Update for phones older than 1.0.522 (OCS 2007 RTM name); harmless for newer ones",
    )
    b.a(
        site.web_services_fqdn,
        site.web_services_ips or site.registrar_ips,
        "host of the option 43 Certificate Provisioning URL (root chain download, PIN sign-in)",
    )
    for zone in b.zones:
        ns = dns.name.from_text("ns1", zone.origin)
        _head(zone, [ns], {ns: site.dns_servers[0]}, serial)
    return b.zones


def _external(site: Site, serial: int) -> list[Zone]:
    for name in (
        "sip_domains",
        "dhcp_domain",
        "access_edge_fqdn",
        "access_edge_ips",
        "reverse_proxy_ips",
        "external_nameservers",
    ):
        site.require(name, "the external DNS zones")
    assert site.dhcp_domain is not None and site.access_edge_fqdn is not None
    b = _Builder([*site.sip_domains, site.dhcp_domain])
    for sip in site.sip_domains:
        b.srv(
            dns.name.from_text("_sip._tls", sip),
            443,
            site.access_edge_fqdn,
            "remote sign-in: phones outside find the Access Edge (TLS 443)",
        )
        b.a(
            dns.name.from_text("sip", sip),
            site.access_edge_ips,
            "remote sign-in fallback (sip.<SIP domain>); the Access Edge's external address",
        )
        b.srv(
            dns.name.from_text("_ntp._udp", sip),
            123,
            site.external_time_source,
            "time for phones outside; else they fall back to time.windows.com",
        )
        b.a(
            dns.name.from_text("autodiscover", sip),
            site.external_autodiscover_ips,
            "Exchange Autodiscover from outside (calendar, voicemail)",
        )
    b.a(site.access_edge_fqdn, site.access_edge_ips, "the Access Edge that _sip._tls names")
    b.a(
        site.reverse_proxy_fqdn,
        site.reverse_proxy_ips,
        "reverse proxy of the ExternalBaseURL: phones outside download updates through it",
    )
    b.a(
        site.external_web_services_fqdn,
        site.reverse_proxy_ips,
        "external web services (published by the reverse proxy)",
    )
    b.a(
        dns.name.from_text("ucupdates-r2", site.dhcp_domain),
        site.reverse_proxy_ips,
        "Device Update from outside: ucupdates-r2 points at the reverse proxy",
    )
    # Addresses pair with the name servers that lie inside a planned zone, in order.
    inside = [n for n in site.external_nameservers if b.zone_of(n) is not None]
    glue = dict(zip(inside, site.external_nameserver_ips, strict=False))
    for zone in b.zones:
        _head(zone, site.external_nameservers, glue, serial)
    return b.zones
