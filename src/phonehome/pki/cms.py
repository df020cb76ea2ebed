"""CMS (RFC 5652) as SCEP uses it: SignedData with signed attributes, EnvelopedData to one RSA key.

Pure: bytes in, bytes or frozen objects out. ``asn1crypto`` does the ASN.1, ``cryptography`` the
maths. Everything that can be wrong on the wire raises :class:`CmsError` (or a subclass), never an
asn1crypto or cryptography exception, so callers map one error family to a SCEP failInfo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CmsError(ValueError):
    """Malformed or unverifiable CMS."""


class UnsupportedAlgorithm(CmsError):
    """A digest, signature or cipher we do not accept."""


class BadSignature(CmsError):
    """The CMS signature or message digest does not verify."""


# The digests SCEP clients use; MD5 is refused (RFC 8894 §3.5.2 deprecates it).
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_HASHLIB = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}

# Content ciphers: (name, key bytes). DES3 stays for old SCEP clients (Avaya 96xx firmware).
CIPHERS = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32, "tripledes_3key": 24}


@dataclass(frozen=True, slots=True)
class Signed:
    """A verified SignedData: its content, the signer's certificate and its signed attributes (DER)."""

    content: bytes | None
    signer: x509.Certificate
    digest: str
    attributes: Mapping[str, tuple[bytes, ...]]  # attribute OID (dotted) -> values, each DER


def _first_line(exc: Exception) -> str:
    # asn1crypto explains nesting on extra lines; the reason line an admin sees is one line.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _load(spec: type[core.Asn1Value], der: bytes, what: str) -> core.Asn1Value:
    try:
        value = spec.load(der, strict=True)
        value.native  # noqa: B018 - forces the lazy parse, so a broken inner structure fails here
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise CmsError(f"malformed {what}: {_first_line(exc)}") from exc
    return value


def _digest_name(algorithm: algos.DigestAlgorithm) -> str:
    name = algorithm["algorithm"].native
    if name not in _DIGESTS:
        raise UnsupportedAlgorithm(f"digest algorithm {name} is not supported")
    return str(name)


def _signed_attrs_der(attrs: cms.CMSAttributes) -> bytes:
    # The signature covers the attributes as a SET OF (tag 0x31), not as the [0] IMPLICIT field.
    der: bytes = attrs.dump()
    return b"\x31" + der[1:]


def read_signed(der: bytes, *, verify: bool = True) -> Signed:
    """Parse a ContentInfo(SignedData) with one signer whose certificate is included, and verify it.

    ``verify=False`` only reads it: SCEP still needs the nonces of a message whose signature failed,
    to say so in a signed FAILURE reply.
    """
    try:
        return _read_signed(der, verify)
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise CmsError(f"malformed CMS signed data: {_first_line(exc)}") from exc


def _read_signed(der: bytes, verify: bool) -> Signed:
    info = _load(cms.ContentInfo, der, "CMS ContentInfo")
    if info["content_type"].native != "signed_data":
        raise CmsError(f"expected CMS signed data, got {info['content_type'].native}")
    signed = info["content"]
    signer_infos = signed["signer_infos"]
    if len(signer_infos) != 1:
        raise CmsError(f"expected one signer, found {len(signer_infos)}")
    signer_info = signer_infos[0]
    sid = signer_info["sid"]
    certificates = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    signer_asn1 = None
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            if (
                cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native
            ):
                signer_asn1 = cert
        elif cert.key_identifier == sid.chosen.native:
            signer_asn1 = cert
    if signer_asn1 is None:
        raise CmsError("the signer's certificate is not in the message")
    try:
        signer = x509.load_der_x509_certificate(signer_asn1.dump())
    except ValueError as exc:
        raise CmsError(f"malformed signer certificate: {exc}") from exc
    digest = _digest_name(signer_info["digest_algorithm"])
    content = signed["encap_content_info"]["content"]
    body = None if content.native is None else bytes(content.native)
    attrs = signer_info["signed_attrs"]
    if not attrs:
        raise CmsError("the signer info carries no signed attributes")
    values: dict[str, tuple[bytes, ...]] = {}
    for attr in attrs:
        values[attr["type"].dotted] = tuple(v.dump() for v in attr["values"])
    if verify:
        _check_digest(values, body or b"", digest)
        _verify(signer, signer_info["signature"].native, _signed_attrs_der(attrs), digest)
    return Signed(body, signer, digest, values)


def _check_digest(values: Mapping[str, tuple[bytes, ...]], body: bytes, digest: str) -> None:
    found = values.get("1.2.840.113549.1.9.4")
    if not found:
        raise CmsError("the signed attributes carry no message digest")
    expected = core.OctetString.load(found[0]).native
    if hashlib.new(_HASHLIB[digest], body).digest() != expected:
        raise BadSignature("the message digest does not match the content")


def _verify(cert: x509.Certificate, signature: bytes, data: bytes, digest: str) -> None:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm("only RSA signers are supported")
    try:
        key.verify(signature, data, rsa_padding.PKCS1v15(), _DIGESTS[digest]())
    except InvalidSignature as exc:
        raise BadSignature("the CMS signature does not verify") from exc


def write_signed(
    content: bytes | None,
    *,
    signer: x509.Certificate,
    key: rsa.RSAPrivateKey,
    attributes: Sequence[tuple[str, bytes]],
    digest: str = "sha256",
    extra_certs: Sequence[x509.Certificate] = (),
    now: dt.datetime,
) -> bytes:
    """A ContentInfo(SignedData) over ``content`` (type data) with the given extra signed attributes."""
    body = content or b""
    signer_asn1 = asn1_x509.Certificate.load(signer.public_bytes(serialization.Encoding.DER))
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": now})]}),
        cms.CMSAttribute(
            {"type": "message_digest", "values": [hashlib.new(_HASHLIB[digest], body).digest()]}
        ),
    ]
    for oid, value_der in attributes:
        attrs.append(cms.CMSAttribute({"type": oid, "values": [core.Any.load(value_der)]}))
    # DER sorts a SET OF by encoding; OpenSSL's PKCS7 verifier re-encodes it sorted before checking
    # the signature, so an unsorted set fails there whenever the random nonce changes the order.
    signed_attrs = cms.CMSAttributes(sorted(attrs, key=lambda a: a.dump()))
    signature = key.sign(_signed_attrs_der(signed_attrs), rsa_padding.PKCS1v15(), _DIGESTS[digest]())
    certs = [signer_asn1] + [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra_certs
    ]
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest})],
            "encap_content_info": {"content_type": "data", "content": content},
            "certificates": certs,
            "signer_infos": [
                {
                    "version": "v1",
                    "sid": cms.SignerIdentifier(
                        {
                            "issuer_and_serial_number": {
                                "issuer": signer_asn1.issuer,
                                "serial_number": signer_asn1.serial_number,
                            }
                        }
                    ),
                    "digest_algorithm": {"algorithm": digest},
                    "signed_attrs": signed_attrs,
                    "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
                    "signature": signature,
                }
            ],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def _cipher(name: str, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    if name == "tripledes_3key":
        return Cipher(TripleDES(key), modes.CBC(iv))
    return Cipher(algorithms.AES(key), modes.CBC(iv))


@dataclass(frozen=True, slots=True)
class Opened:
    content: bytes
    cipher: str  # the content cipher the sender chose; the answer goes back in the same one


Recipient = tuple[x509.Certificate, rsa.RSAPrivateKey]


def open_enveloped(der: bytes, recipients: Sequence[Recipient]) -> Opened:
    """Decrypt a ContentInfo(EnvelopedData) sent to one of ``recipients`` (RSA key transport, CBC).

    The key is chosen by the RecipientInfo's issuer+serial (or key id), never by trial: with
    PKCS#1 v1.5 implicit rejection a wrong key "decrypts" to random bytes instead of failing.
    """
    try:
        return _open_enveloped(der, recipients)
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise CmsError(f"malformed CMS enveloped data: {_first_line(exc)}") from exc


def _matches(rid: cms.RecipientIdentifier, cert: x509.Certificate) -> bool:
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if rid.name == "issuer_and_serial_number":
        return bool(
            parsed.issuer == rid.chosen["issuer"]
            and parsed.serial_number == rid.chosen["serial_number"].native
        )
    return bool(parsed.key_identifier == rid.chosen.native)


def _open_enveloped(der: bytes, recipients: Sequence[Recipient]) -> Opened:
    info = _load(cms.ContentInfo, der, "CMS ContentInfo")
    if info["content_type"].native != "enveloped_data":
        raise CmsError(f"expected CMS enveloped data, got {info['content_type'].native}")
    enveloped = info["content"]
    encrypted = enveloped["encrypted_content_info"]
    algorithm = encrypted["content_encryption_algorithm"]
    name = algorithm["algorithm"].native
    if name not in CIPHERS:
        raise UnsupportedAlgorithm(f"content cipher {name} is not supported")
    iv = algorithm["parameters"].native
    ciphertext = encrypted["encrypted_content"].native
    if not isinstance(iv, bytes) or not isinstance(ciphertext, bytes):
        raise CmsError("the enveloped data has no IV or no content")
    for recipient in enveloped["recipient_infos"]:
        if recipient.name != "ktri":
            continue
        ktri = recipient.chosen
        key = next((k for cert, k in recipients if _matches(ktri["rid"], cert)), None)
        if key is None:
            continue
        if ktri["key_encryption_algorithm"]["algorithm"].native != "rsaes_pkcs1v15":
            raise UnsupportedAlgorithm("only RSA PKCS#1 v1.5 key transport is supported")
        try:
            cek = key.decrypt(ktri["encrypted_key"].native, rsa_padding.PKCS1v15())
        except ValueError as exc:
            raise CmsError("the content key does not decrypt") from exc
        if len(cek) != CIPHERS[name] or len(iv) not in (8, 16):
            raise CmsError("the content key or IV has the wrong length")
        try:
            decryptor = _cipher(name, cek, iv).decryptor()
            padded = decryptor.update(ciphertext) + decryptor.finalize()
            block = 64 if name == "tripledes_3key" else 128
            unpadder = padding.PKCS7(block).unpadder()
            return Opened(unpadder.update(padded) + unpadder.finalize(), name)
        except ValueError as exc:
            raise CmsError("the enveloped content does not decrypt") from exc
    raise CmsError("the enveloped data is not addressed to this server's key")


def seal_enveloped(content: bytes, recipient: x509.Certificate, cipher: str = "aes128_cbc") -> bytes:
    """A ContentInfo(EnvelopedData) of ``content`` for ``recipient``'s RSA key."""
    public = recipient.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm("the recipient's key is not RSA")
    cek = os.urandom(CIPHERS[cipher])
    iv = os.urandom(8 if cipher == "tripledes_3key" else 16)
    block = 64 if cipher == "tripledes_3key" else 128
    padder = padding.PKCS7(block).padder()
    encryptor = _cipher(cipher, cek, iv).encryptor()
    ciphertext = encryptor.update(padder.update(content) + padder.finalize()) + encryptor.finalize()
    rcpt = asn1_x509.Certificate.load(recipient.public_bytes(serialization.Encoding.DER))
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [
                cms.RecipientInfo(
                    name="ktri",
                    value={
                        "version": "v0",
                        "rid": cms.RecipientIdentifier(
                            name="issuer_and_serial_number",
                            value={"issuer": rcpt.issuer, "serial_number": rcpt.serial_number},
                        ),
                        "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
                        "encrypted_key": public.encrypt(cek, rsa_padding.PKCS1v15()),
                    },
                )
            ],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": cipher, "parameters": iv},
                "encrypted_content": ciphertext,
            },
        }
    )
    return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())
