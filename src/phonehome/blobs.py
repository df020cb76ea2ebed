"""Content-addressed blob store: firmware images and backup versions live here, named by sha256.

Layout: ``<data>/blobs/sha256/ab/cd/abcd…``. A write goes to ``<data>/blobs/tmp/``, is hashed on the way,
fsynced, read back and checked against the hash, then renamed into place and the directory fsynced:
a crash at any point leaves either no blob or a whole one, never a torn file under a real name.
The database holds what refers to a blob; this module knows nothing of tables.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from phonehome.errors import BadRequest, NotFound, PayloadTooLarge, PhonehomeError, StoreFull

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class CorruptBlob(PhonehomeError):
    """A stored blob no longer matches its hash."""


class BlobNotFound(NotFound):
    """No such blob."""


@dataclass(frozen=True, slots=True)
class BlobRef:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Staged:
    """A body taken and hashed, not yet fsynced or named: in a temp file, or in memory (``data``)."""

    tmp_path: Path | None
    fh: BinaryIO | None
    sha256: str
    size: int
    data: bytes | None = None

    @property
    def ref(self) -> BlobRef:
        return BlobRef(self.sha256, self.size)


def _check_digest(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise BadRequest(f"not a sha256 digest: {sha256[:80]!r}")
    return sha256


def _translate_oserror(exc: OSError) -> PhonehomeError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreFull("insufficient storage: the data directory is full")
    return StoreFull(f"cannot write to the data directory: {exc.strerror or exc}")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "sha256"
        self.tmp = root / "tmp"

    def ensure(self) -> None:
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def clean_tmp(self) -> int:
        """Remove temp files an interrupted write (kill -9) left behind; called at start."""
        removed = 0
        if self.tmp.is_dir():
            for entry in self.tmp.iterdir():
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- writing -------------------------------------------------------------------------------

    def _open_temp(self) -> tuple[Path, BinaryIO]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        tmp_path = self.tmp / f"{secrets.token_hex(12)}.part"
        try:
            return tmp_path, tmp_path.open("xb")
        except OSError as exc:
            raise _translate_oserror(exc) from exc

    def _commit(self, tmp_path: Path, fh: BinaryIO, digest: str, size: int) -> BlobRef:
        """fsync, read back, verify, rename into place; always consumes ``tmp_path``."""
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            if _hash_file(tmp_path) != digest:
                raise CorruptBlob("blob changed between write and read-back")
            final = self.path(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists() and final.stat().st_size == size:
                return BlobRef(digest, size)
            os.replace(tmp_path, final)
            _fsync_dir(final.parent)
            return BlobRef(digest, size)
        except OSError as exc:
            raise _translate_oserror(exc) from exc
        finally:
            fh.close()
            tmp_path.unlink(missing_ok=True)

    def put_bytes_sync(self, data: bytes) -> BlobRef:
        tmp_path, fh = self._open_temp()
        try:
            _write(fh, data)
        except BaseException:
            fh.close()
            tmp_path.unlink(missing_ok=True)
            raise
        return self._commit(tmp_path, fh, hashlib.sha256(data).hexdigest(), len(data))

    def put_chunks_sync(self, chunks: Iterable[bytes], *, max_size: int | None = None) -> BlobRef:
        tmp_path, fh = self._open_temp()
        hasher, size = hashlib.sha256(), 0
        try:
            for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise PayloadTooLarge(f"body larger than the limit of {max_size} bytes")
                hasher.update(chunk)
                _write(fh, chunk)
        except BaseException:
            fh.close()
            tmp_path.unlink(missing_ok=True)
            raise
        return self._commit(tmp_path, fh, hasher.hexdigest(), size)

    def put_file_sync(self, source: Path) -> BlobRef:
        with source.open("rb") as src:
            return self.put_chunks_sync(iter(lambda: src.read(_CHUNK), b""))

    async def put_bytes(self, data: bytes) -> BlobRef:
        return await asyncio.to_thread(self.put_bytes_sync, data)

    async def put_stream(self, chunks: AsyncIterable[bytes], *, max_size: int | None = None) -> BlobRef:
        """Stream a request body into the store; over ``max_size`` → PayloadTooLarge, nothing kept."""
        staged = await self.stage_stream(chunks, max_size=max_size)
        return await asyncio.to_thread(self.commit_staged, staged)

    async def stage_stream(
        self, chunks: AsyncIterable[bytes], *, max_size: int | None = None, keep: int = 0
    ) -> Staged:
        """Take a request body, hashing it on the way; :meth:`commit_staged` stores and names it.

        A body of at most ``keep`` bytes stays in memory (``Staged.data``) and touches the disk only in
        :meth:`commit_staged`, and not at all when the store already holds that content; a larger one
        streams into a temp file.
        """
        hasher, size, parts = hashlib.sha256(), 0, []
        tmp_path: Path | None = None
        fh: BinaryIO | None = None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise PayloadTooLarge(f"body larger than the limit of {max_size} bytes")
                hasher.update(chunk)
                if fh is not None:
                    _write(fh, chunk)
                elif size <= keep:
                    parts.append(chunk)
                else:
                    tmp_path, fh = self._open_temp()
                    for part in [*parts, chunk]:
                        _write(fh, part)
                    parts.clear()
        except BaseException:
            # Includes a client that disconnects mid-upload: the partial body never gets a name.
            if fh is not None and tmp_path is not None:
                fh.close()
                tmp_path.unlink(missing_ok=True)
            raise
        if fh is None:
            return Staged(None, None, hasher.hexdigest(), size, b"".join(parts))
        return Staged(tmp_path, fh, hasher.hexdigest(), size)

    def stage_bytes(self, data: bytes) -> Staged:
        return Staged(None, None, hashlib.sha256(data).hexdigest(), len(data), data)

    def commit_staged(self, staged: Staged) -> BlobRef:
        """fsync, read back, verify and name a staged body (blocking: run it off the event loop).

        A body held in memory whose content the store already has is not written again: that blob
        was fsynced and verified when it was first stored.
        """
        if staged.tmp_path is None or staged.fh is None:
            assert staged.data is not None
            try:
                if self.path(staged.sha256).stat().st_size == staged.size:
                    return staged.ref
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise _translate_oserror(exc) from exc
            return self.put_bytes_sync(staged.data)
        return self._commit(staged.tmp_path, staged.fh, staged.sha256, staged.size)

    def discard_staged(self, staged: Staged) -> None:
        if staged.tmp_path is not None and staged.fh is not None:
            staged.fh.close()
            staged.tmp_path.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------

    def read_bytes_sync(self, sha256: str) -> bytes:
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {sha256} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CorruptBlob(f"blob {sha256} does not match its hash")
        return data

    async def read_bytes(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.read_bytes_sync, sha256)

    def verify(self, sha256: str) -> bool:
        path = self.path(sha256)
        return path.is_file() and _hash_file(path) == sha256

    def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterable[str]:
        if not self.objects.is_dir():
            return
        for path in self.objects.glob("*/*/*"):
            if _SHA256.match(path.name):
                yield path.name


def _write(fh: BinaryIO, data: bytes) -> None:
    # Only disk errors become StoreFull; a client's ConnectionResetError (also an OSError) must not.
    try:
        fh.write(data)
    except OSError as exc:
        raise _translate_oserror(exc) from exc


def _hash_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
