"""The admin's day in a real headless Chromium against a running phonehome (issue 9's "Done when").

Sign in, upload a UCUpdates-shaped cabinet (progress bar, per-image result), approve its rule, let
CX700 phones check in and update, see their versions move on the dashboard and the device list,
restore an older backup version, download the Kea configuration. Screenshots of
the main pages go to PHONEHOME_SCREENSHOTS (docs/screenshots for the README) or the test's tmp dir.

Peers: Debian chromium (Playwright drives it), `phonehome simulate` as the phones, Kea's own config check
when kea-dhcp4 is installed.
"""

from __future__ import annotations

import codecs
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import FilePayload, Page

from tests.integration.updates.packages import CX700, build_cab, image_files
from tests.support.browser import chromium_page, screenshot
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer
from tests.unit.netplan.sites import SITE_TOML

PHONES = 12


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PhonehomeServer]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(
        'server_names = ["ucupdates-r2.contoso.com", "ucupdates-r2"]\n'
        + SITE_TOML.replace('"veth-s"', '"lo"')
    )
    srv = PhonehomeServer(data).start()
    try:
        yield srv
    finally:
        srv.kill()


def sign_in(page: Page, server: PhonehomeServer) -> None:
    page.goto(f"{server.admin}/")
    assert "/login" in page.url
    page.fill("#username", "alice")
    page.fill("#password", "alice-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.admin}/")


def upload_and_approve(page: Page, server: PhonehomeServer, tmp_path: Path) -> None:
    page.click("header >> text=Device Updater")
    page.click("nav.tabs >> text=Firmware")
    cab: FilePayload = {
        "name": "UCUpdates.cab",
        "mimeType": "application/vnd.ms-cab-compressed",
        "buffer": build_cab(image_files("1.0.522.101", size=256 * 1024)),
    }
    page.set_input_files("#package", files=[cab])
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/updates/firmware/")) as sent:
        page.click("text=Upload and import")
    assert sent.value.resource_type == "xhr"  # the progress bar's upload; without JS it is a form post
    page.wait_for_selector("#import-result")
    assert page.inner_text("#import-result tbody tr td:nth-child(1)") == f"{CX700}/1.0.522.101"
    screenshot(page, tmp_path, "updater-firmware")

    page.click("nav.tabs >> text=Rules")
    page.click(f"text={CX700}")
    page.click("text=Approve…")
    consequence = page.inner_text("p.warning")
    assert "older than 1.0.522.101 is offered 1.0.522.101 at its next check-in" in consequence
    screenshot(page, tmp_path, "updater-approve")
    page.click(f"button:has-text('Approve {CX700}')")
    page.wait_for_selector("text=approve update_rule")
    assert "approved" in page.inner_text("dl.facts")
    page.click("nav.tabs >> text=Rules")
    screenshot(page, tmp_path, "updater-rules")


def boot_phones(server: PhonehomeServer) -> dict[str, object]:
    """The fleet simulator boots CX700 phones: they check in, take the offered image, check in again."""
    result = server.cli(
        "simulate",
        "--server",
        server.http,
        "--phones",
        str(PHONES),
        "--profile",
        "cx700",
        "--seed",
        "7",
        "--boot-storm",
        "0",
        "--duration",
        "60",
        "--download-fraction",
        "1",
        "--interrupt-fraction",
        "0.5",
        "--json",
    )
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def restore_backup(page: Page, server: PhonehomeServer, tmp_path: Path) -> None:
    page.click("header >> text=Backups")
    page.click("nav.tabs >> text=Accounts")
    page.fill("#account-name", "4711")
    page.click("text=Create account")
    bruri = re.search(r"SET BRURI (http://\S+)", page.inner_text("#bruri"))
    assert bruri is not None
    # The phone (an Avaya 9611G) stores its settings twice: ASCII, then a hand-made UTF-16LE file.
    with httpx.Client(timeout=30) as phone:
        # The line names the server as phones resolve it; here the name is 127.0.0.1's.
        url = bruri.group(1).replace("@ucupdates-r2.contoso.com:", "@127.0.0.1:") + "4711_96xxdata.txt"
        assert phone.put(url, content=b"SET VOLUME 3\r\nSET LANG en\r\n").status_code == 201
        utf16 = codecs.BOM_UTF16_LE + "SET VOLUME 7\r\nSET LANG de\r\n".encode("utf-16-le")
        assert phone.put(url, content=utf16).status_code == 204
        page.click("nav.tabs >> text=Files")
        page.click("text=4711_96xxdata.txt")
        page.click("text=Show the differences")
        assert "+SET LANG de" in page.inner_text("pre.diff")
        screenshot(page, tmp_path, "backups-diff")
        page.go_back()
        page.click("text=Restore…")
        assert "at its next restore" in page.inner_text("main")
        page.click("text=Restore version 1")
        assert "Version 1 restored as version 3" in page.inner_text("[role=status]")
        screenshot(page, tmp_path, "backups-file")
        assert phone.get(url).content == b"SET VOLUME 3\r\nSET LANG en\r\n"


def download_kea(page: Page, server: PhonehomeServer, tmp_path: Path) -> None:
    page.click("header >> text=Network plan")
    screenshot(page, tmp_path, "netplan-explain")
    page.click("nav.tabs >> text=DHCP: Kea")
    with page.expect_download() as info:
        page.click("text=Download kea-dhcp4.conf")
    download = info.value
    assert download.suggested_filename == "kea-dhcp4.conf"
    saved = tmp_path / "kea-dhcp4.conf"
    download.save_as(saved)
    assert saved.read_text() == page.inner_text("#file-1") + (
        "\n" if not page.inner_text("#file-1").endswith("\n") else ""
    )
    screenshot(page, tmp_path, "netplan-kea")
    kea = require_binary("kea-dhcp4")
    checked = subprocess.run([kea, "-t", str(saved)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_admin_journey(server: PhonehomeServer, tmp_path: Path) -> None:
    server.cli("admin", "add-user", "alice", "--password", "alice-password")
    with chromium_page(tmp_path) as page:
        sign_in(page, server)
        upload_and_approve(page, server, tmp_path)

        summary = boot_phones(server)
        before, after = summary["versions_before"], summary["versions_after"]
        assert isinstance(before, dict) and isinstance(after, dict), summary
        assert before.get("CX700 1.0.199.123", 0) > 0, summary
        # Phones that booted on 1.0.199.123 are now on the approved 1.0.522.101; newer ones stay put.
        moved = before["CX700 1.0.199.123"] + before.get("CX700 1.0.522.101", 0)
        assert "CX700 1.0.199.123" not in after and after.get("CX700 1.0.522.101") == moved, summary
        assert not summary["errors"], summary
        page.click("header >> text=Dashboard")
        fleet = page.text_content("svg[aria-label='phones per model and version']") or ""
        assert "CX700 1.0.522.101" in fleet and "CX700 1.0.199.123" not in fleet
        assert page.locator("svg[aria-label='check-ins per hour'] rect").count() == 48
        screenshot(page, tmp_path, "dashboard-fleet")

        page.click("header >> text=Devices")
        page.fill("#model", "CX700")
        page.click("text=Filter")
        listed = page.inner_text("table.list tbody")
        assert "1.0.522.101" in listed and "1.0.199.123" not in listed
        assert page.inner_text("main p:below(form.filters)").startswith(f"{PHONES} devices")
        screenshot(page, tmp_path, "devices")
        page.click("table.list tbody tr:first-child td:first-child a")
        assert "CPE.nbt" in page.inner_text("table.list")
        screenshot(page, tmp_path, "device")

        restore_backup(page, server, tmp_path)
        download_kea(page, server, tmp_path)

        page.click("header >> text=Certificates")
        assert "ucupdates-r2.contoso.com" in page.inner_text("dl.facts")
        screenshot(page, tmp_path, "certificates")
        page.click("header >> text=Doctor")
        page.fill("#status", "0x2F0D/0")
        page.click("button:has-text('Decode')")
        assert "0x2F0D/0" in page.inner_text("#decoded")
        screenshot(page, tmp_path, "doctor")
