"""Renderers: what each server's syntax must carry. The daemons themselves judge in tests/peers."""

from __future__ import annotations

import json

import pytest

from phonehome.netplan.errors import UnknownFormat
from phonehome.netplan.explain import explain
from phonehome.netplan.opt_vendor import MsUcClient
from phonehome.netplan.options import value_of
from phonehome.netplan.render import DHCP_RENDERERS, render_dhcp, render_dns
from phonehome.netplan.render_cisco import option_43_command
from tests.unit.netplan.sites import SITE_TOML, site_for
from tests.unit.netplan.test_options import DHCPUTIL_43, DHCPUTIL_120, DHCPUTIL_SUBOPTIONS

DHCPUTIL_SITE = SITE_TOML.replace(
    'registrar_fqdn = "pool01.contoso.com"', 'registrar_fqdn = "server.fqdn.company.com"'
)


def test_kea_class_matches_option_60_and_carries_option_43() -> None:
    config = json.loads(render_dhcp(site_for(DHCPUTIL_SITE), "kea"))["Dhcp4"]
    (klass,) = config["client-classes"]
    assert klass["test"] == "option[60].text == 'MS-UC-Client'"
    assert klass["option-data"][0]["data"] == DHCPUTIL_43
    options = {o["code"]: o["data"] for o in config["subnet4"][0]["option-data"]}
    assert options[120] == DHCPUTIL_120
    assert options[119] == "contoso.com, fabrikam.com, dev.contoso.com"
    assert config["subnet4"][0]["pools"] == [{"pool": "192.0.2.100 - 192.0.2.150"}]


def test_dnsmasq_tags_the_vendor_class() -> None:
    text = render_dhcp(site_for(DHCPUTIL_SITE), "dnsmasq")
    assert "dhcp-vendorclass=set:ms-uc-client,MS-UC-Client\n" in text
    hex43 = ":".join(DHCPUTIL_43[i : i + 2] for i in range(0, len(DHCPUTIL_43), 2)).lower()
    assert f"dhcp-option=tag:ms-uc-client,43,{hex43}\n" in text
    assert "dhcp-option=119,contoso.com,fabrikam.com,dev.contoso.com\n" in text


def test_windows_netsh_is_dhcpconfigscript() -> None:
    text = render_dhcp(site_for(DHCPUTIL_SITE), "windows")
    assert f"set optionvalue 120 Binary {DHCPUTIL_120}\r\n" in text
    assert 'netsh dhcp server add class MSUCClient "UC Vendor Class Id" "MS-UC-Client" 1\r\n' in text
    for code, value in DHCPUTIL_SUBOPTIONS.items():
        assert f"set optionvalue {code} Binary vendor=MSUCClient {value}\r\n" in text
    assert 'set optionvalue 119 STRING "contoso.com;fabrikam.com;dev.contoso.com"' in text


def test_windows_powershell_uses_the_dhcpserver_module() -> None:
    text = render_dhcp(site_for(DHCPUTIL_SITE), "powershell")
    assert (
        "Add-DhcpServerv4Class -ComputerName $ComputerName -Name 'MSUCClient' -Type Vendor -Data 'MS-UC-Client'"
        in text
    )
    assert "-VendorClass 'MSUCClient' -OptionId 4 -Value 0x34,0x34,0x33" in text


def test_isc_class_and_raw_options() -> None:
    text = render_dhcp(site_for(DHCPUTIL_SITE), "isc")
    assert 'match if option vendor-class-identifier = "MS-UC-Client";' in text
    assert "option ms-uc-sip-server code 120 = string;" in text


@pytest.mark.parametrize(
    ("fqdn", "keyword"), [("a" * 19 + ".com", "option 43 hex"), ("a" * 20 + ".com", "option ext 43 hex")]
)
def test_cisco_switches_to_option_ext_43_past_180_hex_characters(fqdn: str, keyword: str) -> None:
    value = value_of(MsUcClient(fqdn))
    assert len(value.hex()) == (180 if len(fqdn) == 23 else 182)
    assert option_43_command(value) == f"{keyword} {value.hex()}"
    text = render_dhcp(site_for(DHCPUTIL_SITE.replace("server.fqdn.company.com", fqdn)), "cisco")
    assert f"\n {keyword} {value.hex()}\n" in text


def test_cisco_dhcputil_sample_fits_plain_option_43() -> None:
    text = render_dhcp(site_for(DHCPUTIL_SITE), "cisco")
    assert f" option 43 hex {DHCPUTIL_43.lower()}\n" in text
    assert " option 120 hex " + DHCPUTIL_120.lower() in text
    assert "ip dhcp excluded-address 192.0.2.1 192.0.2.99" in text


def test_every_dhcp_format_renders_and_unknown_ones_are_refused() -> None:
    site = site_for(SITE_TOML)
    for fmt in DHCP_RENDERERS:
        assert "MS-UC-Client" in render_dhcp(site, fmt), fmt
    with pytest.raises(UnknownFormat, match="unknown DHCP format 'junos'"):
        render_dhcp(site, "junos")
    with pytest.raises(UnknownFormat, match="unknown zone 'dmz'"):
        render_dns(site, "dmz", "bind")
    with pytest.raises(UnknownFormat, match="unknown DNS format 'tinydns'"):
        render_dns(site, "internal", "tinydns")


def test_bind_files_carry_a_reason_per_record() -> None:
    files = render_dns(site_for(SITE_TOML), "internal", "bind", 2026112501)
    assert set(files) == {"fabrikam.com.internal.zone", "contoso.com.internal.zone", "named.conf.internal"}
    zone = files["fabrikam.com.internal.zone"].splitlines()
    srv = zone.index("_sipinternaltls._tcp\t3600\tIN\tSRV\t0 0 5061 pool01.contoso.com.")
    assert zone[srv - 1].startswith("; automatic sign-in")
    assert (
        'zone "contoso.com" { type primary; file "contoso.com.internal.zone"; };'
        in files["named.conf.internal"]
    )


def test_powershell_dns_adds_records_not_soa() -> None:
    (script,) = render_dns(site_for(SITE_TOML), "internal", "powershell").values()
    assert (
        "Add-DnsServerResourceRecord -Srv -ComputerName $ComputerName -ZoneName 'fabrikam.com' "
        "-Name '_sipinternaltls._tcp' -DomainName 'pool01.contoso.com' -Priority 0 -Weight 0 -Port 5061"
    ) in script
    assert "-Name 'ucupdates-r2' -IPv4Address '192.0.2.10'" in script
    assert "SOA" not in script and "'ns1'" not in script


def test_explain_names_what_is_missing() -> None:
    text = explain(site_for(SITE_TOML.replace('access_edge_fqdn = "sip.fabrikam.com"\n', "")))
    assert "option 43  Certificate Provisioning URL https://pool01.contoso.com:443/CertProv" in text
    assert "DNS external: not planned: [site] access_edge_fqdn is required for the external DNS zones" in text
    assert "ucupdates-r2.contoso.com A 192.0.2.10: Device Update" in text
