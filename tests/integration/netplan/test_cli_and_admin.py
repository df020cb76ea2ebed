"""``phonehome netplan`` as admins run it (child process, config file, no server) and the admin REST API
on a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from phonehome.netplan.render import DHCP_RENDERERS, render_dhcp, render_dns
from tests.support.server import PhonehomeServer
from tests.unit.netplan.sites import SITE_TOML, render_cli, run_cli, site_for


def site_with(key: str, value: str | None) -> str:
    pattern = re.compile(rf"^{key} = .*\n", re.M)
    return pattern.sub("" if value is None else f"{key} = {value}\n", SITE_TOML)


BAD_INPUT = [
    (["dhcp"], site_with("dhcp_domain", '"' + "x" * 64 + '.contoso.com"'), "[site] dhcp_domain: a label of"),
    (
        ["dhcp"],
        site_with("search_domains", '["' + ".".join(["y" * 60] * 5) + '"]'),
        "[site] search_domains: 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'… is longer than 255 octets",
    ),
    (["dhcp"], site_with("dns_servers", '["10.0.0.999"]'), "[site] dns_servers: '10.0.0.999' is not an IPv4"),
    (["dhcp"], site_with("registrar_fqdn", None), "[site] registrar_fqdn is required for the DHCP plan"),
    (
        ["dhcp", "--format", "cisco"],
        site_with("search_domains", '["' + '", "'.join(f"{c * 60}.{c * 60}.example" for c in "abc") + '"]'),
        "[site] search_domains: option 119 (domain-search) would be",
    ),
    (["dhcp", "--format", "junos"], SITE_TOML, "unknown DHCP format 'junos'"),
    (["dns", "--zone", "dmz"], SITE_TOML, "unknown zone 'dmz'"),
    (["dns", "--zone", "external"], site_with("access_edge_ips", None), "[site] access_edge_ips is required"),
    (["dhcp"], SITE_TOML + "colour = 1\n", "unknown config key 'site.colour'"),
]


@pytest.mark.parametrize(("args", "toml", "reason"), BAD_INPUT, ids=[str(i) for i in range(len(BAD_INPUT))])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], toml: str, reason: str) -> None:
    result = run_cli(tmp_path, *args, toml=toml)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"phonehome: error: {reason}")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists()  # rendering touches no data dir


def test_dns_out_writes_files_and_explain_reads_well(tmp_path: Path) -> None:
    out = tmp_path / "zones"
    result = run_cli(tmp_path, "dns", "--zone", "internal", "--out", str(out), "--serial", "5")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "contoso.com.internal.zone",
        "fabrikam.com.internal.zone",
        "named.conf.internal",
    ]
    assert " 5 3600 600 1209600 300" in (out / "contoso.com.internal.zone").read_text()
    text = render_cli(tmp_path, "explain")
    assert "DHCP scope 192.0.2.0/24" in text and "_sipinternaltls._tcp.fabrikam.com SRV" in text


@pytest.fixture(scope="module")
def site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    """One phonehome for the module, its data-dir config holding the example [site]."""
    data = tmp_path_factory.mktemp("netplan-server") / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(SITE_TOML)
    server = PhonehomeServer(data).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def token(site_server: PhonehomeServer) -> str:
    return site_server.admin_token()


def test_admin_api_renders_what_the_cli_renders(
    site_server: PhonehomeServer, token: str, tmp_path: Path
) -> None:
    site = site_for(SITE_TOML)
    with site_server.admin_client(token) as client:
        for fmt in DHCP_RENDERERS:
            response = client.get("/api/v1/netplan/dhcp", params={"format": fmt})
            assert response.status_code == 200, response.text
            assert response.text == render_dhcp(site, fmt)
        # The CLI (another process, reading the config file) gives the same bytes.
        assert client.get("/api/v1/netplan/dhcp", params={"format": "dnsmasq"}).text == render_cli(
            tmp_path, "dhcp", "--format", "dnsmasq"
        )
        response = client.get(
            "/api/v1/netplan/dns", params={"zone": "external", "format": "bind", "serial": 9}
        )
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "zone": "external",
            "format": "bind",
            "files": render_dns(site, "external", "bind", 9),
        }
        explained = client.get("/api/v1/netplan/explain")
        assert explained.status_code == 200 and "ucupdates-r2.contoso.com" in explained.text
        bad = client.get("/api/v1/netplan/dhcp", params={"format": "junos"})
        assert bad.status_code == 400 and "unknown DHCP format 'junos'" in bad.text
        bad = client.get("/api/v1/netplan/dns", params={"zone": "dmz"})
        assert bad.status_code == 400 and "unknown zone 'dmz'" in bad.text
    with httpx.Client(base_url=site_server.admin, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/netplan/dhcp").status_code == 401


def test_admin_web_page_shows_the_plan(site_server: PhonehomeServer, token: str) -> None:
    # The token fixture created the admin account this signs in with.
    with httpx.Client(base_url=site_server.admin, timeout=30) as browser:
        assert browser.get("/netplan/").status_code == 303  # no page without a session
        signed_in = browser.post("/login", data={"username": "admin", "password": "correct horse battery"})
        assert signed_in.status_code == 303
        page = browser.get("/netplan/")
        assert page.status_code == 200
        assert "ucupdates-r2.contoso.com A 192.0.2.10" in page.text
        assert 'href="/netplan/"' in page.text and "Network plan" in page.text
        kea = browser.get("/netplan/dhcp/kea")
        assert kea.status_code == 200 and "option[60].text == &#39;MS-UC-Client&#39;" in kea.text
        zones = browser.get("/netplan/dns/external/bind")
        assert "<h2><code>fabrikam.com.external.zone</code></h2>" in zones.text
        bad = browser.get("/netplan/dhcp/junos")
        assert bad.status_code == 400 and "unknown DHCP format &#39;junos&#39;" in bad.text
