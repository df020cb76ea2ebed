"""The HTTPS listener: optional client certificates, typed peer identity, certificate reload.

Peers: curl and openssl (Debian packages curl, openssl).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from phonehome.pki.store import PkiPaths, issue_server_cert
from tests.support.certs import server_ca, stranger_ca, write_client_cert
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer, tls_context


def curl_json(server: PhonehomeServer, *args: str) -> tuple[int, dict[str, object] | None]:
    curl = require_binary("curl")
    result = subprocess.run(
        [curl, "-sS", "--max-time", "10", "--cacert", str(server.ca_file), *args, f"{server.https}/healthz"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return result.returncode, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_curl_client_certificate_gives_typed_identity(server: PhonehomeServer, tmp_path: Path) -> None:
    cert, key, leaf = write_client_cert(
        tmp_path / "certs",
        server_ca(server.data_dir),
        "4711",
        dns_names=("sep0004f29531a2.phones.example",),
        uris=("urn:mac:0004f29531a2",),
        emails=("4711@phones.example",),
    )
    rc, body = curl_json(server, "--cert", str(cert), "--key", str(key))
    assert rc == 0 and body is not None
    peer = body["peer"]
    assert isinstance(peer, dict)
    assert peer["common_name"] == "4711"
    assert peer["dns_names"] == ["sep0004f29531a2.phones.example"]
    assert peer["uris"] == ["urn:mac:0004f29531a2"]
    assert peer["emails"] == ["4711@phones.example"]
    assert peer["serial"] == f"{leaf.certificate.serial_number:X}"
    from cryptography.hazmat.primitives import hashes

    assert peer["sha256"] == leaf.certificate.fingerprint(hashes.SHA256()).hex()

    # Without a certificate the same listener still answers: the certificate is optional.
    rc, body = curl_json(server)
    assert rc == 0 and body is not None and body["peer"] is None

    # The access log names the device by its certificate CN.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        devices = [x.get("device") for x in server.log_lines() if x.get("listener") == "https"]
        if "4711" in devices:
            break
        time.sleep(0.1)
    assert "4711" in devices


def test_certificate_from_a_stranger_ca_is_refused(server: PhonehomeServer, tmp_path: Path) -> None:
    cert, key, _ = write_client_cert(tmp_path / "certs", stranger_ca(), "intruder")
    rc, _ = curl_json(server, "--cert", str(cert), "--key", str(key))
    assert rc != 0  # handshake refused: an unverifiable certificate never becomes an identity
    assert (
        httpx.get(f"{server.https}/healthz", verify=tls_context(server.ca_file), timeout=10).status_code
        == 200
    )


def test_openssl_s_client_sees_verified_chain_and_identity(server: PhonehomeServer, tmp_path: Path) -> None:
    openssl = require_binary("openssl")
    cert, key, _ = write_client_cert(tmp_path / "certs", server_ca(server.data_dir), "SEP0004F29531A2")
    netloc = urlsplit(server.https).netloc
    request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    result = subprocess.run(
        [
            openssl,
            "s_client",
            "-connect",
            netloc,
            "-CAfile",
            str(server.ca_file),
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-verify_return_error",
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-ign_eof",
        ],
        input=request,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "Verify return code: 0 (ok)" in result.stdout, result.stdout + result.stderr
    body = result.stdout[result.stdout.index('{"status"') :]
    body = body[: body.index("}}") + 2]
    assert json.loads(body)["peer"]["common_name"] == "SEP0004F29531A2"


def test_server_certificate_reload_without_restart(server: PhonehomeServer) -> None:
    openssl = require_binary("openssl")

    def served_serial() -> str:
        netloc = urlsplit(server.https).netloc
        shown = subprocess.run(
            [openssl, "s_client", "-connect", netloc, "-CAfile", str(server.ca_file)],
            input="",
            capture_output=True,
            text=True,
            timeout=30,
        )
        pem = shown.stdout[shown.stdout.index("-----BEGIN CERTIFICATE-----") :]
        pem = pem[: pem.index("-----END CERTIFICATE-----") + 25]
        out = subprocess.run(
            [openssl, "x509", "-noout", "-serial", "-ext", "subjectAltName"],
            input=pem,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout

    before = served_serial()
    leaf = issue_server_cert(
        PkiPaths(server.data_dir),
        server_ca(server.data_dir),
        ["ucupdates-r2.contoso.com", "ucupdates-r2"],
        ["127.0.0.1"],
        now=dt.datetime.now(dt.UTC),
    )
    assert server.proc is not None
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    after = before
    while time.monotonic() < deadline and after == before:
        time.sleep(0.2)
        after = served_serial()
    serial = next(line for line in after.splitlines() if line.startswith("serial="))
    assert int(serial.removeprefix("serial="), 16) == leaf.certificate.serial_number
    assert "DNS:ucupdates-r2.contoso.com" in after and "DNS:ucupdates-r2" in after


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_tls_versions(server: PhonehomeServer, version: str) -> None:
    rc, body = curl_json(server, f"--tlsv{version}", "--tls-max", version)
    assert rc == 0 and body is not None
