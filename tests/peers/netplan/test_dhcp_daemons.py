"""Our rendered DHCP configurations in the real daemons: dnsmasq, kea-dhcp4 and ISC dhcpd (Debian
packages dnsmasq, kea-dhcp4-server, isc-dhcp-server).

Each test builds two network namespaces joined by a veth pair, runs the daemon with the rendered
configuration in one and a small DHCP client (option 60 MS-UC-Client, option 55 asking for 43 and
120; DISCOVER, REQUEST, then the phone's DHCPINFORM) in the other, and compares the option bytes on
the wire with the codecs' output. A second client without option 60 must not get option 43.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phonehome.netplan.opt_names import DomainSearch
from phonehome.netplan.options import value_of
from phonehome.netplan.site import DhcpPlan
from tests.peers.netplan.netns import CLIENT_IFACE, SERVER_IFACE, Link, veth_pair
from tests.support.peers import require_binary
from tests.unit.netplan.sites import SITE_TOML, plan_for, render_cli

CLIENT = Path(__file__).with_name("dhcp_client.py")
CLIENT_TIMEOUT = 25
PHONE_MAC = "00:04:f2:12:34:56"


@pytest.fixture
def link() -> Iterator[Link]:
    with veth_pair("192.0.2.1/24") as pair:
        yield pair


def ask(link: Link, vendor_class: str = "MS-UC-Client") -> dict[str, Any]:
    cmd = [*link.exec_prefix(link.client_ns), sys.executable, str(CLIENT), CLIENT_IFACE, PHONE_MAC]
    cmd += ["67", "68", str(CLIENT_TIMEOUT), vendor_class]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 10)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def check_answer(plan: DhcpPlan, answer: dict[str, Any], *, with_43: bool, compresses_119: bool) -> None:
    for step in ("offer", "ack", "inform"):
        got = {int(code): value for code, value in answer[step]["options"].items()}
        assert plan.pool_start <= ipaddress.IPv4Address(answer[step]["yiaddr"]) <= plan.pool_end
        for option in plan.options:
            expected = value_of(option)
            if isinstance(option, DomainSearch) and not compresses_119:
                expected = option.uncompressed_wire()
                assert DomainSearch.from_wire(bytes.fromhex(got[119])) == option
            assert got.get(option.code) == expected.hex(), f"{step} option {option.code}"
        if with_43:
            assert got.get(43) == value_of(plan.vendor_options).hex(), f"{step} option 43"
        else:
            assert 43 not in got, f"{step}: option 43 sent to a client without MS-UC-Client"


def run_daemon(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_dnsmasq_answers_with_the_planned_option_bytes(link: Link, tmp_path: Path) -> None:
    dnsmasq = require_binary("dnsmasq")
    conf = tmp_path / "netplan-dnsmasq.conf"
    conf.write_text(render_cli(tmp_path, "dhcp", "--format", "dnsmasq"))
    log = tmp_path / "dnsmasq.log"
    cmd = [*link.exec_prefix(link.server_ns), dnsmasq, "--keep-in-foreground", f"--conf-file={conf}"]
    cmd += ["--port=0", "--no-resolv", "--no-hosts", "--bind-interfaces", "--no-ping", "--user=root"]
    cmd += [f"--dhcp-leasefile={tmp_path / 'leases'}", f"--pid-file={tmp_path / 'dnsmasq.pid'}"]
    cmd += ["--log-dhcp", "--log-facility=-"]
    proc = run_daemon(cmd, log)
    try:
        plan = plan_for(SITE_TOML)
        check_answer(plan, ask(link), with_43=True, compresses_119=True)
        check_answer(plan, ask(link, ""), with_43=False, compresses_119=True)
        assert proc.poll() is None, log.read_text()
    finally:
        stop(proc)


def test_isc_dhcpd_answers_with_the_planned_option_bytes(link: Link, tmp_path: Path) -> None:
    dhcpd = require_binary("dhcpd")
    conf = tmp_path / "dhcpd.conf"
    conf.write_text(render_cli(tmp_path, "dhcp", "--format", "isc"))
    leases = tmp_path / "dhcpd.leases"
    leases.touch()
    check = subprocess.run([dhcpd, "-t", "-4", "-cf", str(conf)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    log = tmp_path / "dhcpd.log"
    cmd = [*link.exec_prefix(link.server_ns), dhcpd, "-4", "-f", "-d", "-cf", str(conf), "-lf", str(leases)]
    cmd += ["-pf", str(tmp_path / "dhcpd.pid"), SERVER_IFACE]
    proc = run_daemon(cmd, log)
    try:
        plan = plan_for(SITE_TOML)
        check_answer(plan, ask(link), with_43=True, compresses_119=True)
        check_answer(plan, ask(link, ""), with_43=False, compresses_119=True)
        assert proc.poll() is None, log.read_text()
    finally:
        stop(proc)


def test_kea_answers_with_the_planned_option_bytes(link: Link, tmp_path: Path) -> None:
    kea = require_binary("kea-dhcp4")
    config = json.loads(render_cli(tmp_path, "dhcp", "--format", "kea"))
    # The one deployment-local change: the lease file goes to the test's directory, not /var/lib/kea.
    config["Dhcp4"]["lease-database"]["name"] = str(tmp_path / "kea-leases4.csv")
    conf = tmp_path / "kea-dhcp4.json"
    conf.write_text(json.dumps(config))
    check_cmd = [*link.exec_prefix(link.server_ns), kea, "-t", str(conf)]
    check = subprocess.run(check_cmd, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    env = {**os.environ, "KEA_PIDFILE_DIR": str(tmp_path), "KEA_LOCKFILE_DIR": str(tmp_path)}
    log = tmp_path / "kea.log"
    proc = run_daemon([*link.exec_prefix(link.server_ns), kea, "-c", str(conf)], log, env)
    try:
        plan = plan_for(SITE_TOML)
        check_answer(plan, ask(link), with_43=True, compresses_119=False)
        check_answer(plan, ask(link, ""), with_43=False, compresses_119=False)
        assert proc.poll() is None, log.read_text()
    finally:
        stop(proc)
