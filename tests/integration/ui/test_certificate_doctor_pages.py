"""Certificate and doctor pages on a real server, driven like a browser without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import lxml.html
import pytest

from tests.support.admin_web import page, submit, text
from tests.support.server import PhonehomeServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    data = tmp_path_factory.mktemp("pki") / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(
        'server_names = ["ucupdates-r2.contoso.com", "ucupdates-r2"]\nserver_ips = ["127.0.0.1"]\n'
        '[site]\ndhcp_domain = "contoso.com"\nsip_domains = ["fabrikam.com"]\n'
    )
    srv = PhonehomeServer(data).start()
    try:
        yield srv
    finally:
        srv.kill()


def test_ca_server_names_and_profile_verdicts(server: PhonehomeServer, web: httpx.Client) -> None:
    shown = page(web, "/certificates/")
    assert "ucupdates-r2.contoso.com" in text(shown) and "127.0.0.1" in text(shown)
    profiles = [str(p) for p in shown.xpath("//table[@id='profiles']/tbody/tr/td[1]/text()")]
    assert any(p.startswith("Lync Phone Edition 4.0") for p in profiles) and len(profiles) >= 4
    ca = web.get("/certificates/ca.pem")
    assert ca.content == server.ca_file.read_bytes().split(b"-----END CERTIFICATE-----")[0] + (
        b"-----END CERTIFICATE-----\n"
    )


def test_scep_challenge_is_shown_once_and_logged(web: httpx.Client) -> None:
    made = submit(
        web, "/certificates/scep-challenges", {"account": "4711", "hours": "2"}, from_page="/certificates/"
    )
    assert made.status_code == 200
    password = lxml.html.fromstring(made.text).xpath("string(//code[@id='challenge'])")
    assert len(password) >= 20
    again = page(web, "/certificates/")
    assert password not in again.text_content()
    assert "pki.scep_challenge account 4711" in text(page(web, "/changelog/"))


def test_revoke_an_issued_certificate(server: PhonehomeServer, web: httpx.Client) -> None:
    server.cli("pki", "issue-server")
    listing = page(web, "/certificates/")
    link = str(listing.xpath("string(//a[starts-with(@href, '/certificates/issued/')]/@href)"))
    detail = page(web, link)
    assert "valid" in text(detail) and "What the phone will do" in text(detail)
    revoked = submit(web, link + "revoke", {}, from_page=link)
    assert revoked.status_code == 303
    after = page(web, revoked.headers["location"])
    assert "revoked" in text(after) and "pki.revoke certificate" in text(after)
    assert page(web, "/certificates/issued/DEAD/", status=404) is not None


def test_doctor_walk_and_decode(web: httpx.Client) -> None:
    decoded = page(web, "/doctor/?status=0x2F0D/0")
    assert "Last Update Status 0x2F0D/0" in decoded.xpath("string(//pre[@id='decoded'])")
    assert "expected a Last Update Status" in text(page(web, "/doctor/?status=banana", status=400))

    # A DNS server that answers nothing: the walk fails quickly and names fixes.
    walked = submit(
        web,
        "/doctor/",
        {"profile": "lpe-4.0", "dns_server": "127.0.0.1:9", "timeout": "0.5"},
        from_page="/doctor/",
    )
    assert walked.status_code == 200
    rows = lxml.html.fromstring(walked.text).xpath("//table[@id='walk']/tbody/tr")
    assert len(rows) >= 3
    assert "A phone would fail" in text(walked.text)
    bad = submit(web, "/doctor/", {"profile": "lpe-4.0", "timeout": "soon"}, from_page="/doctor/")
    assert bad.status_code == 400 and "timeout: 'soon' is not a number" in text(bad.text)


FORMS = [
    ("/certificates/scep-challenges", {"account": "4711"}),
    ("/certificates/scep-requests/x", {"decision": "reject"}),
    ("/certificates/issued/1/revoke", {}),
    ("/doctor/", {"profile": "lpe-4.0"}),
]


@pytest.mark.parametrize(("url", "data"), FORMS, ids=[u for u, _ in FORMS])
def test_form_without_csrf_token_is_refused(web: httpx.Client, url: str, data: dict[str, str]) -> None:
    before = web.get("/changelog/").text
    assert web.post(url, data=data).status_code == 403
    assert web.get("/changelog/").text == before


@pytest.mark.parametrize(
    "url", ["/certificates/", "/certificates/ca.pem", "/doctor/", "/doctor/?status=0/200"]
)
def test_pages_need_a_session(server: PhonehomeServer, url: str) -> None:
    with httpx.Client(base_url=server.admin, timeout=30, follow_redirects=False) as anonymous:
        assert anonymous.get(url).status_code == 303
