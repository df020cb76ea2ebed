"""DHCPINFORM rendering and ACK decoding; option 43/120 vectors from research §6.3 (DHCPUtil.exe output)."""

from __future__ import annotations

import pytest

from phonehome.doctor import dhcpwire, verdict
from phonehome.doctor.dhcpwire import WireError
from phonehome.doctor.probes import InformEvidence
from phonehome.doctor.verdict import Status
from phonehome.doctor.walk import Profile, Site, Step, plan

OPT43 = bytes.fromhex(
    "010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D0403343433"
    "05252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663"
)
OPT120 = bytes.fromhex("0006736572766572046671646E07636F6D70616E7903636F6D00")
MAC = bytes.fromhex("0004f29531a2")


def test_dhcputil_vectors() -> None:
    subs = dhcpwire.parse_option43(OPT43)
    assert subs[1] == b"MS-UC-Client" and subs[4] == b"443"
    assert (
        dhcpwire.certprov_url(subs)
        == "https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc"
    )
    assert dhcpwire.parse_option120(OPT120) == ["server.fqdn.company.com"]
    assert dhcpwire.parse_option120(bytes.fromhex("01c0000201c0000202")) == ["192.0.2.1", "192.0.2.2"]


def test_inform_layout() -> None:
    packet = dhcpwire.render_inform(0x01020304, MAC, "192.0.2.2")
    assert packet[:4] == bytes([1, 1, 6, 0]) and packet[4:8] == bytes([1, 2, 3, 4])
    assert packet[12:16] == bytes([192, 0, 2, 2])  # ciaddr: the phone already has its lease
    assert packet[28:34] == MAC and packet[236:240] == dhcpwire.MAGIC
    options = dhcpwire.parse_options(packet[240:])
    assert options == {53: bytes([8]), 60: b"MS-UC-Client", 55: bytes([43, 120])}


def ack(options: bytes) -> bytes:
    header = bytearray(236)
    header[0], header[4:8] = 2, bytes([0, 0, 0, 9])
    return bytes(header) + dhcpwire.MAGIC + options


def test_reply() -> None:
    reply = dhcpwire.parse_reply(
        ack(bytes([53, 1, 5, 54, 4, 192, 0, 2, 1, 0, 0, 43, 2]) + b"\x01\x00" + b"\xff")
    )
    assert (reply.xid, reply.server, reply.message_type) == (9, "192.0.2.1", 5)
    assert reply.options[43] == b"\x01\x00"


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"\x02" * 100, "shorter"),
        (b"\x01" + ack(b"\xff")[1:], "BOOTREPLY"),
        (ack(b"")[:236] + b"\x00\x00\x00\x00\xff", "magic"),
        (ack(bytes([53, 1, 5, 43, 9, 1])), "past the end"),
        (ack(bytes([53, 1, 5])), "end marker"),
        (ack(b"\xff"), "message type"),
    ],
)
def test_bad_replies(packet: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        dhcpwire.parse_reply(packet)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: dhcpwire.parse_option43(b"\x01\x05abc"), "past the end"),
        (lambda: dhcpwire.certprov_url({1: b"MS-UC-Client", 2: b"https"}), "WebServerFqdn"),
        (lambda: dhcpwire.certprov_url({2: b"https", 3: b"a", 4: b"44x", 5: b"/"}), "ASCII digits"),
        (lambda: dhcpwire.parse_option120(b""), "empty"),
        (lambda: dhcpwire.parse_option120(b"\x02abc"), "encoding 2"),
        (lambda: dhcpwire.parse_option120(b"\x00\x03sip"), "final zero"),
        (lambda: dhcpwire.parse_option120(b"\x00\xc0\x0c"), "compressed"),
        (lambda: dhcpwire.parse_option120(b"\x01\xc0\x00"), "multiple of 4"),
        (lambda: dhcpwire.render_inform(1, b"\x00", "192.0.2.2"), "6 bytes"),
    ],
)
def test_bad_options(call: object, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        call()  # type: ignore[operator]


def inform_step() -> Step:
    return plan(Site("contoso.com", "fabrikam.com"), Profile.LPE_40, dhcp_inform=True)[0]


def test_verdict_on_a_full_ack() -> None:
    reply = dhcpwire.Reply(9, "192.0.2.1", dhcpwire.ACK, {43: OPT43, 120: OPT120})
    result = verdict.dhcp_inform(inform_step(), InformEvidence("eth0", "192.0.2.2", reply))
    assert result.status is Status.PASS
    assert result.found == ("https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc", None)


def test_verdict_on_a_wrong_identifier() -> None:
    wrong = OPT43.replace(b"MS-UC-Client", b"ms-uc-client")  # the identifier is case-sensitive
    reply = dhcpwire.Reply(9, "192.0.2.1", dhcpwire.ACK, {43: wrong, 120: OPT120})
    result = verdict.dhcp_inform(inform_step(), InformEvidence("eth0", "192.0.2.2", reply))
    assert result.status is Status.FAIL and result.fix is not None
    assert "UCIdentifier" in result.fix.why and len(result.fix.lines) == 5
