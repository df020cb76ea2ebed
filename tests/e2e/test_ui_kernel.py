"""The admin UI's kernel pages in a real headless Chromium: sign-in, CSRF, admins, change log, sign-out.

Peer: Debian chromium (Playwright drives it; no browser download).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.browser import chromium_page, screenshot
from tests.support.server import PhonehomeServer


def test_sign_in_add_admin_changelog_sign_out(server: PhonehomeServer, tmp_path: Path) -> None:
    server.cli("admin", "add-user", "alice", "--password", "alice-password")
    with chromium_page(tmp_path) as page:
        page.goto(f"{server.admin}/changelog/")
        assert "/login" in page.url  # no page without a session
        page.fill("#username", "alice")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        assert "Wrong user name or password" in page.inner_text("[role=alert]")
        screenshot(page, tmp_path, "login")

        page.fill("#username", "alice")
        page.fill("#password", "alice-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/changelog/")  # back where sign-in was asked

        page.click("text=Admins")
        page.fill("#new-name", "bob")
        page.fill("#new-password", "bob-password")
        page.click("text=Add admin")
        assert "admin bob created" in page.inner_text("[role=status]")

        page.click("header >> text=Change log")
        rows = page.inner_text("table.list")
        assert "admin_user bob" in rows and "alice" in rows
        page.click("header >> text=Dashboard")
        screenshot(page, tmp_path, "dashboard")

        # The session cookie is HttpOnly and SameSite=Strict.
        cookies = page.context.cookies()
        session = next(c for c in cookies if c["name"] == "phonehome_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"

        page.click("text=Sign out")
        page.wait_for_url("**/login")
        page.goto(f"{server.admin}/")
        assert "/login" in page.url


def test_form_without_csrf_token_is_refused(server: PhonehomeServer) -> None:
    server.cli("admin", "add-user", "carol", "--password", "carol-password")
    with httpx.Client(base_url=server.admin, timeout=30, follow_redirects=False) as client:
        signed_in = client.post("/login", data={"username": "carol", "password": "carol-password"})
        assert signed_in.status_code == 303
        forged = client.post("/admins/", data={"name": "mallory", "password": "mallory-password"})
        assert forged.status_code == 403
        api_forged = client.post(
            "/api/v1/admin-users", json={"name": "mallory", "password": "mallory-password"}
        )
        assert api_forged.status_code == 403
        assert "mallory" not in client.get("/admins/").text
        # The open-redirect guard: next must stay on this site.
        again = client.post(
            "/login", data={"username": "carol", "password": "carol-password", "next": "//evil.example/"}
        )
        assert again.headers["location"] == "/"
