"""What can be wrong with a network plan or with option bytes::

BadRequest (400 / exit 2)
└── NetplanError              invalid network plan
    ├── BadSite               a [site] field is missing or invalid (the reason names it)
    ├── BadValue              a codec refused a value (bad name, address, port …)
    ├── OptionTooLong         an option over 255 octets (RFC 3396 splitting is not done)
    ├── UnknownFormat         an output format or zone this slice does not render
    └── WireError             malformed option bytes
        ├── Truncated         fewer bytes than a length said
        ├── TrailingBytes     bytes left over inside a fenced length
        └── BadLength         a length or count that cannot be right
"""

from __future__ import annotations

from phonehome.errors import BadRequest


class NetplanError(BadRequest):
    """Invalid network plan."""


class BadSite(NetplanError):
    """Invalid [site] configuration."""


class BadValue(NetplanError):
    """Invalid option value."""


class OptionTooLong(NetplanError):
    """DHCP option longer than 255 octets."""


class UnknownFormat(NetplanError):
    """Unknown output format."""


class WireError(NetplanError):
    """Malformed DHCP option bytes."""


class Truncated(WireError):
    """Option bytes end early."""


class TrailingBytes(WireError):
    """Unexpected bytes after the end of a value."""


class BadLength(WireError):
    """Impossible length in option bytes."""
