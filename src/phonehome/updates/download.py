"""Sending a firmware file: strong ETag from the content hash, conditionals, Range, sendfile on HTTP.

On the HTTP listener the body goes out with ``loop.sendfile`` (zero copy); on TLS, where sendfile
cannot help and asyncio's fallback is slow, it is read in chunks off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiohttp import hdrs, web

from phonehome.blobs import BlobNotFound
from phonehome.updates import ranges

_CHUNK = 256 * 1024
# IIS needed these maps or phones never updated (research §2); .xml as IIS serves it by default.
CONTENT_TYPES = {".nbt": "binary/octet-stream", ".cat": "binary/octet-stream", ".xml": "text/xml"}


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    path: Path  # the blob
    sha256: str
    size: int
    modified: dt.datetime

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def content_type(self) -> str:
        suffix = Path(self.name).suffix.lower()
        return CONTENT_TYPES.get(suffix, "binary/octet-stream")


async def send_file(request: web.Request, stored: StoredFile, *, sendfile: bool) -> web.StreamResponse:
    modified = stored.modified.replace(microsecond=0)
    headers: dict[str, str] = {
        hdrs.ETAG: stored.etag,
        hdrs.LAST_MODIFIED: modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        hdrs.ACCEPT_RANGES: "bytes",
    }
    if_match = request.headers.get(hdrs.IF_MATCH)
    if if_match is not None and not ranges.etag_matches(if_match, stored.etag, weak=False):
        return web.Response(status=412, text="precondition failed: the file changed\n", headers=headers)
    if ranges.etag_matches(request.headers.get(hdrs.IF_NONE_MATCH), stored.etag, weak=True):
        return web.Response(status=304, headers=headers)
    wanted: list[tuple[int, int]] | None = None
    if ranges.if_range_allows(request.headers.get(hdrs.IF_RANGE), stored.etag, modified):
        try:
            wanted = ranges.parse_ranges(request.headers.get(hdrs.RANGE), stored.size)
        except ranges.RangeNotSatisfiable:
            headers[hdrs.CONTENT_RANGE] = f"bytes */{stored.size}"
            return web.Response(status=416, text="range not satisfiable\n", headers=headers)
    if wanted is not None and len(wanted) > 1:
        return await _send_multipart(request, stored, wanted, headers)
    first, last = wanted[0] if wanted else (0, stored.size - 1)
    response = web.StreamResponse(status=206 if wanted else 200, headers=headers)
    response.content_type = stored.content_type
    response.content_length = last - first + 1
    if wanted:
        response.headers[hdrs.CONTENT_RANGE] = ranges.content_range(first, last, stored.size)
    fobj = await _open(stored)
    try:
        await response.prepare(request)
        if request.method != hdrs.METH_HEAD and last >= first:
            if sendfile and request.transport is not None:
                await asyncio.get_running_loop().sendfile(request.transport, fobj, first, last - first + 1)
            else:
                await _copy(response, fobj, first, last - first + 1)
        await response.write_eof()
    finally:
        await asyncio.to_thread(fobj.close)
    return response


async def _open(stored: StoredFile) -> BinaryIO:
    try:
        return await asyncio.to_thread(stored.path.open, "rb")
    except FileNotFoundError:
        # The row is there, the blob is not: a damaged data dir; say so instead of a bare 500.
        raise BlobNotFound(f"{stored.name}: the file is missing from the store") from None


async def _copy(response: web.StreamResponse, fobj: BinaryIO, offset: int, count: int) -> None:
    def read(position: int, size: int) -> bytes:
        fobj.seek(position)
        return fobj.read(size)

    while count > 0:
        chunk = await asyncio.to_thread(read, offset, min(_CHUNK, count))
        if not chunk:
            raise ConnectionResetError("firmware blob shorter than recorded")
        await response.write(chunk)
        offset += len(chunk)
        count -= len(chunk)


async def _send_multipart(
    request: web.Request, stored: StoredFile, wanted: list[tuple[int, int]], headers: dict[str, str]
) -> web.StreamResponse:
    boundary = secrets.token_hex(12)
    heads = [
        (
            f"--{boundary}\r\nContent-Type: {stored.content_type}\r\n"
            f"Content-Range: {ranges.content_range(first, last, stored.size)}\r\n\r\n"
        ).encode()
        for first, last in wanted
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(h) for h in heads) + sum(last - first + 1 for first, last in wanted)
    length += 2 * (len(wanted) - 1) + len(tail)
    response = web.StreamResponse(status=206, headers=headers)
    response.headers[hdrs.CONTENT_TYPE] = f"multipart/byteranges; boundary={boundary}"
    response.content_length = length
    fobj = await _open(stored)
    try:
        await response.prepare(request)
        if request.method != hdrs.METH_HEAD:
            for index, ((first, last), head) in enumerate(zip(wanted, heads, strict=True)):
                await response.write((b"\r\n" if index else b"") + head)
                await _copy(response, fobj, first, last - first + 1)
            await response.write(tail)
    finally:
        await asyncio.to_thread(fobj.close)
    await response.write_eof()
    return response
