"""The phone's boot sequence as data: which names a phone asks for, in which order, per firmware profile.

Pure: takes the site (domains from DHCP options 15 and 119, the SIP domain, a NetBIOS sign-in name) and a
profile, returns the ordered steps. Every order comes from a seed; ``section`` says which one:

* CX700 guide = seeds/polycom-cx700-deployment-guide.txt, LPE = seeds/lync2013-lpe-device-update.txt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

CX700 = "CX700 guide"
LPE = "LPE 2013 article"


class Profile(StrEnum):
    CX700_199 = "cx700-1.0.199"
    CX700_522 = "cx700-1.0.522"
    CX700_35 = "cx700-3.5"
    LPE_40 = "lpe-4.0"
    AVAYA_96X1 = "avaya-96x1"


class Kind(StrEnum):
    TIME_DNS = "time-dns"
    TIME_NTP = "time-ntp"
    SIP_DNS = "sip-dns"
    DC_LOCATOR = "dc-locator"
    UPDATE_DNS = "update-dns"
    UPDATE_TLS = "update-tls"
    POOL_TLS = "pool-tls"
    UPDATE_CHECKIN = "update-checkin"
    UPDATE_CHECKIN_HTTPS = "update-checkin-https"
    UPDATE_DOWNLOAD = "update-download"
    TRUST_CERTSRV = "trust-certsrv"
    TRUST_CERTPROV = "trust-certprov"
    EXCHANGE = "exchange"
    DHCP_INFORM = "dhcp-inform"


# "OPT" is an address DHCP handed out (option 42): no DNS question, the phone just uses it.
RdType = Literal["A", "SRV", "OPT"]


@dataclass(frozen=True, slots=True)
class Site:
    dhcp_domain: str  # option 15
    sip_domain: str  # right side of the sign-in address
    search_list: tuple[str, ...] = ()  # option 119
    netbios: str | None = None  # DOMAIN of a DOMAIN\user sign-in
    option42: tuple[str, ...] = ()  # NTP servers from DHCP

    def __post_init__(self) -> None:
        for name in (self.dhcp_domain, self.sip_domain, *self.search_list):
            if not name or name.startswith(".") or ".." in name or " " in name:
                raise ValueError(f"not a DNS domain: {name!r}")
        # A NetBIOS domain name: up to 15 characters, no dots or spaces (it becomes one DNS label).
        if self.netbios is not None and not re.fullmatch(r"[A-Za-z0-9!@#$%^&'()_{}~-]{1,15}", self.netbios):
            raise ValueError(f"not a NetBIOS domain name: {self.netbios!r}")


@dataclass(frozen=True, slots=True)
class Query:
    """One DNS question the phone asks; ``port`` is what it then connects to, ``via`` why it asks."""

    name: str
    rdtype: RdType
    via: str
    port: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    kind: Kind
    title: str
    section: str
    queries: tuple[Query, ...] = ()
    # Asked only to name the fix (where the record really is), never by the phone.
    diagnose: tuple[Query, ...] = ()
    # A failure of a step the phone can live without is a warning.
    required: bool = True


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    time_sources: tuple[str, ...]  # "srv", "option42", "time.windows.com", "time.windows.com.<dhcp>"
    update_host: str | None  # ucupdates-r2, ucupdates, or None (no DNS-based update discovery)
    update_in_search_list: bool  # LPE asks ucupdates-r2.<d> for option 15 and every option 119 domain
    sha2: bool  # can the firmware validate a SHA-2 signed server certificate
    lync: bool  # the Lync/OCS steps apply at all


FACTS: dict[Profile, ProfileFacts] = {
    # 1.0.199 asks time.windows.com, then with the DHCP domain appended, then the SRV (call flow 2-5).
    # It never looks for ucupdates* in DNS: in-band provisioning only (CX700 guide p.17).
    Profile.CX700_199: ProfileFacts(
        ("time.windows.com", "time.windows.com.<dhcp>", "srv"), None, False, False, True
    ),
    Profile.CX700_522: ProfileFacts(
        ("srv", "time.windows.com", "time.windows.com.<dhcp>"), "ucupdates-r2", False, False, True
    ),
    Profile.CX700_35: ProfileFacts(
        ("srv", "time.windows.com", "time.windows.com.<dhcp>"), "ucupdates-r2", False, False, True
    ),
    # LPE: SRV, then option 42, then the hard-coded time.windows.com (LPE article, NTP bullet).
    Profile.LPE_40: ProfileFacts(
        ("srv", "option42", "time.windows.com", "time.windows.com.<dhcp>"), "ucupdates-r2", True, True, True
    ),
    # The Avaya seed covers backup only; time from DHCP option 42 is all the boot walk checks.
    Profile.AVAYA_96X1: ProfileFacts(("option42",), None, False, True, False),
}

SIP_SRV = ("_sipinternaltls._tcp", "_sip._tls", "_sipinternal._tcp")
SIP_A: tuple[tuple[str, int], ...] = (
    ("sipinternal", 5061),
    ("sipinternal", 443),
    ("sip", 5061),
    ("sip", 443),
    ("sipexternal", 5061),
    ("sipexternal", 443),
)
DC_SRV = "_ldap._tcp.dc._msdcs"
NTP_SRV = "_ntp._udp"


def suffixes(site: Site) -> tuple[str, ...]:
    """Option 15, then each option 119 element, without repeats: the phone's DNS suffix list."""
    seen: list[str] = []
    for domain in (site.dhcp_domain, *site.search_list):
        if domain not in seen:
            seen.append(domain)
    return tuple(seen)


def time_queries(site: Site, facts: ProfileFacts) -> tuple[Query, ...]:
    queries: list[Query] = []
    for source in facts.time_sources:
        if source == "option42":
            queries += [Query(ip, "OPT", "DHCP option 42", 123) for ip in site.option42]
        elif source == "srv":
            queries.append(Query(f"{NTP_SRV}.{site.sip_domain}", "SRV", "NTP SRV in the SIP domain"))
        elif source == "time.windows.com":
            queries.append(Query("time.windows.com", "A", "hard-coded fallback", 123))
        elif source == "time.windows.com.<dhcp>":
            name = f"time.windows.com.{site.dhcp_domain}"
            queries.append(Query(name, "A", "fallback + option 15 suffix", 123))
    return tuple(queries)


def sip_queries(site: Site) -> tuple[Query, ...]:
    """The documented order (CX700 guide p.4); each name also with the DHCP domain appended (call flow 7)."""
    queries: list[Query] = []
    for service in SIP_SRV:
        name = f"{service}.{site.sip_domain}"
        queries.append(Query(name, "SRV", "SIP domain"))
        queries.append(Query(f"{name}.{site.dhcp_domain}", "SRV", "SIP domain + option 15 suffix"))
    for host, port in SIP_A:
        queries.append(Query(f"{host}.{site.sip_domain}", "A", f"A fallback on {port}", port))
    return tuple(queries)


def dc_queries(site: Site) -> tuple[Query, ...]:
    """DC locator: a NetBIOS sign-in tries the bare name, + option 15, + each option 119 element (p.42)."""
    if site.netbios is None:
        return (Query(f"{DC_SRV}.{site.dhcp_domain}", "SRV", "option 15 domain (call flow 11)"),)
    base = f"{DC_SRV}.{site.netbios.lower()}"
    queries = [Query(base, "SRV", "NetBIOS name as is")]
    queries.append(Query(f"{base}.{site.dhcp_domain}", "SRV", "+ option 15"))
    for element in site.search_list:
        queries.append(Query(f"{base}.{element}", "SRV", f"+ option 119 element {element}"))
    return tuple(queries)


def dc_diagnose(site: Site) -> tuple[Query, ...]:
    """Where the DC locator record may really be: NetBIOS + every parent of a known domain, the SIP zone."""
    tried = {q.name for q in dc_queries(site)}
    candidates: list[str] = []
    for domain in (site.dhcp_domain, *site.search_list, site.sip_domain):
        labels = domain.split(".")
        for i in range(len(labels)):
            candidates.append(".".join(labels[i:]))
    queries: list[Query] = []
    for suffix in dict.fromkeys(candidates):
        if site.netbios is not None:
            name = f"{DC_SRV}.{site.netbios.lower()}.{suffix}"
            if name not in tried:
                queries.append(Query(name, "SRV", f"suffix {suffix}"))
        name = f"{DC_SRV}.{suffix}"
        if name not in tried and "." in suffix:
            queries.append(Query(name, "SRV", f"domain {suffix}"))
    return tuple(queries)


def update_queries(site: Site, facts: ProfileFacts) -> tuple[Query, ...]:
    if facts.update_host is None:
        return ()
    domains = suffixes(site) if facts.update_in_search_list else (site.dhcp_domain,)
    return tuple(Query(f"{facts.update_host}.{d}", "A", f"{facts.update_host} + {d}", 80) for d in domains)


def plan(site: Site, profile: Profile, *, dhcp_inform: bool = False) -> list[Step]:
    facts = FACTS[profile]
    steps = [
        Step(
            "time.locate",
            Kind.TIME_DNS,
            "Time source",
            f"{CX700} p.5, p.18, Step 1.2 table notes; {LPE} NTP bullet",
            time_queries(site, facts),
            (Query(f"{NTP_SRV}.{site.dhcp_domain}", "SRV", "DHCP domain (not asked by the phone)"),),
        ),
        Step("time.ntp", Kind.TIME_NTP, "NTP answer", f"{CX700} p.5; {LPE} NTP bullet"),
    ]
    if dhcp_inform:
        # The lease is there already; the INFORM asks for the web services (43) and registrar (120).
        inform = Step(
            "dhcp.inform",
            Kind.DHCP_INFORM,
            "DHCPINFORM 43/120",
            f"research §6, §9.1; {LPE} 'DHCP Options 15, 43, and 120 must be defined'",
            required=profile is Profile.LPE_40,
        )
        steps.insert(0, inform)
    if not facts.lync:
        return steps
    steps += [
        Step(
            "sip.locate", Kind.SIP_DNS, "SIP discovery", f"{CX700} p.4, call flow step 7", sip_queries(site)
        ),
        Step(
            "dc.locate",
            Kind.DC_LOCATOR,
            "DC locator",
            f"{CX700} 'When to Use DHCP Option 119' p.41-42, call flow step 11",
            dc_queries(site),
            dc_diagnose(site),
        ),
    ]
    update = update_queries(site, facts)
    if update:
        steps += [
            Step(
                "update.locate",
                Kind.UPDATE_DNS,
                "Update service name",
                f"{CX700} p.17, p.22; {LPE} behaviour, UCUpdates-R2 host record",
                update,
                (Query(f"{facts.update_host}.{site.sip_domain}", "A", "SIP domain (not asked)"),),
            ),
            Step(
                "update.tls",
                Kind.UPDATE_TLS,
                "Update service certificate",
                f"{LPE} 'SAN entries containing the hostname and FQDN'; {CX700} call flow 9 (SHA2)",
                # CX700 firmware checks in over plain HTTP inside (guide p.17); HTTPS is for external phones.
                required=profile is Profile.LPE_40,
            ),
            Step(
                "update.checkin",
                Kind.UPDATE_CHECKIN,
                "ucdevice.upx check-in",
                f"{CX700} p.31 (GET status XML), call flow 24-25",
            ),
        ]
        if profile is Profile.LPE_40:
            steps.append(
                Step(
                    "update.checkin-https",
                    Kind.UPDATE_CHECKIN_HTTPS,
                    "ucdevice.upx check-in over HTTPS",
                    f"research §1.1 (Lync 2010: HTTPS 443); {LPE} (connects by the short name)",
                    # Whether LPE falls back to the HTTP check-in is not documented: a warning.
                    required=False,
                )
            )
        steps.append(
            Step("update.download", Kind.UPDATE_DOWNLOAD, "Image download", f"{CX700} call flow 26-27")
        )
    steps += [
        Step("pool.tls", Kind.POOL_TLS, "Pool certificate", f"{CX700} call flow 9-10, 20-21"),
        Step(
            "trust.certsrv",
            Kind.TRUST_CERTSRV,
            "Root CA via certsrv",
            f"{CX700} p.8, call flow 19",
            required=profile is not Profile.LPE_40,
        ),
        Step(
            "trust.certprov",
            Kind.TRUST_CERTPROV,
            "Root CA via CertProv",
            f"{LPE} 'DHCP Options 15, 43, and 120'; research §7",
            required=profile is Profile.LPE_40,
        ),
        Step(
            "exchange",
            Kind.EXCHANGE,
            "Exchange autodiscover",
            f"{CX700} p.4, call flow 22",
            (Query(f"autodiscover.{site.sip_domain}", "A", "SIP domain"),),
            required=False,
        ),
    ]
    return steps
