"""The DNS plan follows the CX700 guide's zone table."""

from __future__ import annotations

import dns.rdatatype
import pytest

from phonehome.netplan.errors import BadValue, UnknownFormat
from phonehome.netplan.records import ZonePlan, zone_plan
from tests.unit.netplan.sites import SITE_TOML, site_for


def table(plan: ZonePlan) -> dict[tuple[str, str], set[str]]:
    return {
        (r.owner.to_text(True), r.rdtype.name): {d.to_text() for d in r.rdatas}
        for r in plan.records()
        if not r.infrastructure
    }


def test_internal_zones_as_in_the_cx700_table() -> None:
    plan = zone_plan(site_for(SITE_TOML), "internal", 7)
    assert [z.origin.to_text(True) for z in plan.zones] == ["fabrikam.com", "contoso.com"]
    assert table(plan) == {
        ("_sipinternaltls._tcp.fabrikam.com", "SRV"): {"0 0 5061 pool01.contoso.com."},
        ("sip.fabrikam.com", "A"): {"192.0.2.10"},
        ("_ntp._udp.fabrikam.com", "SRV"): {"0 0 123 time.windows.com."},
        ("autodiscover.fabrikam.com", "A"): {"192.0.2.20"},
        ("pool01.contoso.com", "A"): {"192.0.2.10"},
        ("ucupdates-r2.contoso.com", "A"): {"192.0.2.10"},
        ("ucupdates.contoso.com", "A"): {"192.0.2.10"},
    }
    soa = plan.zones[0].records[0]
    assert soa.rdtype == dns.rdatatype.SOA and soa.rdatas[0].to_text().split()[2] == "7"
    assert all(r.why for r in plan.records())


def test_external_zones_as_in_the_cx700_table() -> None:
    plan = zone_plan(site_for(SITE_TOML), "external")
    assert table(plan) == {
        ("_sip._tls.fabrikam.com", "SRV"): {"0 0 443 sip.fabrikam.com."},
        ("sip.fabrikam.com", "A"): {"198.51.100.10"},
        ("_ntp._udp.fabrikam.com", "SRV"): {"0 0 123 time.windows.com."},
        ("autodiscover.fabrikam.com", "A"): {"198.51.100.20"},
        ("webext.fabrikam.com", "A"): {"198.51.100.11"},
        ("ucupdates-r2.contoso.com", "A"): {"198.51.100.11"},
    }
    ns = {(r.owner.to_text(True), r.rdtype.name) for r in plan.records() if r.infrastructure}
    assert ("ns1.fabrikam.com", "A") in ns and ("ns2.example.net", "A") not in ns


def test_one_domain_for_sip_and_dhcp_gives_one_zone() -> None:
    toml = SITE_TOML.replace('sip_domains = ["fabrikam.com"]', 'sip_domains = ["contoso.com"]')
    plan = zone_plan(site_for(toml), "internal")
    assert [z.origin.to_text(True) for z in plan.zones] == ["contoso.com"]
    assert ("_sipinternaltls._tcp.contoso.com", "SRV") in table(plan)


def test_bad_view_and_serial() -> None:
    with pytest.raises(UnknownFormat, match="unknown zone 'dmz'"):
        zone_plan(site_for(SITE_TOML), "dmz")
    with pytest.raises(BadValue, match="zone serial 4294967296 is not in"):
        zone_plan(site_for(SITE_TOML), "internal", 2**32)
