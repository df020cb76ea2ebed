from __future__ import annotations

import pytest

from phonehome.netplan.errors import TrailingBytes, Truncated, WireError
from phonehome.netplan.wire import Parser


def test_reads_and_fences() -> None:
    parser = Parser(bytes.fromhex("0203616263ff"))
    assert parser.get_uint8() == 2
    with parser.restrict_to(4):
        assert parser.get_counted_bytes() == b"abc"
    assert parser.get_uint8() == 0xFF
    parser.finish()


@pytest.mark.parametrize(
    ("wire", "steps", "error"),
    [
        (b"", lambda p: p.get_uint8(), Truncated),
        (b"\x05abc", lambda p: p.get_counted_bytes(), Truncated),
        (b"\x01\x02", lambda p: p.restrict_to(3).__enter__(), Truncated),
        (b"ab", lambda p: p.finish(), TrailingBytes),
        (b"ab", lambda p: p.seek(3), Truncated),
    ],
)
def test_short_and_long_reads_are_wire_errors(wire: bytes, steps: object, error: type[WireError]) -> None:
    with pytest.raises(error):
        steps(Parser(wire))  # type: ignore[operator]


def test_fence_must_be_read_to_the_end() -> None:
    parser = Parser(b"\x01\x02\x03")
    with pytest.raises(TrailingBytes), parser.restrict_to(2):
        parser.get_uint8()


def test_fence_stops_reads_past_it() -> None:
    parser = Parser(b"\x01\x02\x03")
    with pytest.raises(Truncated), parser.restrict_to(1):
        parser.get_bytes(2)
