"""Options that carry DNS names: 15 domain name, 119 domain search (RFC 3397), 120 SIP servers (RFC 3361)."""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

import dns.exception
import dns.name

from phonehome.netplan.errors import BadLength, BadValue
from phonehome.netplan.optionbase import Option, OptionCode, as_ascii, as_ipv4, as_name, name_text
from phonehome.netplan.wire import Parser


def names_to_wire(names: Iterable[dns.name.Name], *, compress: bool) -> bytes:
    """RFC 1035 labels; with ``compress``, pointers are offsets from the first octet of the list."""
    out = io.BytesIO()
    table: dict[dns.name.Name, int] | None = {} if compress else None
    for name in names:
        name.to_wire(out, table)
    return out.getvalue()


def names_from_wire(data: bytes, what: str) -> tuple[dns.name.Name, ...]:
    names: list[dns.name.Name] = []
    current = 0
    while current < len(data):
        try:
            name, used = dns.name.from_wire(data, current)
        except dns.exception.DNSException as exc:
            raise BadLength(f"{what}: bad DNS name at offset {current} ({exc})") from None
        names.append(name)
        current += used
    return tuple(names)


@dataclass(frozen=True, slots=True)
class DomainName(Option):
    """Option 15: the DHCP domain; Lync phones look up ucupdates-r2.<this>."""

    code = OptionCode.DOMAIN_NAME
    name: dns.name.Name

    def __init__(self, name: dns.name.Name | str) -> None:
        object.__setattr__(self, "name", as_name(name, "domain-name"))

    def to_wire(self) -> bytes:
        return name_text(self.name).encode("ascii")

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        return cls(as_ascii(parser.get_remaining().decode("latin-1"), "domain-name"))

    def to_text(self) -> str:
        return name_text(self.name)

    @classmethod
    def from_text(cls, text: str) -> Self:
        return cls(text)


@dataclass(frozen=True, slots=True)
class DomainSearch(Option):
    """Option 119: the search list, compressed (RFC 3397). Text is the Windows form ``a.com;b.com``."""

    code = OptionCode.DOMAIN_SEARCH
    names: tuple[dns.name.Name, ...]

    def __init__(self, names: Iterable[dns.name.Name | str]) -> None:
        parsed = tuple(as_name(n, "domain-search") for n in names)
        if not parsed:
            raise BadValue("domain-search: at least one domain is needed")
        object.__setattr__(self, "names", parsed)

    def to_wire(self) -> bytes:
        return names_to_wire(self.names, compress=True)

    def uncompressed_wire(self) -> bytes:
        """What servers that do not compress (Kea 2.2) send; it decodes to the same list."""
        return names_to_wire(self.names, compress=False)

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        return cls(names_from_wire(parser.get_remaining(), "domain-search"))

    def to_text(self) -> str:
        return ";".join(name_text(n) for n in self.names)

    @classmethod
    def from_text(cls, text: str) -> Self:
        return cls(part for part in text.replace(",", ";").split(";") if part.strip())


@dataclass(frozen=True, slots=True)
class SipServers(Option):
    """Option 120 (RFC 3361): encoding 0 then DNS names, or encoding 1 then IPv4 addresses.

    DHCPUtil.exe writes one uncompressed name, so names are written uncompressed here too.
    """

    code = OptionCode.SIP_SERVERS
    names: tuple[dns.name.Name, ...]
    addresses: tuple[ipaddress.IPv4Address, ...]

    def __init__(
        self,
        names: Iterable[dns.name.Name | str] = (),
        addresses: Iterable[ipaddress.IPv4Address | str] = (),
    ) -> None:
        parsed_names = tuple(as_name(n, "sip-servers") for n in names)
        parsed_addresses = tuple(as_ipv4(a, "sip-servers") for a in addresses)
        if bool(parsed_names) == bool(parsed_addresses):
            raise BadValue("sip-servers: give either names or addresses (RFC 3361 allows one encoding)")
        object.__setattr__(self, "names", parsed_names)
        object.__setattr__(self, "addresses", parsed_addresses)

    def to_wire(self) -> bytes:
        if self.names:
            return b"\x00" + names_to_wire(self.names, compress=False)
        return b"\x01" + b"".join(a.packed for a in self.addresses)

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        encoding = parser.get_uint8()
        rest = parser.get_remaining()
        if encoding == 0:
            return cls(names=names_from_wire(rest, "sip-servers"))
        if encoding == 1:
            if not rest or len(rest) % 4:
                raise BadLength(f"sip-servers: {len(rest)} octets is not a list of IPv4 addresses")
            return cls(addresses=(ipaddress.IPv4Address(rest[i : i + 4]) for i in range(0, len(rest), 4)))
        raise BadValue(f"sip-servers: unknown encoding {encoding} (RFC 3361 has 0 and 1)")

    def to_text(self) -> str:
        return ",".join([name_text(n) for n in self.names] + [str(a) for a in self.addresses])

    @classmethod
    def from_text(cls, text: str) -> Self:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            return cls(addresses=[ipaddress.IPv4Address(p) for p in parts])
        except ValueError:
            return cls(names=parts)
