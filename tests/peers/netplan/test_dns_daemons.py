"""Our rendered zones in real BIND (bind9, bind9-utils, bind9-dnsutils): named-checkzone, then named
on 127.0.0.1 at a free high port, asked for every planned record with dnspython and dig."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from phonehome.netplan.records import ZonePlan, zone_plan
from tests.support.peers import require_binary
from tests.unit.netplan.sites import SITE_TOML, render_cli, site_for

SERIAL = 2026112501
QUERY_TIMEOUT = 2.0


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (named listens on both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for named")


def ask(port: int, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT)


@contextlib.contextmanager
def named(zone_dir: Path, view: str, tmp: Path) -> Iterator[int]:
    binary = require_binary("named")
    port = free_port()
    conf = tmp / "named.conf"
    conf.write_text(
        "options {\n"
        f'  directory "{zone_dir}";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n"
        "  listen-on-v6 { none; };\n"
        "  recursion no;\n"
        "  dnssec-validation no;\n"
        f'  pid-file "{tmp / "named.pid"}";\n'
        f'  session-keyfile "{tmp / "session.key"}";\n'
        f'  managed-keys-directory "{tmp}";\n'
        "};\n"
        "controls { };\n"
        f'include "{zone_dir / f"named.conf.{view}"}";\n'
    )
    check = subprocess.run(
        [require_binary("named-checkconf"), "-z", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    log = tmp / "named.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [binary, "-g", "-n", "1", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                ask(port, dns.name.from_text("contoso.com"), dns.rdatatype.SOA)
                break
            except (dns.exception.Timeout, OSError):
                if time.monotonic() > deadline:
                    raise AssertionError("named did not answer within 30 s:\n" + log.read_text()) from None
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def dig(port: int, name: str, rdtype: str) -> list[str]:
    cmd = [
        require_binary("dig"),
        "+short",
        "+time=2",
        "+tries=1",
        "-p",
        str(port),
        "@127.0.0.1",
        name,
        rdtype,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    assert result.returncode == 0, result.stderr
    return sorted(line for line in result.stdout.splitlines() if line)


@pytest.mark.parametrize("view", ["internal", "external"])
def test_bind_loads_the_zones_and_answers_every_planned_record(view: str, tmp_path: Path) -> None:
    checkzone = require_binary("named-checkzone")
    out = tmp_path / "zones"
    render_cli(
        tmp_path, "dns", "--zone", view, "--format", "bind", "--serial", str(SERIAL), "--out", str(out)
    )
    plan: ZonePlan = zone_plan(site_for(SITE_TOML), view, SERIAL)
    assert {f"{z.origin.to_text(True)}.{view}.zone" for z in plan.zones} | {f"named.conf.{view}"} == {
        p.name for p in out.iterdir()
    }
    for zone in plan.zones:
        origin = zone.origin.to_text(True)
        check = subprocess.run(
            [checkzone, origin, str(out / f"{origin}.{view}.zone")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert f"loaded serial {SERIAL}" in check.stdout

    with named(out, view, tmp_path) as port:
        records = plan.records()
        assert any(r.rdtype == dns.rdatatype.SRV for r in records)
        for record in records:
            answer = ask(port, record.owner, record.rdtype)
            assert answer.rcode() == dns.rcode.NOERROR, record.owner
            assert answer.flags & dns.flags.AA
            rrset = answer.find_rrset(answer.answer, record.owner, dns.rdataclass.IN, record.rdtype)
            assert set(rrset) == set(record.rdatas), record.owner
            assert rrset.ttl == record.ttl
            if record.rdtype in (dns.rdatatype.A, dns.rdatatype.SRV):
                expected = sorted(r.to_text() for r in record.rdatas)
                assert dig(port, record.owner.to_text(), record.rdtype.name) == expected
        missing = ask(port, dns.name.from_text("not-planned.contoso.com"), dns.rdatatype.A)
        assert missing.rcode() == dns.rcode.NXDOMAIN
