"""openssl judges the published chain and the listener certificate.

Needs: openssl (``pkcs7 -print_certs``, ``verify``, ``s_client``, ``req``/``x509`` to build an
enterprise CA for import-ca), curl.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer

pytestmark = pytest.mark.peer("openssl")

WAIT = 30


def _openssl(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([require_binary("openssl"), *args], input=input, capture_output=True, timeout=WAIT)


def _served_names(server: PhonehomeServer, servername: str) -> str:
    port = server.https.rsplit(":", 1)[1]
    shown = _openssl(
        "s_client",
        "-connect",
        f"127.0.0.1:{port}",
        "-servername",
        servername,
        "-showcerts",
        input=b"",
    )
    leaf = shown.stdout.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    leaf = leaf[leaf.index(b"-----BEGIN CERTIFICATE-----") :]
    return _openssl("x509", "-noout", "-ext", "subjectAltName", input=leaf).stdout.decode()


@pytest.fixture
def reloading_server(tmp_path: Path) -> PhonehomeServer:
    srv = PhonehomeServer(
        tmp_path / "data",
        env={
            "PHONEHOME_TLS__RELOAD_INTERVAL": "0.2",
            "PHONEHOME_SERVER_NAMES": "pool.contoso.com",
            "PHONEHOME_PKI__DHCP_DOMAINS": "contoso.com,branch.contoso.com",
        },
    )
    return srv


def test_p7b_and_the_renewed_server_certificate(reloading_server: PhonehomeServer, tmp_path: Path) -> None:
    server = reloading_server.start()
    try:
        for enc, inform in (("b64", "PEM"), ("bin", "DER")):
            body = httpx.get(
                f"{server.http}/certsrv/certnew.p7b?ReqID=CACert&Renewal=-1&Enc={enc}", timeout=WAIT
            ).content
            printed = _openssl("pkcs7", "-inform", inform, "-print_certs", input=body)
            assert printed.returncode == 0, printed.stderr
            assert b"subject=O = phonehome, CN = phonehome CA" in printed.stdout
            chain = tmp_path / "chain.pem"
            chain.write_bytes(printed.stdout)

        # Renew without restart: the listener picks the new files up (tls.reload_interval).
        before = _served_names(server, "ucupdates-r2")
        assert "ucupdates-r2.contoso.com" not in before
        out = server.cli("pki", "issue-server").stdout
        assert "DNS: ucupdates-r2" not in out and "ucupdates-r2.branch.contoso.com" in out
        deadline = time.monotonic() + WAIT
        while "ucupdates-r2.contoso.com" not in _served_names(server, "ucupdates-r2"):
            assert time.monotonic() < deadline, "the listener did not reload the renewed certificate"
            time.sleep(0.2)

        server_pem = tmp_path / "server.pem"
        server_pem.write_bytes((server.data_dir / "pki" / "server.pem").read_bytes())
        verified = _openssl("verify", "-CAfile", str(chain), str(server_pem))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        port = server.https.rsplit(":", 1)[1]
        for name in ("ucupdates-r2", "ucupdates-r2.contoso.com", "ucupdates", "pool.contoso.com"):
            handshake = _openssl(
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                "-servername",
                name,
                "-CAfile",
                str(chain),
                "-verify_hostname",
                name,
                "-verify_return_error",
                input=b"",
            )
            assert handshake.returncode == 0, (name, handshake.stdout[-600:], handshake.stderr)
            assert b"Verify return code: 0 (ok)" in handshake.stdout
        wrong = _openssl(
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-CAfile",
            str(chain),
            "-verify_hostname",
            "ucupdates-r2.fabrikam.com",
            "-verify_return_error",
            input=b"",
        )
        assert wrong.returncode != 0

        shown = server.cli("pki", "show").stdout
        assert "CX700 1.0.x (OCS 2007 R2): fails (SHA-2 signature not supported" in shown
        assert "Lync Phone Edition" in shown and ": ok" in shown
    finally:
        server.kill()


def test_legacy_sha1_profile_is_sha1_and_warned(tmp_path: Path) -> None:
    server = PhonehomeServer(tmp_path / "data", env={"PHONEHOME_PKI__DHCP_DOMAINS": "contoso.com"})
    result = server.cli("pki", "issue-server", "--legacy-sha1")
    assert "SHA-1 legacy profile" in result.stderr
    assert "CX700 1.0.x (OCS 2007 R2): ok" in result.stdout
    text = _openssl("x509", "-noout", "-text", "-in", str(server.data_dir / "pki" / "server.pem"))
    assert b"Signature Algorithm: sha1WithRSAEncryption" in text.stdout


def test_imported_enterprise_intermediate(tmp_path: Path) -> None:
    """An enterprise root (made by openssl) and its intermediate: import, publish, issue, trust."""
    root_key, root, inter_key, inter_csr, inter = (
        tmp_path / n for n in ("root.key", "root.pem", "inter.key", "inter.csr", "inter.pem")
    )
    ext = tmp_path / "ca.ext"
    ext.write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n"
    )
    steps = [
        (
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(root_key),
            "-out",
            str(root),
            "-subj",
            "/O=Contoso/CN=Contoso Root",
            "-days",
            "365",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ),
        (
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(inter_key),
            "-out",
            str(inter_csr),
            "-subj",
            "/O=Contoso/CN=Contoso Phones Issuing CA",
        ),
        (
            "x509",
            "-req",
            "-in",
            str(inter_csr),
            "-CA",
            str(root),
            "-CAkey",
            str(root_key),
            "-CAcreateserial",
            "-out",
            str(inter),
            "-days",
            "200",
            "-extfile",
            str(ext),
        ),
    ]
    for step in steps:
        made = _openssl(*step)
        assert made.returncode == 0, made.stderr
    # The key arrives encrypted, as enterprise keys do.
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text("inter-secret\n")
    enc_key = tmp_path / "inter-enc.key"
    made = _openssl(
        "pkey", "-in", str(inter_key), "-aes256", "-passout", f"file:{pass_file}", "-out", str(enc_key)
    )
    assert made.returncode == 0, made.stderr

    server = PhonehomeServer(tmp_path / "data", env={"PHONEHOME_PKI__DHCP_DOMAINS": "contoso.com"})
    refused = server.cli("pki", "import-ca", str(inter), str(enc_key), "--chain", str(root), check=False)
    assert refused.returncode != 0 and "passphrase" in refused.stderr
    imported = server.cli(
        "pki",
        "import-ca",
        str(inter),
        str(enc_key),
        "--chain",
        str(root),
        "--key-passphrase-file",
        str(pass_file),
    )
    assert "Contoso Phones Issuing CA" in imported.stdout
    assert (server.data_dir / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600

    server.start()
    try:
        p7b = httpx.get(f"{server.http}/certsrv/certnew.p7b?ReqID=CACert&Renewal=-1&Enc=bin", timeout=WAIT)
        printed = _openssl("pkcs7", "-inform", "DER", "-print_certs", input=p7b.content).stdout
        assert b"Contoso Phones Issuing CA" in printed and b"Contoso Root" in printed
        server_pem = server.data_dir / "pki" / "server.pem"
        verified = _openssl("verify", "-CAfile", str(root), "-untrusted", str(inter), str(server_pem))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        port = server.https.rsplit(":", 1)[1]
        handshake = _openssl(
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-CAfile",
            str(root),
            "-verify_hostname",
            "ucupdates-r2.contoso.com",
            "-verify_return_error",
            input=b"",
        )
        assert b"Verify return code: 0 (ok)" in handshake.stdout, handshake.stdout[-800:]
    finally:
        server.kill()
