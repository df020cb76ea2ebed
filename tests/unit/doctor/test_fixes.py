"""Fix lines: BIND records via dnspython, dnsmasq option lines; invalid input refused."""

from __future__ import annotations

import pytest

from phonehome.doctor import fixes


def test_record_lines() -> None:
    assert fixes.a_record("ucupdates-r2.contoso.com", "192.0.2.10") == (
        "ucupdates-r2.contoso.com. 3600 IN A 192.0.2.10"
    )
    assert fixes.srv_record("_ntp._udp.fabrikam.com.", "time.windows.com", 123) == (
        "_ntp._udp.fabrikam.com. 3600 IN SRV 0 0 123 time.windows.com."
    )


def test_option_lines() -> None:
    assert (
        fixes.domain_search_option(["fabrikam.dk", "dk"]) == "dhcp-option=option:domain-search,fabrikam.dk,dk"
    )
    assert fixes.sip_server_option("pool01.contoso.com") == "dhcp-option=option:sip-server,pool01.contoso.com"
    assert fixes.ms_uc_client_options("pool01.contoso.com") == (
        'dhcp-option=vendor:MS-UC-Client,1,"MS-UC-Client"',
        'dhcp-option=vendor:MS-UC-Client,2,"https"',
        'dhcp-option=vendor:MS-UC-Client,3,"pool01.contoso.com"',
        'dhcp-option=vendor:MS-UC-Client,4,"443"',
        'dhcp-option=vendor:MS-UC-Client,5,"/CertProv/CertProvisioningService.svc"',
    )
    assert fixes.server_names_setting(["a.example", "a"]) == 'server_names = ["a.example", "a"]'


@pytest.mark.parametrize(
    "call",
    [
        lambda: fixes.a_record("ucupdates-r2.contoso.com", "999.1.1.1"),
        lambda: fixes.a_record("bad..name", "192.0.2.1"),
        lambda: fixes.srv_record("_sip._tls.fabrikam.com", "pool", 70000),
        lambda: fixes.srv_record("x" * 64 + ".com", "pool", 5061),
        lambda: fixes.domain_search_option(["ok.example", "bad..example"]),
        lambda: fixes.sip_server_option("bad..name"),
        lambda: fixes.ms_uc_client_options("bad..name"),
    ],
)
def test_invalid_input_is_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
