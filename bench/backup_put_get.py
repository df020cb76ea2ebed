"""PUT+GET of small backups with Basic auth: phonehome against nginx (dav_methods PUT + auth_basic).

Both servers run on 127.0.0.1 in the same run, one worker process each, and get the same bounded
load from wrk: ``--connections`` keep-alive connections for ``--seconds`` seconds, each request
alternating PUT and GET of ``<ext>_96xxdata.txt`` (2 KiB) with that extension's own credentials,
over ``--accounts`` accounts. The result and the ratio go to docs/benchmarks.md.

    .venv/bin/python bench/backup_put_get.py [--seconds 15] [--connections 16] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BODY_SIZE = 2048
PASSWORD_PREFIX = "bench-pw-"


@dataclass
class Result:
    server: str
    requests: int
    seconds: float
    errors: int
    latency_p50: str
    latency_p99: str
    cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.requests)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (nginx's worker), from /proc."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up in {timeout}s")


def lua_script(path: Path, accounts: list[str], prefix: str, distinct: bool = False) -> None:
    """wrk script: request n uses account n % len(accounts); even n PUT, odd n GET of the same file.

    With ``distinct``, every PUT's body differs (its first line carries a random salt and n), so no
    server can answer a PUT by finding the same content already stored.
    """
    body = ("ABKNAME001=Bench\r\n" * (BODY_SIZE // 18 + 1))[:BODY_SIZE]
    lua_body = body.replace("\r", "\\r").replace("\n", "\\n")
    # 'ABKNAME000=' + 10 + 10 digits + CRLF = 33 bytes replace the body's first 33, keeping its size.
    put_body = (
        "string.format('ABKNAME000=%010d%010d\\r\\n', salt, n) .. string.sub(body, 34)"
        if distinct
        else "body"
    )
    rows = []
    for ext in accounts:
        auth = base64.b64encode(f"{ext}:{PASSWORD_PREFIX}{ext}".encode()).decode()
        rows.append(f'{{"{prefix}{ext}_96xxdata.txt", "Basic {auth}"}}')
    path.write_text(
        "local targets = {" + ",\n".join(rows) + "}\n"
        f'local body = "{lua_body}"\n'
        "local n = 0\n"
        "local salt = 0\n"
        "function setup(thread) thread:set('offset', math.random(0, 1000)) end\n"
        "function init(args) n = offset * 2; math.randomseed(os.time() + offset); salt = math.random(1, 999999999) end\n"
        "function request()\n"
        "  local t = targets[(math.floor(n / 2) % #targets) + 1]\n"
        "  local put = (n % 2 == 0)\n"
        "  n = n + 1\n"
        "  if put then\n"
        f"    return wrk.format('PUT', t[1], {{['Authorization'] = t[2]}}, {put_body})\n"
        "  end\n"
        "  return wrk.format('GET', t[1], {['Authorization'] = t[2]})\n"
        "end\n"
    )


def prime(base: str, accounts: list[str]) -> None:
    """One PUT per account before the clock starts: files exist and each password was checked once
    (phonehome then answers from its verified-credential cache, as it does for phones in steady state)."""

    async def one(client: httpx.AsyncClient, ext: str) -> None:
        response = await client.put(
            f"{base}/backup/{ext}_96xxdata.txt", content=b"prime\r\n", auth=(ext, PASSWORD_PREFIX + ext)
        )
        response.raise_for_status()

    async def all_accounts() -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            await asyncio.gather(*(one(client, ext) for ext in accounts))

    asyncio.run(all_accounts())


def run_wrk(name: str, base: str, script: Path, seconds: int, connections: int, threads: int) -> Result:
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    elapsed = float(total[2]) / (1000 if total[3] == "ms" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_errors = re.search(r"Socket errors: .*", out)
    # The latency distribution's lines, not the "+/- Stdev" column (e.g. "70.50%") above them.
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if sock_errors:
        print(f"{name}: {sock_errors[0]}", file=sys.stderr)
    return Result(
        name, int(total[1]), elapsed, int(errors[1]) if errors else 0,
        p50[1] if p50 else "?", p99[1] if p99 else "?",
    )  # fmt: skip


def start_nginx(work: Path, accounts: list[str], port: int) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") or "nginx"
    if "--with-http_dav_module" not in subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr:
        raise SystemExit("this nginx lacks the dav module (install nginx-light, -full or -extras)")
    (work / "www" / "backup").mkdir(parents=True)
    for sub in ("body", "logs"):
        (work / sub).mkdir()
    htpasswd = work / "htpasswd"
    for i, ext in enumerate(accounts):
        # apr1 (MD5, htpasswd's default): what an admin following the nginx docs gets.
        flags = "-bcm" if i == 0 else "-bm"
        subprocess.run(
            ["htpasswd", flags, str(htpasswd), ext, PASSWORD_PREFIX + ext], check=True, capture_output=True
        )
    conf = work / "nginx.conf"
    # As root, nginx's workers would run as nobody, who cannot enter our private temp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/body; fastcgi_temp_path {work}/body; uwsgi_temp_path {work}/body; scgi_temp_path {work}/body;
  server {{
    listen 127.0.0.1:{port};
    root {work}/www;
    location /backup/ {{
      auth_basic "phonehome backups";
      auth_basic_user_file {htpasswd};
      dav_methods PUT DELETE;
      dav_access user:rw;
      client_max_body_size 1m;
    }}
  }}
}}
""")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)], stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc


def start_phonehome(work: Path, accounts: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    data = work / "data"
    phonehome = [sys.executable, "-m", "phonehome", "--data", str(data)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEHOME_")}
    env.setdefault("PHONEHOME_LOG_LEVEL", "warning")
    subprocess.run(
        [*phonehome, "admin", "add-user", "bench", "--password", "bench-admin-pw"],
        check=True,
        capture_output=True,
        env=env,
    )
    token = subprocess.run(
        [*phonehome, "admin", "token", "bench"], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()
    port, admin_port = free_port(), free_port()
    log = (work / "phonehome.log").open("wb")
    proc = subprocess.Popen(
        [*phonehome, "serve", "--http", f"127.0.0.1:{port}", "--https", "127.0.0.1:0", "--admin", f"127.0.0.1:{admin_port}"],
        stdout=log, stderr=log, env=env,
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{admin_port}/healthz")
    with httpx.Client(
        base_url=f"http://127.0.0.1:{admin_port}", headers={"Authorization": f"Bearer {token}"}
    ) as admin:
        for ext in accounts:
            admin.post(
                "/api/v1/backups/accounts", json={"name": ext, "password": PASSWORD_PREFIX + ext}
            ).raise_for_status()
    return proc, f"http://127.0.0.1:{port}"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].split(" [")[0]
    import aiohttp

    return (
        f"{os.cpu_count()} x {cpu}, {platform.system()} {platform.release()}; Python {platform.python_version()},"
        f" aiohttp {aiohttp.__version__}; {nginx}; {wrk}; shared with other developers' processes"
    )


def render(results: list[Result], args: argparse.Namespace, accounts: int) -> str:
    def total(server: str) -> tuple[int, float]:
        mine = [r for r in results if r.server == server]
        return sum(r.requests for r in mine), sum(r.seconds for r in mine)

    (n_req, n_sec), (p_req, p_sec) = total("nginx"), total("phonehome")
    cpu = {
        server: 1000 * sum(r.cpu_seconds for r in results if r.server == server) / max(1, total(server)[0])
        for server in ("nginx", "phonehome")
    }
    nginx_rps, ours_rps = n_req / n_sec, p_req / p_sec
    ratio = ours_rps / nginx_rps
    verdict = (
        "met"
        if ratio >= 0.5
        else f"missed: {ratio / 0.5:.0%} of the goal, {0.5 * nginx_rps - ours_rps:.0f} req/s short"
    )
    rows = "\n".join(
        f"| {r.server} | {i // 2 + 1} | {r.requests} | {r.seconds:.1f} | {r.rps:.0f} | {r.errors} | {r.latency_p50} | {r.latency_p99} | {r.cpu_ms_per_request:.2f} |"
        for i, r in enumerate(results)
    )
    if args.distinct_bodies:
        title, flag = " (every PUT a different body)", " --distinct-bodies"
        bodies = (
            "Every PUT's body differs (a salt and a counter in its first line), so phonehome writes each one:\n"
            "  temp file, fsync, read back, rename, fsync of the directory."
        )
    else:
        title, flag = "", ""
        bodies = (
            "Every PUT sends the same 2 KiB (as a phone re-sending unchanged settings does); phonehome's\n"
            "  content-addressed store then already holds the bytes (fsynced when first stored) and writes no file."
        )
    return f"""## Backups: PUT+GET of small files with Basic auth, phonehome vs nginx{title}

- Date: {dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {machine()}
- Load average before the run: {os.getloadavg()[0]:.1f} (2 cores shared with other developers)
- Command: `.venv/bin/python bench/backup_put_get.py --seconds {args.seconds} --rounds {args.rounds} --connections {args.connections} --threads {args.threads}{flag} --write docs/benchmarks.md`
- Method: both servers on 127.0.0.1 in the same run, one worker process each, each primed with one PUT per
  account and a {args.warmup} s warm-up, then measured in {args.rounds} alternating rounds of {args.seconds} s with wrk
  ({args.connections} keep-alive connections, {args.threads} thread, a Lua script). Requests alternate PUT and GET of
  `<ext>_96xxdata.txt` ({BODY_SIZE} bytes) over {accounts} accounts, each with its own Basic credentials.
  nginx: `dav_methods PUT DELETE`, `auth_basic` with an apr1 htpasswd, access log off. phonehome: SQLite
  (WAL), argon2 hashes behind the verified-credential cache, every PUT a new version (a version row,
  pruning past 20, quota check; concurrent PUTs share one transaction), JSON access log at level warning
  (off). {bodies}

| server | round | requests | seconds | req/s | non-2xx/3xx | p50 | p99 | server CPU ms/request |
|---|---|---|---|---|---|---|---|---|
{rows}

nginx {nginx_rps:.0f} req/s ({cpu["nginx"]:.2f} ms of server CPU per request), phonehome {ours_rps:.0f} req/s
({cpu["phonehome"]:.2f} ms of server CPU per request). Both are CPU-bound here, so the CPU ratio,
{cpu["nginx"] / cpu["phonehome"]:.2f}x, is the figure least disturbed by the neighbours' load.
**Ratio phonehome / nginx: {ratio:.2f}x** (goal >= 0.5x: {verdict}).
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument(
        "--distinct-bodies",
        action="store_true",
        help="Make every PUT's body different (by default all PUTs send the same 2 KiB, as phones"
        " re-sending unchanged settings do, which a content-addressed store need not write again).",
    )
    parser.add_argument("--write", type=Path, help="Write the result section into this markdown file.")
    args = parser.parse_args()
    accounts = [str(4000 + i) for i in range(args.accounts)]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="phonehome-bench-") as tmp:
        work = Path(tmp)
        servers: dict[str, tuple[subprocess.Popen[bytes], str, Path]] = {}
        try:
            for name in ("nginx", "phonehome"):
                server_dir = work / name
                server_dir.mkdir()
                if name == "nginx":
                    port = free_port()
                    proc, base = start_nginx(server_dir, accounts, port), f"http://127.0.0.1:{port}"
                else:
                    proc, base = start_phonehome(server_dir, accounts)
                servers[name] = (proc, base, server_dir / "put_get.lua")
                prime(base, accounts)
                lua_script(servers[name][2], accounts, "/backup/", args.distinct_bodies)
                run_wrk(name, base, servers[name][2], args.warmup, args.connections, args.threads)
            # Alternate the servers, so a neighbour's load on this shared machine hits both alike.
            for _ in range(args.rounds):
                for name, (proc, base, script) in servers.items():
                    cpu_before = cpu_seconds(proc.pid)
                    results.append(run_wrk(name, base, script, args.seconds, args.connections, args.threads))
                    results[-1].cpu_seconds = cpu_seconds(proc.pid) - cpu_before
                    print(results[-1], f"{results[-1].rps:.0f} req/s", file=sys.stderr)
        finally:
            for proc, _, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
    section = render(results, args, len(accounts))
    print(section)
    if args.write:
        write_section(args.write, section)


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section in the file (other sections stay), or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    heading = section.splitlines()[0] + "\n"  # the whole line: one heading may begin another
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        text = text[:start] + section.rstrip("\n") + "\n" + (text[following:] if following != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
