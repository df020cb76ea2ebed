"""Conditional requests (RFC 9110 §13) with strong ETags, pure.

phonehome's ETag of a backup is its sha256 in quotes, so equal content has the same tag on every node.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Literal

Outcome = Literal["proceed", "not_modified", "failed"]


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


@functools.lru_cache(maxsize=4096)
def http_date(when: dt.datetime) -> str:
    """An HTTP date (RFC 9110 §5.6.7), as aiohttp's ``last_modified`` writes it; one format per version.

    Fractions round up, so a client's If-Modified-Since never predates the change.
    """
    if when.microsecond:
        when = when.replace(microsecond=0) + dt.timedelta(seconds=1)
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", when.utctimetuple())


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def _matches(header: str, current: str | None) -> bool:
    tags = _tags(header)
    if "*" in tags:
        return current is not None
    # Strong comparison: a weak tag never matches.
    return current is not None and current in tags


def evaluate(method: str, current: str | None, if_match: str | None, if_none_match: str | None) -> Outcome:
    """What to do with a request given the current ETag (None = no such file)."""
    if if_match is not None and not _matches(if_match, current):
        return "failed"
    if if_none_match is not None and _matches(if_none_match, current):
        return "not_modified" if method in ("GET", "HEAD") else "failed"
    return "proceed"
