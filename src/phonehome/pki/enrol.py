"""What a SCEP enrolment request must satisfy before anything is signed (pure).

The decision takes the decrypted PKCS#10 and the policy; it names the SCEP failInfo for each refusal,
so the handler only renders it. Challenge checking against stored one-time passwords is the
service's job; this module only extracts the password.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AttributeOID, NameOID

from phonehome.pki.scep import FailInfo

# CSR signature hashes we accept; MD5 (and anything unknown) is badAlg.
_CSR_HASHES = {"sha1", "sha224", "sha256", "sha384", "sha512"}


class EnrolRefused(ValueError):
    def __init__(self, fail_info: FailInfo, reason: str) -> None:
        super().__init__(reason)
        self.fail_info = fail_info
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CsrFacts:
    csr: x509.CertificateSigningRequest
    common_name: str | None
    challenge: str | None
    key_bits: int


def read_csr(der: bytes, *, min_key_bits: int, max_key_bits: int = 8192) -> CsrFacts:
    try:
        csr = x509.load_der_x509_csr(der)
    except ValueError as exc:
        raise EnrolRefused(FailInfo.BAD_REQUEST, "the PKCS#10 request is corrupt") from exc
    try:
        key = csr.public_key()
    except (ValueError, TypeError) as exc:
        raise EnrolRefused(FailInfo.BAD_ALG, "the request's public key is not supported") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise EnrolRefused(FailInfo.BAD_ALG, f"{type(key).__name__} keys are not supported: use RSA")
    if not min_key_bits <= key.key_size <= max_key_bits:
        raise EnrolRefused(
            FailInfo.BAD_ALG, f"RSA key of {key.key_size} bits: expected {min_key_bits} to {max_key_bits}"
        )
    algorithm = csr.signature_hash_algorithm
    if algorithm is None or algorithm.name not in _CSR_HASHES:
        name = algorithm.name if algorithm else "none"
        raise EnrolRefused(FailInfo.BAD_ALG, f"request signed with {name}: not accepted")
    if not csr.is_signature_valid:
        raise EnrolRefused(FailInfo.BAD_MESSAGE_CHECK, "the PKCS#10 signature does not verify")
    return CsrFacts(csr, _common_name(csr), _challenge(csr), key.key_size)


def _common_name(csr: x509.CertificateSigningRequest) -> str | None:
    values = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = values[0].value if values else None
    return value if isinstance(value, str) and value else None


def _challenge(csr: x509.CertificateSigningRequest) -> str | None:
    try:
        raw = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
    except x509.AttributeNotFound:
        return None
    except ValueError as exc:
        raise EnrolRefused(FailInfo.BAD_REQUEST, "the challengePassword attribute is malformed") from exc
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError as exc:
        raise EnrolRefused(FailInfo.BAD_REQUEST, "the challengePassword is not text") from exc
    return text or None
