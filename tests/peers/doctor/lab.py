"""The doctor's test network on 127.0.0.1: dnsmasq (authoritative DNS), chronyd (NTP), and a small web
server standing in for the update and trust routes that other slices have not delivered yet."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.exception
import dns.resolver
import ntplib
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from tests.support.peers import missing_peer, require_binary

READY_TIMEOUT = 10.0
IMAGE = bytes(range(256)) * 64  # 16 KiB stand-in for CPE.nbt
IMAGE_DIR = "/DeviceUpdateFiles_Int/UCPhone/Polycom/CX600/A/ENU/4.0.7577.4363/CPE"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        with socket.socket(socket.AF_INET, other) as t:
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair on 127.0.0.1")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def dnsmasq(workdir: Path, zones: list[str], records: list[str]) -> Iterator[int]:
    """An authoritative DNS server for ``zones`` holding ``records`` (dnsmasq config lines); yields its port."""
    binary = require_binary("dnsmasq")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "dns.conf"
    lines = [
        f"port={port}",
        "listen-address=127.0.0.1",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "no-daemon",
        "log-facility=-",
        "user=root",
        f"pid-file={workdir / 'dns.pid'}",
        f"auth-server=ns1.{zones[0]}",
        *(f"auth-zone={zone}" for zone in zones),
        *records,
    ]
    conf.write_text("\n".join(lines) + "\n")
    log = (workdir / "dnsmasq.log").open("wb")
    proc = subprocess.Popen([binary, f"--conf-file={conf}"], stdout=log, stderr=log)
    try:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 0.5
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"dnsmasq exited: {(workdir / 'dnsmasq.log').read_text()}")
            try:
                resolver.resolve(f"{zones[0]}.", "SOA")
                break
            except dns.exception.DNSException:
                if time.monotonic() > deadline:
                    raise AssertionError("dnsmasq did not answer") from None
                time.sleep(0.05)
        yield port
    finally:
        _stop(proc)
        log.close()


@contextlib.contextmanager
def chronyd(workdir: Path) -> Iterator[int]:
    """chronyd serving its local clock (stratum 8) on a high loopback port, never touching ours (-x)."""
    binary = require_binary("chronyd")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\n"
        f"pidfile {workdir / 'chronyd.pid'}\ndriftfile {workdir / 'drift'}\n"
    )
    log = (workdir / "chronyd.log").open("wb")
    proc = subprocess.Popen([binary, "-d", "-x", "-u", "root", "-f", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"chronyd exited: {(workdir / 'chronyd.log').read_text()}")
            try:
                ntplib.NTPClient().request("127.0.0.1", version=3, port=port, timeout=0.5)
                break
            except (ntplib.NTPException, OSError):
                if time.monotonic() > deadline:
                    raise AssertionError("chronyd did not answer") from None
        yield port
    finally:
        _stop(proc)
        log.close()


def status_xml(port: int) -> bytes:
    """The ucdevice.upx answer shape of the CX700 guide (p.31) plus the offered image (call flow 25)."""
    return (
        '<?xml version="1.0" ?><Response><NumOfFiles>1</NumOfFiles>'
        "<CurrentTime>2009-06-04T06:22:03</CurrentTime><ServerVersion>3.5.6907.0</ServerVersion>"
        "<ServiceVersion>3.5.6907.0</ServiceVersion><FileName>CPE.nbt</FileName>"
        f"<BaseURL>http://pool01.contoso.com:{port}{IMAGE_DIR}</BaseURL></Response>"
    ).encode()


def adcs_p7b(cas: list[x509.Certificate]) -> bytes:
    """certnew.p7b?Enc=b64 as AD CS sends it: a PKCS#7 in base64 under a CERTIFICATE armour."""
    b64 = base64.encodebytes(pkcs7.serialize_certificates(cas, Encoding.DER))
    return b"-----BEGIN CERTIFICATE-----\r\n" + b64 + b"-----END CERTIFICATE-----\r\n"


CERTPROV_WSDL = (
    b'<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
    b'targetNamespace="http://schemas.microsoft.com/OCS/AuthWebServices/"/>'
)
HTML = b"<!DOCTYPE html><html><head><title>IIS Windows Server</title></head><body>IIS</body></html>"


@dataclass
class FakeSite:
    """Until the updates and pki slices are merged: ucdevice.upx, the image, certsrv and CertProv."""

    cas: list[x509.Certificate]
    upx_html: bool = False
    port: int = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def reply(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.do_GET()

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.lower() == "/requesthandler/ucdevice.upx":
                    if site.upx_html:
                        self.reply(200, "text/html; charset=utf-8", HTML)
                    else:
                        self.reply(200, "text/xml; charset=utf-8", status_xml(site.port))
                elif path == f"{IMAGE_DIR}/CPE.nbt":
                    match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
                    if match is None:
                        self.reply(200, "binary/octet-stream", IMAGE)
                        return
                    start, end = int(match[1]), min(int(match[2]), len(IMAGE) - 1)
                    crange = f"bytes {start}-{end}/{len(IMAGE)}"
                    self.reply(206, "binary/octet-stream", IMAGE[start : end + 1], Content_Range=crange)
                elif path == "/certsrv/certnew.p7b":
                    self.reply(200, "application/x-pkcs7-certificates", adcs_p7b(site.cas))
                elif path == "/CertProv/CertProvisioningService.svc":
                    self.reply(200, "text/xml; charset=utf-8", CERTPROV_WSDL)
                else:
                    self.reply(404, "text/plain", b"not found\n")

        return Handler

    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeSite]:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        httpd.timeout = 5
        self.port = int(httpd.server_address[1])
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=10)


@dataclass(frozen=True)
class Netns:
    server: str
    client: str
    server_ip: str = "192.0.2.1"
    client_ip: str = "192.0.2.2"
    server_if: str = "veth-s"
    client_if: str = "veth-c"

    def exec(self, ns: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *cmd]


@contextlib.contextmanager
def netns_pair(tag: str) -> Iterator[Netns]:
    """Two namespaces joined by a veth pair: the DHCP server's and the phone's (a client in the server's
    own namespace would see its broadcast dropped as local, stack-lab §5)."""
    ip = require_binary("ip")
    if os.geteuid() != 0:
        missing_peer("network namespaces need root")
    n = Netns(f"phd-s-{tag}", f"phd-c-{tag}")

    def run(*args: str) -> None:
        subprocess.run([ip, *args], check=True, capture_output=True, timeout=20)

    run("netns", "add", n.server)
    try:
        run("netns", "add", n.client)
        try:
            run("-n", n.server, "link", "add", n.server_if, "type", "veth", "peer", "name", n.client_if)
            run("-n", n.server, "link", "set", n.client_if, "netns", n.client)
            run("-n", n.server, "addr", "add", f"{n.server_ip}/24", "dev", n.server_if)
            run("-n", n.client, "addr", "add", f"{n.client_ip}/24", "dev", n.client_if)
            for ns, dev in (
                (n.server, n.server_if),
                (n.client, n.client_if),
                (n.server, "lo"),
                (n.client, "lo"),
            ):
                run("-n", ns, "link", "set", dev, "up")
            yield n
        finally:
            run("netns", "del", n.client)
    finally:
        run("netns", "del", n.server)


@contextlib.contextmanager
def background(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            _stop(proc)
