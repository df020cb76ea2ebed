"""CMS and SCEP codecs, CSR checks and the CA's certificate building: tables of bad input."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from phonehome.pki import ca as ca_mod
from phonehome.pki import cms, scep, store
from phonehome.pki.enrol import EnrolRefused, read_csr
from tests.support.scep_client import make_csr, pki_message, self_signed

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> ca_mod.Issued:
    return ca_mod.make_ca("test CA", now=NOW, key=ca_mod.new_key(2048))


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return ca_mod.new_key(2048)


@pytest.mark.parametrize("cipher", sorted(cms.CIPHERS))
def test_envelope_round_trip(ca: ca_mod.Issued, cipher: str) -> None:
    sealed = cms.seal_enveloped(b"hello phone", ca.certificate, cipher)
    stranger = ca_mod.make_ca("stranger", now=NOW, key=ca_mod.new_key(2048))
    opened = cms.open_enveloped(sealed, [(stranger.certificate, stranger.key), (ca.certificate, ca.key)])
    assert (opened.content, opened.cipher) == (b"hello phone", cipher)


def test_envelope_for_someone_else(ca: ca_mod.Issued, key: rsa.RSAPrivateKey) -> None:
    sealed = cms.seal_enveloped(b"x", ca.certificate)
    with pytest.raises(cms.CmsError, match="not addressed"):
        cms.open_enveloped(sealed, [(self_signed(key, "other"), key)])


def test_signed_round_trip_and_tampering(ca: ca_mod.Issued) -> None:
    der = cms.write_signed(
        b"body",
        signer=ca.certificate,
        key=ca.key,
        attributes=[(scep.TRANSACTION_ID, core.PrintableString("t1").dump())],
        now=NOW,
    )
    signed = cms.read_signed(der)
    assert signed.content == b"body" and signed.signer == ca.certificate
    assert core.load(signed.attributes[scep.TRANSACTION_ID][0]).native == "t1"
    tampered = der.replace(b"body", b"bodz")
    with pytest.raises(cms.BadSignature, match="message digest"):
        cms.read_signed(tampered)
    assert cms.read_signed(tampered, verify=False).content == b"bodz"


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x00",
        b"\x30\x03\x02\x01\x01",
        bytes.fromhex("3080"),
        b"\x30\x82\xff\xff" + b"\x00" * 8,
        base64.b64decode("MAYGBCoDBAU="),
    ],
)
def test_malformed_cms(der: bytes, ca: ca_mod.Issued) -> None:
    with pytest.raises(cms.CmsError):
        cms.read_signed(der)
    with pytest.raises(cms.CmsError):
        cms.open_enveloped(der, [(ca.certificate, ca.key)])


def test_pki_message_parse_and_cert_rep(ca: ca_mod.Issued, key: rsa.RSAPrivateKey) -> None:
    message, enrolment = pki_message(ca.certificate, make_csr(key, "4711", "pw"), key=key)
    request = scep.parse_pki_message(message)
    assert (request.message_type, request.transaction_id, request.sender_nonce) == (
        19,
        enrolment.transaction_id,
        enrolment.nonce,
    )
    assert request.problem is None and request.signer == enrolment.signer
    leaf = ca_mod.certify(ca, key.public_key(), common_name="4711", now=NOW, server=False, client=True)
    rep = cms.read_signed(
        scep.render_cert_rep(
            request, scep.PkiStatus.SUCCESS, signer=ca.certificate, key=ca.key, now=NOW, issued=[leaf]
        )
    )
    assert core.load(rep.attributes[scep.PKI_STATUS][0]).native == "0"
    assert core.OctetString.load(rep.attributes[scep.RECIPIENT_NONCE][0]).native == enrolment.nonce
    failure = cms.read_signed(
        scep.render_cert_rep(
            request,
            scep.PkiStatus.FAILURE,
            signer=ca.certificate,
            key=ca.key,
            now=NOW,
            fail_info=scep.FailInfo.BAD_ALG,
        )
    )
    assert failure.content is None and core.load(failure.attributes[scep.FAIL_INFO][0]).native == "0"
    with pytest.raises(ValueError, match="needs the issued"):
        scep.render_cert_rep(request, scep.PkiStatus.SUCCESS, signer=ca.certificate, key=ca.key, now=NOW)


def test_pki_message_with_a_bad_signature_is_kept_for_a_failure(
    ca: ca_mod.Issued, key: rsa.RSAPrivateKey
) -> None:
    message, _ = pki_message(ca.certificate, b"csr", key=key, sign_with=ca_mod.new_key(2048))
    request = scep.parse_pki_message(message)
    assert request.problem is scep.FailInfo.BAD_MESSAGE_CHECK


@pytest.mark.parametrize(
    ("value", "ok"),
    [("MAMCAQE=", True), ("MAMCAQE", True), ("MAMCAQE%3D", False), ("***", False)],
)
def test_get_message_decoding(value: str, ok: bool) -> None:
    if ok:
        assert scep.message_from_query(value) == b"\x30\x03\x02\x01\x01"
    else:
        with pytest.raises(scep.ScepError):
            scep.message_from_query(value)


def test_get_message_space_is_plus() -> None:
    assert scep.message_from_query(" +8=") == scep.message_from_query("++8=") == b"\xfb\xef"


def test_post_body_der_or_base64() -> None:
    assert scep.message_from_body(b"\x30\x03\x02\x01\x01") == b"\x30\x03\x02\x01\x01"
    assert scep.message_from_body(b"MAMCAQE=\r\n") == b"\x30\x03\x02\x01\x01"
    with pytest.raises(scep.ScepError):
        scep.message_from_body(b"\xff\xfe")


def test_read_csr_table(key: rsa.RSAPrivateKey) -> None:
    facts = read_csr(make_csr(key, "SEP001122", "pw"), min_key_bits=2048)
    assert (facts.common_name, facts.challenge, facts.key_bits) == ("SEP001122", "pw", 2048)
    assert read_csr(make_csr(key, "x", None), min_key_bits=2048).challenge is None
    cases = [
        (b"\x30\x00", scep.FailInfo.BAD_REQUEST),
        (make_csr(ca_mod.new_key(1024), "x", "pw"), scep.FailInfo.BAD_ALG),
        (make_csr(ec.generate_private_key(ec.SECP256R1()), "x", "pw"), scep.FailInfo.BAD_ALG),
    ]
    for der, fail in cases:
        with pytest.raises(EnrolRefused) as caught:
            read_csr(der, min_key_bits=2048)
        assert caught.value.fail_info is fail
    assert read_csr(make_csr(ca_mod.new_key(1024), "x", "pw"), min_key_bits=1024).key_bits == 1024


def test_sha1_legacy_leaf(ca: ca_mod.Issued) -> None:
    leaf = ca_mod.make_leaf(
        ca,
        common_name="ucupdates-r2",
        dns_names=["ucupdates-r2"],
        now=NOW,
        hash_algorithm=ca_mod.signature_hash("sha1"),
    )
    assert isinstance(leaf.certificate.signature_hash_algorithm, hashes.SHA1)
    assert leaf.certificate.subject.rfc4514_string() == "CN=ucupdates-r2"
    with pytest.raises(ValueError, match="unknown signature hash"):
        ca_mod.signature_hash("md5")


def test_ca_material_checks_and_ra(tmp_path: Path, ca: ca_mod.Issued, key: rsa.RSAPrivateKey) -> None:
    paths = store.PkiPaths(tmp_path)
    with pytest.raises(ValueError, match="does not belong"):
        store.check_ca_material(ca.certificate, key, [])
    leaf = ca_mod.make_leaf(ca, common_name="x", now=NOW, key=key)
    with pytest.raises(ValueError, match="not a CA"):
        store.check_ca_material(leaf.certificate, key, [])
    other = ca_mod.make_ca("other", now=NOW, key=ca_mod.new_key(2048))
    with pytest.raises(ValueError, match="does not link up"):
        store.check_ca_material(ca.certificate, ca.key, [other.certificate])
    store.install_ca(paths, ca, [], passphrase=b"secret")
    assert paths.ca_key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(TypeError):
        store.load_ca(paths)
    assert store.load_ca(paths, b"secret").certificate == ca.certificate
    ra = store.load_or_make_ra(paths, ca, NOW)
    assert store.load_or_make_ra(paths, ca, NOW).certificate == ra.certificate
    store.install_ca(paths, other, [])
    assert list(tmp_path.glob("pki/ca-retired-*.pem"))
    renewed = store.load_or_make_ra(paths, other, NOW)
    assert renewed.certificate.issuer == other.certificate.subject


def test_self_signed_helper_is_rsa(key: rsa.RSAPrivateKey) -> None:
    cert = self_signed(key, "client")
    assert cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert isinstance(cert, x509.Certificate)
