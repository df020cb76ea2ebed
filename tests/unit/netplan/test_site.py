"""[site] → typed plan: every bad or missing field is one BadSite line naming it."""

from __future__ import annotations

import re

import pytest

from phonehome.netplan.errors import BadSite
from phonehome.netplan.records import zone_plan
from phonehome.netplan.site import dhcp_plan
from tests.unit.netplan.sites import SITE_TOML, plan_for, site_for


def with_field(key: str, value: str) -> str:
    """SITE_TOML with one [site] key replaced (or added)."""
    line = f"{key} = {value}\n"
    pattern = re.compile(rf"^{key} = .*\n", re.M)
    return pattern.sub(line, SITE_TOML) if pattern.search(SITE_TOML) else SITE_TOML + line


def without_field(key: str) -> str:
    return re.sub(rf"^{key} = .*\n", "", SITE_TOML, flags=re.M)


def test_example_site_plan() -> None:
    plan = plan_for(SITE_TOML)
    assert [o.code for o in plan.options] == [3, 6, 15, 42, 119, 120]
    assert plan.vendor_class == "MS-UC-Client"
    assert plan.vendor_options.url == "https://pool01.contoso.com:443/CertProv/CertProvisioningService.svc"


def test_web_services_default_to_the_registrar_and_update_ips_to_server_ips() -> None:
    site = site_for(with_field("web_services_fqdn", '"web.contoso.com"'))
    assert dhcp_plan(site).vendor_options.web_server_fqdn == "web.contoso.com"
    assert [str(ip) for ip in site_for(SITE_TOML).update_server_ips] == ["192.0.2.10"]


BAD = [
    ("dhcp_domain", '"' + "a" * 64 + '.com"', "[site] dhcp_domain: a label of"),
    ("search_domains", '["' + ".".join(["b" * 60] * 5) + '"]', "[site] search_domains: 'bbbb"),
    ("dns_servers", '["192.0.2.256"]', "[site] dns_servers: '192.0.2.256' is not an IPv4 address"),
    ("ntp_servers", '["ntp.contoso.com"]', "[site] ntp_servers:"),
    ("registrar_fqdn", '"pool 01.contoso.com"', "[site] registrar_fqdn:"),
    ("subnet", '"192.0.2.0/33"', "[site] subnet:"),
    ("pool_start", '"198.51.100.1"', "[site] pool_start: 198.51.100.1 is outside subnet"),
    ("pool_end", '"192.0.2.50"', "[site] pool_end: 192.0.2.50 comes before pool_start"),
    ("lease_seconds", "5", "[site] lease_seconds:"),
    ("web_services_port", "0", "[site] web_services_port:"),
    ("dhcp_interfaces", '["eth0; rm -rf /"]', "[site] dhcp_interfaces:"),
    (
        "search_domains",
        '["' + '", "'.join(f"{c * 60}.{c * 60}.example" for c in "abc") + '"]',
        "[site] search_domains: option 119 (domain-search) would be",
    ),
]


@pytest.mark.parametrize(("key", "value", "reason"), BAD, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD)])
def test_bad_field_is_named(key: str, value: str, reason: str) -> None:
    with pytest.raises(BadSite) as info:
        dhcp_plan(site_for(with_field(key, value)))
    assert info.value.reason.startswith(reason)
    if key == "search_domains" and "119" not in reason:
        assert info.value.reason.endswith("is longer than 255 octets")
    assert "\n" not in info.value.reason
    assert info.value.exit_code == 2 and info.value.status == 400


@pytest.mark.parametrize(
    "key", ["subnet", "pool_start", "pool_end", "dhcp_domain", "dns_servers", "registrar_fqdn"]
)
def test_missing_dhcp_field_is_named(key: str) -> None:
    with pytest.raises(BadSite, match=rf"^\[site\] {key} is required for the DHCP plan$"):
        dhcp_plan(site_for(without_field(key)))


@pytest.mark.parametrize(
    ("view", "key"),
    [("internal", "sip_domains"), ("internal", "registrar_ips"), ("external", "access_edge_fqdn")],
)
def test_missing_dns_field_is_named(view: str, key: str) -> None:
    with pytest.raises(BadSite, match=rf"^\[site\] {key} is required for the {view} DNS zones$"):
        zone_plan(site_for(without_field(key)), view)


def test_in_zone_external_nameserver_needs_an_address() -> None:
    with pytest.raises(
        BadSite, match=r"external_nameserver_ips: ns1.fabrikam.com is inside zone fabrikam.com"
    ):
        zone_plan(site_for(without_field("external_nameserver_ips")), "external")


def test_the_config_templates_site_example_is_a_complete_plan() -> None:
    from phonehome.app import _CONFIG_TEMPLATE

    block = _CONFIG_TEMPLATE[_CONFIG_TEMPLATE.index("# [site]") :]
    toml = "\n".join(line[2:] for line in block.splitlines() if line.startswith("# "))
    site = site_for(toml)
    assert dhcp_plan(site).vendor_options.web_server_fqdn == "pool01.contoso.com"
    assert zone_plan(site, "internal").zones and zone_plan(site, "external").zones
