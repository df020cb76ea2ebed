"""The doctor's DHCPINFORM against dnsmasq in a network namespace: option 60 MS-UC-Client asking for 43 and
120, as an LPE phone does (research §6); dnsmasq encodes the options, our decoder reads them; the
CertProv step then calls phonehome (running in the same namespace) at the option 43 URL.

Peers: dnsmasq, iproute2 (ip netns), root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.peers.doctor.lab import Netns, background, free_port, netns_pair
from tests.support.peers import require_binary

DHCP_PORTS = (16767, 16768)


def dnsmasq_conf(n: Netns, workdir: Path, dns_port: int, web_port: int, with_120: bool) -> Path:
    lines = [
        f"port={dns_port}",
        f"listen-address={n.server_ip}",
        f"interface={n.server_if}",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "no-daemon",
        "log-facility=-",
        "log-dhcp",
        "user=root",
        f"pid-file={workdir / 'dnsmasq.pid'}",
        f"dhcp-leasefile={workdir / 'leases'}",
        f"dhcp-alternate-port={DHCP_PORTS[0]},{DHCP_PORTS[1]}",
        "dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
        "no-ping",
        "auth-server=ns1.contoso.com",
        "auth-zone=contoso.com",
        "auth-zone=fabrikam.com",
        f"host-record=pool01.contoso.com,{n.server_ip}",
        # Sub-options as DHCPConfigScript.bat sets them, with scheme and port of the test web server.
        'dhcp-option=vendor:MS-UC-Client,1,"MS-UC-Client"',
        'dhcp-option=vendor:MS-UC-Client,2,"http"',
        'dhcp-option=vendor:MS-UC-Client,3,"pool01.contoso.com"',
        f'dhcp-option=vendor:MS-UC-Client,4,"{web_port}"',
        'dhcp-option=vendor:MS-UC-Client,5,"/CertProv/CertProvisioningService.svc"',
    ]
    if with_120:
        lines.append("dhcp-option=option:sip-server,pool01.contoso.com")
    conf = workdir / "dnsmasq.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def wait_for_dns(n: Netns, port: int) -> None:
    dig = require_binary("dig")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = n.exec(
            n.client, dig, "+time=1", "+tries=1", "-p", str(port), f"@{n.server_ip}", "contoso.com", "SOA"
        )
        if "status: NOERROR" in subprocess.run(probe, capture_output=True, text=True, timeout=10).stdout:
            return
        time.sleep(0.1)
    raise AssertionError("dnsmasq in the namespace did not answer DNS")


def wait_for_phonehome(data_dir: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if (data_dir / "run" / "listeners.json").exists():
            return
        time.sleep(0.1)
    raise AssertionError("phonehome in the namespace did not start")


def run_inform(tmp_path: Path, with_120: bool, site: str = "") -> dict[str, Any]:
    binary = require_binary("dnsmasq")
    with netns_pair(f"{os.getpid() % 100000}{int(with_120)}") as n:
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "phonehome.toml").write_text(site)
        dns_port, web_port = free_port(), free_port()
        conf = dnsmasq_conf(n, tmp_path, dns_port, web_port, with_120)
        # phonehome itself in the server's namespace: option 43 points at its CertProv route.
        (tmp_path / "phonehome").mkdir()
        listen = [
            f"--{plane}={n.server_ip}:{port}"
            for plane, port in (("http", web_port), ("https", 0), ("admin", 0))
        ]
        web = [sys.executable, "-m", "phonehome", "--data", str(tmp_path / "phonehome"), "serve", *listen]
        with (
            background(n.exec(n.server, binary, f"--conf-file={conf}"), tmp_path / "dnsmasq.log"),
            background(n.exec(n.server, *web), tmp_path / "web.log"),
        ):
            wait_for_dns(n, dns_port)
            wait_for_phonehome(tmp_path / "phonehome")
            doctor = [
                sys.executable,
                "-m",
                "phonehome",
                "--data",
                str(tmp_path / "empty"),
                "doctor",
                "--json",
                *([] if site else ["--dhcp-domain=contoso.com", "--sip-domain=fabrikam.com"]),
                f"--dns-server={n.server_ip}:{dns_port}",
                "--timeout=2",
                f"--dhcp-inform={n.client_if}",
                f"--dhcp-ports={DHCP_PORTS[0]},{DHCP_PORTS[1]}",
            ]
            done = subprocess.run(n.exec(n.client, *doctor), capture_output=True, text=True, timeout=120)
    assert done.stdout, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return {s["step"]: s for s in report["steps"]} | {"_web_port": web_port}


def test_inform_reads_options_43_and_120_and_certprov_follows_option_43(tmp_path: Path) -> None:
    steps = run_inform(tmp_path, with_120=True)
    inform = steps["dhcp.inform"]
    assert inform["status"] == "pass", inform
    url = f"http://pool01.contoso.com:{steps['_web_port']}/CertProv/CertProvisioningService.svc"
    assert f"option 43 → {url}" in inform["evidence"]
    assert "option 120 → pool01.contoso.com" in inform["evidence"]
    certprov = steps["trust.certprov"]
    assert certprov["status"] == "pass", certprov
    assert certprov["evidence"][0].startswith(f"POST http://192.0.2.1:{steps['_web_port']}/CertProv/")
    assert "GetRootCertChains: 1 chain(s)" in certprov["evidence"][1]


def test_inform_without_option_120_fails_with_the_option_line(tmp_path: Path) -> None:
    # The domains and the registrar come from [site]; the fix carries option 120 as netplan encodes it:
    # the bytes dnsmasq 2.90 itself sent for option:sip-server,pool01.contoso.com (captured, log-dhcp).
    site = '[site]\ndhcp_domain = "contoso.com"\nsip_domains = ["fabrikam.com"]\nregistrar_fqdn = "pool01.contoso.com"\n'
    inform = run_inform(tmp_path, with_120=False, site=site)["dhcp.inform"]
    assert inform["status"] == "fail"
    assert inform["fix"]["lines"] == [
        "dhcp-option=120,00:06:70:6f:6f:6c:30:31:07:63:6f:6e:74:6f:73:6f:03:63:6f:6d:00"
    ]
    assert "option 120 (SIP server) missing" in inform["fix"]["why"]


def test_inform_unanswered(tmp_path: Path) -> None:
    with netns_pair(f"{os.getpid() % 100000}x") as n:
        doctor = [
            sys.executable,
            "-m",
            "phonehome",
            "--data",
            str(tmp_path),
            "doctor",
            "--json",
            "--dhcp-domain=c.com",
            "--sip-domain=f.com",
            "--profile=avaya-96x1",
            "--timeout=1",
            f"--dhcp-inform={n.client_if}",
            f"--dhcp-ports={DHCP_PORTS[0]},{DHCP_PORTS[1]}",
        ]
        done = subprocess.run(n.exec(n.client, *doctor), capture_output=True, text=True, timeout=60)
    step = json.loads(done.stdout)["steps"][0]
    assert step["step"] == "dhcp.inform" and step["status"] == "warn"  # optional outside LPE
    assert "no DHCPACK within 1 s" in step["evidence"][0]
    assert step["fix"]["lines"][0] == "dhcp-vendorclass=set:ms-uc-client,MS-UC-Client"
