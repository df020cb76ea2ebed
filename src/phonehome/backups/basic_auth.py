"""HTTP Basic authentication (RFC 7617), pure: parse an Authorization header, render a challenge.

A phone whose BRURI is ``http://4711:secret@host/backup/`` sends these credentials as a Basic header
(curl does the same with such a URL). The user-id may not contain a colon; the password may.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_TOKEN68 = re.compile(r"^[A-Za-z0-9+/\-._~]+=*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedAuthorization(ValueError):
    """The Authorization header is not valid Basic credentials."""


class NotBasic(ValueError):
    """The Authorization header uses another scheme."""


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    password: str = ""

    def __repr__(self) -> str:  # never print a password by accident
        return f"Credentials(user={self.user!r}, password=***)"


def parse_authorization(header: str) -> Credentials:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise NotBasic(f"authentication scheme {scheme[:20]!r} is not supported; use Basic")
    token = rest.strip()
    if not token or not _TOKEN68.match(token):
        raise MalformedAuthorization("Basic credentials are not base64")
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedAuthorization("Basic credentials are not base64") from None
    try:
        # UTF-8 is what we announce (charset="UTF-8"); Latin-1 is what older clients send.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, colon, password = text.partition(":")
    if not colon:
        raise MalformedAuthorization("Basic credentials lack the ':' between user and password")
    if not user or _CONTROL.search(text):
        raise MalformedAuthorization("Basic credentials have an empty user or control characters")
    return Credentials(user, password)


def render_challenge(realm: str) -> str:
    return f'Basic realm="{realm}", charset="UTF-8"'


def render_authorization(credentials: Credentials) -> str:
    pair = f"{credentials.user}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
