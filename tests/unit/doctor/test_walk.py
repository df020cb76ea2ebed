"""The boot walk's orders, checked against the seeds' own examples."""

from __future__ import annotations

import pytest

from phonehome.doctor.walk import Kind, Profile, Site, plan


def names(site: Site, profile: Profile, key: str) -> list[str]:
    step = next(s for s in plan(site, profile) if s.key == key)
    return [f"{q.rdtype} {q.name}" + (f":{q.port}" if q.port else "") for q in step.queries]


def test_dc_locator_walks_netbios_then_option_15_then_each_option_119_element() -> None:
    # CX700 guide p.42: NetBIOS fabrikam, option 15 fabrikam.dk, option 119 fabrikam.dk and dk.
    site = Site("fabrikam.dk", "fabrikam.com", ("fabrikam.dk", "dk"), "Fabrikam")
    assert names(site, Profile.CX700_35, "dc.locate") == [
        "SRV _ldap._tcp.dc._msdcs.fabrikam",
        "SRV _ldap._tcp.dc._msdcs.fabrikam.fabrikam.dk",
        "SRV _ldap._tcp.dc._msdcs.fabrikam.fabrikam.dk",
        "SRV _ldap._tcp.dc._msdcs.fabrikam.dk",
    ]


def test_dc_locator_without_netbios_asks_the_option_15_domain() -> None:
    site = Site("contoso.com", "fabrikam.com")
    assert names(site, Profile.LPE_40, "dc.locate") == ["SRV _ldap._tcp.dc._msdcs.contoso.com"]
    step = next(s for s in plan(site, Profile.LPE_40) if s.key == "dc.locate")
    assert "SRV _ldap._tcp.dc._msdcs.fabrikam.com" in {f"{q.rdtype} {q.name}" for q in step.diagnose}


def test_sip_discovery_in_the_documented_order_with_concatenations() -> None:
    site = Site("contoso.com", "fabrikam.com")
    assert names(site, Profile.LPE_40, "sip.locate") == [
        "SRV _sipinternaltls._tcp.fabrikam.com",
        "SRV _sipinternaltls._tcp.fabrikam.com.contoso.com",
        "SRV _sip._tls.fabrikam.com",
        "SRV _sip._tls.fabrikam.com.contoso.com",
        "SRV _sipinternal._tcp.fabrikam.com",
        "SRV _sipinternal._tcp.fabrikam.com.contoso.com",
        "A sipinternal.fabrikam.com:5061",
        "A sipinternal.fabrikam.com:443",
        "A sip.fabrikam.com:5061",
        "A sip.fabrikam.com:443",
        "A sipexternal.fabrikam.com:5061",
        "A sipexternal.fabrikam.com:443",
    ]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        # 1.0.199: time.windows.com, then with the DHCP domain, then the SRV (call flow 2-5).
        (
            Profile.CX700_199,
            ["A time.windows.com:123", "A time.windows.com.contoso.com:123", "SRV _ntp._udp.fabrikam.com"],
        ),
        (
            Profile.CX700_35,
            ["SRV _ntp._udp.fabrikam.com", "A time.windows.com:123", "A time.windows.com.contoso.com:123"],
        ),
        (
            Profile.LPE_40,
            [
                "SRV _ntp._udp.fabrikam.com",
                "OPT 192.0.2.5:123",
                "A time.windows.com:123",
                "A time.windows.com.contoso.com:123",
            ],
        ),
        (Profile.AVAYA_96X1, ["OPT 192.0.2.5:123"]),
    ],
)
def test_time_source_order_per_profile(profile: Profile, expected: list[str]) -> None:
    site = Site("contoso.com", "fabrikam.com", option42=("192.0.2.5",))
    assert names(site, profile, "time.locate") == expected


def test_update_name_per_profile() -> None:
    site = Site("contoso.com", "fabrikam.com", ("corp.contoso.com", "contoso.com"))
    # LPE asks ucupdates-r2 in option 15 and in every option 119 domain (LPE article), without repeats.
    assert names(site, Profile.LPE_40, "update.locate") == [
        "A ucupdates-r2.contoso.com:80",
        "A ucupdates-r2.corp.contoso.com:80",
    ]
    assert names(site, Profile.CX700_522, "update.locate") == ["A ucupdates-r2.contoso.com:80"]
    # 1.0.199 never looks the update service up in DNS (CX700 guide p.17).
    assert not [s for s in plan(site, Profile.CX700_199) if s.kind is Kind.UPDATE_DNS]


def test_avaya_walk_is_time_only_and_optional_steps_are_marked() -> None:
    site = Site("contoso.com", "fabrikam.com")
    assert [s.key for s in plan(site, Profile.AVAYA_96X1)] == ["time.locate", "time.ntp"]
    lpe = {s.key: s.required for s in plan(site, Profile.LPE_40)}
    cx = {s.key: s.required for s in plan(site, Profile.CX700_35)}
    assert lpe["update.tls"] and not cx["update.tls"]
    assert lpe["trust.certprov"] and not lpe["trust.certsrv"]
    assert cx["trust.certsrv"] and not cx["trust.certprov"]
    assert not lpe["exchange"]


@pytest.mark.parametrize("bad", ["", ".contoso.com", "contoso..com", "con toso.com"])
def test_site_refuses_bad_domains(bad: str) -> None:
    with pytest.raises(ValueError, match="not a DNS domain"):
        Site(bad, "fabrikam.com")
    with pytest.raises(ValueError, match="not a DNS domain"):
        Site("contoso.com", "fabrikam.com", (bad,))


@pytest.mark.parametrize("bad", ["", "fabrikam.dk", "FAB RIKAM", "A" * 16])
def test_site_refuses_bad_netbios_names(bad: str) -> None:
    with pytest.raises(ValueError, match="NetBIOS"):
        Site("contoso.com", "fabrikam.com", netbios=bad)
