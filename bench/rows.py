"""The benchmark rows P1, P2, P3, P5 (P4 belongs to the backups slice: bench/run calls it).

Each row measures phonehome and its reference in the same run and returns a JSON-ready dict. A row whose
phonehome side cannot run yet (the route is not in this build) says so in ``phonehome`` instead of a figure.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from harness import (
    LOAD_CPU,
    PYTHON,
    Phonehome,
    cpu_seconds,
    measure,
    nginx,
    nginx_return,
    peak_rss_kib,
    phonehome,
    post_rotation_script,
    post_script,
    workdir,
)

from phonehome.sim.identities import fleet
from phonehome.sim.wire import CHECK_IN_PATH, parse_offer, render_check_in

IMAGE_BYTES = 32 << 20
OFFERED = "4.0.7577.4372"  # the CX600 image the benchmarks import
NO_UPDATE = (
    b'<?xml version="1.0" ?>\n<Response>\n<NumOfFiles>0</NumOfFiles>\n'
    b"<CurrentTime>2009-06-04T06:22:03</CurrentTime>\n<ServerVersion>3.5.6907.0</ServerVersion>\n"
    b"<ServiceVersion>3.5.6907.0</ServiceVersion>\n</Response>\n"
)


def _check_in_body() -> bytes:
    phone = fleet("cx600", 1, seed=0)[0]
    return render_check_in(phone, phone.version, "2026-11-25T08:00:00")


def _has_command(*words: str) -> bool:
    cmd = [str(PYTHON), "-m", "phonehome", *words, "--help"]
    return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


# -- P1 firmware download --------------------------------------------------------------------------------


def p1_download(seconds: float, connections: int = 50) -> dict[str, Any]:
    with workdir() as tmp:
        image = tmp / "www" / "fw" / "CPE.nbt"
        image.parent.mkdir(parents=True)
        image.write_bytes(hashlib.shake_256(b"phonehome bench").digest(IMAGE_BYTES))
        with nginx(f"    location /fw/ {{ root {tmp / 'www'}; }}", tmp / "nginx") as (pid, port):
            ref = measure(pid, f"http://127.0.0.1:{port}/fw/CPE.nbt", seconds, connections).as_dict()
        with phonehome(tmp / "ph") as ph:
            url = _firmware_url(ph, image)
            ours = measure(ph.proc.pid, url, seconds, connections, name="p1").as_dict() if url else None
    return {
        "row": "P1",
        "what": f"GET a {IMAGE_BYTES >> 20} MiB image, wrk -t1 -c{connections}, {seconds:g} s",
        "nginx": ref,
        "phonehome": ours or "not measurable: no firmware download route in this build",
        "throughput_ratio": _ratio(ours["mb_per_s"], ref["mb_per_s"]) if ours else None,
        "cpu_per_gb_ratio": _ratio(ours["cpu_s_per_gb"], ref["cpu_s_per_gb"]) if ours else None,
        "goal": "throughput >= 1.0x nginx, CPU-s/GB <= 1.3x nginx",
    }


def _firmware_url(ph: Phonehome, image: Path) -> str | None:
    """Import ``image`` as CX600 firmware, approve it and return the URL a check-in offers for it
    (None when this build has no updates slice)."""
    if not _has_command("firmware", "add"):
        return None
    cat = image.with_name("CPE.cat")
    cat.write_bytes(b"catalog for " + OFFERED.encode())
    ph.cli(
        "firmware",
        "add",
        str(image),
        str(cat),
        "--brand",
        "Polycom",
        "--model",
        "CX600",
        "--revision",
        "A",
        "--locale",
        "ENU",
        "--version",
        OFFERED,
    )
    ph.cli("rules", "approve", "UCPhone/Polycom/CX600/A/ENU")
    phone = next(p for p in fleet("cx600", 100) if p.version != OFFERED)
    reply = httpx.post(
        ph.http + CHECK_IN_PATH, content=render_check_in(phone, phone.version, "2026-11-25T08:00:00")
    )
    reply.raise_for_status()
    offer = parse_offer(reply.content)
    if offer.version != OFFERED:
        raise RuntimeError(f"the check-in offered {offer.version}, not {OFFERED}")
    return offer.files[0].url(ph.http)


# -- P2 check-in -----------------------------------------------------------------------------------------


def p2_check_in(seconds: float, connections: int = 50) -> dict[str, Any]:
    body = _check_in_body()
    with workdir() as tmp:
        script = post_script(tmp, body)
        image = tmp / "fw" / "CPE.nbt"
        image.parent.mkdir()
        image.write_bytes(hashlib.shake_256(b"p2").digest(1 << 20))
        with phonehome(tmp / "ph") as ph:
            _firmware_url(ph, image)  # a rule and an image, so the decision does its real lookups
            reply = httpx.post(ph.http + CHECK_IN_PATH, content=body, headers={"Content-Type": "text/xml"})
            if reply.status_code == 200:
                url = ph.http + CHECK_IN_PATH
                ours = measure(ph.proc.pid, url, seconds, connections, script=script, name="p2").as_dict()
                answer, kind = reply.content, reply.headers.get("Content-Type", "text/xml")
            else:
                ours, answer, kind = None, NO_UPDATE, "text/xml"
        location = nginx_return(answer, CHECK_IN_PATH, kind.split(";")[0])
        with nginx(location, tmp / "nginx") as (pid, port):
            ref = measure(pid, f"http://127.0.0.1:{port}{CHECK_IN_PATH}", seconds, connections, script=script)
    return {
        "row": "P2",
        "what": f"POST a {len(body)} B check-in, {len(answer)} B answer, wrk -t1 -c{connections}, {seconds:g} s",
        "nginx": ref.as_dict(),
        "phonehome": ours or f"not measurable: check-in answered HTTP {reply.status_code} in this build",
        "ratio": _ratio(ours["req_per_s"], ref.load.req_per_s) if ours else None,
        "goal": ">= 10,000 decisions/s on one core; record the ratio to nginx",
    }


# -- P3 boot storm -----------------------------------------------------------------------------------------


def p3_boot_storm(
    phones: int, storm: float, server: str = "phonehome", profile: str = "cx600"
) -> dict[str, Any]:
    with workdir() as tmp:
        if server == "nginx":
            location = nginx_return(NO_UPDATE, CHECK_IN_PATH, "text/xml")
            with nginx(location, tmp / "nginx") as (pid, port):
                sim, cpu, peak = _storm(pid, f"http://127.0.0.1:{port}", phones, storm, profile)
        else:
            with phonehome(tmp / "ph") as ph:
                sim, cpu, peak = _storm(ph.proc.pid, ph.http, phones, storm, profile)
    check_in = sim.get("latency", {}).get("check_in", {})
    return {
        "row": "P3",
        "what": f"{phones} {profile} phones booting over {storm:g} s (check-in only) against {server}",
        "server": server,
        "errors": sim.get("errors"),
        "error_count": sim.get("error_count"),
        "check_ins": check_in.get("count"),
        "check_in_p50_ms": check_in.get("p50_ms"),
        "check_in_p99_ms": check_in.get("p99_ms"),
        "elapsed_s": sim.get("elapsed_s"),
        "server_cpu_s": round(cpu, 2),
        "server_peak_rss_mib": round(peak / 1024, 1),
        "simulator_peak_rss_mib": round(sim.get("simulator_max_rss_kib", 0) / 1024, 1),
        "goal": "20,000 phones in 60 s: 0 errors, p99 check-in < 250 ms; memory peak recorded",
    }


def _storm(pid: int, url: str, phones: int, storm: float, profile: str) -> tuple[dict[str, Any], float, int]:
    cmd = ["taskset", "-c", LOAD_CPU, str(PYTHON), "-m", "phonehome", "simulate", "--server", url]
    cmd += ["--phones", str(phones), "--profile", profile, "--boot-storm", str(storm)]
    cmd += ["--duration", str(storm + 60), "--download-fraction", "0", "--backup-fraction", "0", "--json"]
    cmd += ["--new-connections"]  # a phone that just booted has no connection to reuse
    before = cpu_seconds(pid)
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=storm + 180)
    if not result.stdout.strip():
        raise RuntimeError(f"simulator failed after {time.monotonic() - started:.0f}s: {result.stderr}")
    return json.loads(result.stdout), cpu_seconds(pid) - before, peak_rss_kib(pid)


# -- P5 decision cost against the inventory size --------------------------------------------------------


def p5_inventory(
    seconds: float, small: int = 1_000, large: int = 1_000_000, connections: int = 50
) -> dict[str, Any]:
    """Check-ins/s of the same 1,000 phones (rotating bodies) with ``small`` and then ``large`` devices in
    the inventory (SQLite, the default store); the extra rows are clones with their own MAC and serial."""
    stamp = "2026-11-25T08:00:00"
    phones = fleet("cx600", small, seed=5)
    with workdir() as tmp:
        bodies = [render_check_in(p, p.version, stamp) for p in phones]
        script = post_rotation_script(tmp, bodies)
        image = tmp / "fw" / "CPE.nbt"
        image.parent.mkdir()
        image.write_bytes(hashlib.shake_256(b"p5").digest(1 << 20))
        runs: dict[str, Any] = {}
        with phonehome(tmp / "ph") as ph:
            if _firmware_url(ph, image) is None:
                return {"row": "P5", "phonehome": "not measurable: no updates slice in this build"}
            url = ph.http + CHECK_IN_PATH
            _prime(url, bodies)  # every one of the phones is in the inventory before we measure
            runs[str(small)] = measure(ph.proc.pid, url, seconds, connections, script=script, name="p5-small")
            runs[str(small)] = runs[str(small)].as_dict()
        db = tmp / "ph" / "data" / "phonehome.db"
        started = time.monotonic()
        rows = grow_inventory(db, large)
        grow_s = time.monotonic() - started
        with phonehome(tmp / "ph") as ph:
            url = ph.http + CHECK_IN_PATH
            runs[str(rows)] = measure(ph.proc.pid, url, seconds, connections, script=script, name="p5-large")
            runs[str(rows)] = runs[str(rows)].as_dict()
    small_rps, large_rps = runs[str(small)]["req_per_s"], runs[str(rows)]["req_per_s"]
    return {
        "row": "P5",
        "what": f"{small} phones checking in turn, wrk -t1 -c{connections}, {seconds:g} s, inventory {small} vs {rows}",
        "runs": runs,
        "inventory_growth_s": round(grow_s, 1),
        "cost_ratio": _ratio(small_rps, large_rps),
        "cpu_cost_ratio": _ratio(
            runs[str(rows)]["cpu_us_per_request"], runs[str(small)]["cpu_us_per_request"]
        ),
        "goal": "decision cost ratio (1,000,000 vs 1,000 devices) <= 1.2",
    }


def _prime(url: str, bodies: list[bytes]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(16) as pool:
        for reply in pool.map(lambda body: client.post(url, content=body), bodies):
            reply.raise_for_status()


def grow_inventory(db: Path, total: int) -> int:
    """Clone the one device row a real check-in left in ``devices`` until the table holds ``total`` rows,
    each with its own MAC and serial (locally administered 02-… MACs, so no simulated phone collides)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(devices)")]
        have = int(conn.execute("SELECT count(*) FROM devices").fetchone()[0])
        if have == 0 or have >= total:
            return have
        template = conn.execute("SELECT mac FROM devices LIMIT 1").fetchone()[0] or ""
        upper = template == template.upper()
        sep = "-" if "-" in template else (":" if ":" in template else "")
        fmt = sep.join(["%02X" if upper else "%02x"] * 6)
        mac = f"printf('{fmt}', 2, 0, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)"
        values = {"id": "NULL", "mac": mac, "serial": "printf('BENCH%09d', i)"}
        select = ", ".join(values.get(c, c) for c in columns)
        conn.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "  # noqa: S608 (our own column names)
            f"INSERT INTO devices ({', '.join(columns)}) SELECT {select} FROM n, (SELECT * FROM devices LIMIT 1)",
            (total - have,),
        )
        return int(conn.execute("SELECT count(*) FROM devices").fetchone()[0])
