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

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


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


def lua_script(path: Path, accounts: list[str], prefix: str) -> None:
    """wrk script: request n uses account n % len(accounts); even n PUT, odd n GET of the same file."""
    body = ("ABKNAME001=Bench\r\n" * (BODY_SIZE // 18 + 1))[:BODY_SIZE]
    lua_body = body.replace("\r", "\\r").replace("\n", "\\n")
    rows = []
    for ext in accounts:
        auth = base64.b64encode(f"{ext}:{PASSWORD_PREFIX}{ext}".encode()).decode()
        rows.append(f'{{"{prefix}{ext}_96xxdata.txt", "Basic {auth}"}}')
    path.write_text(
        "local targets = {" + ",\n".join(rows) + "}\n"
        f'local body = "{lua_body}"\n'
        "local n = 0\n"
        "function setup(thread) thread:set('offset', math.random(0, 1000)) end\n"
        "function init(args) n = offset * 2 end\n"
        "function request()\n"
        "  local t = targets[(math.floor(n / 2) % #targets) + 1]\n"
        "  local put = (n % 2 == 0)\n"
        "  n = n + 1\n"
        "  if put then\n"
        "    return wrk.format('PUT', t[1], {['Authorization'] = t[2]}, body)\n"
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
    p50 = re.search(r"50%\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
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
    nginx = next(r for r in results if r.server == "nginx")
    ours = next(r for r in results if r.server == "phonehome")
    ratio = ours.rps / nginx.rps
    verdict = (
        "met"
        if ratio >= 0.5
        else f"missed by {0.5 - ratio:.2f}x ({(0.5 * nginx.rps - ours.rps):.0f} req/s short)"
    )
    rows = "\n".join(
        f"| {r.server} | {r.requests} | {r.seconds:.1f} | {r.rps:.0f} | {r.errors} | {r.latency_p50} | {r.latency_p99} |"
        for r in results
    )
    return f"""## Backups: PUT+GET of small files with Basic auth, phonehome vs nginx

- Date: {dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {machine()}
- Command: `.venv/bin/python bench/backup_put_get.py --seconds {args.seconds} --connections {args.connections} --threads {args.threads}`
- Method: both servers on 127.0.0.1 in the same run, one worker process each; wrk with a Lua script,
  {args.connections} keep-alive connections, {args.threads} threads, {args.seconds} s per server after a {args.warmup} s warm-up.
  Requests alternate PUT and GET of `<ext>_96xxdata.txt` ({BODY_SIZE} bytes) over {accounts} accounts,
  each with its own Basic credentials. nginx: `dav_methods PUT DELETE`, `auth_basic` with an apr1 htpasswd,
  access log off. phonehome: SQLite (WAL), argon2 hashes with the verified-credential cache, every PUT a
  new version (fsync of the blob and its directory, a version row, pruning past 20), access log on.

| server | requests | seconds | req/s | non-2xx/3xx | p50 | p99 |
|---|---|---|---|---|---|---|
{rows}

**Ratio phonehome / nginx: {ratio:.2f}x** (goal ≥ 0.5x: {verdict}).
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--write", type=Path, help="Write the result section into this markdown file.")
    args = parser.parse_args()
    accounts = [str(4000 + i) for i in range(args.accounts)]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="phonehome-bench-") as tmp:
        work = Path(tmp)
        for name in ("nginx", "phonehome"):
            server_dir = work / name
            server_dir.mkdir()
            if name == "nginx":
                port = free_port()
                proc, base = start_nginx(server_dir, accounts, port), f"http://127.0.0.1:{port}"
            else:
                proc, base = start_phonehome(server_dir, accounts)
            try:
                prime(base, accounts)
                script = server_dir / "put_get.lua"
                lua_script(script, accounts, "/backup/")
                run_wrk(name, base, script, args.warmup, args.connections, args.threads)
                results.append(run_wrk(name, base, script, args.seconds, args.connections, args.threads))
                print(results[-1], f"{results[-1].rps:.0f} req/s", file=sys.stderr)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    section = render(results, args, len(accounts))
    print(section)
    if args.write:
        write_section(args.write, section)


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section in the file (other sections stay), or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    heading = section.splitlines()[0]
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[following + 1 :] if following != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
