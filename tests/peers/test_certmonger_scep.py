"""certmonger (Debian ``certmonger``) enrols by SCEP against the running server; curl uses the result.

Needs: certmonger (the daemon, ``getcert`` and ``/usr/lib/certmonger/scep-submit``), dbus-daemon,
curl, openssl. The daemon runs on a private session bus with its state in the test's directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer

pytestmark = pytest.mark.peer("certmonger")

WAIT = 60  # seconds any one getcert/curl step may take


@dataclass
class Certmonger:
    env: dict[str, str]
    getcert: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.getcert, *args], env=self.env, capture_output=True, text=True, timeout=WAIT + 30
        )
        if check and result.returncode != 0:
            raise AssertionError(f"getcert {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def status(self, request_id: str) -> str:
        return self.run("list", "-s", "-i", request_id).stdout


@pytest.fixture
def certmonger(tmp_path: Path) -> Iterator[Certmonger]:
    dbus = require_binary("dbus-daemon")
    daemon = require_binary("certmonger")
    getcert = require_binary("getcert")
    state = tmp_path / "certmonger"
    dirs = {
        "CERTMONGER_CONFIG_DIR": state,
        "CERTMONGER_REQUESTS_DIR": state / "requests",
        "CERTMONGER_CAS_DIR": state / "cas",
        "CERTMONGER_LOCAL_CA_DIR": state / "local",
        "CERTMONGER_TMPDIR": state / "tmp",
    }
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
    # The bus gets the state dirs too: a getcert call can make it D-Bus-activate certmonger itself.
    bus = subprocess.run(
        [dbus, "--session", "--fork", "--print-address=1", "--print-pid=2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    bus_pid = int(bus.stderr.split()[0])
    env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.split()[0]
    log = (tmp_path / "certmonger.log").open("wb")
    proc = subprocess.Popen([daemon, "-s", "-n", "-d", "2"], env=env, stdout=log, stderr=log)
    cm = Certmonger(env, getcert)
    try:
        deadline = time.monotonic() + WAIT
        while cm.run("list-cas", "-s", check=False).returncode != 0:
            assert time.monotonic() < deadline, "certmonger did not come up on the private bus"
            time.sleep(0.2)
        yield cm
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.kill(bus_pid, signal.SIGTERM)
        log.close()


def _request(cm: Certmonger, tmp_path: Path, name: str, ca: str, cn: str, challenge: str) -> tuple[str, str]:
    out = cm.run(
        "request",
        "-s",
        "-c",
        ca,
        "-f",
        str(tmp_path / f"{name}.pem"),
        "-k",
        str(tmp_path / f"{name}.key"),
        "-N",
        f"CN={cn}",
        "-L",
        challenge,
        "-I",
        name,
    )
    assert "New signing request" in out.stdout
    deadline = time.monotonic() + WAIT
    while True:
        status = cm.status(name)
        if "status: MONITORING" in status or "CA_UNREACHABLE" in status or "CA_REJECTED" in status:
            return name, status
        assert time.monotonic() < deadline, f"certmonger did not finish:\n{status}"
        time.sleep(0.3)


def test_certmonger_enrols_and_the_certificate_authenticates(
    server: PhonehomeServer, certmonger: Certmonger, tmp_path: Path
) -> None:
    curl = require_binary("curl")
    openssl = require_binary("openssl")
    challenge = server.cli("pki", "scep-challenge", "--account", "4711").stdout.strip()
    certmonger.run("add-scep-ca", "-s", "-c", "phonehome", "-u", f"{server.http}/scep")

    _, status = _request(certmonger, tmp_path, "phone4711", "phonehome", "SEP4711", challenge)
    assert "status: MONITORING" in status, status
    cert, key = tmp_path / "phone4711.pem", tmp_path / "phone4711.key"
    subject = subprocess.run(
        [openssl, "x509", "-in", str(cert), "-noout", "-subject", "-ext", "extendedKeyUsage"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    ).stdout
    assert "CN=4711" in subject.replace(" ", "") and "TLS Web Client Authentication" in subject
    verify = subprocess.run(
        [openssl, "verify", "-CAfile", str(server.ca_file), str(cert)],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # The certificate it got authenticates to the HTTPS listener (the backup service's mTLS).
    healthz = subprocess.run(
        [
            curl,
            "-sS",
            "--fail",
            "--max-time",
            str(WAIT),
            "--cacert",
            str(server.ca_file),
            "--cert",
            str(cert),
            "--key",
            str(key),
            f"{server.https}/healthz",
        ],
        capture_output=True,
        text=True,
        timeout=WAIT + 5,
    )
    assert healthz.returncode == 0, healthz.stderr
    peer = json.loads(healthz.stdout)["peer"]
    assert peer["common_name"] == "4711"

    listed = server.cli("pki", "certificates", "--account", "4711").stdout
    assert peer["serial"] in listed and "device" in listed

    # ... and to the backup service itself: the certificate is account 4711, which owns its file only.
    server.cli("accounts", "add", "4711", "--generate")
    server.cli("accounts", "add", "4712", "--generate")

    def https_status(path: str, *args: str) -> int:
        """The HTTP status curl gets for ``path`` on the HTTPS listener, presenting the SCEP certificate."""
        result = subprocess.run(
            [
                curl,
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                str(WAIT),
                "--cacert",
                str(server.ca_file),
                "--cert",
                str(cert),
                "--key",
                str(key),
                *args,
                f"{server.https}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=WAIT + 5,
        )
        return int(result.stdout)

    def backup(method: str, name: str) -> int:
        body = ["--data-binary", "\ufeffSPEEDDIAL=1"] if method == "PUT" else []
        return https_status(f"/backup/{name}", "-X", method, *body)

    assert backup("PUT", "4711_96xxdata.txt") == 201
    assert backup("GET", "4711_96xxdata.txt") == 200
    assert backup("PUT", "4712_96xxdata.txt") == 403

    # Revoked in phonehome: the listener still completes the handshake (same CA), the service refuses.
    def check_in() -> int:
        body = (
            "<Request><MAC>00-04-F2-00-47-11</MAC><Vendor>Polycom</Vendor><Model>CX700</Model>"
            "<Revision>A</Revision><Locale>ENU</Locale><Version>1.0.522.101</Version></Request>"
        )
        return https_status(
            "/RequestHandlerExt/ucdevice.upx", "-H", "Content-Type: text/xml", "--data-binary", body
        )

    assert check_in() == 200  # the device certificate authenticates the external check-in too
    server.cli("pki", "revoke", peer["serial"])
    assert backup("GET", "4711_96xxdata.txt") == 403
    assert check_in() == 403

    # The challenge was one-time: a second enrolment with it is refused and nothing is issued.
    _, status = _request(certmonger, tmp_path, "again", "phonehome", "SEP4711", challenge)
    assert "status: MONITORING" not in status
    assert not (tmp_path / "again.pem").exists()
    assert server.cli("pki", "certificates", "--account", "4711").stdout.count("device") == 1
