"""The example site of the tests (the CX700 guide's contoso.com / fabrikam.com) and how to render it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phonehome.config import Settings, load_settings
from phonehome.netplan.site import DhcpPlan, Site, build_site, dhcp_plan

SITE_TOML = """\
server_ips = ["192.0.2.10"]

[site]
subnet = "192.0.2.0/24"
pool_start = "192.0.2.100"
pool_end = "192.0.2.150"
routers = ["192.0.2.1"]
lease_seconds = 3600
dhcp_interfaces = ["veth-s"]
dhcp_domain = "contoso.com"
search_domains = ["contoso.com", "fabrikam.com", "dev.contoso.com"]
dns_servers = ["192.0.2.1"]
ntp_servers = ["192.0.2.1", "192.0.2.2"]
sip_domains = ["fabrikam.com"]
registrar_fqdn = "pool01.contoso.com"
registrar_ips = ["192.0.2.10"]
time_source = "time.windows.com"
autodiscover_ips = ["192.0.2.20"]
external_autodiscover_ips = ["198.51.100.20"]
access_edge_fqdn = "sip.fabrikam.com"
access_edge_ips = ["198.51.100.10"]
reverse_proxy_fqdn = "webext.fabrikam.com"
reverse_proxy_ips = ["198.51.100.11"]
external_web_services_fqdn = "webext.fabrikam.com"
external_nameservers = ["ns1.fabrikam.com", "ns2.example.net"]
external_nameserver_ips = ["198.51.100.53"]
"""


def settings_for(toml: str, tmp: Path | None = None) -> Settings:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(tmp or scratch) / "site.toml"
        path.write_text(toml)
        return load_settings(config_file=path)


def site_for(toml: str) -> Site:
    return build_site(settings_for(toml))


def plan_for(toml: str) -> DhcpPlan:
    return dhcp_plan(site_for(toml))


def run_cli(tmp: Path, *args: str, toml: str = SITE_TOML) -> subprocess.CompletedProcess[str]:
    """``phonehome --config site.toml netplan …`` as a child process (no server, no data dir needed)."""
    config = tmp / "phonehome-site.toml"
    config.write_text(toml)
    cmd = [sys.executable, "-m", "phonehome", "--data", str(tmp / "data"), "--config", str(config)]
    return subprocess.run([*cmd, "netplan", *args], capture_output=True, text=True, timeout=60)


def render_cli(tmp: Path, *args: str, toml: str = SITE_TOML) -> str:
    result = run_cli(tmp, *args, toml=toml)
    assert result.returncode == 0, result.stderr
    return result.stdout
