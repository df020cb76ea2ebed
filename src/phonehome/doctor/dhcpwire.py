"""The one DHCP exchange the doctor makes: a DHCPINFORM as an LPE phone sends it (option 60 MS-UC-Client,
asking for 43 and 120), and the reply's header. Options are netplan's codecs (research §6).

Pure.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from phonehome.netplan.errors import NetplanError
from phonehome.netplan.opt_names import SipServers
from phonehome.netplan.opt_vendor import MS_UC_CLIENT, MsUcClient, VendorClass
from phonehome.netplan.optionbase import GenericOption, OptionCode
from phonehome.netplan.options import encode_options, raw_options

MAGIC = b"\x63\x82\x53\x63"
INFORM, ACK = 8, 5
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
    options = encode_options(
        [
            GenericOption(OptionCode.make("option53"), bytes([INFORM])),
            VendorClass(MS_UC_CLIENT),
            GenericOption(OptionCode.PARAMETER_REQUEST_LIST, bytes([43, 120])),
        ]
    )
    return header + MAGIC + options + bytes([OptionCode.END])


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
    try:
        options = raw_options(packet[_HEADER.size + 4 :])
    except NetplanError as exc:
        raise WireError(exc.reason) from exc
    kind = options.get(53, b"")
    if len(kind) != 1:
        raise WireError("no DHCP message type")
    server = options.get(54, siaddr)
    return Reply(xid, str(ipaddress.IPv4Address(server[:4])) if len(server) >= 4 else "", kind[0], options)


def read_option43(value: bytes) -> MsUcClient:
    """Option 43 for MS-UC-Client. dnsmasq's ``vendor:`` encapsulation ends it with END (255), which
    RFC 2132 allows in encapsulated options; the codec wants sub-options only, so a final END goes."""
    try:
        option = MsUcClient.from_wire(value[:-1] if value.endswith(b"\xff") else value)
    except NetplanError as exc:
        raise WireError(exc.reason) from exc
    if option.uc_identifier != MS_UC_CLIENT:
        raise WireError(f"UCIdentifier is {option.uc_identifier!r}, not {MS_UC_CLIENT} (case-sensitive)")
    return option


def read_option120(value: bytes) -> list[str]:
    try:
        option = SipServers.from_wire(value)
    except NetplanError as exc:
        raise WireError(exc.reason) from exc
    return option.to_text().split(",") if option.to_text() else []
