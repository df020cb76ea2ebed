"""The simulator's boot storm against a stand-in server on 127.0.0.1 (see fake_server.py): 200 phones,
zero errors, versions moved as offered, images verified, backups round-tripped. No timing assertions."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from phonehome.sim import fleet
from phonehome.sim.identities import PROFILES
from phonehome.sim.identities import fleet as make_fleet
from phonehome.sim.phone import Target
from phonehome.sim.plan import Settings, plan
from tests.integration.sim.fake_server import UPGRADES, FakeServer

IMAGE_SIZE = 300_000


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[tuple[FakeServer, str]]:
    fake = FakeServer(tmp_path / "files")
    for model in (m for m, _ in PROFILES["mix"] if m.family == "lpe"):
        for version in set(UPGRADES.get(model.model, UPGRADES["*"]).values()):
            fake.image(model.model, model.brand, version, IMAGE_SIZE)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_boot_storm_of_200_phones(fake: tuple[FakeServer, str]) -> None:
    server, url = fake
    phones = make_fleet("mix", 200, seed=7)
    for phone in phones:
        server.accounts[phone.account] = phone.password
    settings = Settings(boot_storm=2.0, download_fraction=1.0, interrupt_fraction=0.3, seed=7)
    plans = plan(phones, settings)

    stats, _ = await fleet.run(Target(url), phones, plans, fleet.Limits(duration=90, connections=64))

    assert dict(stats.errors) == {}
    assert stats.phones_finished == 200
    lpe = [p for p in phones if p.family == "lpe"]
    assert stats.versions_before.total() == stats.versions_after.total() == len(lpe)
    # Every phone followed its upgrade path to the end: nothing it runs now has a further step offered.
    for key in stats.versions_after:
        model, version = key.split(" ")
        assert version not in UPGRADES.get(model, UPGRADES["*"]), key
    assert stats.versions_after["CX700 3.5.6907.35"] == sum(1 for p in lpe if p.model == "CX700")
    # Each image the phones kept hashes to what the server holds, and some were resumed with Range.
    assert stats.downloads_verified > 0
    expected = {v for v in server.digests.values()}
    assert set(stats.digests.values()) <= expected
    assert stats.downloads_resumed == server.seen["range"] > 0
    backing_up = [p for p in phones if p.backup_file is not None]
    assert stats.backups_round_tripped == len(backing_up) == len(server.backups)
    for phone in backing_up:
        assert phone.backup_file is not None
        stored = server.backups[phone.backup_file]
        if phone.family == "avaya":
            assert stored.startswith(b"\xff\xfe") and stored.decode("utf-16-le").endswith("\r\n")


async def test_wrong_password_counts_as_http_401(fake: tuple[FakeServer, str]) -> None:
    server, url = fake
    phones = [p for p in make_fleet("avaya", 5, seed=1)]
    for phone in phones[1:]:
        server.accounts[phone.account] = phone.password
    plans = plan(phones, Settings(boot_storm=0.0))

    stats, _ = await fleet.run(Target(url), phones, plans, fleet.Limits(duration=30))

    assert dict(stats.errors) == {"backup_get:http_401": 1}
    assert stats.backups_round_tripped == 4


async def test_cli_json_summary(fake: tuple[FakeServer, str]) -> None:
    server, url = fake
    phones = make_fleet("cx700", 20, seed=3)
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "phonehome", "simulate", "--server", url, "--phones", "20"],
        *["--profile", "cx700", "--seed", "3", "--boot-storm", "0.5", "--duration", "60", "--json"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["error_count"] == 0
    assert summary["phones"] == {"started": 20, "finished": 20, "failed": 0}
    assert summary["versions_after"] == {"CX700 3.5.6907.35": 20}
    assert sum(summary["versions_before"].values()) == 20
    assert set(summary["image_sha256"].values()) <= set(server.digests.values())
    assert summary["latency"]["check_in"]["count"] == server.seen["check_in"]
    assert {p.serial for p in phones} == {p.mac.replace("-", "") for p in phones}


async def test_cli_counts_an_unreachable_server_as_errors() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "phonehome", "simulate", "--server", f"http://127.0.0.1:{port}"],
        *["--phones", "3", "--profile", "cx600", "--boot-storm", "0", "--duration", "30", "--json"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1
    assert json.loads(out)["errors"] == {"check_in:ClientConnectorError": 3}
    assert err.decode().strip() == "phonehome: error: 3 phones saw errors"
