"""The phone's "Last Update Status (0x####/###)": a WinInet error and an HTTP status, explained.

Research lync-device-update.md §8: the first field is a WinInet error (the server could not be reached),
the second the HTTP status (the server was reached but did not handle the request); ``0x0/0`` is normal and
``0x0/200`` means the check-in went through with no update. Each entry says where its meaning comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMS_TEAM = "research §8 (communicationsserverteam.com 2008)"
UCPLAYA = "research §8 (ucplaya 2012)"
LPE = "seeds/lync2013-lpe-device-update.txt"
WINDOWS = "Windows headers (research §8 marks this inferred)"
HTTP = "HTTP semantics (RFC 9110), not from a Lync source"


@dataclass(frozen=True, slots=True)
class Meaning:
    name: str
    cause: str
    fix: str
    source: str


WININET: dict[int, Meaning] = {
    0x0: Meaning("OK", "the server was reached", "nothing", UCPLAYA),
    0x2: Meaning(
        "image signature validation failed",
        "pre-RTM images are signed with MD5, RTM and later with SHA-1; a mismatch fails the check",
        "upload an image package signed for this firmware generation",
        UCPLAYA,
    ),
    0xD: Meaning("failure to write", "the rest of the source is cut off", "see the phone's logs", UCPLAYA),
    12002: Meaning(
        "ERROR_INTERNET_TIMEOUT",
        "the update server did not answer in time",
        "check routing/firewall to ucupdates-r2 on 80/443 and that phonehome listens there",
        COMMS_TEAM,
    ),
    12005: Meaning(
        "ERROR_INTERNET_INVALID_URL",
        "the update URL the phone built is invalid (in-band provisioning or BaseURL values)",
        "check the internal/external update URLs phonehome hands out",
        COMMS_TEAM,
    ),
    12007: Meaning(
        "ERROR_INTERNET_NAME_NOT_RESOLVED",
        "ucupdates-r2.<DHCP domain> (or the BaseURL host) does not resolve",
        "add the A record: run `phonehome doctor` for the exact line",
        COMMS_TEAM,
    ),
    12028: Meaning(
        "ERROR_INTERNET_ITEM_NOT_FOUND",
        "the file the phone asked for is not there",
        "check the image files under the BaseURL directory",
        COMMS_TEAM,
    ),
    12029: Meaning(
        "ERROR_INTERNET_CANNOT_CONNECT",
        "the name resolves but nothing accepts the connection",
        "start phonehome's HTTP/HTTPS listeners on 80/443 at that address",
        COMMS_TEAM,
    ),
    12030: Meaning(
        "ERROR_INTERNET_CONNECTION_ABORTED",
        "the connection was aborted, often during the TLS handshake",
        "check the server certificate's SAN (short name and FQDN) and signature hash",
        COMMS_TEAM,
    ),
    12031: Meaning(
        "ERROR_INTERNET_CONNECTION_RESET",
        "the server reset the connection",
        "check proxies/load balancers in front of the update service",
        COMMS_TEAM,
    ),
    12045: Meaning(
        "ERROR_INTERNET_INVALID_CA (= ERROR_WINHTTP_SECURE_INVALID_CA)",
        "the phone does not trust the CA that issued the update server's certificate",
        "sign in once (PIN or user) so the phone downloads the root chain via CertProv / certsrv",
        f"{LPE}; {WINDOWS}",
    ),
}

HTTP_STATUS: dict[int, Meaning] = {
    0: Meaning("no HTTP status", "no HTTP exchange happened (see the WinInet part)", "", COMMS_TEAM),
    200: Meaning("OK", "update request was sent successfully; no update when nothing downloads", "", UCPLAYA),
    401: Meaning(
        "Unauthorized",
        "an external device that is not signed in is refused (NTLM required on RequestHandlerExt)",
        "sign in on the phone, or allow anonymous external check-ins",
        COMMS_TEAM,
    ),
    403: Meaning("Forbidden", "the server refused the request", "check phonehome's access rules", HTTP),
    404: Meaning("Not Found", "the check-in or file path does not exist", "check the URLs handed out", HTTP),
    500: Meaning("Internal Server Error", "the update service failed", "read phonehome's log", HTTP),
    503: Meaning("Service Unavailable", "the update service is down or overloaded", "check the server", HTTP),
}

_PAIR = re.compile(r"^\(?\s*(0[xX][0-9a-fA-F]+|\d+)\s*/\s*(0[xX][0-9a-fA-F]+|\d+)\s*\)?$")


@dataclass(frozen=True, slots=True)
class Decoded:
    wininet: int
    http: int
    wininet_meaning: Meaning | None
    http_meaning: Meaning | None

    @property
    def summary(self) -> str:
        if self.wininet == 0 and self.http in (0, 200):
            return "normal: the last update check went through"
        if self.wininet != 0:
            return "the phone could not reach the update server (WinInet error)"
        return "the server was reached but did not handle the request (HTTP status)"


def _number(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def decode(text: str) -> Decoded:
    """``0x2F0D/0``, ``(0x0/200)``, ``12029/0``: the WinInet part is hex with 0x, else decimal."""
    match = _PAIR.match(text.strip())
    if match is None:
        raise ValueError(f"expected a Last Update Status like 0x2F0D/0, got {text!r}")
    wininet, http = (_number(g) for g in match.groups())
    if http > 999:
        raise ValueError(f"HTTP status out of range in {text!r}")
    return Decoded(wininet, http, WININET.get(wininet), HTTP_STATUS.get(http))
