"""File-name rules per vendor and the raw-path checks in front of them."""

from __future__ import annotations

import pytest

from phonehome.backups.names import BadFileName, normalise_mac, parse_backup_name


@pytest.mark.parametrize(
    ("raw", "name", "vendor", "owner", "append"),
    [
        ("4711_96xxdata.txt", "4711_96xxdata.txt", "avaya", "extension:4711", False),
        ("299_16xxdata.txt", "299_16xxdata.txt", "avaya", "extension:299", False),
        ("370112_9610data.txt", "370112_9610data.txt", "avaya", "extension:370112", False),
        ("9610data.txt", "9610data.txt", "avaya", "shared", False),
        ("0004F2AABBCC-phone.cfg", "0004f2aabbcc-phone.cfg", "polycom", "mac:0004f2aabbcc", False),
        ("0004f2aabbcc-web.cfg", "0004f2aabbcc-web.cfg", "polycom", "mac:0004f2aabbcc", False),
        ("0004f2aabbcc-directory.xml", "0004f2aabbcc-directory.xml", "polycom", "mac:0004f2aabbcc", False),
        ("0004f2aabbcc-calls.xml", "0004f2aabbcc-calls.xml", "polycom", "mac:0004f2aabbcc", False),
        ("0004f2aabbcc-app.log", "0004f2aabbcc-app.log", "polycom", "mac:0004f2aabbcc", True),
        ("0004f2aabbcc-boot.log", "0004f2aabbcc-boot.log", "polycom", "mac:0004f2aabbcc", True),
        ("001565AABBCC-contact.xml", "001565aabbcc-contact.xml", "yealink", "mac:001565aabbcc", False),
        ("001565aabbcc-local.cfg", "001565aabbcc-local.cfg", "yealink", "mac:001565aabbcc", False),
        ("4711%5F96xxdata.txt", "4711_96xxdata.txt", "avaya", "extension:4711", False),
    ],
)
def test_accepted_names(raw: str, name: str, vendor: str, owner: str, append: bool) -> None:
    found = parse_backup_name(raw)
    assert (found.name, found.vendor, str(found.owner), found.append) == (name, vendor, owner, append)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "..",
        "%2e%2e",
        "%2E%2e",
        ".4711_96xxdata.txt",
        "a/4711_96xxdata.txt",
        "..%2f4711_96xxdata.txt",
        "..%2F4711_96xxdata.txt",
        "x%5c4711_96xxdata.txt",
        "x\\4711_96xxdata.txt",
        "4711_96xxdata.txt%00",
        "4711_96xxdata.txt%0a",
        "%ff%fe",
        "9" * 200 + "_96xxdata.txt",
        "x" * 1000,
        "4711_96xxdata.TXT",
        "4711_46xxdata.txt",
        "abc_96xxdata.txt",
        "_96xxdata.txt",
        "46xxsettings.txt",
        "000000000000-phone.cfg",
        "000000000000-contact.xml",
        "0004f2aabbc-phone.cfg",
        "0004f2aabbccdd-phone.cfg",
        "0004f2aabbcc-other.cfg",
        "0004f2aabbcc-contact.cfg",
        "0004f2aabbcc-phone.cfg.bak",
        "etc%2fpasswd",
    ],
)
def test_refused_names(raw: str) -> None:
    with pytest.raises(BadFileName):
        parse_backup_name(raw)


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("00:04:F2:AA:BB:CC", "0004f2aabbcc"),
        ("00-04-f2-aa-bb-cc", "0004f2aabbcc"),
        ("0004.f2aa.bbcc", "0004f2aabbcc"),
    ],
)
def test_normalise_mac(text: str, mac: str) -> None:
    assert normalise_mac(text) == mac


@pytest.mark.parametrize("text", ["", "00:00:00:00:00:00", "0004f2aabbc", "zz04f2aabbcc", "0004f2aabbcc00"])
def test_bad_mac(text: str) -> None:
    with pytest.raises(ValueError, match="not a MAC"):
        normalise_mac(text)
