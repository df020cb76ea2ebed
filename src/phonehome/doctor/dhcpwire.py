"""The one DHCP exchange the doctor makes: a DHCPINFORM as an LPE phone sends it (option 60 MS-UC-Client,
asking for 43 and 120) and the ACK's options, with option 43's MS-UC-Client sub-options and option 120.

Pure. Deliberately minimal and isolated: the netplan slice owns the DHCP option codecs; once merged, the
option 43/120 decoding here becomes calls into it. Research lync-device-update.md §6.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

MAGIC = b"\x63\x82\x53\x63"
INFORM, ACK, NAK = 8, 5, 6
VENDOR_CLASS = b"MS-UC-Client"  # case-sensitive (research §6.1)
SUB_OPTIONS = {
    1: "UCIdentifier",
    2: "URLScheme",
    3: "WebServerFqdn",
    4: "WebServerPort",
    5: "CertProvRelPath",
}
_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")


class WireError(ValueError):
    """A DHCP message or option that does not decode."""


def render_inform(xid: int, mac: bytes, ciaddr: str) -> bytes:
    if len(mac) != 6:
        raise WireError("a MAC address is 6 bytes")
    header = _HEADER.pack(
        1,
        1,
        6,
        0,
        xid,
        0,
        0,
        ipaddress.IPv4Address(ciaddr).packed,
        bytes(4),
        bytes(4),
        bytes(4),
        mac,
        b"",
        b"",
    )
    options = bytes([53, 1, INFORM, 60, len(VENDOR_CLASS)]) + VENDOR_CLASS + bytes([55, 2, 43, 120, 255])
    return header + MAGIC + options


def parse_options(data: bytes) -> dict[int, bytes]:
    """code → value; repeated codes concatenate (RFC 3396); pad skipped; stops at end."""
    options: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 255:
            return options
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            raise WireError(f"option {code} runs past the end of the message")
        length = data[i + 1]
        options[code] = options.get(code, b"") + data[i + 2 : i + 2 + length]
        i += 2 + length
    raise WireError("options without an end marker")


@dataclass(frozen=True, slots=True)
class Reply:
    xid: int
    server: str
    message_type: int
    options: dict[int, bytes]


def parse_reply(packet: bytes) -> Reply:
    if len(packet) < _HEADER.size + 4:
        raise WireError(f"{len(packet)} bytes is shorter than a DHCP message")
    op, _, _, _, xid, _, _, _, _, siaddr, _, _, _, _ = _HEADER.unpack_from(packet)
    if op != 2:
        raise WireError("not a BOOTREPLY")
    if packet[_HEADER.size : _HEADER.size + 4] != MAGIC:
        raise WireError("no DHCP magic cookie")
    options = parse_options(packet[_HEADER.size + 4 :])
    kind = options.get(53, b"")
    if len(kind) != 1:
        raise WireError("no DHCP message type")
    server = options.get(54, siaddr)
    return Reply(xid, str(ipaddress.IPv4Address(server[:4])) if len(server) >= 4 else "", kind[0], options)


def parse_option43(value: bytes) -> dict[int, bytes]:
    """MS-UC-Client sub-options: code(1) len(1) ASCII value, in order 1..5 (research §6.2)."""
    subs: dict[int, bytes] = {}
    i = 0
    while i < len(value):
        if value[i] == 255:
            break
        if i + 1 >= len(value) or i + 2 + value[i + 1] > len(value):
            raise WireError(f"option 43 sub-option {value[i]} runs past the end")
        subs[value[i]] = value[i + 2 : i + 2 + value[i + 1]]
        i += 2 + value[i + 1]
    return subs


def certprov_url(subs: dict[int, bytes]) -> str:
    """``<scheme>://<fqdn>:<port><relpath>`` as the phone builds it (research §6.4)."""
    missing = [SUB_OPTIONS[c] for c in (2, 3, 4, 5) if c not in subs]
    if missing:
        raise WireError(f"option 43 lacks {', '.join(missing)}")
    try:
        scheme, fqdn, port, path = (subs[c].decode("ascii") for c in (2, 3, 4, 5))
    except UnicodeDecodeError as exc:
        raise WireError("option 43 sub-options are not ASCII") from exc
    if not port.isdigit():
        raise WireError(f"WebServerPort must be ASCII digits, got {port!r}")
    return f"{scheme}://{fqdn}:{port}{path}"


def parse_option120(value: bytes) -> list[str]:
    """RFC 3361: encoding 0 = DNS names in label format, 1 = IPv4 addresses."""
    if not value:
        raise WireError("option 120 is empty")
    body = value[1:]
    if value[0] == 1:
        if not body or len(body) % 4:
            raise WireError("option 120 addresses are not a multiple of 4 bytes")
        return [str(ipaddress.IPv4Address(body[i : i + 4])) for i in range(0, len(body), 4)]
    if value[0] != 0:
        raise WireError(f"option 120 encoding {value[0]} is neither 0 nor 1")
    names: list[str] = []
    labels: list[str] = []
    i = 0
    while i < len(body):
        length = body[i]
        if length == 0:
            names.append(".".join(labels))
            labels = []
            i += 1
            continue
        if length > 63 or i + 1 + length > len(body):
            raise WireError("option 120 label runs past the end (or is compressed)")
        labels.append(body[i + 1 : i + 1 + length].decode("ascii", "replace"))
        i += 1 + length
    if labels or not names:
        raise WireError("option 120 name without its final zero label")
    return names
