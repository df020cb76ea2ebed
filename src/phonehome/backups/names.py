"""From the raw URL path under the prefix to a backup file name, pure.

Phones put flat names right under BRURI, so anything with a directory part, a dot segment, an
encoded slash or backslash, a NUL or a control character is refused before any vendor rule looks
at it. The result is the canonical name (MAC folded to lower case) and who owns the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

MAX_NAME = 128
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_MAC = re.compile(r"^[0-9a-f]{12}$")


class BadFileName(ValueError):
    """Not a backup file name phonehome accepts."""


@dataclass(frozen=True, slots=True)
class Owner:
    """``extension`` (an Avaya extension = account name), ``mac`` (a bound MAC) or ``shared``."""

    kind: Literal["extension", "mac", "shared"]
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


@dataclass(frozen=True, slots=True)
class BackupName:
    name: str
    vendor: Literal["avaya", "polycom", "yealink"]
    owner: Owner
    append: bool  # Polycom logs: an upload is added to the end of what is stored

    @property
    def content_type(self) -> str:
        return "application/xml" if self.name.endswith(".xml") else "text/plain"


def normalise_mac(text: str) -> str:
    """``00:04:F2:AA:BB:CC``, ``00-04-f2-aa-bb-cc`` or ``0004f2aabbcc`` → ``0004f2aabbcc``."""
    mac = re.sub(r"[:.\-]", "", text.strip()).lower()
    if not _MAC.match(mac) or mac == "000000000000":
        raise ValueError(f"not a MAC address: {text!r}")
    return mac


def decode_raw_name(raw: str) -> str:
    """The file name from the raw (still percent-encoded) path segment after the prefix."""
    if not raw:
        raise BadFileName("no file name after the backup prefix")
    if len(raw) > MAX_NAME * 3:
        raise BadFileName("file name too long")
    if "/" in raw or "\\" in raw or _ENCODED_SEPARATOR.search(raw):
        raise BadFileName("file names must not contain a directory part, slash, backslash or NUL")
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadFileName("file name is not valid UTF-8") from None
    if len(name) > MAX_NAME:
        raise BadFileName("file name too long")
    if name in (".", "..") or name.startswith(".") or not name.isprintable():
        raise BadFileName("file name must not be a dot segment, hidden or contain control characters")
    return name


def parse_backup_name(raw: str) -> BackupName:
    """Decode and check a requested name against every vendor's rules; BadFileName if none fits."""
    from phonehome.backups import naming_avaya, naming_polycom, naming_yealink

    name = decode_raw_name(raw)
    parsers: tuple[Callable[[str], BackupName | None], ...] = (
        naming_avaya.parse_name,
        naming_polycom.parse_name,
        naming_yealink.parse_name,
    )
    for parse in parsers:
        found = parse(name)
        if found is not None:
            return found
    raise BadFileName(
        f"{name!r} is not a backup file name (e.g. 4711_96xxdata.txt, 0004f2aabbcc-directory.xml,"
        " 001565aabbcc-contact.xml)"
    )
