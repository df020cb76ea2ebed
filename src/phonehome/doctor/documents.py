"""Reading what the update and trust services answer: status XML, a certsrv p7b, a CertProv document.

Pure. The ucdevice.upx reader is deliberately lenient (element names matched case-insensitively by local
name) because the exact schema is unconfirmed (research §0, §2); once the updates slice is merged, its codec
replaces :func:`parse_status_xml`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from defusedxml import DefusedXmlException


class NotXml(ValueError):
    """The body is not an XML document (HTML, empty, or malformed)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def parse_xml(body: bytes, content_type: str = "") -> Element:
    """The document's root; HTML (by content type or root element) is refused even when well-formed."""
    if "html" in content_type.lower():
        raise NotXml(f"Content-Type {content_type!r} is HTML")
    if not body.strip():
        raise NotXml("empty body")
    try:
        root: Element = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise NotXml(f"not well-formed XML: {exc}") from exc
    if _local(root.tag) == "html":
        raise NotXml("the document is HTML (<html> root)")
    return root


@dataclass(frozen=True, slots=True)
class Status:
    root: str
    files: int | None
    image_url: str | None  # BaseURL + FileName when the service offers an image


def parse_status_xml(body: bytes, content_type: str = "") -> Status:
    """The ucdevice.upx answer: ``<Response><NumOfFiles>…`` (CX700 guide p.31), BaseURL/FileName when an
    update is offered (call flow 25)."""
    root = parse_xml(body, content_type)
    fields: dict[str, str] = {}
    for element in root.iter():
        text = (element.text or "").strip()
        if text:
            fields.setdefault(_local(element.tag), text)
    files: int | None = None
    if "numoffiles" in fields:
        try:
            files = int(fields["numoffiles"])
        except ValueError as exc:
            raise NotXml(f"NumOfFiles is not a number: {fields['numoffiles']!r}") from exc
    image = None
    if "baseurl" in fields and "filename" in fields:
        image = f"{fields['baseurl'].rstrip('/')}/{fields['filename']}"
    return Status(_local(root.tag), files, image)


_ARMOR = re.compile(rb"-----(BEGIN|END) [A-Z0-9 ]+-----")


def parse_p7b(body: bytes) -> list[x509.Certificate]:
    """A certsrv ``certnew.p7b`` in any of the forms AD CS hands out: PEM PKCS7, base64 (``Enc=b64``, often
    armoured as CERTIFICATE although it holds a PKCS7), or DER (``Enc=bin``)."""
    try:
        if b"-----BEGIN PKCS7-----" in body:
            return pkcs7.load_pem_pkcs7_certificates(body)
        if body.lstrip().startswith(b"0"):  # 0x30: a DER SEQUENCE
            return pkcs7.load_der_pkcs7_certificates(body)
        der = base64.b64decode(_ARMOR.sub(b"", body), validate=False)
        return pkcs7.load_der_pkcs7_certificates(der)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"not a PKCS#7 certificate bundle: {exc}") from exc
