"""Firmware versions (``1.0.522.101``), version patterns (``1.0.199.*``) and the client version filter.

Lync Phone Edition versions are dotted decimals of up to four parts; they order numerically, part by
part (``1.0.522.101`` < ``3.5.6907.35``). A pattern ends in ``*`` for "any build of": the CX700 guide's
filter ``OCPhone >= 1.0.199.*`` lets in 1.0.199.0 and everything newer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9}){0,5}$")
_PATTERN = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9}){0,5}(\.\*)?$|^\*$")
_FILTER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(>=|<=|==|=>|=<|!=|>|<|=)\s*(\S+)\s*$")


class VersionError(ValueError):
    """Not a firmware version."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Version:
        return _parse(text)

    def _key(self) -> tuple[int, ...]:
        return self.parts + (0,) * (6 - len(self.parts))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


@functools.lru_cache(maxsize=4096)  # every check-in compares the same few versions
def _parse(text: str) -> Version:
    text = text.strip()
    if not _VERSION.match(text):
        raise VersionError(f"not a firmware version: {text[:40]!r} (expected e.g. 1.0.522.101)")
    return Version(tuple(int(p) for p in text.split(".")))


def is_version(text: str) -> bool:
    return bool(_VERSION.match(text.strip()))


def newer(a: str, b: str) -> bool:
    """``a`` is a newer version than ``b``."""
    return Version.parse(a) > Version.parse(b)


@dataclass(frozen=True, slots=True)
class VersionPattern:
    """``1.0.199.*`` (any build of 1.0.199), ``1.0.199.123`` (exactly) or ``*`` (any)."""

    prefix: tuple[int, ...]
    wildcard: bool

    @classmethod
    def parse(cls, text: str) -> VersionPattern:
        text = text.strip()
        if not _PATTERN.match(text):
            raise VersionError(f"not a version pattern: {text[:40]!r} (expected e.g. 1.0.199.*)")
        if text == "*":
            return cls((), True)
        wildcard = text.endswith(".*")
        body = text[:-2] if wildcard else text
        return cls(tuple(int(p) for p in body.split(".")), wildcard)

    def compare(self, version: Version) -> int:
        """-1, 0 or 1: the version is below, inside or above the pattern."""
        head = version.parts[: len(self.prefix)] if self.wildcard else version.parts
        if not self.wildcard:
            a, b = Version(head), Version(self.prefix)
            return (a > b) - (a < b)
        head = head + (0,) * (len(self.prefix) - len(head))
        return (head > self.prefix) - (head < self.prefix)


_OPS = {
    ">=": lambda c: c >= 0,
    "=>": lambda c: c >= 0,
    "<=": lambda c: c <= 0,
    "=<": lambda c: c <= 0,
    ">": lambda c: c > 0,
    "<": lambda c: c < 0,
    "==": lambda c: c == 0,
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
}


@dataclass(frozen=True, slots=True)
class FilterRule:
    """One client version filter line: ``OCPhone >= 1.0.199.*``."""

    client: str
    op: str
    pattern: VersionPattern
    text: str

    @classmethod
    def parse(cls, text: str) -> FilterRule:
        match = _FILTER.match(text)
        if not match:
            raise VersionError(
                f"not a client version filter: {text[:60]!r} (expected e.g. OCPhone >= 1.0.199.*)"
            )
        client, op, pattern = match.groups()
        return cls(client, op, VersionPattern.parse(pattern), text.strip())

    def admits(self, version: Version) -> bool:
        return bool(_OPS[self.op](self.pattern.compare(version)))


# The Lync client version filter calls the phone "OCPhone"; in check-ins it calls itself UCPhone
# (device type). Both names select the same filter lines.
_CLIENT_ALIASES = {"ocphone": {"ocphone", "ucphone"}}


def filter_refusal(rules: list[FilterRule], clients: set[str], version: str | None) -> str | None:
    """The reason a device is refused, or None. ``clients`` are the names it goes by (lower case).

    Every line naming one of the device's names must admit its version; a device whose version is
    unknown or unparsable is refused by any line that names it, since the filter cannot vouch for it.
    """
    for rule in rules:
        names = _CLIENT_ALIASES.get(rule.client.lower(), {rule.client.lower()})
        if not names & clients:
            continue
        if version is None or not is_version(version):
            return f"client version filter '{rule.text}': device sent no usable version"
        if not rule.admits(Version.parse(version)):
            return f"client version filter '{rule.text}' refuses version {version}"
    return None
