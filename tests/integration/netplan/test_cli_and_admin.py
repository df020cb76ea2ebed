"""``phonehome netplan`` as admins run it (child process, config file, no server) and the admin REST API
on a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import PhonehomeServer
from tests.unit.netplan.sites import SITE_TOML, render_cli, run_cli


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


@pytest.fixture
def site_server(tmp_path: Path) -> Iterator[PhonehomeServer]:
    """A phonehome whose data-dir config has the example [site]."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "phonehome.toml").write_text(SITE_TOML)
    server = PhonehomeServer(data).start()
    try:
        yield server
    finally:
        server.kill()


def test_admin_api_renders_what_the_cli_renders(site_server: PhonehomeServer, tmp_path: Path) -> None:
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    try:
        with site_server.admin_client() as client:
            for fmt in ("kea", "dnsmasq", "cisco", "windows"):
                response = client.get("/api/v1/netplan/dhcp", params={"format": fmt})
                assert response.status_code == 200, response.text
                # The CLI output is read in text mode, which turns the netsh script's CRLF into LF.
                assert response.text.replace("\r\n", "\n") == render_cli(cli_dir, "dhcp", "--format", fmt)
            response = client.get(
                "/api/v1/netplan/dns", params={"zone": "external", "format": "bind", "serial": 9}
            )
            assert response.status_code == 200
            body = response.json()
            assert body["zone"] == "external" and "fabrikam.com.external.zone" in body["files"]
            assert (
                "_sip._tls\t3600\tIN\tSRV\t0 0 443 sip.fabrikam.com."
                in body["files"]["fabrikam.com.external.zone"]
            )
            explained = client.get("/api/v1/netplan/explain")
            assert explained.status_code == 200 and "ucupdates-r2.contoso.com" in explained.text
            bad = client.get("/api/v1/netplan/dhcp", params={"format": "junos"})
            assert bad.status_code == 400 and "unknown DHCP format 'junos'" in bad.text
            bad = client.get("/api/v1/netplan/dns", params={"zone": "dmz"})
            assert bad.status_code == 400 and "unknown zone 'dmz'" in bad.text
        anonymous = client.__class__(base_url=site_server.admin, timeout=30)
        with anonymous:
            assert anonymous.get("/api/v1/netplan/dhcp").status_code == 401
    finally:
        assert site_server.stop() == 0
