"""The real server process on ephemeral loopback ports: listeners, health, metrics, logs, shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.server import PhonehomeServer, tls_context


def test_three_listeners_answer(server: PhonehomeServer) -> None:
    http = httpx.get(f"{server.http}/healthz", timeout=10)
    assert http.status_code == 200
    assert http.json() == {"status": "ok", "listener": "http", "version": http.json()["version"], "db": True}

    https = httpx.get(f"{server.https}/healthz", verify=tls_context(server.ca_file), timeout=10)
    assert https.status_code == 200
    assert https.json()["listener"] == "https"
    assert https.json()["peer"] is None  # no client certificate presented

    admin = httpx.get(f"{server.admin}/healthz", timeout=10)
    assert admin.json()["listener"] == "admin"
    spec = httpx.get(f"{server.admin}/api/v1/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/auth/token" in spec["paths"]


def test_https_certificate_is_trusted_by_curl_with_published_ca(server: PhonehomeServer) -> None:
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "10", "--cacert", str(server.ca_file), f"{server.https}/healthz"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["listener"] == "https"


def test_admin_auth_token_flow(server: PhonehomeServer) -> None:
    server.cli("admin", "add-user", "alice", "--password", "alice-password")
    with httpx.Client(base_url=server.admin, timeout=30) as client:
        assert client.get("/api/v1/me").status_code == 401
        bad = client.post("/api/v1/auth/token", data={"username": "alice", "password": "nope-nope"})
        assert bad.status_code == 401
        assert bad.json() == {"detail": "Wrong user name or password."}
        token = client.post("/api/v1/auth/token", data={"username": "alice", "password": "alice-password"})
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.get("/api/v1/me", headers=headers).json()["name"] == "alice"
        created = client.post(
            "/api/v1/admin-users", headers=headers, json={"name": "bob", "password": "bob-password"}
        )
        assert created.status_code == 201
        changes = client.get("/api/v1/changelog", headers=headers).json()
        assert [(c["action"], c["object_id"], c["actor"]) for c in changes[:2]] == [
            ("create", "bob", "alice"),
            ("create", "alice", changes[1]["actor"]),
        ]
        assert changes[1]["actor"].startswith("cli:")


def test_metrics_and_json_access_log_without_credentials(server: PhonehomeServer) -> None:
    secret = "Basic c2VjcmV0OnBhc3N3b3Jk"
    httpx.get(f"{server.http}/healthz", headers={"Authorization": secret}, timeout=10)
    httpx.get(f"{server.http}/no-such-path", headers={"Authorization": secret}, timeout=10)
    metrics = httpx.get(f"{server.admin}/metrics", timeout=10).text
    assert 'phonehome_http_requests_total{listener="http",method="GET",status="200"}' in metrics
    assert 'phonehome_http_requests_total{listener="http",method="GET",status="404"}' in metrics

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            x for x in server.log_lines() if x.get("logger") == "phonehome.access" and x["listener"] == "http"
        ]
        if len(lines) >= 2:
            break
        time.sleep(0.1)
    by_path = {line["path"]: line for line in lines}
    ok = by_path["/healthz"]
    assert ok["method"] == "GET" and ok["status"] == 200 and ok["peer"] == "127.0.0.1"
    assert isinstance(ok["bytes"], int) and ok["bytes"] > 0
    assert isinstance(ok["duration_ms"], float)
    assert by_path["/no-such-path"]["status"] == 404
    assert "c2VjcmV0" not in server.log_file.read_text()


def test_sigterm_stops_cleanly_and_restart_keeps_data(tmp_path: Path) -> None:
    srv = PhonehomeServer(tmp_path / "data").start()
    try:
        srv.cli("admin", "add-user", "keep", "--password", "keep-password")
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{srv.http}/healthz").status_code == 200
        assert srv.stop() == 0
        log = srv.log_file.read_text()
        assert '"msg":"stopped"' in log
        srv.start()
        assert "keep" in srv.cli("admin", "list-users").stdout
        srv.proc.send_signal(signal.SIGINT)  # type: ignore[union-attr]
        assert srv.proc.wait(timeout=30) == 0  # type: ignore[union-attr]
    finally:
        srv.kill()


def test_postgresql_backend(server_pg: PhonehomeServer) -> None:
    assert httpx.get(f"{server_pg.http}/healthz", timeout=10).json()["db"] is True
    server_pg.cli("admin", "add-user", "pgadmin", "--password", "pg-password")
    token = server_pg.cli("admin", "token", "pgadmin").stdout.strip()
    me = httpx.get(f"{server_pg.admin}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.json()["name"] == "pgadmin"


def test_sigterm_lets_in_flight_request_finish_and_refuses_new_ones(tmp_path: Path) -> None:
    import socket
    from urllib.parse import urlsplit

    srv = PhonehomeServer(tmp_path / "data").start()
    try:
        host, port = urlsplit(srv.admin).hostname, urlsplit(srv.admin).port
        assert host and port
        body = b"username=nobody&password=not-the-password"
        conn = socket.create_connection((host, port), timeout=20)
        conn.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.5)  # the handler is now waiting for the rest of the body: a request in flight
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        # Stopped accepting: a new connection is refused while the old request is still open.
        refused = False
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            refused = True
        assert refused
        conn.sendall(body[10:])
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
        conn.close()
        assert reply.startswith(b"HTTP/1.1 401"), reply[:200]
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.kill()
