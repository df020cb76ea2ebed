"""HTTP Range and If-Range (RFC 9110 §14) for firmware downloads: pure, no I/O.

aiohttp 3.14's FileResponse answers one range only and ignores an If-Range ETag, so phonehome
decides here: which byte ranges to send (single, several, suffix), when a range is unsatisfiable
(416), and when If-Range says the client's partial copy is stale (send the whole file).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 16  # more parts than this is a resource attack, not a resumed download


class RangeNotSatisfiable(ValueError):
    """No requested range overlaps the file."""


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """Inclusive (first, last) byte ranges, or None to send the whole file.

    A header that is not a ``bytes=`` range set (or has too many parts) is ignored, as RFC 9110 allows;
    a valid set none of whose ranges overlaps the file raises RangeNotSatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for part in parts:
        match = _SPEC.match(part)
        if not match or match.groups() == ("", ""):
            return None
        first_text, last_text = match.groups()
        if first_text == "":
            suffix = int(last_text)
            if suffix == 0:
                continue
            ranges.append((max(0, size - suffix), size - 1))
            continue
        first = int(first_text)
        if last_text and int(last_text) < first:
            return None
        if first >= size:
            continue
        ranges.append((first, min(int(last_text), size - 1) if last_text else size - 1))
    if not ranges or size == 0:
        raise RangeNotSatisfiable(f"bytes */{size}")
    return ranges


def if_range_allows(if_range: str | None, etag: str, last_modified: dt.datetime) -> bool:
    """True when a Range may be honoured: no If-Range, or it names the current representation.

    An entity tag must match strongly (a weak one never does); a date must equal Last-Modified.
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when == last_modified.replace(microsecond=0)


def etag_matches(header: str | None, etag: str, *, weak: bool) -> bool:
    """If-None-Match (weak comparison) / If-Match (strong) against our strong ETag."""
    if header is None:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            if weak and tag[2:] == etag:
                return True
        elif tag == etag:
            return True
    return False


def content_range(first: int, last: int, size: int) -> str:
    return f"bytes {first}-{last}/{size}"
