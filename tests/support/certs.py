"""Client certificates for mTLS tests, issued by a server's own CA or by a stranger CA."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from phonehome.pki.ca import Issued, make_ca, make_leaf
from phonehome.pki.store import PkiPaths, load_ca, pem_cert, pem_key


def write_client_cert(
    out_dir: Path,
    issuer: Issued,
    common_name: str,
    *,
    dns_names: tuple[str, ...] = (),
    uris: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
) -> tuple[Path, Path, Issued]:
    now = dt.datetime.now(dt.UTC)
    leaf = make_leaf(
        issuer,
        common_name=common_name,
        now=now,
        dns_names=dns_names,
        uris=uris,
        emails=emails,
        server=False,
        client=True,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    cert, key = out_dir / f"{common_name}.pem", out_dir / f"{common_name}.key"
    cert.write_bytes(pem_cert(leaf.certificate))
    key.write_bytes(pem_key(leaf.key))
    return cert, key, leaf


def server_ca(data_dir: Path) -> Issued:
    return load_ca(PkiPaths(data_dir))


def stranger_ca() -> Issued:
    return make_ca("Stranger CA", now=dt.datetime.now(dt.UTC))
