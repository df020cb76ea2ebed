"""Pure modules: server names, phone profile opinions, 46xxsettings lines, certsrv and CertProv codecs."""

from __future__ import annotations

import datetime as dt

import pytest

from phonehome.pki import certprov, certsrv
from phonehome.pki.avaya import AvayaSettings, render_settings
from phonehome.pki.names import check_dns_name, server_names
from phonehome.pki.profiles import PROFILES, CertFacts, Verdict, judge, judge_all, missing_update_names

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def test_server_names_add_short_and_per_domain_update_hosts() -> None:
    names = server_names(
        ["Pool.Contoso.com."], ["contoso.com", "branch.contoso.com"], ["192.0.2.10", "192.0.2.10"]
    )
    assert names.common_name == "pool.contoso.com"
    assert names.dns == (
        "pool.contoso.com",
        "ucupdates-r2",
        "ucupdates",
        "ucupdates-r2.contoso.com",
        "ucupdates.contoso.com",
        "ucupdates-r2.branch.contoso.com",
        "ucupdates.branch.contoso.com",
    )
    assert names.ips == ("192.0.2.10",)
    assert server_names([], [], [], fallback=["host.example"]).common_name == "host.example"


@pytest.mark.parametrize("bad", ["", "-bad.example", "a..b", "x" * 64 + ".example", "spa ce.example", "a/b"])
def test_bad_dns_names(bad: str) -> None:
    with pytest.raises(ValueError, match="not a DNS name"):
        check_dns_name(bad)


def test_bad_ip() -> None:
    with pytest.raises(ValueError):
        server_names(["a.example"], [], ["999.1.1.1"])


def _facts(
    hashes: tuple[str, ...] = ("sha256",),
    names: tuple[str, ...] = ("ucupdates-r2", "ucupdates-r2.contoso.com"),
    days: int = 400,
    bits: int = 2048,
) -> CertFacts:
    return CertFacts(names, hashes, bits, NOW + dt.timedelta(days=days))


def test_cx700_rejects_sha2_and_accepts_sha1() -> None:
    cx700 = PROFILES[0]
    opinion = judge(cx700, _facts(), NOW)
    assert opinion.verdict is Verdict.FAILS
    assert opinion.reasons == ("SHA-2 signature not supported (SHA256 on the certificate)",)
    assert judge(cx700, _facts(("sha1", "sha1")), NOW).verdict is Verdict.OK
    intermediate = judge(cx700, _facts(("sha1", "sha256")), NOW)
    assert "SHA256 on the intermediate CA" in intermediate.reasons[0]


def test_lync_needs_short_name_and_fqdn() -> None:
    lync = PROFILES[1]
    assert judge(lync, _facts(), NOW).verdict is Verdict.OK
    missing = judge(lync, _facts(names=("pool.contoso.com",)), NOW)
    assert (
        missing.verdict is Verdict.FAILS
        and "ucupdates-r2 and ucupdates-r2.<DHCP domain>" in missing.reasons[0]
    )
    assert missing_update_names(["UCUPDATES-R2", "ucupdates-r2.contoso.com"]) == []
    assert judge(lync, _facts(("sha512",)), NOW).verdict is Verdict.WARNING


def test_expiry_and_key_size() -> None:
    avaya = PROFILES[2]
    assert judge(avaya, _facts(days=10), NOW).reasons == ("expires in 10 days",)
    assert judge(avaya, _facts(days=-1), NOW).verdict is Verdict.FAILS
    assert judge(PROFILES[0], _facts(("sha1",), bits=4096), NOW).verdict is Verdict.WARNING
    assert len(judge_all(_facts(), NOW)) == len(PROFILES)


def test_avaya_settings_lines() -> None:
    text = render_settings(
        AvayaSettings(
            "http://ph.contoso.com:8080/scep",
            "https://ph.contoso.com/PhoneBackup",
            distinguished_name="/O=Contoso Phones",
        )
    )
    assert text.splitlines()[1:] == [
        "SET MYCERTURL http://ph.contoso.com:8080/scep",
        "SET MYCERTCN $SERIALNO",
        'SET MYCERTDN "/O=Contoso Phones"',
        "SET MYCERTKEYLEN 2048",
        "SET MYCERTRENEW 90",
        "SET MYCERTWAIT 0",
        "SET TRUSTCERTS phonehome-ca.pem",
        "SET BRURI https://ph.contoso.com/PhoneBackup",
    ]
    with pytest.raises(ValueError, match="quotes or newlines"):
        render_settings(AvayaSettings('http://x/"', "https://x/"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"ReqID": "CACert", "Renewal": "-1", "Enc": "b64"}, "b64"),
        ({"reqid": "cacert", "enc": "BIN"}, "bin"),
        ({}, "bin"),
    ],
)
def test_certsrv_queries(query: dict[str, str], expected: str) -> None:
    assert certsrv.parse_query(query).encoding == expected


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"ReqID": "5"}, certsrv.CertsrvQueryError),
        ({"Renewal": "1"}, certsrv.UnknownRenewal),
        ({"Renewal": "x"}, certsrv.CertsrvQueryError),
        ({"Enc": "pem"}, certsrv.CertsrvQueryError),
    ],
)
def test_certsrv_bad_queries(query: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        certsrv.parse_query(query)


@pytest.mark.parametrize(
    ("body", "action", "operation", "ns"),
    [
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a:GetRootCertChains xmlns:a="urn:x"/></s:Body></s:Envelope>',
            "",
            "GetRootCertChains",
            certprov.SOAP11,
        ),
        (
            b'<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><GetRootCertChainsRequest/></Body></Envelope>',
            "",
            "GetRootCertChains",
            certprov.SOAP12,
        ),
        (
            b"<envelope><body/></envelope>",
            '"http://schemas.microsoft.com/OCS/AuthWebServices/GetRootCertChains"',
            "GetRootCertChains",
            certprov.SOAP11,
        ),
    ],
)
def test_certprov_lenient_requests(body: bytes, action: str, operation: str, ns: str) -> None:
    parsed = certprov.parse_request(body, action)
    assert (parsed.operation, parsed.soap_ns) == (operation, ns)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<a",
        b"<x/>",
        b"<Envelope/>",
        b"<Envelope><Body/></Envelope>",
        b"x" * (certprov.MAX_REQUEST_BYTES + 1),
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><Envelope>&x;</Envelope>',
    ],
)
def test_certprov_bad_requests(body: bytes) -> None:
    with pytest.raises(certprov.CertProvRequestError):
        certprov.parse_request(body)


def test_certprov_render_round_trip() -> None:
    from lxml import etree

    xml = certprov.render_root_chains([b"\x30\x03\x02\x01\x01"], certprov.SOAP12)
    root = etree.fromstring(xml)
    chain = root.find(
        f"{{{certprov.SOAP12}}}Body/{{{certprov.AUTH_NS}}}GetRootCertChainsResponse/{{{certprov.AUTH_NS}}}RootCertChains/{{{certprov.AUTH_NS}}}Chain"
    )
    assert chain is not None and chain.text == "MAMCAQE="
    fault = etree.fromstring(certprov.render_fault("bad <thing>", certprov.SOAP11))
    assert (
        fault.findtext(f"{{{certprov.SOAP11}}}Body/{{{certprov.SOAP11}}}Fault/faultstring") == "bad <thing>"
    )


def test_the_config_templates_pki_example_is_valid() -> None:
    import tomllib

    from phonehome.app import _CONFIG_TEMPLATE
    from phonehome.config import Settings

    block = _CONFIG_TEMPLATE[_CONFIG_TEMPLATE.index("# [pki]") : _CONFIG_TEMPLATE.index("# [site]")]
    text = "\n".join(line[2:] for line in block.splitlines() if line.startswith("# "))
    pki = Settings.model_validate(tomllib.loads(text)).pki
    assert pki.dhcp_domains == ["contoso.com"] and pki.scep_path == "/scep"
