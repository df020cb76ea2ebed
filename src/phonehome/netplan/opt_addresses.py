"""Options that are lists of IPv4 addresses: 3 routers, 6 DNS servers, 42 NTP servers (RFC 2132)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from phonehome.netplan.errors import BadLength, BadValue
from phonehome.netplan.optionbase import Option, OptionCode, as_ipv4
from phonehome.netplan.wire import Parser


@dataclass(frozen=True, slots=True)
class AddressList(Option):
    addresses: tuple[ipaddress.IPv4Address, ...]

    def __init__(self, addresses: Iterable[ipaddress.IPv4Address | str]) -> None:
        parsed = tuple(as_ipv4(a, OptionCode.label(self.code)) for a in addresses)
        if not parsed:
            raise BadValue(f"{OptionCode.label(self.code)}: at least one address is needed")
        if len(parsed) > 63:
            raise BadValue(f"{OptionCode.label(self.code)}: at most 63 addresses fit in one option")
        object.__setattr__(self, "addresses", parsed)

    def to_wire(self) -> bytes:
        return b"".join(a.packed for a in self.addresses)

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        size = parser.remaining()
        if size == 0 or size % 4:
            raise BadLength(f"{OptionCode.label(cls.code)}: {size} octets is not a list of IPv4 addresses")
        return cls(ipaddress.IPv4Address(parser.get_bytes(4)) for _ in range(size // 4))

    def to_text(self) -> str:
        return ",".join(str(a) for a in self.addresses)

    @classmethod
    def from_text(cls, text: str) -> Self:
        return cls(part for part in text.replace(";", ",").split(",") if part.strip())


class Routers(AddressList):
    """Option 3: default gateways."""

    code = OptionCode.ROUTER


class DnsServers(AddressList):
    """Option 6: the DNS servers the phone asks (the internal zone must be on them)."""

    code = OptionCode.DOMAIN_NAME_SERVER


class NtpServers(AddressList):
    """Option 42: NTP servers; without them and without _ntp._udp, LPE falls back to time.windows.com."""

    code = OptionCode.NTP_SERVERS
