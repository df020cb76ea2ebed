"""What every benchmark row shares: pinned processes, /proc CPU and memory readings, nginx, wrk, phonehome.

Method (docs/research stack-lab §2/§3): the server under test runs pinned to CPU 0 (``taskset -c 0``), the
load generator to CPU 1; server CPU is utime+stime of its process (all threads) from /proc/PID/stat read
before and after the measured window; memory peak is VmHWM from /proc/PID/status. Loopback only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SERVER_CPU = "0"
LOAD_CPU = "1"
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- wrk -----------------------------------------------------------------------------------------------

_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    bytes_read: int
    p50_ms: float | None
    p99_ms: float | None
    errors: str = ""
    raw: str = field(default="", repr=False)

    @property
    def req_per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / self.seconds / 1e6


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"wrk latency {text!r}")
    return float(match[1]) * _TIME_UNITS[match[2]]


def parse_wrk(out: str) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    seconds = float(total[2]) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[total[3]]
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.MULTILINE))
    errors = " ".join(re.findall(r"(Socket errors:.*|Non-2xx or 3xx responses: \d+)", out))
    return WrkResult(
        requests=int(total[1]),
        seconds=seconds,
        bytes_read=int(float(total[4]) * _UNITS[total[5]]),
        p50_ms=_ms(percentiles["50"]) if "50" in percentiles else None,
        p99_ms=_ms(percentiles["99"]) if "99" in percentiles else None,
        errors=errors,
        raw=out,
    )


def wrk(url: str, seconds: float, connections: int, *, script: Path | None = None) -> WrkResult:
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "60s"]
    cmd += ["--latency", *(["-s", str(script)] if script else []), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    return parse_wrk(out)


def post_script(directory: Path, body: bytes, content_type: str = "text/xml; charset=utf-8") -> Path:
    script = directory / "post.lua"
    text = body.decode()
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(text)}\nwrk.headers["Content-Type"] = "{content_type}"\n'
    )
    return script


@dataclass
class Measured:
    """One load run against one pinned server process."""

    load: WrkResult
    cpu_s: float

    def as_dict(self) -> dict[str, float | int | str | None]:
        gb = self.load.bytes_read / 1e9
        return {
            "requests": self.load.requests,
            "seconds": round(self.load.seconds, 2),
            "req_per_s": round(self.load.req_per_s, 1),
            "mb_per_s": round(self.load.mb_per_s, 1),
            "p50_ms": self.load.p50_ms,
            "p99_ms": self.load.p99_ms,
            "server_cpu_s": round(self.cpu_s, 2),
            "server_cpu_pct": round(100 * self.cpu_s / self.load.seconds, 1),
            "cpu_s_per_gb": round(self.cpu_s / gb, 3) if gb > 0 else None,
            # CPU per request is the figure a busy neighbour on the machine disturbs least.
            "cpu_us_per_request": round(1e6 * self.cpu_s / self.load.requests, 1)
            if self.load.requests
            else None,
            "errors": self.load.errors,
        }


PROFILE_DIR: Path | None = None  # set by main.py --py-spy: profile every phonehome measurement


def measure(
    pid: int, url: str, seconds: float, connections: int, *, script: Path | None = None, name: str = ""
) -> Measured:
    wrk(url, min(2.0, seconds), connections, script=script)  # warm-up
    spy = _py_spy(pid, seconds, name) if name and PROFILE_DIR else None
    before = cpu_seconds(pid)
    load = wrk(url, seconds, connections, script=script)
    used = cpu_seconds(pid) - before
    if spy is not None:
        spy.wait(timeout=seconds + 60)
    return Measured(load, used)


def _py_spy(pid: int, seconds: float, name: str) -> subprocess.Popen[bytes]:
    """py-spy samples the server (off its CPU) while wrk runs; collapsed stacks go to PROFILE_DIR."""
    assert PROFILE_DIR is not None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    out = PROFILE_DIR / f"{name}.txt"
    cmd = ["taskset", "-c", LOAD_CPU, str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--format", "raw"]
    cmd += ["--rate", "200", "-d", str(max(1, int(seconds))), "-p", str(pid), "-o", str(out), "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def top_frames(collapsed: Path, limit: int = 25) -> list[tuple[str, float]]:
    """Inclusive share of samples per function from py-spy's collapsed stacks, largest first."""
    totals: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        for frame in set(stack.split(";")):
            totals[frame] = totals.get(frame, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:limit]
    return [(frame, round(100 * n / samples, 1)) for frame, n in ranked] if samples else []


# -- nginx -----------------------------------------------------------------------------------------------


def _nginx_quote(body: str) -> str:
    return "'" + body.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextlib.contextmanager
def nginx(locations: str, directory: Path) -> Iterator[tuple[int, int]]:
    """One nginx process (no master), pinned to the server CPU; yields (pid, port)."""
    port = free_port()
    for sub in ("tmp", "logs"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    temp = " ".join(
        f"{name}_temp_path {directory / 'tmp' / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1; master_process off; daemon off;
pid {directory / "nginx.pid"}; error_log {directory / "logs" / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; {temp}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
{locations}
  }}
}}
"""
    )
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, "nginx", "-p", str(directory), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(port)
        yield proc.pid, port
    finally:
        stop(proc)


def nginx_return(body: bytes, path: str, content_type: str) -> str:
    return (
        f"    location = {path} {{ default_type {content_type}; return 200 {_nginx_quote(body.decode())}; }}"
    )


# -- phonehome -----------------------------------------------------------------------------------------


@dataclass
class Phonehome:
    data: Path
    proc: subprocess.Popen[bytes]
    http: str
    admin: str

    def cli(self, *args: str, input: str | None = None) -> str:
        cmd = [str(PYTHON), "-m", "phonehome", "--data", str(self.data), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"phonehome {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


@contextlib.contextmanager
def phonehome(directory: Path, env: dict[str, str] | None = None) -> Iterator[Phonehome]:
    """``phonehome serve`` on loopback, pinned to the server CPU; the JSON logs go to a file."""
    data = directory / "data"
    listeners = data / "run" / "listeners.json"
    listeners.unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / "phonehome.log").open("ab")
    cmd = [str(PYTHON), "-m", "phonehome", "--data", str(data), "serve"]
    cmd += ["--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--admin", "127.0.0.1:0"]
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *cmd], stdout=log, stderr=log, env={**os.environ, **(env or {})}
    )
    try:
        deadline = time.monotonic() + 60
        while not listeners.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"phonehome did not start; see {directory / 'phonehome.log'}")
            time.sleep(0.05)
        time.sleep(0.1)
        urls = json.loads(listeners.read_text())
        yield Phonehome(data, proc, urls["http"], urls["admin"])
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="phonehome-bench-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def machine() -> dict[str, str | int]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in ln
        ),
        "?",
    )
    nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "nginx": nginx_v.removeprefix("nginx version: "),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)),
    }


def post_rotation_script(
    directory: Path, bodies: list[bytes], content_type: str = "text/xml; charset=utf-8"
) -> Path:
    """A wrk script POSTing ``bodies`` in turn (one per simulated device)."""
    script = directory / "rotate.lua"
    items = ",\n".join(json.dumps(b.decode()) for b in bodies)
    script.write_text(
        f"""local bodies = {{
{items}
}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "{content_type}"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""
    )
    return script
