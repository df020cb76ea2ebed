from __future__ import annotations

import codecs

from phonehome.backups.diffs import decode_for_display, unified_diff


def test_utf16le_with_bom_as_avaya_hand_made_files() -> None:
    data = codecs.BOM_UTF16_LE + "ABKNAME001=Jürgen\r\n".encode("utf-16-le")
    assert decode_for_display(data) == "ABKNAME001=Jürgen\r\n"


def test_diff_between_versions() -> None:
    a = b"ABKNAME001=Alice\nABKNUMBER001=100\n"
    b = codecs.BOM_UTF16_LE + "ABKNAME001=Alice\nABKNUMBER001=200\n".encode("utf-16-le")
    assert unified_diff("4711_96xxdata.txt", "v1", a, "v2", b).splitlines() == [
        "--- 4711_96xxdata.txt@v1",
        "+++ 4711_96xxdata.txt@v2",
        "@@ -1,2 +1,2 @@",
        " ABKNAME001=Alice",
        "-ABKNUMBER001=100",
        "+ABKNUMBER001=200",
    ]


def test_no_trailing_newline_and_invalid_utf8() -> None:
    assert unified_diff("f", "v1", b"x", "v2", b"\xff").endswith("+\ufffd\n")
