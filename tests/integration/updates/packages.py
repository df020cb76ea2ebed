"""Building UCUpdates-shaped packages for tests: cabinets with cabarchive, a fake self-extractor."""

from __future__ import annotations

import datetime as dt
import hashlib

from cabarchive import CabArchive, CabFile

CX700 = "UCPhone/Polycom/CX700/A/ENU"


def image_files(version: str, size: int = 4096) -> dict[str, bytes]:
    """CPE.nbt / CPE.cat / CPE_desc.xml for one version; the .nbt bytes are unique per version."""
    seed = hashlib.sha256(version.encode()).digest()
    nbt = (seed * (size // len(seed) + 1))[:size]
    return {
        f"{CX700}/{version}/CPE/CPE.nbt": nbt,
        f"{CX700}/{version}/CPE/CPE.cat": b"catalog for " + version.encode(),
        f"{CX700}/{version}/CPE/CPE_desc.xml": f"<Desc><Version>{version}</Version></Desc>".encode(),
    }


def build_cab(members: dict[str, bytes], *, compress: bool = True) -> bytes:
    archive = CabArchive()
    for name, data in members.items():
        archive[name.replace("/", "\\")] = CabFile(data, mtime=dt.datetime(2010, 7, 1, 12, 0, 0))
    return bytes(archive.save(compress=compress))


def build_exe(*cabinets: bytes) -> bytes:
    """A stand-in for UCUpdates.exe: a PE-looking stub, then the cabinet(s), then trailing bytes."""
    stub = (
        b"MZ"
        + b"\x90" * 510
        + b"This program cannot be run in DOS mode. MSCF but not a header"
        + b"\x00" * 64
    )
    return stub + b"".join(c + b"\x00" * 17 for c in cabinets)


def manifest(entries: list[dict[str, str]]) -> bytes:
    updates = "".join("<Update " + " ".join(f'{k}="{v}"' for k, v in e.items()) + "/>" for e in entries)
    return f'<?xml version="1.0"?><Updates><Updates>{updates}</Updates></Updates>'.encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
