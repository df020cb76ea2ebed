"""Reading a certsrv ``certnew.p7b`` in whichever form an AD CS (or phonehome) hands it out. Pure.

The ucdevice.upx answer and the CertProv SOAP answer are read by their owners' codecs
(``phonehome.updates.ucdevice.parse_response``, ``phonehome.pki.certprov.parse_root_chains``).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

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
