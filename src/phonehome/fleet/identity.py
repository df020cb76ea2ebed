"""Device identifiers as admins type them and phones send them: MAC addresses and serial numbers."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-:.\s]")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_SERIAL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class IdentifierError(ValueError):
    """Not a MAC address or serial number."""


def normalise_mac(text: str) -> str:
    """``00-04-F2-95-31-A2`` from ``0004f29531a2``, ``00:04:f2:95:31:a2``, ``0004.f295.31a2``.

    New-CsTestDevice accepts these forms with at least six two-character pairs; EUI-64 (eight) too.
    """
    raw = _SEPARATORS.sub("", text.strip())
    if not _HEX.match(raw) or len(raw) not in (12, 16):
        raise IdentifierError(f"not a MAC address: {text[:40]!r} (expected e.g. 00-04-F2-95-31-A2)")
    return "-".join(raw[i : i + 2] for i in range(0, len(raw), 2)).upper()


def try_mac(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normalise_mac(text)
    except IdentifierError:
        return None


def normalise_serial(text: str) -> str:
    """Serial numbers may hold letters, digits, hyphens and underscores (New-CsTestDevice)."""
    value = text.strip()
    if not _SERIAL.match(value):
        raise IdentifierError(f"not a serial number: {text[:40]!r} (letters, digits, - and _ only)")
    return value.upper()


def try_serial(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normalise_serial(text)
    except IdentifierError:
        return None
