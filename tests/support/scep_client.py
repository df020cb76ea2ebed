"""A minimal SCEP client for tests that need malformed or hand-crafted pkiMessages.

The happy path is judged by certmonger (tests/peers); this builds what certmonger will not send:
wrong challenges, unsupported keys, corrupt CSRs, bad signatures.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from phonehome.pki import scep
from phonehome.pki.cms import seal_enveloped, write_signed


@dataclass
class Enrolment:
    key: rsa.RSAPrivateKey
    signer: x509.Certificate  # the transient self-signed certificate
    transaction_id: str
    nonce: bytes


def self_signed(key: rsa.RSAPrivateKey, cn: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def make_csr(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, cn: str, challenge: str | None) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if challenge is not None:
        builder = builder.add_attribute(x509.oid.AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
    from cryptography.hazmat.primitives import serialization

    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pki_message(
    ca: x509.Certificate,
    inner: bytes,
    *,
    message_type: int = scep.MessageType.PKCS_REQ,
    key: rsa.RSAPrivateKey | None = None,
    signer: x509.Certificate | None = None,
    transaction_id: str | None = None,
    cipher: str = "aes128_cbc",
    sign_with: rsa.RSAPrivateKey | None = None,
) -> tuple[bytes, Enrolment]:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = signer or self_signed(key, "scep-client")
    enrolment = Enrolment(key, signer, transaction_id or secrets.token_hex(16), secrets.token_bytes(16))
    attributes = [
        (scep.MESSAGE_TYPE, core.PrintableString(str(int(message_type))).dump()),
        (scep.TRANSACTION_ID, core.PrintableString(enrolment.transaction_id).dump()),
        (scep.SENDER_NONCE, core.OctetString(enrolment.nonce).dump()),
    ]
    der = write_signed(
        seal_enveloped(inner, ca, cipher),
        signer=signer,
        key=sign_with or key,
        attributes=attributes,
        now=dt.datetime.now(dt.UTC),
    )
    return der, enrolment
