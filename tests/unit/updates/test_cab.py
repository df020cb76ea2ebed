"""Reading packages: cabarchive for stored/MSZIP folders, cabextract (libmspack) for LZX and Quantum."""

from __future__ import annotations

import pytest

from phonehome.updates.cab import PackageError, find_cabinets, read_package, safe_path
from tests.integration.updates.packages import build_cab, build_exe
from tests.support.corpus import cab_corpus
from tests.support.peers import require_binary


def corpus(name: str) -> bytes:
    return (cab_corpus() / name).read_bytes()


def test_mszip_cabinet_with_cabarchive() -> None:
    members = read_package(build_cab({"UCPhone/a/CPE.nbt": b"x" * 5000, "updateInfo.xml": b"<Updates/>"}))
    assert {m.path: len(m.data) for m in members} == {"UCPhone/a/CPE.nbt": 5000, "updateInfo.xml": 10}


def test_lzx_and_quantum_go_to_cabextract() -> None:
    cabextract = require_binary("cabextract")
    members = read_package(corpus("good/mixed.cab"), cabextract=cabextract)
    texts = {m.path: m.data.decode() for m in members}
    assert set(texts) == {"mszip.txt", "lzx.txt", "qtm.txt"}
    for name, kind in (("mszip.txt", "MSZIP"), ("lzx.txt", "LZX"), ("qtm.txt", "Quantum")):
        assert f"the {kind} decompressor" in texts[name].replace("\n", " "), texts[name]


def test_lzx_without_cabextract_is_refused_naming_the_compression() -> None:
    with pytest.raises(PackageError, match="LZX compression, which needs cabextract"):
        read_package(corpus("good/mixed.cab"), cabextract=None)


def test_cabextract_output_is_bounded_by_the_declared_sizes() -> None:
    cabextract = require_binary("cabextract")
    with pytest.raises(PackageError, match="declares 4294967231 bytes"):
        read_package(corpus("hostile/cve-2014-9556-qtm-infinite-loop.cab"), cabextract=cabextract)


def test_self_extractor_holds_cabinets() -> None:
    one, two = build_cab({"a.txt": b"one"}), build_cab({"b.txt": b"two"})
    exe = build_exe(one, two)
    assert find_cabinets(exe) == [one, two]
    assert [(m.path, m.data) for m in read_package(exe)] == [("a.txt", b"one"), ("b.txt", b"two")]
    with pytest.raises(PackageError, match="no cabinet found"):
        read_package(b"MZ" + b"\x00" * 1000)


@pytest.mark.parametrize("name", ["", "/etc/passwd", "..\\..\\x", "a/../b", "a//b", "C:\\x", "a\x00b", "./a"])
def test_unsafe_member_paths(name: str) -> None:
    with pytest.raises(PackageError, match="unsafe member path"):
        safe_path(name)


def test_member_names_use_slashes() -> None:
    assert safe_path("UCPhone\\Polycom\\CX700\\A\\ENU\\1.0.522.101\\CPE\\CPE.nbt").count("/") == 7
