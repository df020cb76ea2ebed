"""Where the CA and the listener certificate live on disk: ``<data>/pki/``.

Keys are written mode 0600, atomically (temp + fsync + rename), so a renewal never leaves the
listener with a certificate that does not match its key.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from phonehome.pki.ca import Issued, make_ca, make_leaf


class PkiPaths:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "pki"
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        self.server_cert = self.dir / "server.pem"  # leaf followed by the chain
        self.server_key = self.dir / "server.key"


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


def load_ca(paths: PkiPaths, passphrase: bytes | None = None) -> Issued:
    cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
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
    paths: PkiPaths, ca: Issued, server_names: Sequence[str], server_ips: Sequence[str], *, now: dt.datetime
) -> Issued:
    names = list(server_names) or default_server_names()
    ips = list(server_ips) or ["127.0.0.1"]
    leaf = make_leaf(ca, common_name=names[0], dns_names=names, ips=ips, now=now)
    # Key first: a reload that sees the new cert always finds its key already in place.
    write_atomic(paths.server_key, pem_key(leaf.key), 0o600)
    write_atomic(paths.server_cert, pem_cert(leaf.certificate) + pem_cert(ca.certificate))
    return leaf
