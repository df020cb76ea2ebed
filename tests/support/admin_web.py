"""The admin web pages as a browser without JavaScript sees them: a session cookie and forms with CSRF."""

from __future__ import annotations

import httpx
import lxml.html

from tests.support.server import PhonehomeServer


def signed_in(
    server: PhonehomeServer, name: str = "webadmin", password: str = "webadmin-password"
) -> httpx.Client:
    if name not in server.cli("admin", "list-users").stdout:
        server.cli("admin", "add-user", name, "--password", password)
    client = httpx.Client(base_url=server.admin, timeout=30, follow_redirects=False)
    response = client.post("/login", data={"username": name, "password": password})
    assert response.status_code == 303, response.text
    return client


def page(client: httpx.Client, url: str, status: int = 200) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, f"GET {url}: {response.status_code} {response.text[:500]}"
    return lxml.html.fromstring(response.text)


def text(html: str | lxml.html.HtmlElement) -> str:
    root = lxml.html.fromstring(html) if isinstance(html, str) else html
    return " ".join(root.text_content().split())


def csrf(client: httpx.Client, url: str = "/") -> str:
    """The CSRF token a page rendered for this session carries in its forms."""
    token = page(client, url).xpath("string(//input[@name='csrf_token']/@value)")
    assert token
    return str(token)


def submit(client: httpx.Client, url: str, data: dict[str, str], *, from_page: str = "/") -> httpx.Response:
    return client.post(url, data={**data, "csrf_token": csrf(client, from_page)})
