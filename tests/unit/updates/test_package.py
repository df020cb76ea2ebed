from __future__ import annotations

import pytest

from phonehome.updates.cab import Member, PackageError
from phonehome.updates.package import interpret
from tests.integration.updates.packages import CX700, image_files, manifest


def members(files: dict[str, bytes]) -> list[Member]:
    return [Member(path, data) for path, data in files.items()]


def test_path_layout() -> None:
    package = interpret(members({**image_files("1.0.522.101"), **image_files("3.5.6907.35")}))
    assert sorted((i.key.path, i.version) for i in package.images) == [
        (CX700, "1.0.522.101"),
        (CX700, "3.5.6907.35"),
    ]
    assert {f.path for f in package.images[0].files} == {"CPE/CPE.nbt", "CPE/CPE.cat", "CPE/CPE_desc.xml"}


def test_manifest_adds_minimum_version_and_names_files() -> None:
    files = {**image_files("3.5.6907.35"), "x/Tanjay.nbt": b"nbt", "x/Tanjay.cat": b"cat"}
    files["updateInfo.xml"] = manifest(
        [
            {
                "DeviceType": "UCPhone",
                "Brand": "Polycom",
                "Model": "CX700",
                "Revision": "A",
                "Locale": "ENU",
                "Version": "3.5.6907.35",
                "MinimumVersion": "1.0.522.0",
            },
            {
                "DeviceType": "UCPhone",
                "Manufacturer": "Aastra",
                "Model": "6725ip",
                "Revision": "A",
                "Locale": "ENU",
                "Version": "4.0.7577.4387",
                "Path": "x",
            },
        ]
    )
    package = interpret(members(files))
    by_model = {i.key.model: i for i in package.images}
    assert by_model["CX700"].min_from == "1.0.522.0"
    assert {f.path for f in by_model["6725ip"].files} == {"Tanjay.nbt", "Tanjay.cat"}


def test_interim_files() -> None:
    package = interpret(members({"OCInterim/ENU/cpe.nbt": b"interim"}))
    assert [(f.locale, f.path) for f in package.interim] == [("ENU", "cpe.nbt")]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"hello.c": b"x"}, "no firmware images"),
        ({f"{CX700}/1.0/CPE/CPE.cat": b"x"}, "0 .nbt files"),
        ({f"{CX700}/1.0/CPE/a.nbt": b"x", f"{CX700}/1.0/CPE/b.nbt": b"y"}, "2 .nbt files"),
        ({"updateInfo.xml": b"<Updates><Update"}, "updateInfo.xml cannot be read"),
        ({"updateInfo.xml": b'<!DOCTYPE u [<!ENTITY e "x">]><Updates/>'}, "updateInfo.xml cannot be read"),
        (
            {
                "updateInfo.xml": manifest(
                    [
                        {
                            "DeviceType": "UCPhone",
                            "Brand": "P",
                            "Model": "M",
                            "Revision": "A",
                            "Locale": "ENU",
                            "Version": "1.0",
                            "File": "missing.nbt",
                        }
                    ]
                )
            },
            "which the package lacks",
        ),
        (
            {
                "updateInfo.xml": manifest(
                    [
                        {
                            "DeviceType": "UCPhone",
                            "Brand": "P",
                            "Model": "M",
                            "Revision": "A",
                            "Locale": "ENU",
                            "Version": "x.y",
                            "Path": "p",
                        }
                    ]
                )
            },
            "invalid firmware version",
        ),
    ],
)
def test_refusals(files: dict[str, bytes], reason: str) -> None:
    with pytest.raises(PackageError, match=reason):
        interpret(members(files))
