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
    assert fixes.domain_search_option(["fabrikam.dk", "dk"]) == "dhcp-option=119,fabrikam.dk,dk"
    # research §6.3: option 120 hex for sip.contoso.com
    assert (
        fixes.sip_server_option("sip.contoso.com")
        == "dhcp-option=120,00:03:73:69:70:07:63:6f:6e:74:6f:73:6f:03:63:6f:6d:00"
    )
    assert "set [site] registrar_fqdn" in fixes.sip_server_option(None)
    vendor = fixes.ms_uc_client_options("sip.contoso.com")
    assert vendor[0] == "dhcp-vendorclass=set:ms-uc-client,MS-UC-Client"
    assert vendor[1].startswith("dhcp-option=tag:ms-uc-client,43,01:0c:4d:53:2d:55:43")
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
