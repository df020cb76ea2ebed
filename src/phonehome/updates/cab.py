"""Reading firmware packages: ``UCUpdates.cab`` and the ``UCUpdates.exe`` self-extractor around it.

cabarchive decodes stored and MSZIP folders. LZX and Quantum folders go to libmspack's ``cabextract``
when it is installed (into a private temporary directory, from which only regular files are read);
without it the package is refused naming the compression. A self-extractor is searched for embedded
cabinets by their ``MSCF`` signature and header. Member names come back as ``/``-separated relative
paths; a name that is empty, absolute or walks upwards refuses the whole package, so nothing a
package says can name a place outside the store.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cabarchive import CabArchive
from cabarchive.errors import CorruptionError, NotSupportedError

_SIGNATURE = b"MSCF\x00\x00\x00\x00"
_HEADER = struct.Struct("<4sIIIIIBBHHHHH")  # CFHEADER up to iCabinet
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LISTING = re.compile(r"^\s*(\d+) \| [\d.]+ [\d:]+ \| (.*)$")
CABEXTRACT_TIMEOUT = 120


class PackageError(ValueError):
    """The firmware package cannot be read."""


@dataclass(frozen=True, slots=True)
class Member:
    path: str
    data: bytes
    time: dt.datetime | None = None


def safe_path(name: str) -> str:
    """``UCPhone/Polycom/…/CPE.nbt`` from a cabinet name (``\\`` separators); PackageError if unsafe."""
    path = name.replace("\\", "/")
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or _CONTROL.search(path)
        or any(p in ("", ".", "..") for p in parts)
        or re.match(r"^[A-Za-z]:", path)
    ):
        raise PackageError(f"unsafe member path in package: {name[:80]!r}")
    return path


def find_cabinets(data: bytes) -> list[bytes]:
    """The cabinets in a file: itself when it starts with MSCF, else those embedded (self-extractor)."""
    if data.startswith(_SIGNATURE):
        return [data]
    found: list[bytes] = []
    start = data.find(_SIGNATURE)
    while start != -1:
        if start + _HEADER.size <= len(data):
            fields = _HEADER.unpack_from(data, start)
            size, files_offset, major = fields[2], fields[4], fields[7]
            # A real header: plausible size, version 1.3, file table inside the cabinet.
            if major == 1 and _HEADER.size <= files_offset < size <= len(data) - start:
                found.append(data[start : start + size])
                start = data.find(_SIGNATURE, start + size)
                continue
        start = data.find(_SIGNATURE, start + 1)
    return found


def _member_time(date: dt.date | None, time: dt.time | None) -> dt.datetime | None:
    if date is None:
        return None
    return dt.datetime.combine(date, time or dt.time(), tzinfo=dt.UTC)


def read_cabinet(data: bytes, *, cabextract: str | None, max_size: int) -> list[Member]:
    try:
        archive = CabArchive(data)
    except NotSupportedError as exc:
        compression = next((c for c in ("LZX", "Quantum") if c in str(exc)), None)
        if compression is None:
            raise PackageError(f"not a readable cabinet: {exc}") from exc
        if cabextract is None:
            raise PackageError(
                f"cabinet uses {compression} compression, which needs cabextract (libmspack): "
                "install it (apt install cabextract) and import again"
            ) from exc
        return _read_with_cabextract(data, cabextract, max_size)
    except (CorruptionError, ValueError, IndexError, struct.error) as exc:
        raise PackageError(f"corrupt cabinet: {str(exc) or 'truncated or inconsistent header'}") from exc
    members = []
    for name, entry in archive.items():
        members.append(Member(safe_path(name), bytes(entry.buf or b""), _member_time(entry.date, entry.time)))
    if sum(len(m.data) for m in members) > max_size:
        raise PackageError(f"package unpacks to more than {max_size} bytes")
    return members


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, capture_output=True, timeout=CABEXTRACT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PackageError(f"cabextract did not finish within {CABEXTRACT_TIMEOUT}s") from exc


def _read_with_cabextract(data: bytes, cabextract: str, max_size: int) -> list[Member]:
    with tempfile.TemporaryDirectory(prefix="phonehome-cab-") as tmp:
        cab = Path(tmp) / "package.cab"
        out = Path(tmp) / "out"
        cab.write_bytes(data)
        out.mkdir()
        listing = _run([cabextract, "-l", str(cab)])
        if listing.returncode != 0:
            raise PackageError(f"corrupt cabinet: {_first_error(listing.stderr)}")
        declared = sum(
            int(m.group(1)) for m in map(_LISTING.match, listing.stdout.decode().splitlines()) if m
        )
        if declared > max_size:
            raise PackageError(f"package declares {declared} bytes, more than the limit of {max_size}")
        result = _run([cabextract, "-q", "-d", str(out), str(cab)])
        if result.returncode != 0:
            raise PackageError(f"corrupt cabinet: {_first_error(result.stderr)}")
        return _collect(out, max_size)


def _first_error(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[0].rsplit(": ", 1)[-1] if lines else "cabextract failed"


def _collect(root: Path, max_size: int) -> list[Member]:
    members: list[Member] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                raise PackageError(f"cabextract produced something other than a file: {name[:80]!r}")
            total += path.stat().st_size
            if total > max_size:
                raise PackageError(f"package unpacks to more than {max_size} bytes")
            relative = path.relative_to(root).as_posix()
            mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            members.append(Member(safe_path(relative), path.read_bytes(), mtime))
        dirnames.sort()
    return members


def read_package(data: bytes, *, cabextract: str | None = None, max_size: int = 2 << 30) -> list[Member]:
    """Every member of a .cab, or of every cabinet inside a self-extracting .exe."""
    cabinets = find_cabinets(data)
    if not cabinets:
        raise PackageError("no cabinet found (expected UCUpdates.cab or a UCUpdates.exe self-extractor)")
    members: list[Member] = []
    for cabinet in cabinets:
        members.extend(read_cabinet(cabinet, cabextract=cabextract, max_size=max_size))
    seen: set[str] = set()
    for member in members:
        if member.path.lower() in seen:
            raise PackageError(f"package holds {member.path!r} twice")
        seen.add(member.path.lower())
    return members


def default_cabextract() -> str | None:
    return shutil.which("cabextract")
