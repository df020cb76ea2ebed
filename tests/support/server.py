"""The real phonehome server as a child process on ephemeral loopback ports."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT = 40.0


@dataclass
class PhonehomeServer:
    data_dir: Path
    db_url: str | None = None
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    http: str = ""
    https: str = ""
    admin: str = ""

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "pki" / "ca.pem"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def command(self, *args: str) -> list[str]:
        cmd = [sys.executable, "-m", "phonehome", "--data", str(self.data_dir)]
        if self.db_url:
            cmd += ["--db", self.db_url]
        return [*cmd, *args]

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a ``phonehome`` CLI command against this server's data dir and database."""
        result = subprocess.run(
            self.command(*args), input=input, capture_output=True, text=True, timeout=120, env=self._env()
        )
        if check and result.returncode != 0:
            raise AssertionError(f"phonehome {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEHOME_")}
        # Tests change rules with the CLI (another process) and check in at once: check the catalog
        # generation on every check-in. test_catalog_refresh.py covers the production default.
        return {**env, "PHONEHOME_UPDATES__CATALOG_REFRESH_SECONDS": "0", **self.env}

    def start(self) -> PhonehomeServer:
        listeners = self.data_dir / "run" / "listeners.json"
        listeners.unlink(missing_ok=True)
        log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            self.command(
                "serve",
                "--http",
                "127.0.0.1:0",
                "--https",
                "127.0.0.1:0",
                "--admin",
                "127.0.0.1:0",
                *self.extra_args,
            ),
            stdout=log,
            stderr=log,
            env=self._env(),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"phonehome exited {self.proc.returncode}:\n{self.log_file.read_text()[-4000:]}"
                )
            if listeners.exists():
                try:
                    urls = json.loads(listeners.read_text())
                except json.JSONDecodeError:
                    time.sleep(0.05)
                    continue
                self.http, self.https, self.admin = urls["http"], urls["https"], urls["admin"]
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError(
            f"phonehome did not start in {STARTUP_TIMEOUT}s:\n{self.log_file.read_text()[-4000:]}"
        )

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("phonehome did not stop within the bound after SIGTERM") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def admin_token(self, name: str = "admin", password: str = "correct horse battery") -> str:
        users = self.cli("admin", "list-users").stdout
        if name not in users:
            self.cli("admin", "add-user", name, "--password", password)
        return self.cli("admin", "token", name).stdout.strip()

    def admin_client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin_token()}"}
        return httpx.Client(base_url=self.admin, headers=headers, timeout=30)

    def log_lines(self) -> list[dict[str, object]]:
        lines = []
        for raw in self.log_file.read_text().splitlines():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
        return lines


def tls_context(ca_file: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A client context trusting ``ca_file``, optionally presenting a client certificate."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    return ctx
