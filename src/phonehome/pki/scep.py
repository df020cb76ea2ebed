"""SCEP (RFC 8894) messages: GetCACaps, the pkiMessage a client sends, and the CertRep we answer.

Pure: the request is parsed into a :class:`ScepRequest`; the CertRep is rendered from a status,
the request it answers, and (on success) the issued certificate. The CMS layer is ``cms.py``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from phonehome.pki.cms import (
    BadSignature,
    CmsError,
    Signed,
    UnsupportedAlgorithm,
    read_signed,
    seal_enveloped,
    write_signed,
)

# What we do, advertised by GetCACaps: POST (no base64 in URLs), AES, SHA-256/512, and renewal.
CAPABILITIES = ("POSTPKIOperation", "SHA-256", "SHA-512", "SHA-1", "AES", "DES3", "Renewal", "SCEPStandard")

# Most messages are a few kB; this bounds what we parse from a GET message= or POST body.
MAX_MESSAGE_BYTES = 64 * 1024


class MessageType(enum.IntEnum):
    CERT_REP = 3
    RENEWAL_REQ = 17
    PKCS_REQ = 19
    CERT_POLL = 20  # GetCertInitial in the drafts
    GET_CERT = 21
    GET_CRL = 22


class PkiStatus(enum.IntEnum):
    SUCCESS = 0
    FAILURE = 2
    PENDING = 3


class FailInfo(enum.IntEnum):
    BAD_ALG = 0
    BAD_MESSAGE_CHECK = 1
    BAD_REQUEST = 2
    BAD_TIME = 3
    BAD_CERT_ID = 4


_OID = "2.16.840.1.113733.1.9."
MESSAGE_TYPE = _OID + "2"
PKI_STATUS = _OID + "3"
FAIL_INFO = _OID + "4"
SENDER_NONCE = _OID + "5"
RECIPIENT_NONCE = _OID + "6"
TRANSACTION_ID = _OID + "7"


class ScepError(ValueError):
    """A pkiMessage we cannot even answer with a CertRep (no nonce, no transaction id): HTTP 400."""


@dataclass(frozen=True, slots=True)
class ScepRequest:
    message_type: int
    transaction_id: str
    sender_nonce: bytes
    signer: x509.Certificate
    envelope: bytes | None  # the pkcsPKIEnvelope (ContentInfo EnvelopedData), None when absent
    problem: FailInfo | None  # set when the message is readable but must be refused (bad signature)
    problem_reason: str = ""


def render_caps() -> str:
    return "\n".join(CAPABILITIES) + "\n"


def message_from_query(value: str) -> bytes:
    """The ``message=`` of a GET PKIOperation: base64, often with '+' turned into ' ' by the URL."""
    text = value.replace(" ", "+").replace("-", "+").replace("_", "/")
    text = "".join(text.split())
    text += "=" * (-len(text) % 4)
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ScepError("message= is not base64") from exc
    if len(der) > MAX_MESSAGE_BYTES:
        raise ScepError("message too large")
    return der


def message_from_body(body: bytes) -> bytes:
    """A POST body: DER, or (some clients) base64 of DER."""
    if len(body) > MAX_MESSAGE_BYTES * 2:
        raise ScepError("message too large")
    if body[:1] == b"\x30":
        return body
    try:
        return message_from_query(body.decode("ascii"))
    except UnicodeDecodeError as exc:
        raise ScepError("the body is neither DER nor base64") from exc


def _printable(values: tuple[bytes, ...] | None, name: str) -> str:
    if not values:
        raise ScepError(f"the message has no {name}")
    try:
        value = core.load(values[0]).native
    except ValueError as exc:
        raise ScepError(f"malformed {name}") from exc
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ScepError(f"malformed {name}")
    return value


def _octets(values: tuple[bytes, ...] | None, name: str) -> bytes:
    if not values:
        raise ScepError(f"the message has no {name}")
    try:
        value = core.OctetString.load(values[0]).native
    except ValueError as exc:
        raise ScepError(f"malformed {name}") from exc
    if not isinstance(value, bytes) or len(value) != 16:
        raise ScepError(f"{name} must be 16 bytes")
    return value


def parse_pki_message(der: bytes) -> ScepRequest:
    """Read a client's pkiMessage; a verification failure is kept in ``problem`` so it can be answered."""
    problem: FailInfo | None = None
    reason = ""
    try:
        signed: Signed = read_signed(der)
    except (BadSignature, UnsupportedAlgorithm) as exc:
        problem = FailInfo.BAD_ALG if isinstance(exc, UnsupportedAlgorithm) else FailInfo.BAD_MESSAGE_CHECK
        reason = str(exc)
        try:
            signed = read_signed(der, verify=False)
        except CmsError as inner:
            raise ScepError(f"not a SCEP pkiMessage: {inner}") from inner
    except CmsError as exc:
        raise ScepError(f"not a SCEP pkiMessage: {exc}") from exc
    attrs = signed.attributes
    type_text = _printable(attrs.get(MESSAGE_TYPE), "messageType")
    if not type_text.isdigit():
        raise ScepError("messageType is not a number")
    return ScepRequest(
        message_type=int(type_text),
        transaction_id=_printable(attrs.get(TRANSACTION_ID), "transactionID"),
        sender_nonce=_octets(attrs.get(SENDER_NONCE), "senderNonce"),
        signer=signed.signer,
        envelope=signed.content,
        problem=problem,
        problem_reason=reason,
    )


def render_cert_rep(
    request: ScepRequest,
    status: PkiStatus,
    *,
    signer: x509.Certificate,
    key: rsa.RSAPrivateKey,
    now: dt.datetime,
    fail_info: FailInfo | None = None,
    issued: Sequence[x509.Certificate] = (),
    cipher: str = "aes128_cbc",
    extra_certs: Sequence[x509.Certificate] = (),
) -> bytes:
    """The signed CertRep answering ``request``; on SUCCESS it carries ``issued`` enveloped to the client."""
    attributes = [
        (MESSAGE_TYPE, core.PrintableString(str(int(MessageType.CERT_REP))).dump()),
        (PKI_STATUS, core.PrintableString(str(int(status))).dump()),
        (TRANSACTION_ID, core.PrintableString(request.transaction_id).dump()),
        (SENDER_NONCE, core.OctetString(secrets.token_bytes(16)).dump()),
        (RECIPIENT_NONCE, core.OctetString(request.sender_nonce).dump()),
    ]
    content = None
    if status is PkiStatus.FAILURE:
        attributes.append(
            (
                FAIL_INFO,
                core.PrintableString(
                    str(int(FailInfo.BAD_REQUEST if fail_info is None else fail_info))
                ).dump(),
            )
        )
    elif status is PkiStatus.SUCCESS:
        if not issued:
            raise ValueError("a SUCCESS CertRep needs the issued certificate")
        degenerate = pkcs7.serialize_certificates(list(issued), serialization.Encoding.DER)
        content = seal_enveloped(degenerate, request.signer, cipher)
    return write_signed(
        content, signer=signer, key=key, attributes=attributes, now=now, extra_certs=extra_certs
    )


def degenerate_ca_certs(certs: Sequence[x509.Certificate]) -> bytes:
    """GetCACert with an intermediate: the CA and its chain as a certs-only PKCS#7."""
    return pkcs7.serialize_certificates(list(certs), serialization.Encoding.DER)
