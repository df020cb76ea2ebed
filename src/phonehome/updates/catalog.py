"""The catalog: every rule, image, store file and test device, as one immutable snapshot in memory.

A check-in needs the device's rule, the images its store holds and whether it is a test device. Those
change only when an admin acts (approve, import, add a test device), while thousands of phones ask every
few minutes, so each node answers from a snapshot and reloads it when the database's catalog generation
moves (catalog_cache.py). Pure: building and querying a snapshot touches neither clock nor database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from phonehome.updates.decide import Decision, Image, decide
from phonehome.updates.package import INTERIM
from phonehome.updates.rules import RuleState


@dataclass(frozen=True, slots=True)
class CatalogFile:
    path: str  # "CPE/CPE.nbt", as imported
    path_key: str  # lower case: phones and IIS compare case-insensitively
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class CatalogImage:
    match_key: str
    path: str  # "UCPhone/Polycom/CX700/A/ENU"
    version: str
    min_from: str | None
    timestamp: dt.datetime
    imported_at: dt.datetime
    files: tuple[CatalogFile, ...]


@dataclass(frozen=True, slots=True)
class CatalogRule:
    match_key: str
    revision: str
    locale: str
    state: RuleState


@dataclass(frozen=True, slots=True)
class TestDeviceEntry:
    __test__ = False  # not a pytest class

    identifier_type: str  # "mac" | "serial"
    identifier: str
    site: str  # "" = every site


@dataclass(frozen=True, slots=True)
class DeviceAsks:
    """What a check-in says about the device, as far as the decision cares."""

    device_type: str
    vendor: str
    model: str
    revision: str
    locale: str
    current_version: str | None
    mac: str | None
    serial: str | None
    site: str


@dataclass(frozen=True, slots=True)
class StoreFile:
    """A file the update store serves, and the image it belongs to."""

    image: CatalogImage
    file: CatalogFile


@dataclass(frozen=True)
class Catalog:
    generation: int
    # (device type, brand, model), lower case → the rules for its revisions and locales
    rules: dict[tuple[str, str, str], tuple[CatalogRule, ...]] = field(default_factory=dict)
    images: dict[str, tuple[CatalogImage, ...]] = field(default_factory=dict)  # by match_key
    test_devices: frozenset[TestDeviceEntry] = frozenset()
    # (match_key, version, path_key) → the file: a download's lookup
    files: dict[tuple[str, str, str], StoreFile] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        generation: int,
        rules: Iterable[tuple[str, str, str, CatalogRule]],
        images: Iterable[CatalogImage],
        test_devices: Iterable[TestDeviceEntry],
    ) -> Catalog:
        """``rules`` as (device type, brand, model, rule) in their stored spelling."""
        by_model: dict[tuple[str, str, str], list[CatalogRule]] = {}
        for device_type, brand, model, rule in rules:
            by_model.setdefault((device_type.lower(), brand.lower(), model.lower()), []).append(rule)
        by_key: dict[str, list[CatalogImage]] = {}
        files: dict[tuple[str, str, str], StoreFile] = {}
        for image in images:
            by_key.setdefault(image.match_key, []).append(image)
            for f in image.files:
                files[(image.match_key, image.version, f.path_key)] = StoreFile(image, f)
        return cls(
            generation,
            {k: tuple(v) for k, v in by_model.items()},
            {k: tuple(v) for k, v in by_key.items()},
            frozenset(test_devices),
            files,
        )

    def rule_for(self, asks: DeviceAsks) -> CatalogRule | str:
        """The one rule for this device, or why there is none."""
        key = ((asks.device_type or "UCPhone").lower(), asks.vendor.lower(), asks.model.lower())
        revision, locale = asks.revision.lower(), asks.locale.lower()
        candidates = [
            r
            for r in self.rules.get(key, ())
            if (not revision or r.revision.lower() == revision) and (not locale or r.locale.lower() == locale)
        ]
        if len(candidates) == 1:
            return candidates[0]
        return (
            "no rule for this device" if not candidates else "several rules match; send revision and locale"
        )

    def is_test_device(self, mac: str | None, serial: str | None, site: str) -> bool:
        sites = ("", site) if site else ("",)
        for kind, identifier in (("mac", mac), ("serial", serial)):
            if identifier and any(TestDeviceEntry(kind, identifier, s) in self.test_devices for s in sites):
                return True
        return False

    def decide(self, asks: DeviceAsks) -> tuple[Decision, CatalogImage | None]:
        rule = self.rule_for(asks)
        if isinstance(rule, str):
            return Decision(None, rule), None
        images = self.images.get(rule.match_key, ())
        decision = decide(
            asks.current_version,
            rule.state,
            [Image(i.version, i.min_from) for i in images],
            test_device=self.is_test_device(asks.mac, asks.serial, asks.site),
        )
        return decision, next((i for i in images if i.version == decision.version), None)

    def locate(self, tail: str) -> StoreFile | None:
        """The file for a store URL tail: ``UCPhone/…/<Version>/CPE/CPE.nbt`` or ``OCInterim/ENU/cpe.nbt``."""
        parts = tail.split("/")
        if any(p in ("", ".", "..") for p in parts) or len(parts) < 3:
            return None
        if parts[0].lower() == INTERIM:
            match_key, version, rest = f"{INTERIM}/{parts[1].lower()}", "0", parts[2:]
        elif len(parts) >= 7:
            match_key, version, rest = "/".join(parts[:5]).lower(), parts[5], parts[6:]
        else:
            return None
        return self.files.get((match_key, version, "/".join(rest).lower()))


def image_folder_files(image: CatalogImage) -> tuple[CatalogFile, CatalogFile | None, CatalogFile | None]:
    """The image's .nbt, and the .cat and description .xml beside it (None when absent)."""
    nbt = next(f for f in image.files if f.path_key.endswith(".nbt"))
    folder = PurePosixPath(nbt.path).parent
    siblings = [f for f in image.files if PurePosixPath(f.path).parent == folder]
    cat = next((f for f in siblings if f.path_key.endswith(".cat")), None)
    xmls = sorted(
        (f for f in siblings if f.path_key.endswith(".xml")), key=lambda f: "desc" not in f.path_key
    )
    return nbt, cat, xmls[0] if xmls else None
