"""One read cursor over option bytes; every short or long read is a :class:`WireError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from phonehome.netplan.errors import TrailingBytes, Truncated


class Parser:
    """A cursor over ``wire`` from ``current``; ``restrict_to`` fences the next n bytes."""

    def __init__(self, wire: bytes, current: int = 0) -> None:
        self.wire = wire
        self.current = current
        self.end = len(wire)

    def remaining(self) -> int:
        return self.end - self.current

    def get_bytes(self, size: int) -> bytes:
        if size < 0 or size > self.remaining():
            raise Truncated(f"option bytes end early: wanted {size} bytes at offset {self.current}")
        out = self.wire[self.current : self.current + size]
        self.current += size
        return out

    def get_uint8(self) -> int:
        return self.get_bytes(1)[0]

    def get_counted_bytes(self) -> bytes:
        """A one-octet length followed by that many bytes (the DHCP TLV shape)."""
        return self.get_bytes(self.get_uint8())

    def get_remaining(self) -> bytes:
        return self.get_bytes(self.remaining())

    def seek(self, where: int) -> None:
        if not 0 <= where <= self.end:
            raise Truncated(f"seek to {where} outside 0..{self.end}")
        self.current = where

    @contextlib.contextmanager
    def restrict_to(self, size: int) -> Iterator[None]:
        """Only the next ``size`` bytes are readable inside; all of them must be read."""
        if size < 0 or size > self.remaining():
            raise Truncated(f"length {size} at offset {self.current} runs past the end")
        saved_end = self.end
        self.end = self.current + size
        yield
        if self.current != self.end:
            raise TrailingBytes(f"{self.end - self.current} unread bytes at offset {self.current}")
        self.end = saved_end

    def finish(self) -> None:
        if self.remaining():
            raise TrailingBytes(f"{self.remaining()} unread bytes at offset {self.current}")
