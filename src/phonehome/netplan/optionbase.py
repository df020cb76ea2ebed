"""What every DHCPv4 option class shares, and the option-code enum.

Each option class is immutable, validates in its constructor (``BadValue``) and has the symmetric
pairs ``to_wire``/``from_wire_parser`` (the value bytes, without code and length) and
``to_text``/``from_text``. Codes not in the table round-trip through :class:`GenericOption`.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from typing import Any, Self

import dns.exception
import dns.name

from phonehome.netplan.errors import BadValue
from phonehome.netplan.wire import Parser


class OptionCode(enum.IntEnum):
    PAD = 0
    ROUTER = 3
    DOMAIN_NAME_SERVER = 6
    DOMAIN_NAME = 15
    NTP_SERVERS = 42
    VENDOR_ENCAPSULATED_OPTIONS = 43
    PARAMETER_REQUEST_LIST = 55
    VENDOR_CLASS_IDENTIFIER = 60
    DOMAIN_SEARCH = 119
    SIP_SERVERS = 120
    END = 255

    @classmethod
    def make(cls, value: int | str) -> int:
        """A code from a number, a name (``domain-search``) or ``OPTION<n>``; unknown valid codes stay ints."""
        if isinstance(value, str):
            text = value.strip().upper().replace("-", "_")
            if text in cls.__members__:
                return cls[text]
            if text.startswith("OPTION"):
                text = text[len("OPTION") :]
            if not text.isdigit():
                raise BadValue(f"unknown DHCP option {value!r}")
            value = int(text)
        if not 0 <= value <= 255:
            raise BadValue(f"DHCP option code {value} is not in 0..255")
        try:
            return cls(value)
        except ValueError:
            return value

    @classmethod
    def label(cls, code: int) -> str:
        try:
            return cls(code).name.lower().replace("_", "-")
        except ValueError:
            return f"option{code}"


class Option:
    """Base of every option class; ``code`` is a class attribute (an instance field on GenericOption)."""

    code: int

    def to_wire(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def from_wire_parser(cls, parser: Parser) -> Self:
        raise NotImplementedError

    @classmethod
    def from_wire(cls, value: bytes) -> Self:
        parser = Parser(value)
        option = cls.from_wire_parser(parser)
        parser.finish()
        return option

    def to_text(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_text(cls, text: str) -> Self:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class GenericOption(Option):
    """An option phonehome has no class for: its value bytes, kept as they are."""

    code: int
    data: bytes

    def __post_init__(self) -> None:
        OptionCode.make(self.code)

    def to_wire(self) -> bytes:
        return self.data

    def to_text(self) -> str:
        return self.data.hex()

    @classmethod
    def parse(cls, code: int, parser: Parser) -> GenericOption:
        return cls(code, parser.get_remaining())


# -- shared validators ---------------------------------------------------------------------------


def as_name(value: Any, what: str) -> dns.name.Name:
    """An absolute DNS name from text (dnspython checks labels ≤ 63 and names ≤ 255 octets)."""
    if isinstance(value, dns.name.Name):
        name = value
    else:
        text = str(value).strip()
        if not text or text == ".":
            raise BadValue(f"{what}: empty DNS name")
        try:
            name = dns.name.from_text(text)
        except dns.name.LabelTooLong:
            raise BadValue(f"{what}: a label of {text!r} is longer than 63 octets") from None
        except dns.name.NameTooLong:
            raise BadValue(f"{what}: {text[:40]!r}… is longer than 255 octets") from None
        except dns.exception.DNSException as exc:
            raise BadValue(f"{what}: {text!r} is not a DNS name ({exc})") from None
    for label in name.labels:
        if label and not _is_host_label(label):
            raise BadValue(f"{what}: {name.to_text(True)!r} has a label that is not letters, digits and '-'")
    return name


def _is_host_label(label: bytes) -> bool:
    # Underscore is allowed for SRV owner names such as _sipinternaltls.
    return all(c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_" for c in label)


def as_ipv4(value: Any, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise BadValue(f"{what}: {value!r} is not an IPv4 address") from None


def as_ascii(value: Any, what: str, *, max_size: int = 255) -> str:
    text = str(value)
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise BadValue(f"{what}: {text!r} is not ASCII") from None
    if not raw or b"\x00" in raw or len(raw) > max_size:
        raise BadValue(f"{what}: {text!r} must be 1..{max_size} ASCII characters without NUL")
    return text


def name_text(name: dns.name.Name) -> str:
    """A name the way DHCP servers and admins write it: no trailing dot."""
    return name.to_text(omit_final_dot=True)
