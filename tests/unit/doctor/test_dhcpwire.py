"""DHCPINFORM rendering and reply decoding; option 43/120 vectors from research §6.3 (DHCPUtil.exe)."""

from __future__ import annotations

import pytest

from phonehome.doctor import dhcpwire, verdict
from phonehome.doctor.dhcpwire import WireError
from phonehome.doctor.fixes import Hints
from phonehome.doctor.probes import InformEvidence
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile, Site, Step, plan
from phonehome.netplan.options import raw_options

OPT43 = bytes.fromhex(
    "010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D0403343433"
    "05252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663"
)
OPT120 = bytes.fromhex("0006736572766572046671646E07636F6D70616E7903636F6D00")
URL = "https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc"
MAC = bytes.fromhex("0004f29531a2")


def test_dhcputil_vectors() -> None:
    assert dhcpwire.read_option43(OPT43).url == URL
    assert dhcpwire.read_option120(OPT120) == ["server.fqdn.company.com"]


def test_dnsmasq_encapsulation_order_and_end_marker() -> None:
    # dnsmasq's vendor: encapsulation sends sub-options 5..1 and closes with END (seen on the wire).
    subs = [OPT43[i : i + 2 + OPT43[i + 1]] for i in (0, 14, 21, 46, 51)]
    assert dhcpwire.read_option43(b"".join(reversed(subs)) + b"\xff").url == URL


def test_inform_layout() -> None:
    packet = dhcpwire.render_inform(0x01020304, MAC, "192.0.2.2")
    assert packet[:4] == bytes([1, 1, 6, 0]) and packet[4:8] == bytes([1, 2, 3, 4])
    assert packet[12:16] == bytes([192, 0, 2, 2])  # ciaddr: the phone already has its lease
    assert packet[28:34] == MAC and packet[236:240] == dhcpwire.MAGIC
    assert raw_options(packet[240:]) == {53: bytes([8]), 60: b"MS-UC-Client", 55: bytes([43, 120])}


def ack(options: bytes) -> bytes:
    header = bytearray(236)
    header[0], header[4:8] = 2, bytes([0, 0, 0, 9])
    return bytes(header) + dhcpwire.MAGIC + options


def test_reply() -> None:
    reply = dhcpwire.parse_reply(ack(bytes([53, 1, 5, 54, 4, 192, 0, 2, 1, 0, 0, 43, 2, 1, 0, 255])))
    assert (reply.xid, reply.server, reply.message_type) == (9, "192.0.2.1", 5)
    assert reply.options[43] == b"\x01\x00"


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"\x02" * 100, "shorter"),
        (b"\x01" + ack(b"\xff")[1:], "BOOTREPLY"),
        (ack(b"")[:236] + b"\x00\x00\x00\x00\xff", "magic"),
        (ack(bytes([53, 1, 5, 43, 9, 1])), "end early"),
        (ack(bytes([53, 1, 5])), "END"),
        (ack(b"\xff"), "message type"),
    ],
)
def test_bad_replies(packet: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        dhcpwire.parse_reply(packet)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x01\x05abc", "end early"),
        (OPT43[:14], "missing"),
        (OPT43.replace(b"MS-UC-Client", b"ms-uc-client"), "case-sensitive"),
        (OPT43.replace(b"\x04\x03443", b"\x04\x0344x"), "port"),
    ],
)
def test_bad_option43(value: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        dhcpwire.read_option43(value)


@pytest.mark.parametrize("value", [b"", b"\x02abc", b"\x00\x03sip", b"\x01\xc0\x00"])
def test_bad_option120(value: bytes) -> None:
    with pytest.raises(WireError):
        dhcpwire.read_option120(value)


def test_bad_mac() -> None:
    with pytest.raises(WireError, match="6 bytes"):
        dhcpwire.render_inform(1, b"\x00", "192.0.2.2")


def inform_step() -> Step:
    return plan(Site("contoso.com", "fabrikam.com"), Profile.LPE_40, dhcp_inform=True)[0]


def test_verdict_on_a_full_ack() -> None:
    reply = dhcpwire.Reply(9, "192.0.2.1", dhcpwire.ACK, {43: OPT43, 120: OPT120})
    result = verdict.dhcp_inform(inform_step(), InformEvidence("eth0", "192.0.2.2", reply), Hints())
    assert result.status is Status.PASS
    assert result.found == (URL, None)


def test_verdict_names_the_missing_option_with_the_site_values() -> None:
    reply = dhcpwire.Reply(9, "192.0.2.1", dhcpwire.ACK, {120: OPT120})
    hints = Hints(registrar="sip.contoso.com", web_services="sip.contoso.com")
    result = verdict.dhcp_inform(inform_step(), InformEvidence("eth0", "192.0.2.2", reply), hints)
    assert result.status is Status.FAIL and result.fix is not None
    # research §6.3: the Get-CsCiscoIosDhcp.ps1 pair for sip.contoso.com
    assert result.fix.lines == (
        "dhcp-vendorclass=set:ms-uc-client,MS-UC-Client",
        "dhcp-option=tag:ms-uc-client,43,"
        + ":".join(
            f"{b:02x}"
            for b in bytes.fromhex(
                "010c4d532d55432d436c69656e7402056874747073030f7369702e636f6e746f736f2e636f6d0403343433"
                "05252f4365727450726f762f4365727450726f766973696f6e696e67536572766963652e737663"
            )
        ),
    )
