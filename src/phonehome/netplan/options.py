"""DHCPv4 options as code → class, and the ``code length value`` framing (RFC 2132).

``encode_option`` refuses a value over 255 octets: splitting a long option into several
(RFC 3396) is something many phones and servers get wrong, so phonehome reports it instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from phonehome.netplan.errors import OptionTooLong, WireError
from phonehome.netplan.opt_addresses import DnsServers, NtpServers, Routers
from phonehome.netplan.opt_names import DomainName, DomainSearch, SipServers
from phonehome.netplan.opt_vendor import MsUcClient, VendorClass
from phonehome.netplan.optionbase import GenericOption, Option, OptionCode
from phonehome.netplan.wire import Parser

_code_to_class: dict[int, type[Option]] = {
    cls.code: cls
    for cls in (
        Routers,
        DnsServers,
        DomainName,
        NtpServers,
        MsUcClient,
        VendorClass,
        DomainSearch,
        SipServers,
    )
}


def get_option_class(code: int) -> type[Option] | None:
    return _code_to_class.get(code)


def register_type(cls: type[Option]) -> None:
    _code_to_class[cls.code] = cls


def option_from_wire(code: int, value: bytes) -> Option:
    """The typed option for ``code`` (GenericOption when phonehome has no class for it)."""
    cls = get_option_class(code)
    if cls is None:
        return GenericOption(code, value)
    return cls.from_wire(value)


def value_of(option: Option) -> bytes:
    """The option's value bytes, checked to fit one option."""
    value = option.to_wire()
    if len(value) > 255:
        label = OptionCode.label(option.code)
        raise OptionTooLong(
            f"option {option.code} ({label}) would be {len(value)} octets; one option holds 255 "
            "and phonehome does not split options (RFC 3396)"
        )
    return value


def encode_option(option: Option) -> bytes:
    value = value_of(option)
    return bytes([option.code, len(value)]) + value


def encode_options(options: Iterable[Option]) -> bytes:
    return b"".join(encode_option(o) for o in options)


def decode_options(wire: bytes) -> list[Option]:
    """Options from the options field of a DHCP packet (after the magic cookie), up to END."""
    parser = Parser(wire)
    out: list[Option] = []
    while parser.remaining():
        code = parser.get_uint8()
        if code == OptionCode.PAD:
            continue
        if code == OptionCode.END:
            break
        size = parser.get_uint8()
        value = parser.get_bytes(size)
        out.append(option_from_wire(code, value))
    return out


def raw_options(wire: bytes) -> dict[int, bytes]:
    """Option code → value bytes, untyped (what a packet capture shows); repeated codes concatenate."""
    parser = Parser(wire)
    out: dict[int, bytes] = {}
    while parser.remaining():
        code = parser.get_uint8()
        if code == OptionCode.PAD:
            continue
        if code == OptionCode.END:
            return out
        value = parser.get_counted_bytes()
        out[code] = out.get(code, b"") + value
    raise WireError("options end without the END option (255)")
