"""The AD CS ``/certsrv`` root chain download (pure): certnew.p7b and certnew.cer.

The CX700 on OCS 2007 R2 fetches "/certsrv/certnew.p7b" and gets the base64 chain (deployment guide,
call-flow step 19); scripts use ``?ReqID=CACert&Renewal=-1&Enc=b64|bin``. ``Renewal=-1`` (or 0) is
the current CA certificate; phonehome keeps one CA, so any other renewal index is not found.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

P7B_TYPE = "application/x-pkcs7-certificates"
CER_TYPE = "application/pkix-cert"


class CertsrvQueryError(ValueError):
    """A certsrv query we do not serve."""


class UnknownRenewal(CertsrvQueryError):
    """Only the current CA certificate exists."""


@dataclass(frozen=True, slots=True)
class CertsrvQuery:
    encoding: Literal["b64", "bin"]


def parse_query(query: Mapping[str, str]) -> CertsrvQuery:
    """Keys are matched case-insensitively (IIS does); a missing Enc means binary."""
    lowered = {k.lower(): v.strip() for k, v in query.items()}
    req_id = lowered.get("reqid", "CACert")
    if req_id.lower() != "cacert":
        raise CertsrvQueryError(f"ReqID={req_id}: only ReqID=CACert (the CA chain) is served here")
    renewal = lowered.get("renewal", "-1")
    try:
        index = int(renewal)
    except ValueError:
        raise CertsrvQueryError(f"Renewal={renewal}: expected a number") from None
    if index not in (-1, 0):
        raise UnknownRenewal(f"Renewal={index}: there is only the current CA certificate (Renewal=-1)")
    enc = lowered.get("enc", "bin").lower()
    if enc not in ("b64", "bin"):
        raise CertsrvQueryError(f"Enc={enc}: expected b64 or bin")
    return CertsrvQuery("b64" if enc == "b64" else "bin")


def _b64_block(label: str, der: bytes) -> bytes:
    text = base64.b64encode(der).decode("ascii")
    body = "\r\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\r\n{body}\r\n-----END {label}-----\r\n".encode("ascii")


def render_p7b(chain: Sequence[x509.Certificate], encoding: Literal["b64", "bin"]) -> bytes:
    """The chain (issuing CA first, then up to the root) as a certs-only PKCS#7."""
    der = pkcs7.serialize_certificates(list(chain), serialization.Encoding.DER)
    return der if encoding == "bin" else _b64_block("PKCS7", der)


def render_cer(ca: x509.Certificate, encoding: Literal["b64", "bin"]) -> bytes:
    der = ca.public_bytes(serialization.Encoding.DER)
    return der if encoding == "bin" else _b64_block("CERTIFICATE", der)
