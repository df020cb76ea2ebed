"""The catalog snapshot: rule lookup, test devices, the decision it feeds and store-path lookups."""

from __future__ import annotations

import datetime as dt

import pytest

from phonehome.updates.catalog import (
    Catalog,
    CatalogFile,
    CatalogImage,
    CatalogRule,
    DeviceAsks,
    TestDeviceEntry,
    image_folder_files,
)
from phonehome.updates.rules import RuleState

CX700 = "UCPhone/Polycom/CX700/A/ENU"
WHEN = dt.datetime(2010, 7, 1, 12, 0, tzinfo=dt.UTC)
MAC = "00-04-F2-00-00-01"


def image(version: str, min_from: str | None = None, path: str = CX700) -> CatalogImage:
    files = tuple(
        CatalogFile(p, p.lower(), f"{version}-{p}", 100)
        for p in ("CPE/CPE.nbt", "CPE/CPE.cat", "CPE/CPE_desc.xml", "CPE/readme.xml")
    )
    return CatalogImage(path.lower(), path, version, min_from, WHEN, WHEN, files)


def rule(path: str, state: RuleState) -> tuple[str, str, str, CatalogRule]:
    device_type, brand, model, revision, locale = path.split("/")
    return device_type, brand, model, CatalogRule(path.lower(), revision, locale, state)


STATE = RuleState(approved="1.0.522.101", pending="3.5.6907.35")
INTERIM = CatalogImage(
    "ocinterim/enu",
    "OCInterim/ENU",
    "0",
    None,
    WHEN,
    WHEN,
    (CatalogFile("CPE.nbt", "cpe.nbt", "interim", 10),),
)
CATALOG = Catalog.build(
    7,
    [
        rule(CX700, STATE),
        rule("UCPhone/Polycom/CX600/A/ENU", RuleState(approved="1.0.522.101")),
        rule("UCPhone/Polycom/CX600/A/DEU", RuleState(approved="1.0.522.101")),
    ],
    [image("1.0.522.101"), image("3.5.6907.35", min_from="1.0.522.0"), INTERIM],
    [
        TestDeviceEntry("mac", MAC, ""),
        TestDeviceEntry("serial", "SN_LAB", "Redmond"),
        TestDeviceEntry("mac", "SN_AS_MAC", ""),
    ],
)


def asks(
    model: str = "CX700",
    *,
    version: str | None = "1.0.522.101",
    revision: str = "A",
    locale: str = "ENU",
    vendor: str = "Polycom",
    device_type: str = "UCPhone",
    mac: str | None = "00-04-F2-00-00-99",
    serial: str | None = None,
    site: str = "",
) -> DeviceAsks:
    return DeviceAsks(device_type, vendor, model, revision, locale, version, mac, serial, site)


def test_build_indexes_rules_images_and_files() -> None:
    assert CATALOG.generation == 7
    assert set(CATALOG.rules) == {("ucphone", "polycom", "cx700"), ("ucphone", "polycom", "cx600")}
    assert [i.version for i in CATALOG.images[CX700.lower()]] == ["1.0.522.101", "3.5.6907.35"]
    assert (CX700.lower(), "3.5.6907.35", "cpe/cpe.nbt") in CATALOG.files
    assert len(CATALOG.files) == 2 * 4 + 1


def test_rule_for_is_case_insensitive() -> None:
    found = CATALOG.rule_for(
        asks("cx700", vendor="POLYCOM", device_type="ucphone", revision="a", locale="enu")
    )
    assert isinstance(found, CatalogRule) and found.match_key == CX700.lower() and found.state == STATE
    # No device type: a phone.
    assert isinstance(CATALOG.rule_for(asks(device_type="")), CatalogRule)


def test_rule_for_without_a_rule() -> None:
    assert CATALOG.rule_for(asks("CX3000")) == "no rule for this device"
    assert CATALOG.rule_for(asks(vendor="Aastra")) == "no rule for this device"
    assert CATALOG.rule_for(asks(revision="B")) == "no rule for this device"


def test_rule_for_needs_revision_and_locale_only_when_ambiguous() -> None:
    ambiguous = "several rules match; send revision and locale"
    assert CATALOG.rule_for(asks("CX600", locale="")) == ambiguous
    assert CATALOG.rule_for(asks("CX600", revision="", locale="")) == ambiguous
    deu = CATALOG.rule_for(asks("CX600", revision="", locale="deu"))
    assert isinstance(deu, CatalogRule) and deu.locale == "DEU"
    # CX700 has one rule: a device that sends neither still finds it.
    only = CATALOG.rule_for(asks(revision="", locale=""))
    assert isinstance(only, CatalogRule) and only.match_key == CX700.lower()


@pytest.mark.parametrize(
    ("mac", "serial", "site", "expected"),
    [
        (MAC, None, "", True),  # global, by MAC: in no site
        (MAC, None, "Dublin", True),  # global: in any site
        (None, "SN_LAB", "Redmond", True),  # site-scoped serial, in its site
        ("00-04-F2-00-00-02", "SN_LAB", "Redmond", True),  # the serial names it, whatever the MAC
        (None, "SN_LAB", "Dublin", False),  # elsewhere
        (None, "SN_LAB", "", False),  # in no site
        (None, MAC, "", False),  # a MAC entry does not match a serial
        ("SN_LAB", None, "Redmond", False),  # nor a serial entry a MAC
        (None, "SN_AS_MAC", "", False),
        (None, None, "Redmond", False),
    ],
)
def test_is_test_device(mac: str | None, serial: str | None, site: str, expected: bool) -> None:
    assert CATALOG.is_test_device(mac, serial, site) is expected


def test_decide_pending_for_test_devices_approved_for_others() -> None:
    decision, img = CATALOG.decide(asks(mac=MAC))
    assert decision.version == "3.5.6907.35"
    assert img is not None and img.version == "3.5.6907.35" and img.min_from == "1.0.522.0"
    decision, img = CATALOG.decide(asks(mac=None, serial="SN_LAB", site="Redmond"))
    assert decision.version == "3.5.6907.35" and img is not None
    decision, img = CATALOG.decide(asks())
    assert (decision.version, img) == (None, None) and decision.reason == "up to date on 1.0.522.101"
    decision, img = CATALOG.decide(asks(version="1.0.199.123"))
    assert decision.version == "1.0.522.101" and img is not None and img.version == "1.0.522.101"
    # A test device on 1.0.199.123 cannot install 6907 yet: it steps to 522 first.
    decision, _ = CATALOG.decide(asks(version="1.0.199.123", mac=MAC))
    assert decision.version == "1.0.522.101"


def test_decide_without_a_rule() -> None:
    decision, img = CATALOG.decide(asks("CX600", locale=""))
    assert (decision.version, decision.reason, img) == (
        None,
        "several rules match; send revision and locale",
        None,
    )
    decision, img = CATALOG.decide(asks("CX3000"))
    assert (decision.version, decision.reason, img) == (None, "no rule for this device", None)


def test_decide_restored_rule_offers_the_restore_version() -> None:
    restored = RuleState(approved="3.5.6907.35", restore="1.0.522.101", restored=True)
    catalog = Catalog.build(8, [rule(CX700, restored)], [image("1.0.522.101"), image("3.5.6907.35")], [])
    decision, img = catalog.decide(asks(version="3.5.6907.35"))
    assert decision.version == "1.0.522.101" and img is not None and img.version == "1.0.522.101"
    decision, _ = catalog.decide(asks(version="1.0.522.101"))
    assert decision.version is None


def test_decide_image_missing_from_the_store() -> None:
    catalog = Catalog.build(9, [rule(CX700, RuleState(approved="1.0.522.101"))], [], [])
    decision, img = catalog.decide(asks(version="1.0.199.123"))
    assert decision.version is None and img is None


def test_locate_store_paths() -> None:
    found = CATALOG.locate(f"{CX700}/3.5.6907.35/CPE/CPE.nbt")
    assert found is not None
    assert (found.image.version, found.file.path, found.file.sha256) == (
        "3.5.6907.35",
        "CPE/CPE.nbt",
        "3.5.6907.35-CPE/CPE.nbt",
    )
    # Phones and IIS compare paths case-insensitively.
    lower = CATALOG.locate("ucphone/POLYCOM/cx700/a/enu/1.0.522.101/cpe/cpe.CAT")
    assert lower is not None and lower.file.path == "CPE/CPE.cat" and lower.image.version == "1.0.522.101"


def test_locate_interim_files() -> None:
    found = CATALOG.locate("OCInterim/ENU/cpe.nbt")
    assert found is not None and found.image is INTERIM and found.file.sha256 == "interim"
    assert CATALOG.locate("ocinterim/enu/CPE.NBT") == found
    assert CATALOG.locate("OCInterim/DEU/cpe.nbt") is None


@pytest.mark.parametrize(
    "tail",
    [
        f"{CX700}/3.5.6907.35/../3.5.6907.35/CPE/CPE.nbt",  # traversal
        f"{CX700}/3.5.6907.35/./CPE/CPE.nbt",
        f"{CX700}/3.5.6907.35//CPE/CPE.nbt",  # empty segment
        f"/{CX700}/3.5.6907.35/CPE/CPE.nbt",
        "OCInterim/../cpe.nbt",
        "OCInterim/ENU",  # too short
        "cpe.nbt",
        "",
        f"{CX700}/3.5.6907.35",  # a folder, no file
        f"{CX700}/3.5.6907.35/CPE",  # a store path with no file below the version
        f"{CX700}/9.9.9.9/CPE/CPE.nbt",  # a version the store does not hold
        f"{CX700}/3.5.6907.35/CPE/other.nbt",
        "UCPhone/Polycom/CX700/A/DEU/3.5.6907.35/CPE/CPE.nbt",  # another rule's path
    ],
)
def test_locate_refuses(tail: str) -> None:
    assert CATALOG.locate(tail) is None


def test_image_folder_files() -> None:
    nbt, cat, xml = image_folder_files(image("1.0.522.101"))
    assert (nbt.path, cat and cat.path, xml and xml.path) == (
        "CPE/CPE.nbt",
        "CPE/CPE.cat",
        "CPE/CPE_desc.xml",
    )
    bare = image_folder_files(INTERIM)
    assert bare == (INTERIM.files[0], None, None)
