"""What a firmware package holds: images per (DeviceType, Brand, Model, Revision, Locale, Version).

The internal layout of UCUpdates.cab is not public (research §3.2: only ``updateInfo.xml`` is
confirmed), so three ways to say which device an image is for are accepted:

(a) member paths ``<DeviceType>/<Brand>/<Model>/<Revision>/<Locale>/<Version>/…``, as the update store
    lays them out (``UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE/CPE.nbt``); ``OCInterim/<Locale>/…``
    members are OCS 2007 R2 interim images, served as they are;
(b) an ``updateInfo.xml`` whose ``Update`` elements carry those attributes (or child elements), plus an
    optional ``MinimumVersion`` (the oldest version the image installs from) and ``File`` children or
    a ``Path`` attribute naming the members; entries naming only a rule and version add
    ``MinimumVersion`` to an image laid out as in (a);
(c) ``phonehome firmware add`` with the attributes on the command line.

An image must hold exactly one ``.nbt`` file (the image); its ``.cat`` is the signature and an
``.xml`` the description, as the CX700 trace shows (CPE.nbt, CPE.cat, CPE_desc.xml).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # renders our own template; parsing goes through defusedxml
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from phonehome.updates.cab import Member, PackageError
from phonehome.updates.rules import RuleKey
from phonehome.updates.versions import VersionError, is_version

MANIFEST = "updateinfo.xml"
INTERIM = "ocinterim"
_KEY_FIELDS = ("device_type", "brand", "model", "revision", "locale")
_SYNONYMS = {
    "devicetype": "device_type",
    "brand": "brand",
    "vendor": "brand",
    "manufacturer": "brand",
    "model": "model",
    "revision": "revision",
    "locale": "locale",
    "version": "version",
    "minimumversion": "min_from",
    "minversion": "min_from",
    "minfromversion": "min_from",
    "upgradefrom": "min_from",
    "path": "path",
    "folder": "path",
}


@dataclass(frozen=True, slots=True)
class ImageFile:
    path: str  # relative to the version directory, e.g. "CPE/CPE.nbt"
    data: bytes


@dataclass(frozen=True, slots=True)
class ImageSpec:
    key: RuleKey
    version: str
    files: tuple[ImageFile, ...]
    min_from: str | None = None
    timestamp: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class InterimFile:
    locale: str
    path: str
    data: bytes


@dataclass
class Package:
    images: list[ImageSpec] = field(default_factory=list)
    interim: list[InterimFile] = field(default_factory=list)


def _check_segment(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > 64 or any(c in value for c in "/\\") or value in (".", ".."):
        raise PackageError(f"invalid {what} {value[:40]!r} in package")
    return value


def make_key(values: Mapping[str, str]) -> RuleKey:
    missing = [f for f in _KEY_FIELDS if not values.get(f)]
    if missing:
        raise PackageError(f"image entry lacks {', '.join(missing)}")
    return RuleKey(*(_check_segment(values[f], f.replace("_", " ")) for f in _KEY_FIELDS))


def check_version(version: str) -> str:
    if not is_version(version):
        raise PackageError(f"invalid firmware version {version[:40]!r} (expected e.g. 1.0.522.101)")
    return version.strip()


def check_image(spec: ImageSpec) -> ImageSpec:
    nbt = [f for f in spec.files if f.path.lower().endswith(".nbt")]
    if len(nbt) != 1:
        raise PackageError(f"image {spec.key.path}/{spec.version} has {len(nbt)} .nbt files, expected one")
    if spec.min_from is not None:
        check_version(spec.min_from)
    return spec


def _manifest_entries(data: bytes) -> list[dict[str, object]]:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise PackageError(f"updateInfo.xml cannot be read: {exc}") from exc
    entries: list[dict[str, object]] = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1].lower() != "update":
            continue
        values: dict[str, object] = {}
        files: list[str] = []
        pairs = list(element.attrib.items()) + [(c.tag, (c.text or "").strip()) for c in element]
        for name, value in pairs:
            local = name.rsplit("}", 1)[-1].lower()
            if local == "file" and value:
                files.append(value)
            elif local in _SYNONYMS and value:
                values.setdefault(_SYNONYMS[local], value)
        values["files"] = files
        entries.append(values)
    return entries


def _by_path(members: Sequence[Member], package: Package) -> dict[tuple[str, str], list[Member]]:
    groups: dict[tuple[str, str], list[Member]] = {}
    for member in members:
        parts = member.path.split("/")
        if parts[0].lower() == INTERIM and len(parts) >= 3:
            locale = _check_segment(parts[1], "locale")
            package.interim.append(InterimFile(locale, "/".join(parts[2:]), member.data))
        elif len(parts) >= 7 and is_version(parts[5]):
            groups.setdefault(("/".join(parts[:5]), parts[5]), []).append(member)
    return groups


def _timestamp(members: Sequence[Member]) -> dt.datetime | None:
    times = [m.time for m in members if m.time is not None]
    return max(times) if times else None


def interpret(members: Sequence[Member]) -> Package:
    """The images and interim files in a package's members; PackageError when there are none."""
    package = Package()
    by_name = {m.path.lower(): m for m in members}
    groups = _by_path(members, package)
    extra: dict[tuple[str, str], str] = {}
    manifest = next((m for m in members if m.path.rsplit("/", 1)[-1].lower() == MANIFEST), None)
    for entry in _manifest_entries(manifest.data) if manifest else []:
        if not all(entry.get(f) for f in (*_KEY_FIELDS, "version")):
            continue  # Microsoft's own updateInfo.xml names only the package version.
        key = make_key({k: str(v) for k, v in entry.items() if isinstance(v, str)})
        version = check_version(str(entry["version"]))
        if entry.get("min_from"):
            extra[(key.match_key, version)] = check_version(str(entry["min_from"]))
        names = list(entry["files"]) if isinstance(entry["files"], list) else []
        prefix = str(entry.get("path", "")).replace("\\", "/").strip("/")
        chosen = [m for m in members if prefix and m.path.lower().startswith(prefix.lower() + "/")]
        for name in names:
            member = by_name.get(name.replace("\\", "/").lower())
            if member is None:
                raise PackageError(f"updateInfo.xml names {name[:80]!r}, which the package lacks")
            chosen.append(member)
        if chosen:
            base = prefix + "/" if prefix else ""
            files = tuple(
                ImageFile(m.path[len(base) :] if base else m.path.rsplit("/", 1)[-1], m.data) for m in chosen
            )
            package.images.append(ImageSpec(key, version, files, timestamp=_timestamp(chosen)))
    for (key_path, version), group in groups.items():
        key = make_key(dict(zip(_KEY_FIELDS, key_path.split("/"), strict=True)))
        files = tuple(ImageFile("/".join(m.path.split("/")[6:]), m.data) for m in group)
        package.images.append(ImageSpec(key, version, files, timestamp=_timestamp(group)))
    package.images = [
        check_image(
            ImageSpec(
                img.key, img.version, img.files, extra.get((img.key.match_key, img.version)), img.timestamp
            )
        )
        for img in package.images
    ]
    seen: set[tuple[str, str]] = set()
    for img in package.images:
        if (img.key.match_key, img.version) in seen:
            raise PackageError(f"package holds image {img.key.path}/{img.version} twice")
        seen.add((img.key.match_key, img.version))
    if not package.images and not package.interim:
        raise PackageError(
            "no firmware images in package: expected <DeviceType>/<Brand>/<Model>/<Revision>/<Locale>/"
            "<Version>/… members or an updateInfo.xml naming them"
        )
    return package


__all__ = ["ImageFile", "ImageSpec", "InterimFile", "Package", "VersionError", "interpret"]
