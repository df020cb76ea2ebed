"""Fix lines: BIND records via dnspython, dnsmasq option lines; invalid input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from phonehome.config import Settings, SiteSettings
from phonehome.doctor import fixes, verdict
from phonehome.doctor.cli import build_options
from phonehome.doctor.fixes import Hints
from phonehome.doctor.probes import Answer
from phonehome.doctor.walk import Profile, plan
from phonehome.netplan.render import render_dns
from phonehome.netplan.site import build_site


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


def test_a_record_netplan_plans_is_netplan_s_record(tmp_path: Path) -> None:
    """With [site] complete, the ucupdates-r2 fix is the record `phonehome netplan dns` writes: both
    update server addresses, rendered by netplan's BIND renderer; without a plan, the doctor's one line."""
    site = SiteSettings(
        dhcp_domain="contoso.com",
        sip_domains=["fabrikam.com"],
        dns_servers=["192.0.2.53"],
        registrar_fqdn="pool01.contoso.com",
        registrar_ips=["192.0.2.5"],
        update_server_ips=["192.0.2.10", "192.0.2.11"],
    )
    settings = Settings(data_dir=tmp_path, site=site)
    options = build_options(
        settings,
        dhcp_domain=None,
        sip_domain=None,
        search_list=None,
        netbios=None,
        dns_server="127.0.0.1:53",
        profile=Profile.LPE_40,
        ca=None,
        option42=None,
        server_ip=None,
        http_port=80,
        https_port=443,
        ntp_port=None,
        timeout=1.0,
    )
    [step] = [s for s in plan(options.site, Profile.LPE_40) if s.key == "update.locate"]
    missing = [Answer(q, error="NXDOMAIN") for q in step.queries]
    result = verdict.update_name(step, options.site, missing, [], options.server_ip, options.hints)
    assert result.fix is not None
    assert list(result.fix.lines) == [
        "ucupdates-r2.contoso.com. 3600 IN A 192.0.2.10",
        "ucupdates-r2.contoso.com. 3600 IN A 192.0.2.11",
    ]
    zone = render_dns(build_site(settings), "internal", "bind")["contoso.com.internal.zone"]
    assert "ucupdates-r2\t3600\tIN\tA\t192.0.2.11" in zone.splitlines()
    alone = verdict.update_name(step, options.site, missing, [], "192.0.2.10", Hints())
    assert alone.fix is not None and alone.fix.lines == ("ucupdates-r2.contoso.com. 3600 IN A 192.0.2.10",)
