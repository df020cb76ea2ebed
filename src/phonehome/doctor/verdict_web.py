"""Evidence from TLS and HTTP → verdicts: the update service's certificate, ucdevice.upx, the image
download, the root-CA sources. Pure: ``now`` and the profile's facts are arguments."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs7

from phonehome.doctor import documents, fixes
from phonehome.doctor.fixes import Fix
from phonehome.doctor.probes import HttpEvidence, TlsEvidence
from phonehome.doctor.verdict import Result, Status, failed, skipped, worst
from phonehome.doctor.walk import Step
from phonehome.pki import certprov as certprov_codec
from phonehome.updates import ucdevice

EXPIRY_WARNING = dt.timedelta(days=30)
SHA2 = ("sha224", "sha256", "sha384", "sha512")


def san_names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [n.lower() for n in ext.value.get_values_for_type(x509.DNSName)]


def certificate(
    step: Step, tls: TlsEvidence, names: tuple[str, ...], *, now: dt.datetime, sha2: bool, ca: str | None
) -> Result:
    """Chain to the CA, SAN covering every name the phone uses, validity, signature hash vs firmware."""
    head = f"TLS {tls.address}:{tls.port} SNI {tls.sni}"
    if tls.error is not None or tls.leaf is None:
        why = f"no TLS handshake with {tls.address}:{tls.port}: the HTTPS listener must be there"
        return failed(step, [f"{head} → {tls.error}"], Fix(why))
    cert = tls.leaf
    sans = san_names(cert)
    algorithm = cert.signature_hash_algorithm
    hash_name = algorithm.name if algorithm is not None else "none"
    evidence = [f"{head} → subject {cert.subject.rfc4514_string()}, SAN {', '.join(sans) or '(none)'}"]
    evidence.append(
        f"valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}, {hash_name}"
    )
    problems: list[tuple[Status, str, tuple[str, ...]]] = []
    if tls.chain_error is not None:
        evidence.append(f"chain: {tls.chain_error}")
        why = (
            f"the certificate does not chain to {ca or 'the system trust store'}; phones report "
            "Last Update Status 0x2F0D (untrusted CA): sign in once so the phone fetches the root "
            "chain, or issue the certificate from the CA the phones trust"
        )
        problems.append((Status.FAIL, why, ()))
    missing = [n for n in names if n.lower() not in sans]
    if missing:
        why = f"the SAN lacks {', '.join(missing)}: the phone connects by that name and drops the TLS session"
        wanted = list(dict.fromkeys([*sans, *(n.lower() for n in names)]))
        setting = fixes.server_names_setting(wanted)
        problems.append((Status.FAIL, f"{why}; reissue with SAN {', '.join(wanted)}", (setting,)))
    if now >= cert.not_valid_after_utc or now < cert.not_valid_before_utc:
        problems.append((Status.FAIL, "the certificate is outside its validity period", ()))
    elif cert.not_valid_after_utc - now < EXPIRY_WARNING:
        problems.append((Status.WARN, f"the certificate expires {cert.not_valid_after_utc:%Y-%m-%d}", ()))
    if hash_name in SHA2 and not sha2:
        why = f"signed with {hash_name}, which this firmware cannot validate (no SHA-2): reissue signed with SHA-1"
        problems.append((Status.FAIL, why, ()))
    elif isinstance(algorithm, hashes.MD5):
        problems.append((Status.WARN, "signed with MD5", ()))
    if not problems:
        return Result(step, Status.PASS, tuple(evidence))
    status = worst([p[0] for p in problems])
    if status is Status.FAIL and not step.required:
        status = Status.WARN
    fix = Fix("; ".join(p[1] for p in problems), tuple(line for p in problems for line in p[2]))
    return Result(step, status, tuple(evidence), fix)


def html_fix(host: str, server_ip: str | None) -> Fix:
    why = (
        f"{host} answers with something other than the Device Update service (HTML: another web site "
        "on port 80); point the name at phonehome and give phonehome port 80"
    )
    line = fixes.a_record(host, server_ip) if server_ip else f"{host}. {fixes.TTL} IN A <phonehome IP>"
    return Fix(why, (line, 'http = "0.0.0.0:80"'))


def _status(answer: HttpEvidence) -> ucdevice.Reply:
    return ucdevice.parse_response(answer.body, answer.content_type)


def image_url(reply: ucdevice.Reply) -> str | None:
    """The first offered file's internal URL (BaseURL + FileName), as the phone builds it."""
    if not reply.files:
        return None
    first = reply.files[0]
    return f"{first.base_url.rstrip('/')}/{first.file_name}" if first.base_url else None


def _describe(reply: ucdevice.Reply) -> str:
    image = image_url(reply)
    offer = f", offers {reply.files[0].version} at {image}" if image else ""
    return f"<Response> NumOfFiles={len(reply.files)}, ServerVersion {reply.server_version or '?'}{offer}"


def checkin(
    step: Step, host: str, answers: list[HttpEvidence], server_ip: str | None
) -> tuple[Result, str | None]:
    """GET and POST of ucdevice.upx must both give status XML; returns the offered image URL, if any."""
    evidence: list[str] = []
    image: str | None = None
    for answer in answers:
        evidence.append(answer.describe())
        if answer.error is not None:
            why = f"the update service at {answer.url} does not answer"
            return failed(step, evidence, Fix(why, ('http = "0.0.0.0:80"',))), None
        if answer.status != 200:
            why = f"{answer.method} ucdevice.upx answered HTTP {answer.status}; the phone shows 0x0/{answer.status}"
            return failed(step, evidence, Fix(why)), None
        try:
            reply = _status(answer)
        except ucdevice.MalformedResponse as exc:
            evidence.append(f"body: {exc}; starts {answer.body[:60]!r}")
            return failed(step, evidence, html_fix(host, server_ip)), None
        evidence.append(_describe(reply))
        image = image or image_url(reply)
    return Result(step, Status.PASS, tuple(evidence)), image


def checkin_https(step: Step, short: str, answer: HttpEvidence | None) -> Result:
    """The LPE check-in: POST over HTTPS 443 with the short name as SNI and Host (research §1.1)."""
    if answer is None:
        return skipped(step, "the update service certificate failed (see the certificate step)")
    evidence = [answer.describe() + f", SNI {short}"]
    if answer.error is not None:
        why = (
            f"no HTTPS check-in with SNI {short}: the phone cannot check in over 443; give phonehome "
            "its HTTPS listener with a certificate naming the short name"
        )
        return failed(step, evidence, Fix(why, ('https = "0.0.0.0:443"',)))
    if answer.status == 404:
        why = (
            "the HTTPS listener does not serve /RequestHandler/ucdevice.upx (Lync publishes the internal "
            "check-in as https, research §1.1): a phone that checks in over 443 gets 0x0/404; phonehome "
            "serves only /RequestHandlerExt/ucdevice.upx (with device credentials) over HTTPS"
        )
        return failed(step, evidence, Fix(why))
    if answer.status != 200:
        why = (
            f"POST ucdevice.upx over HTTPS answered HTTP {answer.status}; the phone shows 0x0/{answer.status}"
        )
        return failed(step, evidence, Fix(why))
    try:
        reply = _status(answer)
    except ucdevice.MalformedResponse as exc:
        evidence.append(f"body: {exc}; starts {answer.body[:60]!r}")
        why = f"port 443 for {short} answers with something other than the Device Update service"
        return failed(step, evidence, Fix(why, ('https = "0.0.0.0:443"',)))
    evidence.append(_describe(reply))
    return Result(step, Status.PASS, tuple(evidence))


OCTET_STREAM = "binary/octet-stream"


def download(step: Step, image: str | None, answer: HttpEvidence | None) -> Result:
    if image is None or answer is None:
        return skipped(step, "no image offered (NumOfFiles 0): nothing to download")
    evidence = [answer.describe() + (f", {answer.content_range}" if answer.content_range else "")]
    if answer.error is not None or answer.status not in (200, 206):
        return failed(step, evidence, Fix(f"the offered image {image} cannot be fetched"))
    ctype = answer.content_type.split(";")[0].strip().lower()
    if ctype != OCTET_STREAM:
        why = f"the image is served as {ctype or 'nothing'}; phones expect {OCTET_STREAM} (.nbt MIME map)"
        return failed(step, evidence, Fix(why))
    if answer.status == 200:
        return Result(
            step, Status.WARN, tuple(evidence), Fix("the server ignores Range: resumed downloads restart")
        )
    return Result(step, Status.PASS, tuple(evidence))


def certsrv(step: Step, answer: HttpEvidence, ca: x509.Certificate | None) -> Result:
    evidence = [answer.describe()]
    why = "the root chain is not downloadable from /certsrv/certnew.p7b (CX700 call flow 19)"
    if answer.error is not None or answer.status != 200:
        return failed(step, evidence, Fix(why))
    try:
        certs = documents.parse_p7b(answer.body)
    except ValueError as exc:
        evidence.append(str(exc))
        return failed(step, evidence, Fix(why))
    evidence.append("p7b: " + "; ".join(c.subject.rfc4514_string() for c in certs))
    if ca is not None and ca not in certs:
        return failed(step, evidence, Fix(f"the p7b does not hold the CA {ca.subject.rfc4514_string()}"))
    return Result(step, Status.PASS, tuple(evidence))


def certprov(step: Step, answer: HttpEvidence, ca: x509.Certificate | None) -> Result:
    """A real GetRootCertChains call: the answer must carry a root chain (holding the CA, when given)."""
    evidence = [answer.describe()]
    why = "the Certificate Provisioning service (DHCP option 43 URL) gives no root chain"
    if answer.error is not None or answer.status != 200:
        return failed(step, evidence, Fix(why))
    try:
        chains = certprov_codec.parse_root_chains(answer.body)
        certs = [c for der in chains for c in pkcs7.load_der_pkcs7_certificates(der)]
    except (certprov_codec.CertProvResponseError, ValueError) as exc:
        evidence.append(str(exc))
        return failed(step, evidence, Fix(why))
    evidence.append(
        f"GetRootCertChains: {len(chains)} chain(s): " + "; ".join(c.subject.rfc4514_string() for c in certs)
    )
    if ca is not None and ca not in certs:
        return failed(
            step, evidence, Fix(f"the root chains do not hold the CA {ca.subject.rfc4514_string()}")
        )
    return Result(step, Status.PASS, tuple(evidence))
