"""``phonehome doctor`` against real daemons: dnsmasq (authoritative DNS on a high loopback port), chronyd
(NTP on a high port) and phonehome itself: its certificate, ucdevice.upx over HTTP and HTTPS (a firmware
package is imported and approved, so the check-in offers an image and the ranged download is real), the
certsrv p7b and a CertProv GetRootCertChains call. A correct site passes; each broken variant fails
exactly its step, with the fix line. Only "ucdevice.upx answering HTML" puts a stand-in in front.

Peers: dnsmasq, chrony (Debian packages dnsmasq, chrony).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.updates.packages import build_cab
from tests.peers.doctor.lab import HtmlFront, chronyd, dnsmasq, free_port
from tests.support.server import PhonehomeServer

ZONES = ["contoso.com", "fabrikam.com", "fabrikam.dk", "dk"]
GOOD_NAMES = ["ucupdates-r2.contoso.com", "ucupdates-r2", "pool01.contoso.com", "ucupdates-r2.fabrikam.dk"]
# The certificate a Lync wizard gives by default: FQDNs only, no short name.
NO_SHORT_NAMES = ["ucupdates-r2.contoso.com", "pool01.contoso.com"]
# The doctor's LPE check-in says CX600 4.0.7577.4363; the approved rule offers it 4455.
CX600 = "UCPhone/Polycom/CX600/A/ENU"
OFFERED = "4.0.7577.4455"


def import_cx600(server: PhonehomeServer, workdir: Path) -> None:
    folder = f"{CX600}/{OFFERED}/CPE"
    cab = workdir / "UCUpdates-CX600.cab"
    cab.write_bytes(
        build_cab(
            {
                f"{folder}/CPE.nbt": bytes(range(256)) * 64,
                f"{folder}/CPE.cat": b"catalog",
                f"{folder}/CPE_desc.xml": f"<Desc><Version>{OFFERED}</Version></Desc>".encode(),
            }
        )
    )
    server.cli("firmware", "import", str(cab))
    server.cli("rules", "approve", CX600)


def start_phonehome(data_dir: Path, names: list[str]) -> PhonehomeServer:
    data_dir.mkdir(parents=True)
    quoted = ", ".join(f'"{n}"' for n in names)
    (data_dir / "phonehome.toml").write_text(f'server_names = [{quoted}]\nserver_ips = ["127.0.0.1"]\n')
    return PhonehomeServer(data_dir).start()


@dataclass
class Lab:
    good: PhonehomeServer
    no_short_name: PhonehomeServer
    ntp_port: int
    html_front: HtmlFront
    workdir: Path


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("doctor-lab")
    good = start_phonehome(root / "good", GOOD_NAMES)
    try:
        import_cx600(good, root)
        bad = start_phonehome(root / "no-short-name", NO_SHORT_NAMES)
        try:
            with chronyd(root / "chrony") as ntp_port, HtmlFront(good.http).serve() as front:
                yield Lab(good, bad, ntp_port, front, root)
        finally:
            bad.kill()
    finally:
        good.kill()


def http_port(server: PhonehomeServer) -> int:
    return int(server.http.rsplit(":", 1)[1])


def https_port(server: PhonehomeServer) -> int:
    return int(server.https.rsplit(":", 1)[1])


@dataclass
class Variant:
    dhcp_domain: str = "contoso.com"
    search_list: str = ""
    netbios: str | None = None
    drop: set[str] = field(default_factory=set)  # record keys left out
    extra: list[str] = field(default_factory=list)
    dead_ntp: bool = False
    short_name_missing: bool = False
    upx_html: bool = False


def records(lab: Lab, server: PhonehomeServer, v: Variant) -> list[str]:
    ntp_port = free_port() if v.dead_ntp else lab.ntp_port  # nothing listens on a fresh free port
    table = {
        "pool": "host-record=pool01.contoso.com,127.0.0.1",
        "ucupdates": "host-record=ucupdates-r2.contoso.com,127.0.0.1",
        "ucupdates-dk": "host-record=ucupdates-r2.fabrikam.dk,127.0.0.1",
        "ntp-host": "host-record=ntp.contoso.com,127.0.0.1",
        "dc-host": "host-record=dc01.contoso.com,127.0.0.1",
        "autodiscover": "host-record=autodiscover.fabrikam.com,127.0.0.1",
        "sip": f"srv-host=_sipinternaltls._tcp.fabrikam.com,pool01.contoso.com,{https_port(server)},0,0",
        "ntp": f"srv-host=_ntp._udp.fabrikam.com,ntp.contoso.com,{ntp_port},0,0",
        "dc": "srv-host=_ldap._tcp.dc._msdcs.contoso.com,dc01.contoso.com,389,0,0",
        "dc-dk": "srv-host=_ldap._tcp.dc._msdcs.fabrikam.dk,dc01.contoso.com,389,0,0",
    }
    return [line for key, line in table.items() if key not in v.drop] + v.extra


def run_doctor(lab: Lab, tmp_path: Path, v: Variant, *extra: str) -> tuple[int, dict[str, Any]]:
    server = lab.no_short_name if v.short_name_missing else lab.good
    web = lab.html_front.port if v.upx_html else http_port(server)
    with dnsmasq(tmp_path / "dns", ZONES, records(lab, server, v)) as dns_port:
        args = [
            sys.executable,
            "-m",
            "phonehome",
            "--data",
            str(tmp_path / "empty"),
            "doctor",
            "--json",
            f"--dhcp-domain={v.dhcp_domain}",
            "--sip-domain=fabrikam.com",
            f"--dns-server=127.0.0.1:{dns_port}",
            f"--ca={server.ca_file}",
            f"--http-port={web}",
            f"--https-port={https_port(server)}",
            "--timeout=1",
            *([f"--search-list={v.search_list}"] if v.search_list else []),
            *([f"--netbios={v.netbios}"] if v.netbios else []),
            *extra,
        ]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def by_step(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["step"]: step for step in report["steps"]}


def failing(report: dict[str, Any]) -> set[str]:
    return {s["step"] for s in report["steps"] if s["status"] == "fail"}


def fix_lines(report: dict[str, Any], step: str) -> list[str]:
    fix = by_step(report)[step]["fix"]
    assert fix is not None, by_step(report)[step]
    return list(fix["lines"])


def test_correct_site_passes_every_step(lab: Lab, tmp_path: Path) -> None:
    rc, report = run_doctor(lab, tmp_path, Variant())
    steps = by_step(report)
    # phonehome's HTTPS listener serves only the external path: the LPE HTTPS check-in (research §1.1)
    # reaches it with the short name (TLS, SNI, CA all good) and gets 404, which the doctor names.
    https = "update.checkin-https"
    expected = dict.fromkeys(steps, "pass") | {https: "warn"}
    assert {k: s["status"] for k, s in steps.items()} == expected, json.dumps(report, indent=1)
    assert rc == 0 and report["ok"] is True
    assert list(steps) == [
        "time.locate",
        "time.ntp",
        "sip.locate",
        "dc.locate",
        "update.locate",
        "update.tls",
        "update.checkin",
        "update.checkin-https",
        "update.download",
        "pool.tls",
        "trust.certsrv",
        "trust.certprov",
        "exchange",
    ]
    assert any("stratum 8" in e for e in steps["time.ntp"]["evidence"])
    assert any("206 binary/octet-stream" in e for e in steps["update.download"]["evidence"])
    download = steps["update.download"]["evidence"][0]
    assert (
        f"/DeviceUpdateFiles_Int/{CX600}/{OFFERED}/CPE/CPE.nbt" in download
        and "bytes 0-1023/16384" in download
    )
    checkin = steps["update.checkin"]["evidence"]
    # GET is the status page (NumOfFiles=0); the POST check-in is offered the approved image.
    assert [e.split(",")[0] for e in checkin if e.startswith("<Response>")] == [
        "<Response> NumOfFiles=0",
        "<Response> NumOfFiles=1",
    ]
    assert f"offers {OFFERED}" in checkin[-1], checkin
    tls_checkin = steps[https]["evidence"][0]
    assert tls_checkin.startswith(
        f"POST https://127.0.0.1:{https_port(lab.good)}/RequestHandler/ucdevice.upx"
    )
    assert "→ 404" in tls_checkin and "SNI ucupdates-r2" in tls_checkin
    assert "/RequestHandlerExt/ucdevice.upx" in steps[https]["fix"]["why"]
    assert any("-----" not in e and "CN=" in e for e in steps["trust.certsrv"]["evidence"])
    assert "GetRootCertChains: 1 chain(s)" in steps["trust.certprov"]["evidence"][1]
    assert any("SRV _ntp._udp.fabrikam.com" in e for e in steps["time.locate"]["evidence"])


def test_missing_ucupdates_r2_record(lab: Lab, tmp_path: Path) -> None:
    rc, report = run_doctor(lab, tmp_path, Variant(drop={"ucupdates"}))
    assert rc == 1 and failing(report) == {"update.locate"}, report
    # The guide's rule: ucupdates-r2 points at the pool's address, which SIP discovery found.
    assert fix_lines(report, "update.locate") == ["ucupdates-r2.contoso.com. 3600 IN A 127.0.0.1"]
    assert by_step(report)["update.checkin"]["status"] == "skip"


def test_dc_locator_srv_only_in_sip_domain(lab: Lab, tmp_path: Path) -> None:
    in_sip_zone = "srv-host=_ldap._tcp.dc._msdcs.fabrikam.com,dc01.contoso.com,389,0,0"
    rc, report = run_doctor(lab, tmp_path, Variant(drop={"dc"}, extra=[in_sip_zone]))
    assert rc == 1 and failing(report) == {"dc.locate"}, report
    assert fix_lines(report, "dc.locate") == [
        "_ldap._tcp.dc._msdcs.contoso.com. 3600 IN SRV 0 0 389 dc01.contoso.com."
    ]
    assert "only in fabrikam.com" in by_step(report)["dc.locate"]["fix"]["why"]


def test_netbios_sign_in_needs_option_119(lab: Lab, tmp_path: Path) -> None:
    dk = Variant(dhcp_domain="fabrikam.dk", search_list="fabrikam.dk", netbios="FABRIKAM", drop={"dc"})
    rc, report = run_doctor(lab, tmp_path / "without", dk)
    assert rc == 1 and failing(report) == {"dc.locate"}, report
    assert fix_lines(report, "dc.locate") == ["dhcp-option=119,fabrikam.dk,dk"]
    asked = [e.split(" →")[0] for e in by_step(report)["dc.locate"]["evidence"]]
    assert asked[:3] == [
        "SRV _ldap._tcp.dc._msdcs.fabrikam",
        "SRV _ldap._tcp.dc._msdcs.fabrikam.fabrikam.dk",
        "SRV _ldap._tcp.dc._msdcs.fabrikam.fabrikam.dk",
    ]
    # The guide's example: with dk in option 119 the fourth name answers.
    dk.search_list = "fabrikam.dk,dk"
    rc, report = run_doctor(lab, tmp_path / "with", dk)
    assert rc == 0 and by_step(report)["dc.locate"]["status"] == "pass", report


def test_certificate_without_short_name(lab: Lab, tmp_path: Path) -> None:
    rc, report = run_doctor(lab, tmp_path, Variant(short_name_missing=True))
    assert rc == 1 and failing(report) == {"update.tls"}, report
    step = by_step(report)["update.tls"]
    assert "ucupdates-r2" in step["fix"]["why"]
    assert fix_lines(report, "update.tls") == [
        'server_names = ["ucupdates-r2.contoso.com", "pool01.contoso.com", "ucupdates-r2"]'
    ]


def test_ntp_unreachable(lab: Lab, tmp_path: Path) -> None:
    rc, report = run_doctor(lab, tmp_path, Variant(dead_ntp=True))
    assert rc == 1 and failing(report) == {"time.ntp"}, report
    assert by_step(report)["time.locate"]["status"] == "pass"
    assert "nothing answers NTP" in by_step(report)["time.ntp"]["fix"]["why"]


def test_ucdevice_upx_answering_html(lab: Lab, tmp_path: Path) -> None:
    rc, report = run_doctor(lab, tmp_path, Variant(upx_html=True))
    assert rc == 1 and failing(report) == {"update.checkin"}, report
    assert fix_lines(report, "update.checkin") == [
        "ucupdates-r2.contoso.com. 3600 IN A 127.0.0.1",
        'http = "0.0.0.0:80"',
    ]
    assert by_step(report)["update.download"]["status"] == "skip"
