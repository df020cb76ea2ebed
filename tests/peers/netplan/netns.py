"""Two network namespaces joined by a veth pair: a DHCP server on one end, a client on the other.

Needs root (CAP_NET_ADMIN); without it the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support.peers import missing_peer, require_binary

SERVER_IFACE = "veth-s"
CLIENT_IFACE = "veth-c"


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


@dataclass(frozen=True)
class Link:
    server_ns: str
    client_ns: str

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]


@contextlib.contextmanager
def veth_pair(server_cidr: str) -> Iterator[Link]:
    require_binary("ip")
    if os.geteuid() != 0:
        missing_peer("network namespaces need root")
    tag = uuid.uuid4().hex[:8]
    link = Link(f"phs-{tag}", f"phc-{tag}")
    created: list[str] = []
    try:
        for ns in (link.server_ns, link.client_ns):
            _ip("netns", "add", ns)
            created.append(ns)
        _ip("-n", link.server_ns, "link", "add", SERVER_IFACE, "type", "veth", "peer", "name", CLIENT_IFACE)
        _ip("-n", link.server_ns, "link", "set", CLIENT_IFACE, "netns", link.client_ns)
        _ip("-n", link.server_ns, "addr", "add", server_cidr, "dev", SERVER_IFACE)
        for ns, iface in ((link.server_ns, SERVER_IFACE), (link.client_ns, CLIENT_IFACE)):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", iface, "up")
        yield link
    finally:
        for ns in created:
            with contextlib.suppress(RuntimeError):
                _ip("netns", "del", ns)
