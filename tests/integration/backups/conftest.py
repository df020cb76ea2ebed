"""A real phonehome per test module, curl as the phone, certificates from the server's own CA."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phonehome.pki.ca import make_leaf
from phonehome.pki.store import PkiPaths, load_ca, pem_cert, pem_key
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer


@dataclass
class Curl:
    status: int
    headers: dict[str, str]
    body: bytes


def curl(*args: str, timeout: float = 60) -> Curl:
    """One curl request; returns status, last response's headers (lower-case names) and body."""
    exe = require_binary("curl")
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body"
        result = subprocess.run(
            [exe, "-sS", "--max-time", str(int(timeout)), "-D", "-", "-o", str(body_file), *args],
            capture_output=True,
            timeout=timeout + 10,
        )
        body = body_file.read_bytes() if body_file.exists() else b""
    if result.returncode != 0 and not result.stdout:
        raise AssertionError(f"curl {' '.join(args)} failed: {result.stderr[-500:]!r}")
    blocks = [b for b in result.stdout.decode("latin-1").split("\r\n\r\n") if b.startswith("HTTP/")]
    head = [b for b in blocks if not b.startswith("HTTP/1.1 100")][-1].split("\r\n")
    headers = {}
    for line in head[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Curl(int(head[0].split()[1]), headers, body)


def start_server(tmp: Path, config: str, db_url: str | None = None) -> PhonehomeServer:
    data = tmp / "data"
    data.mkdir(parents=True)
    (data / "phonehome.toml").write_text('server_ips = ["127.0.0.1"]\n' + config)
    return PhonehomeServer(data, db_url=db_url).start()


def client_cert(server: PhonehomeServer, out: Path, cn: str, dns: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A client certificate signed by the server's CA, as SCEP would issue it (CN = account)."""
    ca = load_ca(PkiPaths(server.data_dir))
    issued = make_leaf(
        ca, common_name=cn, dns_names=dns, now=dt.datetime.now(dt.UTC), server=False, client=True
    )
    cert, key = out / f"{cn}.pem", out / f"{cn}.key"
    cert.write_bytes(pem_cert(issued.certificate))
    key.write_bytes(pem_key(issued.key))
    return cert, key


def with_credentials(base: str, user: str, password: str) -> str:
    """``http://127.0.0.1:port`` → ``http://user:password@127.0.0.1:port``, as a phone's BRURI."""
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    yield tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
