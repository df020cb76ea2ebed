"""The simulator's download checks against servers that get it wrong, which the real phonehome cannot be
made to do: a Range request answered with the whole file, a Repr-Digest that does not match the bytes.
A small aiohttp app on 127.0.0.1 plays that server; the right behaviour is asserted alongside."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from phonehome.sim.fleet import Limits, run
from phonehome.sim.identities import fleet as make_fleet
from phonehome.sim.phone import Target
from phonehome.sim.plan import Settings, plan
from phonehome.sim.stats import Stats

OFFERED = "4.0.7577.9999"
IMAGE = hashlib.shake_256(b"image").digest(200_000)


def _digest(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The URL and a dict whose "mode" says which file route the check-in offers."""
    image = tmp_path / "CPE.nbt"
    image.write_bytes(IMAGE)
    state = {"mode": "honest"}

    async def check_in(request: web.Request) -> web.Response:
        mode = state["mode"]
        body = (
            "<Response><NumOfFiles>1</NumOfFiles><FileName>CPE.nbt</FileName>"
            f"<Version>{OFFERED}</Version><BaseURL>/files/{mode}</BaseURL></Response>"
        )
        if OFFERED.encode() in await request.read():
            body = "<Response><NumOfFiles>0</NumOfFiles></Response>"
        return web.Response(text=body, content_type="text/xml")

    async def honest(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(image, headers={"Repr-Digest": _digest(IMAGE)})

    async def ignores_range(request: web.Request) -> web.Response:
        return web.Response(body=IMAGE)

    async def wrong_digest(request: web.Request) -> web.Response:
        return web.Response(body=IMAGE, headers={"Repr-Digest": _digest(b"something else")})

    app = web.Application()
    app.router.add_post("/RequestHandler/ucdevice.upx", check_in)
    app.router.add_get("/files/honest/CPE.nbt", honest)
    app.router.add_get("/files/ignores-range/CPE.nbt", ignores_range)
    app.router.add_get("/files/wrong-digest/CPE.nbt", wrong_digest)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", state
    finally:
        await runner.cleanup()


async def _run(server: tuple[str, dict[str, str]], mode: str, interrupt: float) -> Stats:
    url, state = server
    state["mode"] = mode
    phones = make_fleet("cx600", 6, seed=1)
    plans = plan(phones, Settings(boot_storm=0.0, interrupt_fraction=interrupt))
    stats, _ = await run(Target(url), phones, plans, Limits(duration=30))
    return stats


async def test_an_honest_server_passes_every_check(server: tuple[str, dict[str, str]]) -> None:
    stats = await _run(server, "honest", interrupt=0.5)
    assert dict(stats.errors) == {}
    assert stats.downloads_verified == 6 and stats.downloads_resumed > 0
    assert set(stats.digests.values()) == {hashlib.sha256(IMAGE).hexdigest()}
    assert dict(stats.versions_after) == {f"CX600 {OFFERED}": 6}


async def test_a_range_answered_with_the_whole_file_is_an_error(server: tuple[str, dict[str, str]]) -> None:
    stats = await _run(server, "ignores-range", interrupt=1.0)
    assert dict(stats.errors) == {"download:resume_http_200": 6}
    assert stats.downloads_verified == 0
    # The phones keep the image they had: nothing was installed.
    assert stats.versions_after == stats.versions_before


async def test_a_digest_that_does_not_match_is_an_error(server: tuple[str, dict[str, str]]) -> None:
    stats = await _run(server, "wrong-digest", interrupt=0.0)
    assert dict(stats.errors) == {"download:sha256_mismatch": 6}
    assert stats.versions_after == stats.versions_before
