"""The doctor's test network on 127.0.0.1: dnsmasq (authoritative DNS), chronyd (NTP), and for the one
broken variant that needs it, a web server in front of phonehome whose ucdevice.upx answers HTML."""

from __future__ import annotations

import contextlib
import os
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
import httpx
import ntplib

from tests.support.peers import missing_peer, require_binary

READY_TIMEOUT = 10.0


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


HTML = b"<!DOCTYPE html><html><head><title>IIS Windows Server</title></head><body>IIS</body></html>"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class HtmlFront:
    """The broken site: another web server on port 80 whose ucdevice.upx answers HTML (an IIS default
    page); every other path is forwarded to the real phonehome, so only the check-in is broken."""

    upstream: str  # phonehome's HTTP listener, http://127.0.0.1:PORT
    port: int = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.split("?", 1)[0].lower() == "/requesthandler/ucdevice.upx":
                    self.reply(200, [("Content-Type", "text/html; charset=utf-8")], HTML)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = httpx.request(
                    self.command, front.upstream + self.path, headers=headers, content=body, timeout=10
                )
                kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
                self.reply(answer.status_code, kept, answer.content)

        return Handler

    @contextlib.contextmanager
    def serve(self) -> Iterator[HtmlFront]:
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
