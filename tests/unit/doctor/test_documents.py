"""Reading ucdevice.upx answers and certsrv p7b bundles."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from phonehome.doctor.documents import NotXml, parse_p7b, parse_status_xml, parse_xml

# CX700 guide p.31, verbatim apart from the browser's "- " fold marker.
NO_UPDATE = b"""<?xml version="1.0" ?>
<Response>
<NumOfFiles>0</NumOfFiles>
<CurrentTime>2009-06-04T06:22:03</CurrentTime>
<ServerVersion>3.5.6907.0</ServerVersion>
<ServiceVersion>3.5.6907.0</ServiceVersion>
</Response>"""


def test_status_xml_without_update() -> None:
    status = parse_status_xml(NO_UPDATE, "text/xml")
    assert (status.root, status.files, status.image_url) == ("response", 0, None)


def test_status_xml_offering_an_image() -> None:
    body = (
        b'<Response xmlns="urn:x"><NumOfFiles>1</NumOfFiles><FileName>CPE.nbt</FileName>'
        b"<BaseURL>http://pool01.contoso.com/DeviceUpdateFiles_Int/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE/"
        b"</BaseURL></Response>"
    )
    status = parse_status_xml(body)
    assert status.image_url == (
        "http://pool01.contoso.com/DeviceUpdateFiles_Int/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE/CPE.nbt"
    )


@pytest.mark.parametrize(
    ("body", "ctype", "reason"),
    [
        (b"<html><body>IIS</body></html>", "text/xml", "HTML"),
        (NO_UPDATE, "text/html; charset=utf-8", "HTML"),
        (b"", "text/xml", "empty"),
        (b"<Response><NumOfFiles>0</Response>", "", "well-formed"),
        (b"<Response><NumOfFiles>many</NumOfFiles></Response>", "", "NumOfFiles"),
        (b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', "", "well-formed"),
    ],
)
def test_not_status_xml(body: bytes, ctype: str, reason: str) -> None:
    with pytest.raises(NotXml, match=reason):
        parse_status_xml(body, ctype)


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


def test_parse_xml_keeps_namespaced_root() -> None:
    root = parse_xml(b'<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/"/>')
    assert root.tag.endswith("definitions")
