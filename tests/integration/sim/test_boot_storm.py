"""The simulator's boot storm against the real phonehome server process: 200 phones of the mixed fleet
check in, follow their upgrade paths (CX700: 1.0.199.123 → 1.0.522.101 → 3.5.6907.35), download the
offered images (some cut off and resumed with Range), verify them, and back up / read back their files
with their own Basic credentials. A correctness check: no timing assertions."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cabarchive import CabArchive, CabFile

from phonehome.sim.identities import PROFILES, Identity, Model
from phonehome.sim.identities import fleet as make_fleet
from phonehome.sim.plan import Settings, plan
from tests.support.pg import fresh_database
from tests.support.server import PhonehomeServer

PHONES = 200
SEED = 11
IMAGE_SIZE = 256 * 1024
# Each backup account costs an argon2 hash to create and a verify at first use: keep them few.
BACKUP_FRACTION = 0.2
# What the admin imports: per model the newest image, and for the CX700 the 1.0.522.101 step it needs
# first ("1.0.199.123 does not recognize builds greater than 1.0.522.*").
CX700_PATH = (("1.0.522.101", None), ("3.5.6907.35", "1.0.522.101"))
LYNC_4 = (("4.0.7577.4372", None),)


@dataclass
class Storm:
    server: PhonehomeServer
    images: dict[str, str]  # "CX700 3.5.6907.35" → sha256 of its CPE.nbt
    summary: dict[str, object]


def _image(model: Model, version: str) -> dict[str, bytes]:
    folder = f"UCPhone/{model.brand}/{model.model}/{model.revision}/ENU/{version}/CPE"
    return {
        f"{folder}/CPE.nbt": hashlib.shake_256(f"{model.model}/{version}".encode()).digest(IMAGE_SIZE),
        f"{folder}/CPE.cat": b"catalog for " + version.encode(),
    }


def _cab(members: dict[str, bytes]) -> bytes:
    archive = CabArchive()
    for name, data in members.items():
        archive[name.replace("/", "\\")] = CabFile(data, mtime=dt.datetime(2013, 2, 1, 12, 0, 0))
    return bytes(archive.save(compress=True))


def _import_firmware(server: PhonehomeServer, tmp: Path, models: list[Model]) -> dict[str, str]:
    """Two UCUpdates.cab packages, imported in order: the CX700's 1.0.522.101 step, then every model's
    newest image (the CX700's installs only from 1.0.522.101, said by its updateInfo.xml entry)."""
    step, final = {}, {}
    for model in models:
        for version, _ in CX700_PATH[:-1] if model.model == "CX700" else ():
            step.update(_image(model, version))
        final.update(_image(model, CX700_PATH[-1][0] if model.model == "CX700" else LYNC_4[0][0]))
    final["updateInfo.xml"] = (
        '<?xml version="1.0"?><Updates><Updates><Update DeviceType="UCPhone" Brand="Polycom" Model="CX700" '
        f'Revision="A" Locale="ENU" Version="{CX700_PATH[-1][0]}" MinimumVersion="{CX700_PATH[-1][1]}"/>'
        "</Updates></Updates>"
    ).encode()
    paths = []
    for name, members in (("step", step), ("final", final)):
        path = tmp / f"{name}-UCUpdates.cab"
        path.write_bytes(_cab(members))
        paths.append(str(path))
    server.cli("firmware", "import", *paths)
    images = {}
    for name, data in {**step, **final}.items():
        if name.endswith("CPE.nbt"):
            parts = name.split("/")
            images[f"{parts[2]} {parts[5]}"] = hashlib.sha256(data).hexdigest()
    return images


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def storm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storm]:
    """One storm per store: SQLite, then PostgreSQL (a fresh database)."""
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(fresh_database()) if request.param == "postgresql" else None
        yield from _storm(tmp_path_factory.mktemp(f"storm-{request.param}"), db_url)


def _storm(tmp: Path, db_url: str | None) -> Iterator[Storm]:
    server = PhonehomeServer(tmp / "data", db_url=db_url)
    lpe_models = [m for m, _ in PROFILES["mix"] if m.family == "lpe"]
    images = _import_firmware(server, tmp, lpe_models)
    server.start()
    try:
        with server.admin_client() as admin:
            for model in lpe_models:
                rule = f"UCPhone/{model.brand}/{model.model}/{model.revision}/ENU"
                admin.post(f"/api/v1/updates/rules/approve/{rule}").raise_for_status()
            for phone in _backing_up():
                mac = phone.mac if phone.family == "polycom" else None
                body = {"name": phone.account, "password": phone.password, "mac": mac}
                admin.post("/api/v1/backups/accounts", json=body).raise_for_status()
        cmd = [
            sys.executable,
            "-m",
            "phonehome",
            "simulate",
            "--server",
            server.http,
            "--phones",
            str(PHONES),
        ]
        cmd += ["--profile", "mix", "--seed", str(SEED), "--boot-storm", "3", "--duration", "150"]
        cmd += ["--interrupt-fraction", "0.3", "--backup-fraction", str(BACKUP_FRACTION), "--json"]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=200)
        assert result.stdout, result.stderr
        yield Storm(server, images, json.loads(result.stdout))
    finally:
        server.kill()


def _backing_up() -> list[Identity]:
    phones = make_fleet("mix", PHONES, seed=SEED)
    plans = plan(phones, Settings(backup_fraction=BACKUP_FRACTION, seed=SEED))
    return [phone for phone, p in zip(phones, plans, strict=True) if p.backs_up]


def test_no_phone_saw_an_error(storm: Storm) -> None:
    assert storm.summary["errors"] == {}
    assert storm.summary["phones"] == {"started": PHONES, "finished": PHONES, "failed": 0}


def test_versions_moved_as_offered(storm: Storm) -> None:
    phones = [p for p in make_fleet("mix", PHONES, seed=SEED) if p.family == "lpe"]
    after = storm.summary["versions_after"]
    assert isinstance(after, dict)
    # Every check-in phone now runs its model's newest image: CX700s went through 1.0.522.101.
    expected: dict[str, int] = {}
    for phone in phones:
        newest = CX700_PATH[-1][0] if phone.model == "CX700" else LYNC_4[0][0]
        expected[f"{phone.model} {newest}"] = expected.get(f"{phone.model} {newest}", 0) + 1
    assert after == expected
    before = storm.summary["versions_before"]
    assert isinstance(before, dict) and sum(before.values()) == len(phones)
    assert any(k.startswith("CX700 1.0.199") for k in before)


def test_images_verified_against_what_was_imported(storm: Storm) -> None:
    downloads = storm.summary["downloads"]
    assert isinstance(downloads, dict) and downloads["verified"] > 0 and downloads["resumed"] > 0
    digests = storm.summary["image_sha256"]
    assert isinstance(digests, dict)
    for url, digest in digests.items():
        parts = url.split("/")
        model, version = parts[-6], parts[-3]  # …/UCPhone/<brand>/<model>/A/ENU/<version>/CPE/CPE.nbt
        assert storm.images[f"{model} {version}"] == digest, url


def test_backups_round_tripped_and_stored_byte_for_byte(storm: Storm) -> None:
    backing_up = _backing_up()
    assert storm.summary["backups_round_tripped"] == len(backing_up) > 0
    avaya = next(p for p in backing_up if p.family == "avaya")
    assert avaya.backup_file is not None
    # Read back through the server's own routes with that phone's credentials, as a phone would.
    got = httpx.get(storm.server.http + "/backup/" + avaya.backup_file, auth=(avaya.account, avaya.password))
    assert got.status_code == 200
    assert got.content.startswith(b"\xff\xfe") and got.content.decode("utf-16-le").endswith("\r\n")
    # Another phone's credentials are refused for this file.
    other = next(p for p in backing_up if p.account != avaya.account)
    denied = httpx.get(
        storm.server.http + "/backup/" + avaya.backup_file, auth=(other.account, other.password)
    )
    assert denied.status_code == 403


def test_the_inventory_saw_every_check_in_phone(storm: Storm) -> None:
    with storm.server.admin_client() as admin:
        devices = admin.get("/api/v1/updates/devices").raise_for_status().json()
    lpe = {p.mac for p in make_fleet("mix", PHONES, seed=SEED) if p.family == "lpe"}
    macs = {str(d["mac"]).upper().replace(":", "-") for d in devices}
    assert lpe <= macs


def test_a_wrong_password_is_counted_as_401(storm: Storm) -> None:
    # Phone 0 of a one-phone Avaya fleet with seed 99 signs in as its extension 4000 with its own
    # password; the admin set another one.
    with storm.server.admin_client() as admin:
        body = {"name": "4000", "password": "not-what-the-phone-has"}
        admin.post("/api/v1/backups/accounts", json=body).raise_for_status()
    cmd = [sys.executable, "-m", "phonehome", "simulate", "--server", storm.server.http, "--phones", "1"]
    cmd += ["--profile", "avaya", "--seed", "99", "--boot-storm", "0", "--duration", "60", "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["errors"] == {"backup_get:http_401": 1}
    assert result.stderr.strip() == "phonehome: error: 1 phones saw errors"
