"""Phones' view: curl against the running server, credentials in the URL, mTLS with --cert.

One server (SQLite) for the module; accounts: 4711 (password, MAC 0004f2aabbcc), 4712 (password),
4720 (certificate only, reached through a configured SAN mapping).
"""

from __future__ import annotations

import base64
import codecs
import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.backups.conftest import client_cert, curl, start_server, with_credentials
from tests.support.server import PhonehomeServer

PW_4711 = "s3cret-4711"
PW_4712 = "s3cret-4712"
CONFIG = """
[backups]
max_size = 65536
cert_accounts = { "phone-lobby.example.com" = "4720" }
"""
# A hand-made Avaya file: UTF-16LE with a BOM, CRLF line ends.
AVAYA = codecs.BOM_UTF16_LE + "ABKNAME001=Jürgen\r\nABKNUMBER001=100\r\n".encode("utf-16-le")


@pytest.fixture(scope="module")
def srv(module_tmp: Path) -> Iterator[PhonehomeServer]:
    server = start_server(module_tmp, CONFIG)
    try:
        server.cli("accounts", "add", "4711", "--password", PW_4711, "--mac", "00:04:F2:AA:BB:CC")
        server.cli("accounts", "add", "4712", "--password", PW_4712)
        server.cli("accounts", "add", "4720", "--cert-only")
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def admin(srv: PhonehomeServer) -> Iterator[httpx.Client]:
    with srv.admin_client() as client:
        yield client


def url(
    srv: PhonehomeServer, name: str, user: str = "4711", password: str = PW_4711, *, tls: bool = False
) -> str:
    return with_credentials(srv.https if tls else srv.http, user, password) + "/backup/" + name


def tls_args(srv: PhonehomeServer) -> list[str]:
    return ["--cacert", str(srv.ca_file)]


def put_file(tmp: Path, data: bytes) -> str:
    path = tmp / f"body-{len(list(tmp.iterdir()))}"
    path.write_bytes(data)
    return str(path)


def blob_count(srv: PhonehomeServer) -> int:
    return sum(1 for p in (srv.data_dir / "blobs" / "backups" / "sha256").glob("*/*/*"))


def test_put_get_with_credentials_in_the_url(srv: PhonehomeServer, tmp_path: Path) -> None:
    target = url(srv, "4711_96xxdata.txt")
    assert curl(target).status == 404
    first = curl("-T", put_file(tmp_path, AVAYA), target)
    assert first.status == 201
    etag = first.headers["etag"]
    assert curl("-T", put_file(tmp_path, AVAYA + b"x"), target).status == 204
    assert curl("-T", put_file(tmp_path, AVAYA), target).status == 204

    got = curl(target)
    assert (got.status, got.body, got.headers["etag"]) == (200, AVAYA, etag)  # byte-exact
    head = curl("-I", target)
    assert (head.status, head.headers["content-length"], head.headers["etag"]) == (200, str(len(AVAYA)), etag)
    assert curl("-H", f"If-None-Match: {etag}", target).status == 304
    stale = '"' + "0" * 64 + '"'
    assert curl("-T", put_file(tmp_path, b"lost"), "-H", f"If-Match: {stale}", target).status == 412
    assert curl("-T", put_file(tmp_path, b"lost"), "-H", "If-None-Match: *", target).status == 412
    assert curl(target).body == AVAYA
    over_https = curl(*tls_args(srv), url(srv, "4711_96xxdata.txt", tls=True))
    assert (over_https.status, over_https.body) == (200, AVAYA)


def test_delete_then_restore(srv: PhonehomeServer, admin: httpx.Client, tmp_path: Path) -> None:
    target = url(srv, "4711_16xxdata.txt")
    assert curl("-T", put_file(tmp_path, b"PHNLABEL01=Desk\n"), target).status == 201
    assert curl("-X", "DELETE", target).status == 204
    assert curl(target).status == 404
    assert curl("-X", "DELETE", target).status == 404
    restored = admin.post("/api/v1/backups/files/4711_16xxdata.txt/restore", json={"version": 1})
    assert restored.json()["number"] == 2
    assert curl(target).body == b"PHNLABEL01=Desk\n"


def test_mtls_identity(srv: PhonehomeServer, tmp_path: Path) -> None:
    cert, key = client_cert(srv, tmp_path, "4711")
    mine = f"{srv.https}/backup/4711_9610data.txt"
    base = [*tls_args(srv), "--cert", str(cert), "--key", str(key)]
    assert curl(*base, "-T", put_file(tmp_path, b"x=1\n"), mine).status == 201
    assert curl(*base, mine).body == b"x=1\n"
    # Avaya phones over TLS send their call-server credentials in Authorization: the certificate wins.
    assert curl(*base, "-u", "10.0.0.1:station-pw", mine).status == 200
    assert curl(*base, f"{srv.https}/backup/4712_96xxdata.txt").status == 403
    assert (
        curl(*base, "-T", put_file(tmp_path, b"y\n"), f"{srv.https}/backup/4712_96xxdata.txt").status == 403
    )
    assert curl(*base, f"{srv.https}/backup/0004f2aabbcc-contact.xml").status == 404  # its MAC: allowed

    lobby_cert, lobby_key = client_cert(srv, tmp_path, "lobby", dns=("phone-lobby.example.com",))
    lobby = [*tls_args(srv), "--cert", str(lobby_cert), "--key", str(lobby_key)]
    assert (
        curl(*lobby, "-T", put_file(tmp_path, b"z\n"), f"{srv.https}/backup/4720_96xxdata.txt").status == 201
    )
    assert curl(*lobby, mine).status == 403

    stranger_cert, stranger_key = client_cert(srv, tmp_path, "9999")
    stranger = [*tls_args(srv), "--cert", str(stranger_cert), "--key", str(stranger_key)]
    assert curl(*stranger, mine).status == 403


def test_account_denied_other_accounts_file_over_http_and_https(srv: PhonehomeServer, tmp_path: Path) -> None:
    theirs = "4712_96xxdata.txt"
    assert curl("-T", put_file(tmp_path, b"mine\n"), url(srv, theirs, "4712", PW_4712)).status in (201, 204)
    for tls in (False, True):
        extra = tls_args(srv) if tls else []
        assert curl(*extra, url(srv, theirs, tls=tls)).status == 403
        assert curl(*extra, "-T", put_file(tmp_path, b"evil\n"), url(srv, theirs, tls=tls)).status == 403
        assert curl(*extra, "-X", "DELETE", url(srv, theirs, tls=tls)).status == 403
    assert curl(url(srv, theirs, "4712", PW_4712)).body == b"mine\n"


@pytest.mark.parametrize(
    ("path", "args", "status"),
    [
        ("%2e%2e/%2e%2e/phonehome.db", [], 404),
        ("..%2f..%2fphonehome.db", [], 404),
        ("..%2Fphonehome.toml", [], 404),
        ("../phonehome.toml", [], 404),
        ("%2e%2e", [], 404),
        ("/etc/passwd", [], 404),
        ("4711_96xxdata.txt%00", [], 404),
        ("4711_96xxdata.txt%00.jpg", [], 404),
        ("x%5c4711_96xxdata.txt", [], 404),
        ("9" * 300 + "_96xxdata.txt", [], 404),
        ("4711_96xxdata.txt.bak", [], 404),
        ("000000000000-phone.cfg", [], 404),
        ("4711_96xxdata.txt", ["-X", "POST"], 405),
        ("4711_96xxdata.txt", ["-X", "PROPFIND"], 405),
        ("4711_96xxdata.txt", ["-X", "MKCOL"], 405),
    ],
)
def test_bad_paths_and_methods_write_nothing(
    srv: PhonehomeServer, tmp_path: Path, path: str, args: list[str], status: int
) -> None:
    before = blob_count(srv)
    body = put_file(tmp_path, b"should never be stored " + path.encode())
    answer = curl("--path-as-is", "-T", body, *args, url(srv, path))
    assert answer.status == status
    assert answer.body.strip(), "every refusal names its reason"
    assert blob_count(srv) == before


def test_missing_malformed_and_wrong_credentials(srv: PhonehomeServer, tmp_path: Path) -> None:
    target = f"{srv.http}/backup/4711_96xxdata.txt"
    before = blob_count(srv)
    body = put_file(tmp_path, b"nope\n")
    missing = curl("-T", body, target)
    assert missing.status == 401
    assert missing.headers["www-authenticate"] == 'Basic realm="phonehome backups", charset="UTF-8"'
    assert curl("-T", body, "-H", "Authorization: Basic !!!", target).status == 400
    assert curl("-T", body, "-H", "Authorization: Basic NDcxMQ==", target).status == 400  # no colon
    assert curl("-T", body, "-H", "Authorization: Bearer abc", target).status == 401
    wrong = curl("-T", body, url(srv, "4711_96xxdata.txt", password="wrong-password"))
    assert (wrong.status, "www-authenticate" in wrong.headers) == (401, True)
    assert curl("-T", body, url(srv, "4711_96xxdata.txt", user="nobody")).status == 401
    assert blob_count(srv) == before


def test_size_limit(srv: PhonehomeServer, tmp_path: Path) -> None:
    target = url(srv, "4712_16xxdata.txt", "4712", PW_4712)
    before = blob_count(srv)
    assert curl("-T", put_file(tmp_path, b"a" * 65537), target).status == 413
    # Chunked: no Content-Length to refuse early; the streamed cap still holds.
    chunked = curl("-T", put_file(tmp_path, b"b" * 200_000), "-H", "Transfer-Encoding: chunked", target)
    assert chunked.status == 413
    assert blob_count(srv) == before
    assert curl(target).status == 404
    assert curl("-T", put_file(tmp_path, b"c" * 65536), target).status == 201


def test_polycom_log_appends_and_yealink_by_mac(srv: PhonehomeServer, tmp_path: Path) -> None:
    log = url(srv, "0004F2AABBCC-app.log")
    assert curl("-T", put_file(tmp_path, b"boot 1\n"), log).status == 201
    assert curl("-T", put_file(tmp_path, b"boot 2\n"), log).status == 204
    assert curl(url(srv, "0004f2aabbcc-app.log")).body == b"boot 1\nboot 2\n"
    assert curl("-T", put_file(tmp_path, b"<list/>"), url(srv, "0004f2aabbcc-contact.xml")).status == 201
    assert curl(url(srv, "001565aabbcc-contact.xml")).status == 403  # a MAC 4711 is not bound to


def test_concurrent_puts_last_writer_wins_every_body_kept(
    srv: PhonehomeServer, admin: httpx.Client, tmp_path: Path
) -> None:
    name = "0004f2aabbcc-directory.xml"
    bodies = [f"<directory><n>{i}</n></directory>\n".encode() * 200 for i in range(8)]
    files = [put_file(tmp_path, b) for b in bodies]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda f: curl("-T", f, url(srv, name)).status, files))
    assert sorted(statuses) == [201] + [204] * 7
    history = admin.get(f"/api/v1/backups/files/{name}/versions").json()
    assert len(history) == 8 and history[0]["current"]
    kept = {
        admin.get(f"/api/v1/backups/files/{name}/content", params={"version": v["number"]}).content
        for v in history
    }
    assert kept == set(bodies)
    assert curl(url(srv, name)).headers["etag"] == f'"{history[0]["sha256"]}"'


def test_versions_cli_and_rest(srv: PhonehomeServer, admin: httpx.Client, tmp_path: Path) -> None:
    name = "4711_9610data.txt"
    target = url(srv, name)
    for i in (1, 2, 3):
        curl("-T", put_file(tmp_path, f"ABKNUMBER001={i}00\n".encode()), target)
    listed = srv.cli("backups", "list", "--account", "4711").stdout
    assert name in listed and "4712_96xxdata.txt" not in listed
    history = srv.cli("backups", "history", name).stdout
    assert all(f" {n} " in history for n in (1, 2, 3, 4))  # plus the certificate test's x=1
    shown = srv.cli("backups", "show", name, "--version", "2")
    assert shown.stdout == "ABKNUMBER001=100\n"
    diff = srv.cli("backups", "diff", name, "2", "4").stdout
    assert "-ABKNUMBER001=100\n+ABKNUMBER001=300\n" in diff
    srv.cli("backups", "restore", name, "--version", "2")
    assert curl(target).body == b"ABKNUMBER001=100\n"
    bad = admin.post(f"/api/v1/backups/files/{name}/restore", json={"version": 99})
    assert (bad.status_code, bad.json()) == (404, {"detail": f"{name} has no version 99"})

    files = admin.get("/api/v1/backups/files", params={"account": "4711"}).json()
    assert name in [f["name"] for f in files]
    versions = admin.get(f"/api/v1/backups/files/{name}/versions").json()
    assert versions[0]["source"] == "restore of 2"
    restored = admin.post(f"/api/v1/backups/files/{name}/restore", json={"version": 4})
    assert restored.status_code == 200 and restored.json()["source"] == "restore of 4"
    assert admin.get(f"/api/v1/backups/files/{name}/content").content == b"ABKNUMBER001=300\n"
    diff_rest = admin.get(f"/api/v1/backups/files/{name}/diff", params={"a": 2, "b": 4}).text
    assert diff_rest == diff
    assert admin.get("/api/v1/backups/files/..%2fx/versions").status_code == 404
    changes = admin.get("/api/v1/changelog", params={"object_type": "backup_file"}).json()
    assert [c["action"] for c in changes][:2] == ["restore", "restore"]
    created = admin.post("/api/v1/backups/accounts", json={"name": "4799", "generate": True}).json()
    assert len(created["password"]) >= 12
    assert curl(url(srv, "4799_96xxdata.txt", "4799", created["password"])).status == 404


def test_account_commands(srv: PhonehomeServer, admin: httpx.Client) -> None:
    bruri = srv.cli(
        "accounts", "show-bruri", "4712", "--password", "p@ss word", "--host", "files.example.com"
    )
    assert "SET BRURI http://4712:p%40ss%20word@files.example.com:8080/backup/" in bruri.stdout
    srv.cli("accounts", "bind-mac", "4712", "00-15-65-AA-BB-CC")
    assert "001565aabbcc" in srv.cli("accounts", "list").stdout
    taken = srv.cli("accounts", "bind-mac", "4711", "001565aabbcc", check=False)
    assert (taken.returncode, "bound to account '4712'" in taken.stderr) == (5, True)
    missing = srv.cli("accounts", "set-password", "nobody", "--password", "whatever-pw", check=False)
    assert (missing.returncode, missing.stderr.strip()) == (4, "phonehome: error: no backup account 'nobody'")
    # Through the server's own API a new password applies to the very next request.
    target = url(srv, "4712_96xxdata.txt", "4712", PW_4712)
    assert curl(target).status == 200
    changed = admin.put("/api/v1/backups/accounts/4712/password", json={"password": "n3w-secret-4712"})
    assert changed.status_code == 200
    assert curl(target).status == 401
    assert curl(url(srv, "4712_96xxdata.txt", "4712", "n3w-secret-4712")).status == 200
    assert admin.put("/api/v1/backups/accounts/4712/mac", json={"mac": "nonsense"}).status_code == 400
    names = [a["name"] for a in admin.get("/api/v1/backups/accounts").json()]
    assert {"4711", "4712", "4720"} <= set(names)


def test_log_never_holds_credentials(srv: PhonehomeServer) -> None:
    text = srv.log_file.read_text()
    assert '"path":"/backup/4711_96xxdata.txt"' in text  # the access log did see these requests
    for secret in (PW_4711, PW_4712, "n3w-secret-4712", "wrong-password", "station-pw"):
        assert secret not in text
        assert base64.b64encode(f"4711:{secret}".encode()).decode() not in text
    assert "authorization" not in text.lower()
