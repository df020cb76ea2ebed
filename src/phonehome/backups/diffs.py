"""Text views of backup versions, pure: decode as the phone wrote them, unified diff between two.

Hand-made Avaya files are UTF-16LE with a BOM; phones write ASCII/UTF-8. Stored bytes are never
changed; decoding is only for people reading them.
"""

from __future__ import annotations

import codecs
import difflib


def decode_for_display(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    return data.decode("utf-8", errors="replace")


def unified_diff(name: str, a_label: str, a: bytes, b_label: str, b: bytes) -> str:
    lines = difflib.unified_diff(
        decode_for_display(a).splitlines(keepends=True),
        decode_for_display(b).splitlines(keepends=True),
        fromfile=f"{name}@{a_label}",
        tofile=f"{name}@{b_label}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
