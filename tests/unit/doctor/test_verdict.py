"""Verdicts from hand-made evidence: certificate rules per profile, DNS findings and their fixes."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID

from phonehome.doctor import verdict, verdict_web
from phonehome.doctor.fixes import Hints
from phonehome.doctor.probes import Answer, HttpEvidence, NtpEvidence, Record, TlsEvidence
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile, Query, Site, Step, plan
from phonehome.pki import certprov
from phonehome.updates import ucdevice

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SITE = Site("contoso.com", "fabrikam.com")


def step(key: str, site: Site = SITE, profile: Profile = Profile.LPE_40) -> Step:
    return next(s for s in plan(site, profile) if s.key == key)


def cert(names: list[str], days: tuple[int, int] = (-10, 300)) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )


NAMES = ("ucupdates-r2", "ucupdates-r2.contoso.com")


def judge(
    leaf: x509.Certificate,
    *,
    sha2: bool = True,
    chain_error: str | None = None,
    profile: Profile = Profile.LPE_40,
) -> verdict.Result:
    tls = TlsEvidence("192.0.2.10", 443, "ucupdates-r2", leaf, chain_error)
    return verdict_web.certificate(
        step("update.tls", profile=profile), tls, NAMES, now=NOW, sha2=sha2, ca="ca.pem"
    )


def test_good_certificate_passes() -> None:
    assert judge(cert(["ucupdates-r2.contoso.com", "ucupdates-r2"])).status is Status.PASS


def test_missing_short_name_fails_with_the_names_to_issue() -> None:
    result = judge(cert(["ucupdates-r2.contoso.com"]))
    assert result.status is Status.FAIL and result.fix is not None
    assert result.fix.lines == ('server_names = ["ucupdates-r2.contoso.com", "ucupdates-r2"]',)


def test_sha2_fails_only_where_the_firmware_lacks_it() -> None:
    leaf = cert(["ucupdates-r2.contoso.com", "ucupdates-r2"])
    result = judge(leaf, sha2=False)
    assert result.status is Status.FAIL and result.fix is not None and "SHA-1" in result.fix.why
    # On CX700 firmware the update check is plain HTTP inside, so the HTTPS certificate only warns.
    assert judge(leaf, sha2=False, profile=Profile.CX700_35).status is Status.WARN


@pytest.mark.parametrize(
    ("days", "status", "words"),
    [
        ((-400, -1), Status.FAIL, "validity"),
        ((1, 30), Status.FAIL, "validity"),
        ((-10, 10), Status.WARN, "expires"),
    ],
)
def test_validity(days: tuple[int, int], status: Status, words: str) -> None:
    result = judge(cert(["ucupdates-r2.contoso.com", "ucupdates-r2"], days=days))
    assert result.status is status and result.fix is not None and words in result.fix.why


def test_untrusted_chain_names_the_phone_status_code() -> None:
    result = judge(cert(["ucupdates-r2.contoso.com", "ucupdates-r2"]), chain_error="self-signed certificate")
    assert result.status is Status.FAIL and result.fix is not None and "0x2F0D" in result.fix.why


def test_no_handshake() -> None:
    tls = TlsEvidence("192.0.2.10", 443, "ucupdates-r2", error="ConnectionRefusedError")
    result = verdict_web.certificate(step("update.tls"), tls, NAMES, now=NOW, sha2=True, ca=None)
    assert result.status is Status.FAIL


def answer(name: str, rdtype: str, via: str, *records: Record) -> Answer:
    return Answer(Query(name, rdtype, via), records, None if records else "NXDOMAIN")  # type: ignore[arg-type]


def test_ntp_srv_in_the_wrong_zone_is_moved_to_the_sip_domain() -> None:
    s = step("time.locate")
    asked = [answer(q.name, q.rdtype, q.via) for q in s.queries]
    found = answer(
        "_ntp._udp.contoso.com", "SRV", "DHCP domain", Record("ntp.contoso.com", 123, "SRV 0 0 123 ntp.")
    )
    result = verdict.time_source(s, SITE, asked, [found], Hints())
    assert result.status is Status.FAIL and result.fix is not None
    assert result.fix.lines == ("_ntp._udp.fabrikam.com. 3600 IN SRV 0 0 123 ntp.contoso.com.",)


def test_time_windows_com_fallback_only_warns() -> None:
    s = step("time.locate")
    asked = [answer("_ntp._udp.fabrikam.com", "SRV", "NTP SRV in the SIP domain")]
    asked.append(
        answer("time.windows.com", "A", "hard-coded fallback", Record("192.0.2.1", 123, "A 192.0.2.1"))
    )
    result = verdict.time_source(s, SITE, asked, [], Hints())
    assert result.status is Status.WARN and result.found == ("192.0.2.1", 123)


@pytest.mark.parametrize(
    ("evidence", "status"),
    [
        (NtpEvidence("127.0.0.1", 123, 2, 0.01), Status.PASS),
        (NtpEvidence("127.0.0.1", 123, 16, 0.01), Status.FAIL),
        (NtpEvidence("127.0.0.1", 123, 3, 3600.0), Status.WARN),
        (NtpEvidence("127.0.0.1", 123, error="No response received"), Status.FAIL),
    ],
)
def test_ntp_answers(evidence: NtpEvidence, status: Status) -> None:
    assert verdict.ntp(step("time.ntp"), "ntp.contoso.com", evidence, None).status is status


def test_sip_found_only_by_concatenation_warns_with_the_record_for_the_sip_zone() -> None:
    s = step("sip.locate")
    asked = [answer("_sipinternaltls._tcp.fabrikam.com", "SRV", "SIP domain")]
    rec = Record("pool01.contoso.com", 5061, "SRV 0 0 5061 pool01.contoso.com.")
    asked.append(
        answer("_sipinternaltls._tcp.fabrikam.com.contoso.com", "SRV", "SIP domain + option 15 suffix", rec)
    )
    target = answer("pool01.contoso.com", "A", "target", Record("192.0.2.7", None, "A 192.0.2.7"))
    result = verdict.sip(s, SITE, asked, target, Hints())
    assert result.status is Status.WARN and result.fix is not None
    assert result.fix.lines == (
        "_sipinternaltls._tcp.fabrikam.com. 3600 IN SRV 0 0 5061 pool01.contoso.com.",
    )


def test_netbios_name_unrelated_to_the_ad_domain_advises_upn_sign_in() -> None:
    site = Site("contoso.net", "fabrikam.com", netbios="FABRIKAM")
    s = step("dc.locate", site)
    asked = [answer(q.name, q.rdtype, q.via) for q in s.queries]
    found = answer(
        "_ldap._tcp.dc._msdcs.contoso.net", "SRV", "domain", Record("dc01.contoso.net", 389, "SRV")
    )
    result = verdict.dc_locator(s, site, asked, [found])
    assert result.status is Status.FAIL and result.fix is not None and "UPN" in result.fix.why


def test_update_record_only_in_the_sip_domain() -> None:
    s = step("update.locate")
    found = answer("ucupdates-r2.fabrikam.com", "A", "SIP domain", Record("192.0.2.9", None, "A 192.0.2.9"))
    result = verdict.update_name(s, SITE, [answer("ucupdates-r2.contoso.com", "A", "x")], [found], None)
    assert result.fix is not None and result.fix.lines == ("ucupdates-r2.contoso.com. 3600 IN A 192.0.2.9",)
    assert "appends the option 15 domain" in result.fix.why


def test_download_needs_binary_octet_stream() -> None:
    s = step("update.download")
    url = "http://pool/CPE.nbt"
    wrong = HttpEvidence("GET", url, "pool", 206, "text/plain", "bytes 0-1023/9999", b"x")
    assert verdict_web.download(s, url, wrong).status is Status.FAIL
    full = HttpEvidence("GET", url, "pool", 200, "binary/octet-stream")
    assert verdict_web.download(s, url, full).status is Status.WARN
    assert verdict_web.download(s, None, None).status is Status.SKIP


def test_checkin_error_status() -> None:
    s = step("update.checkin")
    got = HttpEvidence("GET", "http://192.0.2.1/RequestHandler/ucdevice.upx", "ucupdates-r2.contoso.com", 404)
    result, image = verdict_web.checkin(s, "ucupdates-r2.contoso.com", [got], None)
    assert (
        result.status is Status.FAIL
        and image is None
        and result.fix is not None
        and "0x0/404" in result.fix.why
    )


def test_no_sip_record_uses_the_site_plan_for_the_fix() -> None:
    s = step("sip.locate")
    asked = [answer(q.name, q.rdtype, q.via) for q in s.queries]
    hints = Hints(registrar="pool01.contoso.com", registrar_ip="192.0.2.7")
    result = verdict.sip(s, SITE, asked, None, hints)
    assert result.status is Status.FAIL and result.fix is not None
    assert result.fix.lines == (
        "_sipinternaltls._tcp.fabrikam.com. 3600 IN SRV 0 0 5061 pool01.contoso.com.",
        "pool01.contoso.com. 3600 IN A 192.0.2.7",
    )
    bare = verdict.sip(s, SITE, asked, None, Hints())
    assert bare.fix is not None and "set [site] registrar_fqdn" in bare.fix.lines[0]


def test_time_windows_com_with_the_dhcp_suffix_also_only_warns() -> None:
    s = step("time.locate")
    asked = [answer(q.name, q.rdtype, q.via) for q in s.queries[:-1]]
    rec = Record("192.0.2.1", 123, "A 192.0.2.1")
    asked.append(answer("time.windows.com.contoso.com", "A", "fallback + option 15 suffix", rec))
    result = verdict.time_source(s, SITE, asked, [], Hints(time_source="ntp.contoso.com"))
    assert result.status is Status.WARN and result.fix is not None
    assert result.fix.lines == ("_ntp._udp.fabrikam.com. 3600 IN SRV 0 0 123 ntp.contoso.com.",)


def _reply(files: int) -> bytes:
    offered = tuple(
        ucdevice.OfferedFile("CPE.nbt", "CPE.cat", None, "4.0.7577.4455", NOW, "http://u:8080/D/CPE", "")
        for _ in range(files)
    )
    return ucdevice.render_response(ucdevice.Reply(offered, NOW, "3.5.6907.0", "3.5.6907.0"))


def test_checkin_reads_the_offer_with_the_updates_codec() -> None:
    s = step("update.checkin")
    url = "http://192.0.2.1/RequestHandler/ucdevice.upx"
    get = HttpEvidence("GET", url, "u", 200, "text/xml; charset=utf-8", body=_reply(0))
    post = HttpEvidence("POST", url, "u", 200, "text/xml; charset=utf-8", body=_reply(1))
    result, image = verdict_web.checkin(s, "u", [get, post], None)
    assert result.status is Status.PASS and image == "http://u:8080/D/CPE/CPE.nbt"
    assert "offers 4.0.7577.4455" in result.evidence[-1]


def test_https_checkin() -> None:
    s = step("update.checkin-https")
    url = "https://192.0.2.1/RequestHandler/ucdevice.upx"
    ok = HttpEvidence("POST", url, "ucupdates-r2", 200, "text/xml", body=_reply(1))
    assert verdict_web.checkin_https(s, "ucupdates-r2", ok).status is Status.PASS
    # Not required (the HTTP fallback is undocumented either way): a missing route only warns.
    missing = HttpEvidence("POST", url, "ucupdates-r2", 404, "text/plain", body=b"not found")
    result = verdict_web.checkin_https(s, "ucupdates-r2", missing)
    assert result.status is Status.WARN and result.fix is not None and "0x0/404" in result.fix.why
    html = HttpEvidence("POST", url, "ucupdates-r2", 200, "text/html", body=b"<html/>")
    assert verdict_web.checkin_https(s, "ucupdates-r2", html).status is Status.WARN
    assert verdict_web.checkin_https(s, "ucupdates-r2", None).status is Status.SKIP


def test_certprov_needs_a_root_chain_holding_the_ca() -> None:
    s = step("trust.certprov")
    ours, other = _self_signed("Contoso Root"), _self_signed("Other Root")
    der = pkcs7.serialize_certificates([ours], Encoding.DER)
    url = "http://192.0.2.1/CertProv/CertProvisioningService.svc"
    good = HttpEvidence("POST", url, "p", 200, "text/xml", body=certprov.render_root_chains([der]))
    assert verdict_web.certprov(s, good, ours).status is Status.PASS
    assert verdict_web.certprov(s, good, other).status is Status.FAIL
    fault = HttpEvidence("POST", url, "p", 500, "text/xml", body=certprov.render_fault("no"))
    assert verdict_web.certprov(s, fault, None).status is Status.FAIL
    wsdl = HttpEvidence("POST", url, "p", 200, "text/xml", body=b"<definitions/>")
    result = verdict_web.certprov(s, wsdl, None)
    assert result.status is Status.FAIL and "SOAP Envelope" in result.evidence[-1]


def _self_signed(name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
    )
    builder = builder.serial_number(1).not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=1))
    return builder.sign(key, hashes.SHA256())
