"""Certificate building (pure: keys, names and ``now`` come in, objects go out)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# RSA, because Lync Phone Edition and Avaya firmware do not all speak ECDSA.
DEFAULT_KEY_BITS = 2048

# Signature plus RSA key transport: TLS with old phone firmware still uses RSA key exchange.
_LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)

SignatureHash = hashes.SHA1 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512

# The names admins use in config and on the command line. SHA-1 exists only for the legacy profile
# (CX700 on OCS 2007 R2 firmware cannot check SHA-2 signatures).
HASHES: dict[str, type[SignatureHash]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def signature_hash(name: str) -> SignatureHash:
    try:
        return HASHES[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown signature hash {name!r}: choose one of {', '.join(HASHES)}") from None


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def new_key(bits: int = DEFAULT_KEY_BITS) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _serial() -> int:
    return x509.random_serial_number()


def make_ca(
    common_name: str, *, now: dt.datetime, days: int = 3650, key: rsa.RSAPrivateKey | None = None
) -> Issued:
    key = key or new_key(3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "phonehome"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_ra(issuer: Issued, *, now: dt.datetime, common_name: str = "phonehome SCEP RA") -> Issued:
    """The SCEP registration authority: signs CertReps and receives encrypted requests.

    A separate leaf (not the CA itself) because SCEP clients verify replies as S/MIME signatures,
    and certmonger's verifier rejects a self-signed CA as the signer in some runs
    ("self-signed certificate") where a leaf chaining to the trusted CA always passes.
    """
    key = new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "phonehome"),
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                ]
            )
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(issuer.certificate.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _LEAF_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


def san_entries(names: Sequence[str], ips: Sequence[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    seen: set[str] = set()
    for name in names:
        if name and name.lower() not in seen:
            seen.add(name.lower())
            entries.append(x509.DNSName(name))
    for ip in ips:
        if ip not in seen:
            seen.add(ip)
            entries.append(x509.IPAddress(ipaddress.ip_address(ip)))
    return entries


def make_leaf(
    issuer: Issued,
    *,
    common_name: str,
    now: dt.datetime,
    dns_names: Sequence[str] = (),
    ips: Sequence[str] = (),
    uris: Sequence[str] = (),
    emails: Sequence[str] = (),
    days: int = 825,
    server: bool = True,
    client: bool = False,
    key: rsa.RSAPrivateKey | None = None,
    hash_algorithm: SignatureHash | None = None,
) -> Issued:
    """A server and/or client certificate signed by ``issuer``; the CN is also the first SAN."""
    key = key or new_key()
    cert = certify(
        issuer,
        key.public_key(),
        common_name=common_name,
        now=now,
        dns_names=dns_names,
        ips=ips,
        uris=uris,
        emails=emails,
        days=days,
        server=server,
        client=client,
        hash_algorithm=hash_algorithm,
    )
    return Issued(cert, key)


def certify(
    issuer: Issued,
    public_key: CertificatePublicKeyTypes,
    *,
    common_name: str,
    now: dt.datetime,
    dns_names: Sequence[str] = (),
    ips: Sequence[str] = (),
    uris: Sequence[str] = (),
    emails: Sequence[str] = (),
    days: int = 825,
    server: bool = True,
    client: bool = False,
    hash_algorithm: SignatureHash | None = None,
) -> x509.Certificate:
    """Sign a leaf for ``public_key`` (ours or a CSR's)."""
    sans = san_entries([*dns_names], ips)
    sans += [x509.UniformResourceIdentifier(u) for u in uris]
    sans += [x509.RFC822Name(e) for e in emails]
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(_serial())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), issuer.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _LEAF_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer: CertificateIssuerPrivateKeyTypes = issuer.key
    if isinstance(hash_algorithm, hashes.SHA1):
        return _resign_sha1(builder.sign(signer, hashes.SHA256()), issuer.key)
    return builder.sign(signer, hash_algorithm or hashes.SHA256())


def _resign_sha1(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The same certificate signed with SHA-1 (legacy profile only).

    ``cryptography`` no longer signs certificates with SHA-1, so the to-be-signed part is rebuilt
    with the sha1WithRSA algorithm identifier and signed directly.
    """
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"].copy()
    tbs["signature"] = {"algorithm": "sha1_rsa"}
    tbs_der = tbs.dump(force=True)
    signature = key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - the legacy profile
    resigned = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": {"algorithm": "sha1_rsa"},
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(resigned.dump())
