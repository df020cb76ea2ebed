"""Where the CA and the listener certificate live on disk: ``<data>/pki/``.

Keys are written mode 0600, atomically (temp + fsync + rename), so a renewal never leaves the
listener with a certificate that does not match its key.

``ca.pem`` holds the issuing CA first, then (after ``import-ca --chain``) the certificates above
it up to the root: the HTTPS listener loads the whole file as its client CA, so device certificates
issued by an imported intermediate verify, and the published chain is the same file.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from phonehome.pki.ca import Issued, SignatureHash, make_ca, make_leaf, make_ra, new_key


class PkiPaths:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "pki"
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        self.server_cert = self.dir / "server.pem"  # leaf followed by the chain
        self.server_key = self.dir / "server.key"
        self.ra_cert = self.dir / "scep-ra.pem"  # SCEP registration authority, issued by the CA
        self.ra_key = self.dir / "scep-ra.key"


def default_server_names() -> list[str]:
    names = [socket.getfqdn(), socket.gethostname(), "localhost"]
    return list(dict.fromkeys(n for n in names if n))


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key: rsa.RSAPrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_chain(paths: PkiPaths) -> list[x509.Certificate]:
    """The issuing CA followed by the certificates above it (as published and trusted)."""
    return x509.load_pem_x509_certificates(paths.ca_cert.read_bytes())


def load_ca(paths: PkiPaths, passphrase: bytes | None = None) -> Issued:
    cert = load_chain(paths)[0]
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), passphrase)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the CA key is not an RSA key")
    return Issued(cert, key)


def init_pki(paths: PkiPaths, server_names: Sequence[str], server_ips: Sequence[str]) -> None:
    """Generate a CA (unless one exists) and a server certificate for the configured names."""
    now = dt.datetime.now(dt.UTC)
    if paths.ca_cert.exists() and paths.ca_key.exists():
        ca = load_ca(paths)
    else:
        ca = make_ca(f"phonehome CA {socket.gethostname()}", now=now)
        write_atomic(paths.ca_key, pem_key(ca.key), 0o600)
        write_atomic(paths.ca_cert, pem_cert(ca.certificate))
    issue_server_cert(paths, ca, server_names, server_ips, now=now)


def issue_server_cert(
    paths: PkiPaths,
    ca: Issued,
    server_names: Sequence[str],
    server_ips: Sequence[str],
    *,
    now: dt.datetime,
    days: int = 825,
    key_bits: int = 2048,
    hash_algorithm: SignatureHash | None = None,
) -> Issued:
    names = list(server_names) or default_server_names()
    ips = list(server_ips) or ["127.0.0.1"]
    leaf = make_leaf(
        ca,
        common_name=names[0],
        dns_names=names,
        ips=ips,
        now=now,
        days=days,
        key=new_key(key_bits),
        hash_algorithm=hash_algorithm,
    )
    chain = load_chain(paths) if paths.ca_cert.exists() else [ca.certificate]
    # The trust anchor itself is not sent: phones have it (or fetch it from certsrv/CertProv).
    above = [c for c in chain if c.subject != c.issuer] or chain[:1]
    # Key first: a reload that sees the new cert always finds its key already in place.
    write_atomic(paths.server_key, pem_key(leaf.key), 0o600)
    write_atomic(paths.server_cert, pem_cert(leaf.certificate) + b"".join(pem_cert(c) for c in above))
    return leaf


def check_ca_material(cert: x509.Certificate, key: object, chain: Sequence[x509.Certificate]) -> None:
    """Refuse a CA that cannot work: not a CA, key not matching, chain not linking up (ValueError)."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the CA key is not an RSA key (phones need RSA)")
    if key.public_key().public_numbers() != _rsa_public(cert).public_numbers():
        raise ValueError("the key does not belong to the CA certificate")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise ValueError("the certificate has no basicConstraints: it is not a CA") from None
    if not constraints.ca:
        raise ValueError("the certificate is not a CA (basicConstraints CA:FALSE)")
    child = cert
    for parent in chain:
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ValueError(
                f"the chain does not link up: {child.subject.rfc4514_string()} is not signed by "
                f"{parent.subject.rfc4514_string()}"
            ) from exc
        child = parent


def _rsa_public(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the CA certificate does not carry an RSA key")
    return key


def install_ca(
    paths: PkiPaths, ca: Issued, chain: Sequence[x509.Certificate], passphrase: bytes | None = None
) -> None:
    """Make ``ca`` (with ``chain`` above it) the CA; the previous one is kept as ca-<serial>.pem/.key."""
    if paths.ca_cert.exists() and paths.ca_key.exists():
        old = load_chain(paths)[0]
        stem = f"ca-retired-{old.serial_number:x}"
        write_atomic(paths.dir / f"{stem}.key", paths.ca_key.read_bytes(), 0o600)
        write_atomic(paths.dir / f"{stem}.pem", paths.ca_cert.read_bytes())
    write_atomic(paths.ca_key, pem_key(ca.key, passphrase), 0o600)
    write_atomic(paths.ca_cert, b"".join(pem_cert(c) for c in [ca.certificate, *chain]))


def load_or_make_ra(paths: PkiPaths, ca: Issued, now: dt.datetime) -> Issued:
    """The SCEP RA for the current CA; a new one when missing or issued by another CA."""
    try:
        cert = x509.load_pem_x509_certificate(paths.ra_cert.read_bytes())
        key = serialization.load_pem_private_key(paths.ra_key.read_bytes(), None)
        cert.verify_directly_issued_by(ca.certificate)
        if isinstance(key, rsa.RSAPrivateKey) and cert.not_valid_after_utc > now:
            return Issued(cert, key)
    except (OSError, ValueError, TypeError, InvalidSignature):
        pass  # missing, unreadable or from a replaced CA: make a new one below
    ra = make_ra(ca, now=now)
    write_atomic(paths.ra_key, pem_key(ra.key), 0o600)
    write_atomic(paths.ra_cert, pem_cert(ra.certificate))
    return ra
