"""Reading certsrv p7b bundles in every form AD CS hands them out."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from phonehome.doctor.documents import parse_p7b


def _ca(name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_p7b_in_every_form_ad_cs_uses() -> None:
    cas = [_ca("Root"), _ca("Issuing")]
    der = pkcs7.serialize_certificates(cas, serialization.Encoding.DER)
    pem = pkcs7.serialize_certificates(cas, serialization.Encoding.PEM)
    armoured = b"-----BEGIN CERTIFICATE-----\r\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\r\n"
    for body in (der, pem, armoured, base64.b64encode(der)):
        assert parse_p7b(body) == cas


@pytest.mark.parametrize(
    "bad", [b"", b"<html>certsrv</html>", b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----", b"0\x03abc"]
)
def test_p7b_garbage(bad: bytes) -> None:
    with pytest.raises(ValueError, match="PKCS#7"):
        parse_p7b(bad)
