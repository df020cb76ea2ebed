"""decode-status: the WinInet/HTTP pair of research §8."""

from __future__ import annotations

import pytest

from phonehome.doctor.report import render_status
from phonehome.doctor.status_codes import decode


@pytest.mark.parametrize(
    ("text", "wininet", "http", "name"),
    [
        ("0x2F0D/0", 12045, 0, "ERROR_INTERNET_INVALID_CA"),
        ("(0x2efd/0)", 12029, 0, "ERROR_INTERNET_CANNOT_CONNECT"),
        ("12007/0", 12007, 0, "ERROR_INTERNET_NAME_NOT_RESOLVED"),
        ("0x0/200", 0, 200, "OK"),
        ("0x00/0", 0, 0, "OK"),
        (" 0x0 / 401 ", 0, 401, "OK"),
    ],
)
def test_decode(text: str, wininet: int, http: int, name: str) -> None:
    decoded = decode(text)
    assert (decoded.wininet, decoded.http) == (wininet, http)
    assert decoded.wininet_meaning is not None and decoded.wininet_meaning.name.startswith(name)


def test_summary_and_rendering_name_the_side_that_failed() -> None:
    assert decode("0x0/200").summary.startswith("normal")
    assert "could not reach" in decode("0x2F0D/0").summary
    assert "did not handle" in decode("0x0/401").summary
    text = render_status(decode("0x2F0D/0"))
    assert "12045 (0x2F0D)" in text and "root chain" in text and "source:" in text
    assert "Unauthorized" in render_status(decode("0x0/401"))


def test_unknown_codes_are_named_as_unknown() -> None:
    decoded = decode("0x1234/418")
    assert decoded.wininet_meaning is None and decoded.http_meaning is None
    assert "not a code the sources list" in render_status(decoded)


@pytest.mark.parametrize("bad", ["", "0x2F0D", "0x2F0D/", "/200", "0xZZ/0", "0x0/1000", "abc/def", "1/2/3"])
def test_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        decode(bad)
