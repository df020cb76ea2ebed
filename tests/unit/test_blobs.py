from __future__ import annotations

import errno
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from phonehome.blobs import BlobNotFound, BlobStore, CorruptBlob
from phonehome.errors import BadRequest, PayloadTooLarge, StoreFull


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    s = BlobStore(tmp_path / "blobs")
    s.ensure()
    return s


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_and_read_back(store: BlobStore) -> None:
    data = b"\xff\xfeU\x00T\x00F\x00"  # UTF-16LE with BOM stays byte-exact
    ref = await store.put_bytes(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert store.path(ref.sha256).read_bytes() == data
    assert await store.read_bytes(ref.sha256) == data
    assert store.verify(ref.sha256)
    assert list(store.tmp.iterdir()) == []


async def test_stream_is_idempotent(store: BlobStore) -> None:
    a = await store.put_stream(chunks(b"abc", b"def"))
    b = await store.put_bytes(b"abcdef")
    assert a == b
    assert list(store.digests()) == [a.sha256]


async def test_over_limit_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(PayloadTooLarge):
        await store.put_stream(chunks(b"x" * 10, b"y" * 10), max_size=15)
    assert list(store.tmp.iterdir()) == []
    assert list(store.digests()) == []


async def test_client_abort_leaves_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put_stream(broken())
    assert list(store.tmp.iterdir()) == []


async def test_enospc_is_store_full(store: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", no_space)
    with pytest.raises(StoreFull) as info:
        await store.put_bytes(b"data")
    assert info.value.status == 507
    assert list(store.tmp.iterdir()) == []
    assert list(store.digests()) == []


async def test_corruption_detected_on_read(store: BlobStore) -> None:
    ref = await store.put_bytes(b"firmware")
    path = store.path(ref.sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(CorruptBlob):
        await store.read_bytes(ref.sha256)
    assert not store.verify(ref.sha256)


async def test_missing_and_bad_digest(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await store.read_bytes("0" * 64)
    with pytest.raises(BadRequest):
        store.path("../../etc/passwd")


def test_clean_tmp_removes_partial_uploads(store: BlobStore) -> None:
    (store.tmp / "dead.part").write_bytes(b"half")
    assert store.clean_tmp() == 1
    assert list(store.tmp.iterdir()) == []
