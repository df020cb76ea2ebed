"""SCEP against the real server on SQLite and PostgreSQL: refusals, one-time challenges, pending.

certmonger proves the happy path (tests/peers); here the client is tests/support/scep_client.py,
which can send what certmonger never would. Replies are checked with openssl where it can judge.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from phonehome.pki import scep
from phonehome.pki.cms import open_enveloped
from tests.support.peers import require_binary
from tests.support.pg import fresh_database
from tests.support.scep_client import Enrolment, make_csr, pki_message
from tests.support.server import PhonehomeServer


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PhonehomeServer]:
    tmp = tmp_path_factory.mktemp(f"scep-{request.param}")
    env = {
        "PHONEHOME_PKI__SCEP_ALLOW_PENDING": "true",
        "PHONEHOME_PKI__SCEP_SHARED_CHALLENGE": "site-wide-secret",
    }
    if request.param == "sqlite":
        server = PhonehomeServer(tmp / "data", env=env).start()
        try:
            yield server
        finally:
            server.kill()
    else:
        with fresh_database() as url:
            server = PhonehomeServer(tmp / "data", db_url=url, env=env).start()
            try:
                yield server
            finally:
                server.kill()


def _ra(server: PhonehomeServer) -> x509.Certificate:
    response = httpx.get(f"{server.http}/scep?operation=GetCACert&message=CAIdentifier", timeout=30)
    assert response.headers["content-type"] == "application/x-x509-ca-ra-cert"
    certs = pkcs7.load_der_pkcs7_certificates(response.content)
    assert certs[0].subject.rfc4514_string().startswith("CN=phonehome SCEP RA")
    return certs[0]


def _send(server: PhonehomeServer, message: bytes, *, get: bool = False) -> httpx.Response:
    url = f"{server.http}/scep"
    if get:
        params = {"operation": "PKIOperation", "message": base64.b64encode(message).decode()}
        return httpx.get(url, params=params, timeout=30)
    return httpx.post(url, params={"operation": "PKIOperation"}, content=message, timeout=30)


def _rep(server: PhonehomeServer, response: httpx.Response, enrolment: Enrolment) -> dict[str, object]:
    """Check the CertRep with openssl (signature, RA chaining to the CA), then read its attributes."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-pki-message"
    info = asn1_cms.ContentInfo.load(response.content)
    content = info["content"]["encap_content_info"]["content"].native
    # FAILURE and PENDING carry no content (RFC 8894 3.3.2): verified as detached over nothing.
    detached = [] if content else ["-content", "/dev/null"]
    verified = subprocess.run(
        [
            require_binary("openssl"),
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-CAfile",
            str(server.ca_file),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
            *detached,
        ],
        input=response.content,
        capture_output=True,
        timeout=30,
    )
    assert verified.returncode == 0, verified.stderr
    signer_info = info["content"]["signer_infos"][0]
    attrs = {a["type"].dotted: a["values"][0].dump() for a in signer_info["signed_attrs"]}
    out: dict[str, object] = {
        "status": int(core.load(attrs[scep.PKI_STATUS]).native),
        "transaction": core.load(attrs[scep.TRANSACTION_ID]).native,
        "recipient_nonce": core.OctetString.load(attrs[scep.RECIPIENT_NONCE]).native,
    }
    if scep.FAIL_INFO in attrs:
        out["fail_info"] = int(core.load(attrs[scep.FAIL_INFO]).native)
    if content:
        degenerate = open_enveloped(bytes(content), [(enrolment.signer, enrolment.key)]).content
        out["certs"] = pkcs7.load_der_pkcs7_certificates(degenerate)
    assert out["transaction"] == enrolment.transaction_id
    assert out["recipient_nonce"] == enrolment.nonce
    return out


def _key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="module")
def admin(srv: PhonehomeServer) -> Iterator[httpx.Client]:
    srv.cli("admin", "add-user", "pki-admin", "--password", "correct horse battery")
    token = srv.cli("admin", "token", "pki-admin").stdout.strip()
    with srv.admin_client(token) as client:
        yield client


def _issued_count(admin: httpx.Client) -> int:
    response = admin.get("/api/v1/pki/certificates")
    assert response.status_code == 200, response.text
    return sum(1 for c in response.json() if c["kind"] == "device")


def _challenge(admin: httpx.Client, account: str) -> str:
    response = admin.post("/api/v1/pki/scep-challenges", json={"account": account})
    assert response.status_code == 201, response.text
    return str(response.json()["password"])


def test_one_time_challenge_issues_once_and_retransmit_repeats(
    srv: PhonehomeServer, admin: httpx.Client
) -> None:
    ra = _ra(srv)
    challenge = _challenge(admin, "4711")
    key = _key()
    message, enrolment = pki_message(ra, make_csr(key, "SEP0004F2AABBCC", challenge), key=key)
    first = _rep(srv, _send(srv, message), enrolment)
    assert first["status"] == scep.PkiStatus.SUCCESS
    issued = first["certs"][0]  # type: ignore[index]
    assert issued.subject.rfc4514_string() == "CN=4711"
    # A client that lost our answer sends the same request again: the same certificate, no new one.
    again = _rep(srv, _send(srv, message, get=True), enrolment)
    assert again["certs"][0] == issued  # type: ignore[index]
    # The challenge is used up: another key with it is refused (badRequest), nothing issued.
    before = _issued_count(admin)
    other = _key()
    message, enrolment = pki_message(ra, make_csr(other, "x", challenge), key=other)
    refused = _rep(srv, _send(srv, message), enrolment)
    assert refused == {**refused, "status": scep.PkiStatus.FAILURE, "fail_info": scep.FailInfo.BAD_REQUEST}
    assert "certs" not in refused and _issued_count(admin) == before


def test_shared_challenge_uses_the_cn(srv: PhonehomeServer) -> None:
    ra = _ra(srv)
    key = _key()
    message, enrolment = pki_message(
        ra, make_csr(key, "4800", "site-wide-secret"), key=key, cipher="tripledes_3key"
    )
    rep = _rep(srv, _send(srv, message), enrolment)
    assert rep["status"] == scep.PkiStatus.SUCCESS
    assert rep["certs"][0].subject.rfc4514_string() == "CN=4800"  # type: ignore[index]


@pytest.mark.parametrize(
    ("case", "fail_info"),
    [
        ("wrong challenge", scep.FailInfo.BAD_REQUEST),
        ("1024-bit key", scep.FailInfo.BAD_ALG),
        ("EC key", scep.FailInfo.BAD_ALG),
        ("corrupt CSR", scep.FailInfo.BAD_REQUEST),
        ("signed by another key", scep.FailInfo.BAD_MESSAGE_CHECK),
        ("encrypted to another key", scep.FailInfo.BAD_MESSAGE_CHECK),
        ("unknown message type", scep.FailInfo.BAD_REQUEST),
        ("poll for an unknown transaction", scep.FailInfo.BAD_CERT_ID),
    ],
)
def test_refusals(srv: PhonehomeServer, admin: httpx.Client, case: str, fail_info: scep.FailInfo) -> None:
    ra = _ra(srv)
    key = _key()
    challenge = _challenge(admin, "refuse")
    csr = make_csr(key, "x", challenge)
    options: dict[str, object] = {"key": key}
    if case == "wrong challenge":
        csr = make_csr(key, "x", "not-the-challenge")
    elif case == "1024-bit key":
        small = _key(1024)
        csr, options["key"] = make_csr(small, "x", challenge), small
    elif case == "EC key":
        csr = make_csr(ec.generate_private_key(ec.SECP256R1()), "x", challenge)
    elif case == "corrupt CSR":
        csr = csr[:40]
    elif case == "signed by another key":
        options["sign_with"] = _key()
    elif case == "encrypted to another key":
        ra = _foreign_cert()
    elif case == "unknown message type":
        options["message_type"] = 99
    elif case == "poll for an unknown transaction":
        options["message_type"] = scep.MessageType.CERT_POLL
    before = _issued_count(admin)
    message, enrolment = pki_message(ra, csr, **options)  # type: ignore[arg-type]
    rep = _rep(srv, _send(srv, message), enrolment)
    assert (rep["status"], rep.get("fail_info")) == (scep.PkiStatus.FAILURE, fail_info)
    assert _issued_count(admin) == before
    audited = [line for line in srv.log_lines() if line.get("transaction") == enrolment.transaction_id]
    assert audited and audited[-1]["msg"] == "SCEP request refused"
    changes = admin.get(
        "/api/v1/changelog",
        params={"object_type": "scep_transaction", "object_id": enrolment.transaction_id},
    )
    assert changes.status_code == 200
    assert [c["action"] for c in changes.json()] == ["scep.refuse"]


def _foreign_cert() -> x509.Certificate:
    from tests.support.scep_client import self_signed

    return self_signed(_key(), "somebody else")


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage", b"\x30\x82\x01\x00" + b"\x00" * 10, base64.b64encode(b"\x30\x03\x02\x01\x01")],
)
def test_garbage_pkioperation_is_400_and_audited(
    srv: PhonehomeServer, admin: httpx.Client, body: bytes
) -> None:
    before = _issued_count(admin)
    response = httpx.post(f"{srv.http}/scep", params={"operation": "PKIOperation"}, content=body, timeout=30)
    assert response.status_code == 400
    assert response.text.startswith("SCEP PKIOperation:") and response.text.count("\n") == 1
    assert _issued_count(admin) == before
    bad_get = httpx.get(
        f"{srv.http}/scep", params={"operation": "PKIOperation", "message": "%%%"}, timeout=30
    )
    assert bad_get.status_code == 400
    unknown = httpx.get(f"{srv.http}/scep", params={"operation": "GetEverything"}, timeout=30)
    assert unknown.status_code == 400 and "unknown SCEP operation" in unknown.text
    assert any(line.get("msg") == "SCEP request refused" for line in srv.log_lines())


def test_pending_request_is_approved_and_polled(srv: PhonehomeServer, admin: httpx.Client) -> None:
    ra = _ra(srv)
    key = _key()
    message, enrolment = pki_message(ra, make_csr(key, "SEP-PENDING", None), key=key)
    assert _rep(srv, _send(srv, message), enrolment)["status"] == scep.PkiStatus.PENDING
    pending = admin.get("/api/v1/pki/scep-requests").json()
    assert {"transaction_id": enrolment.transaction_id, "subject": "CN=SEP-PENDING"}.items() <= next(
        p for p in pending if p["transaction_id"] == enrolment.transaction_id
    ).items()

    poll, poll_enrolment = pki_message(
        ra,
        b"\x30\x00",
        key=key,
        signer=enrolment.signer,
        transaction_id=enrolment.transaction_id,
        message_type=scep.MessageType.CERT_POLL,
    )
    assert _rep(srv, _send(srv, poll), poll_enrolment)["status"] == scep.PkiStatus.PENDING

    decision = f"/api/v1/pki/scep-requests/{enrolment.transaction_id}/decision"
    bad = admin.post(decision, json={"account": "no spaces"})
    assert bad.status_code == 400 and "invalid account" in bad.text
    approved = srv.cli("pki", "scep-approve", enrolment.transaction_id, "--account", "4900")
    assert "issued" in approved.stdout
    again = admin.post(decision, json={"account": "4900"})
    assert again.status_code == 409 and "not pending" in again.text
    unknown = admin.post("/api/v1/pki/scep-requests/nope/decision", json={"account": "4900"})
    assert unknown.status_code == 404
    rep = _rep(srv, _send(srv, poll), poll_enrolment)
    assert rep["status"] == scep.PkiStatus.SUCCESS
    assert rep["certs"][0].subject.rfc4514_string() == "CN=4900"  # type: ignore[index]


def test_caps_and_avaya_settings(srv: PhonehomeServer, tmp_path: Path) -> None:
    caps = httpx.get(f"{srv.http}/scep", params={"operation": "GetCACaps"}, timeout=30)
    assert {"POSTPKIOperation", "SHA-256", "AES"} <= set(caps.text.split())
    assert (
        httpx.get(
            f"{srv.https}/scep?operation=GetCACaps",
            verify=ssl.create_default_context(cafile=str(srv.ca_file)),
            timeout=30,
        ).status_code
        == 200
    )
    alias = httpx.get(f"{srv.http}/scep/pkiclient.exe", params={"operation": "GetCACaps"}, timeout=30)
    assert alias.text == caps.text
    settings = srv.cli("pki", "avaya-settings", "--host", "phones.contoso.com").stdout
    lines = dict(line.split(" ", 2)[1:] for line in settings.splitlines() if line.startswith("SET "))
    assert lines["MYCERTURL"].startswith("http://phones.contoso.com") and lines["MYCERTURL"].endswith("/scep")
    assert lines["MYCERTCN"] == "$SERIALNO" and lines["MYCERTKEYLEN"] == "2048"
    assert set(lines) == {
        "MYCERTURL",
        "MYCERTCN",
        "MYCERTDN",
        "MYCERTKEYLEN",
        "MYCERTRENEW",
        "MYCERTWAIT",
        "TRUSTCERTS",
        "BRURI",
    }
