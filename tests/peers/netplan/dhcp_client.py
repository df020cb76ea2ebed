"""A minimal DHCP client for the peer tests, run inside a network namespace (stdlib only).

``python dhcp_client.py IFACE MAC SERVER_PORT CLIENT_PORT TIMEOUT VENDOR_CLASS`` sends DISCOVER,
then REQUEST for the offered address, then (with the address on IFACE) the DHCPINFORM a Lync phone
sends; all with option 60 VENDOR_CLASS (none when empty) and 55 asking for 1 3 6 15 42 43 119 120.
It prints JSON: the OFFER's, ACK's and INFORM answer's yiaddr and options as hex.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time

MAGIC = b"\x63\x82\x53\x63"
REQUESTED = bytes([1, 3, 6, 15, 42, 43, 119, 120])


def packet(
    xid: int, mac: bytes, message_type: int, vendor_class: bytes, extra: bytes = b"", ciaddr: bytes = b""
) -> bytes:
    flags = 0 if ciaddr else 0x8000  # broadcast answers until the client has an address
    header = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, flags, ciaddr, b"", b"", b"", mac, b"", b""
    )
    options = bytes([53, 1, message_type])
    if vendor_class:
        options += bytes([60, len(vendor_class)]) + vendor_class
    options += bytes([55, len(REQUESTED)]) + REQUESTED + extra + b"\xff"
    return header + MAGIC + options


def split_options(data: bytes) -> dict[int, str]:
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        size = data[i + 1]
        out[code] = out.get(code, b"") + data[i + 2 : i + 2 + size]
        i += 2 + size
    return {code: value.hex() for code, value in out.items()}


def receive(sock: socket.socket, xid: int, want_type: int, deadline: float) -> tuple[str, dict[int, str]]:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no DHCP message type {want_type} before the deadline")
        sock.settimeout(left)
        data, _ = sock.recvfrom(4096)
        if (
            len(data) < 240
            or data[0] != 2
            or struct.unpack("!I", data[4:8])[0] != xid
            or data[236:240] != MAGIC
        ):
            continue
        options = split_options(data[240:])
        if options.get(53) == f"{want_type:02x}":
            return socket.inet_ntoa(data[16:20]), options


def main() -> None:
    iface, mac_text, server_port, client_port, timeout, vendor_text = sys.argv[1:7]
    vendor_class = vendor_text.encode("ascii")
    mac = bytes.fromhex(mac_text.replace(":", ""))
    deadline = time.monotonic() + float(timeout)
    xid = int.from_bytes(os.urandom(4), "big")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", int(client_port)))
    target = ("255.255.255.255", int(server_port))
    result: dict[str, object] = {}
    while "offer" not in result:
        sock.sendto(packet(xid, mac, 1, vendor_class), target)
        try:
            yiaddr, options = receive(sock, xid, 2, min(deadline, time.monotonic() + 2))
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise
            continue
        result["offer"] = {"yiaddr": yiaddr, "options": options}
    server_id = bytes.fromhex(options[54])
    extra = bytes([50, 4]) + socket.inet_aton(yiaddr) + bytes([54, 4]) + server_id
    sock.sendto(packet(xid, mac, 3, vendor_class, extra), target)
    yiaddr, options = receive(sock, xid, 5, deadline)
    result["ack"] = {"yiaddr": yiaddr, "options": options}
    # What the phone does next: DHCPINFORM from its address, asking again for 43 and 120.
    prefix = bin(int(options[1], 16)).count("1")
    subprocess.run(["ip", "addr", "replace", f"{yiaddr}/{prefix}", "dev", iface], check=True, timeout=10)
    xid = int.from_bytes(os.urandom(4), "big")
    sock.sendto(packet(xid, mac, 8, vendor_class, ciaddr=socket.inet_aton(yiaddr)), target)
    _, options = receive(sock, xid, 5, deadline)
    result["inform"] = {"yiaddr": yiaddr, "options": options}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
