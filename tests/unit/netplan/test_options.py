"""Codecs against the field samples of research/lync-device-update.md §6.3, verbatim, and RFC vectors."""

from __future__ import annotations

import pytest

from phonehome.netplan.errors import BadLength, BadValue, NetplanError, OptionTooLong, Truncated, WireError
from phonehome.netplan.opt_addresses import DnsServers, NtpServers, Routers
from phonehome.netplan.opt_names import DomainName, DomainSearch, SipServers
from phonehome.netplan.opt_vendor import MsUcClient, VendorClass
from phonehome.netplan.optionbase import GenericOption, Option, OptionCode
from phonehome.netplan.options import (
    decode_options,
    encode_option,
    encode_options,
    option_from_wire,
    raw_options,
    value_of,
)

# DHCPUtil.exe -sipserver server.fqdn.company.com (blog post, file id 11559524402), verbatim.
DHCPUTIL_120 = "0006736572766572046671646E07636F6D70616E7903636F6D00"
DHCPUTIL_43 = (
    "010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D04033434"
    "3305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663"
)
DHCPUTIL_SUBOPTIONS = {
    1: "4D532D55432D436C69656E74",
    2: "6874747073",
    3: "7365727665722E6671646E2E636F6D70616E792E636F6D",
    4: "343433",
    5: "2F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663",
}
# Get-CsCiscoIosDhcp.ps1 page (file id 5069415064): sip.contoso.com; its option 43 is elided there.
IOS_120 = "000373697007636f6e746f736f03636f6d00"
IOS_43_HEAD = "010c4d532d55432d436c69656e7402056874747073030f7369702e636f6e746f736f2e636f6d040334343305252f"
IOS_43_TAIL = "737663"


def test_dhcputil_sample_byte_exact() -> None:
    assert SipServers(["server.fqdn.company.com"]).to_wire() == bytes.fromhex(DHCPUTIL_120)
    option = MsUcClient("server.fqdn.company.com")
    assert option.to_wire() == bytes.fromhex(DHCPUTIL_43)
    assert len(option.to_wire().hex()) == 180  # "Full Option 43 value (Length: 180)"
    assert {c: v.hex().upper() for c, v in option.sub_options()} == DHCPUTIL_SUBOPTIONS
    assert option.url == "https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc"


def test_dhcputil_sample_decodes() -> None:
    option = MsUcClient.from_wire(bytes.fromhex(DHCPUTIL_43))
    assert (option.web_server_fqdn, option.web_server_port, option.url_scheme) == (
        "server.fqdn.company.com",
        "443",
        "https",
    )
    assert SipServers.from_wire(bytes.fromhex(DHCPUTIL_120)).to_text() == "server.fqdn.company.com"


def test_cisco_page_sample_byte_exact() -> None:
    assert SipServers(["sip.contoso.com"]).to_wire().hex() == IOS_120
    wire = MsUcClient("sip.contoso.com").to_wire().hex()
    assert wire.startswith(IOS_43_HEAD) and wire.endswith(IOS_43_TAIL)


def test_rfc3397_example_compresses_like_the_rfc() -> None:
    wire = bytes.fromhex("03656e67056170706c6503636f6d00096d61726b6574696e67c004")
    option = DomainSearch(["eng.apple.com", "marketing.apple.com"])
    assert option.to_wire() == wire
    assert DomainSearch.from_wire(wire) == option
    assert option.uncompressed_wire() == bytes.fromhex(
        "03656e67056170706c6503636f6d00096d61726b6574696e67056170706c6503636f6d00"
    )


def test_windows_semicolon_form() -> None:
    text = "contoso.com;dev.contoso.com;corp.microsoft.com"  # the CX700 guide's example
    option = DomainSearch.from_text(text)
    assert option.to_text() == text
    assert DomainSearch.from_wire(option.to_wire()) == option


ROUND_TRIP: list[Option] = [
    Routers(["192.0.2.1"]),
    DnsServers(["192.0.2.1", "192.0.2.2"]),
    DomainName("contoso.com"),
    NtpServers(["192.0.2.123"]),
    VendorClass("MS-UC-Client"),
    DomainSearch(["contoso.com", "fabrikam.com", "dev.contoso.com"]),
    SipServers(names=["pool01.contoso.com"]),
    SipServers(addresses=["192.0.2.10", "192.0.2.11"]),
    MsUcClient("pool01.contoso.com", 4443, "https", extra=[(10, b"\x00\x0a")]),
    GenericOption(150, b"\xc0\x00\x02\x01"),
]


@pytest.mark.parametrize("option", ROUND_TRIP, ids=lambda o: type(o).__name__)
def test_round_trip(option: Option) -> None:
    assert option_from_wire(option.code, value_of(option)) == option
    assert decode_options(encode_option(option) + b"\xff") == [option]
    if not isinstance(option, GenericOption | MsUcClient):
        assert type(option).from_text(option.to_text()) == option


def test_option_60_bytes() -> None:
    assert VendorClass("MS-UC-Client").to_wire().hex().upper() == "4D532D55432D436C69656E74"


def test_text_forms() -> None:
    assert MsUcClient.from_text(
        "https://pool01.contoso.com/CertProv/CertProvisioningService.svc"
    ) == MsUcClient("pool01.contoso.com")
    assert DnsServers.from_text("192.0.2.1, 192.0.2.2").to_wire() == bytes.fromhex("c0000201c0000202")
    assert SipServers.from_text("192.0.2.10").to_wire() == bytes.fromhex("01c000020a")
    assert GenericOption(150, b"\x01").to_text() == "01"


def test_option_codes() -> None:
    assert OptionCode.make("domain-search") is OptionCode.DOMAIN_SEARCH
    assert OptionCode.make("OPTION120") is OptionCode.SIP_SERVERS
    assert OptionCode.make(150) == 150 and OptionCode.label(150) == "option150"
    for bad in (256, -1, "nonsense"):
        with pytest.raises(BadValue):
            OptionCode.make(bad)


def test_packet_options_and_raw_split() -> None:
    wire = b"\x00" + encode_options([DomainName("contoso.com"), GenericOption(150, b"\x01")]) + b"\xff\x00"
    assert decode_options(wire) == [DomainName("contoso.com"), GenericOption(150, b"\x01")]
    assert raw_options(wire) == {15: b"contoso.com", 150: b"\x01"}


BAD_WIRE: list[tuple[int, str, type[NetplanError]]] = [
    (6, "c00002", BadLength),  # not a multiple of 4
    (6, "", BadLength),
    (42, "c0000201c0", BadLength),
    (120, "", Truncated),  # no encoding byte
    (120, "02c0000201", BadValue),  # encoding 2 does not exist
    (120, "01c00002", BadLength),  # 3 octets of address after the encoding
    (120, "0003736970", BadLength),  # name without its terminating label
    (119, "03656e67c002", BadLength),  # forward compression pointer
    (119, "40616263", BadLength),  # label type 01 is not allowed
    (43, "010c4d53", Truncated),  # sub-option length past the end
    (43, "0102414101024141", BadValue),  # sub-option 1 twice, others missing
    (43, DHCPUTIL_43[: -(4 + 2 * 0x25)], BadValue),  # sub-option 5 missing
    (43, DHCPUTIL_43.replace("040334343305", "040334613305"), BadValue),  # port "4a3"
    (15, "636f6e746f736f00", BadValue),  # NUL inside
    (60, "", BadValue),
]


@pytest.mark.parametrize(("code", "hex_value", "error"), BAD_WIRE)
def test_bad_wire(code: int, hex_value: str, error: type[NetplanError]) -> None:
    with pytest.raises(error):
        option_from_wire(code, bytes.fromhex(hex_value))


@pytest.mark.parametrize("wire", ["0f05616263", "0f", "0f03616263"])
def test_bad_option_framing(wire: str) -> None:
    with pytest.raises(WireError):
        raw_options(bytes.fromhex(wire))
    if wire != "0f03616263":
        with pytest.raises(WireError):
            decode_options(bytes.fromhex(wire))


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: DomainName("a" * 64 + ".com"), "longer than 63 octets"),
        (lambda: DomainSearch([".".join(["a" * 60] * 5)]), "longer than 255 octets"),
        (lambda: DomainName("bad_label!.com"), "letters, digits"),
        (lambda: DnsServers(["192.0.2.300"]), "not an IPv4 address"),
        (lambda: DnsServers([]), "at least one"),
        (lambda: MsUcClient("pool.contoso.com", 70000), "not a port"),
        (lambda: MsUcClient("pool.contoso.com", "0443"), "not a port"),
        (lambda: MsUcClient("pool.contoso.com", url_scheme="ftp"), "not http or https"),
        (lambda: MsUcClient("pool.contoso.com", cert_prov_path="CertProv"), "must start with /"),
        (lambda: SipServers(), "either names or addresses"),
        (lambda: VendorClass("MS-UC-Client\u00e9"), "not ASCII"),
        (lambda: MsUcClient.from_text("not a url"), "not a Cert Prov URL"),
    ],
)
def test_bad_values(make: object, needle: str) -> None:
    with pytest.raises(BadValue, match=needle):
        make()  # type: ignore[operator]


def test_option_over_255_octets_is_refused_not_split() -> None:
    option = DomainSearch([f"{c * 60}.{c * 60}.example" for c in "abc"])
    with pytest.raises(OptionTooLong, match=r"option 119 \(domain-search\) would be \d+ octets"):
        value_of(option)
