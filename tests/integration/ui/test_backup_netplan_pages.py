"""Backup and network-plan pages on a real server, driven like a browser without JavaScript (httpx + forms).

curl plays the phone, using the BRURI line the account page shows; the netplan pages must show and
download exactly what the REST API renders.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.backups.conftest import curl
from tests.support.admin_web import page, submit, text
from tests.support.server import PhonehomeServer
from tests.unit.netplan.sites import SITE_TOML


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    data = tmp_path_factory.mktemp("ui") / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text('server_names = ["127.0.0.1"]\n' + SITE_TOML)
    srv = PhonehomeServer(data).start()
    try:
        yield srv
    finally:
        srv.kill()


def bruri_http_line(html_text: str) -> str:
    match = re.search(r"SET BRURI (http://\S+)", html_text)
    assert match, html_text
    return match.group(1)


def test_account_backup_versions_diff_restore(
    server: PhonehomeServer, web: httpx.Client, tmp_path: Path
) -> None:
    created = submit(
        web, "/backups/accounts/", {"name": "4711", "password": ""}, from_page="/backups/accounts/"
    )
    assert created.status_code == 200
    shown = text(created.text)
    assert "backup account 4711 created" in shown and "Shown once" in shown
    bruri = bruri_http_line(created.text)  # the generated password is in the line to paste
    port = server.http.rsplit(":", 1)[1]
    assert f"@127.0.0.1:{port}/backup/" in bruri

    # The phone: version 1 in ASCII, version 2 hand-made in UTF-16LE with a BOM.
    first = curl("-X", "PUT", "--data-binary", "SET VOLUME 3\nSET LANG en\n", bruri + "4711_96xxdata.txt")
    assert first.status == 201
    utf16 = codecs.BOM_UTF16_LE + "SET VOLUME 7\nSET LANG de\n".encode("utf-16-le")
    body = Path(tmp_path / "utf16.txt")
    body.write_bytes(utf16)
    second = curl("-X", "PUT", "--data-binary", f"@{body}", bruri + "4711_96xxdata.txt")
    assert second.status == 204

    account = page(web, "/backups/accounts/4711/")
    assert "4711_96xxdata.txt" in text(account)
    history = page(web, "/backups/files/4711_96xxdata.txt/")
    rows = history.xpath("(//table[@class='list'])[1]/tbody/tr")
    assert [int(r.xpath("string(td[1]/a)")) for r in rows] == [2, 1]
    newest, oldest = 2, 1
    decoded = page(web, f"/backups/files/4711_96xxdata.txt/versions/{newest}")
    assert "SET LANG de" in text(decoded) and "UTF-16LE with BOM" in text(decoded)
    diff = page(web, f"/backups/files/4711_96xxdata.txt/diff?a={oldest}&b={newest}")
    assert diff.xpath("//pre[@class='diff']/span[@class='del']/text()")[:2] == [
        "-SET VOLUME 3",
        "-SET LANG en",
    ]
    assert "+SET LANG de" in diff.xpath("//pre[@class='diff']/span[@class='add']/text()")

    confirm = page(web, f"/backups/files/4711_96xxdata.txt/restore?version={oldest}")
    assert "at its next restore" in text(confirm)
    restored = submit(
        web,
        "/backups/files/4711_96xxdata.txt/restore",
        {"version": str(oldest)},
        from_page=f"/backups/files/4711_96xxdata.txt/restore?version={oldest}",
    )
    assert restored.status_code == 303
    after = page(web, restored.headers["location"])
    assert f"Version {oldest} restored as version {newest + 1}" in text(after)
    assert "restore backup_file 4711_96xxdata.txt" in text(after)  # the change log on the object
    back = curl(bruri + "4711_96xxdata.txt")
    assert back.status == 200 and back.body == b"SET VOLUME 3\nSET LANG en\n"


def test_reset_password_and_bind_mac(server: PhonehomeServer, web: httpx.Client) -> None:
    submit(
        web,
        "/backups/accounts/",
        {"name": "4712", "password": "first-secret"},
        from_page="/backups/accounts/",
    )
    reset = submit(
        web, "/backups/accounts/4712/password", {"password": ""}, from_page="/backups/accounts/4712/"
    )
    assert "the old one no longer works" in text(reset.text)
    bruri = bruri_http_line(reset.text)
    assert "first-secret" not in bruri
    assert curl(bruri + "4712_96xxdata.txt").status == 404  # the new password signs in; nothing stored yet
    old = curl(f"http://4712:first-secret@127.0.0.1:{server.http.rsplit(':', 1)[1]}/backup/4712_96xxdata.txt")
    assert old.status == 401

    bound = submit(web, "/backups/accounts/4712/mac", {"mac": "00:04:F2:AA:BB:CC"}, from_page="/backups/")
    assert "4712: MAC 0004f2aabbcc" in text(bound.text)
    assert "bind-mac backup_account 4712" in text(bound.text)
    refused = submit(web, "/backups/accounts/4712/mac", {"mac": "not-a-mac"}, from_page="/backups/")
    assert refused.status_code == 400
    assert "not a MAC address" in text(refused.text)
    assert "0004f2aabbcc" in text(page(web, "/backups/accounts/4712/"))  # nothing changed


def test_unknown_file_and_bad_name_are_clear(web: httpx.Client) -> None:
    missing = page(web, "/backups/files/9999_96xxdata.txt/", status=404)
    assert "no backup file 9999_96xxdata.txt" in text(missing)
    bad = page(web, "/backups/files/notes.exe/", status=404)
    assert "'notes.exe' is not a backup file name" in text(bad)


def test_netplan_pages_show_and_download_what_the_api_renders(
    server: PhonehomeServer, web: httpx.Client
) -> None:
    with server.admin_client(server.admin_token("restapi")) as api:
        kea = api.get("/api/v1/netplan/dhcp", params={"format": "kea"}).text
        zones = api.get("/api/v1/netplan/dns", params={"zone": "internal", "format": "bind"}).json()["files"]
    shown = page(web, "/netplan/dhcp/kea")
    assert shown.xpath("string(//pre[@id='file-1'])") == kea
    assert shown.xpath("//button[@data-copy='file-1']")
    download = web.get("/netplan/dhcp/kea/download")
    assert download.text == kea
    assert download.headers["content-disposition"] == 'attachment; filename="kea-dhcp4.conf"'

    dns = page(web, "/netplan/dns/internal/bind")
    assert [str(h) for h in dns.xpath("//section/h2/code/text()")] == list(zones)
    first = next(iter(zones))
    assert web.get(f"/netplan/dns/internal/bind/download?file={first}").text == zones[first]
    assert web.get("/netplan/dns/internal/bind/download?file=../../etc/passwd").status_code == 400

    explained = page(web, "/netplan/")
    assert "DHCP scope 192.0.2.0/24" in text(explained)
    unknown = page(web, "/netplan/dhcp/junos", status=400)
    assert "unknown DHCP format 'junos'" in text(unknown)


FORMS = [
    ("/backups/accounts/", {"name": "5000", "password": "mallory-secret"}),
    ("/backups/accounts/4711/password", {"password": "mallory-secret"}),
    ("/backups/accounts/4711/mac", {"mac": "00:04:f2:00:00:01"}),
    ("/backups/files/4711_96xxdata.txt/restore", {"version": "1"}),
]
PAGES = [
    "/backups/",
    "/backups/accounts/",
    "/backups/accounts/4711/",
    "/backups/files/4711_96xxdata.txt/",
    "/backups/files/4711_96xxdata.txt/versions/1",
    "/backups/files/4711_96xxdata.txt/versions/1/raw",
    "/backups/files/4711_96xxdata.txt/diff?a=1&b=2",
    "/backups/files/4711_96xxdata.txt/restore?version=1",
    "/netplan/",
    "/netplan/dhcp/kea",
    "/netplan/dhcp/kea/download",
    "/netplan/dns/internal/bind",
]


@pytest.mark.parametrize(("url", "data"), FORMS, ids=[u for u, _ in FORMS])
def test_form_without_csrf_token_is_refused(web: httpx.Client, url: str, data: dict[str, str]) -> None:
    before = web.get("/changelog/").text
    forged = web.post(url, data=data)
    assert forged.status_code == 403
    assert "the form expired or did not come from this site" in text(forged.text)
    assert web.get("/changelog/").text == before  # nothing changed


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_a_session(server: PhonehomeServer, url: str) -> None:
    with httpx.Client(base_url=server.admin, timeout=30, follow_redirects=False) as anonymous:
        response = anonymous.get(url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        for form_url, data in FORMS:
            assert anonymous.post(form_url, data=data).status_code == 303
