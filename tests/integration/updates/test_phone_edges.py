"""Bad input, the external listener, any Host, OCInterim and the admin API's refusals, on one server."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from phonehome.pki.ca import make_leaf
from phonehome.pki.store import PkiPaths, load_ca, pem_cert, pem_key
from phonehome.updates.auditlog import parse_records
from tests.integration.updates.packages import CX700, build_cab, image_files
from tests.integration.updates.phones import check_in, checkin_body, offered
from tests.support.corpus import cab_corpus
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer

CHECKIN = "/RequestHandler/ucdevice.upx"
MAC = "00-04-F2-11-11-11"


@pytest.fixture(scope="module")
def srv(update_server: PhonehomeServer, tmp_path_factory: pytest.TempPathFactory) -> PhonehomeServer:
    tmp = tmp_path_factory.mktemp("pkg")
    files = {**image_files("1.0.522.101"), "OCInterim/ENU/cpe.nbt": b"interim image 522.103"}
    (tmp / "UCUpdates.cab").write_bytes(build_cab(files))
    update_server.cli("firmware", "import", str(tmp / "UCUpdates.cab"))
    update_server.cli("rules", "approve", CX700)
    return update_server


def audit_lines(srv: PhonehomeServer) -> int:
    return sum(
        len(parse_records(p.read_text())) for p in (srv.data_dir / "logs").glob("RequestHandlerAudit*")
    )


def devices(admin: httpx.Client) -> list[dict[str, object]]:
    response = admin.get("/api/v1/updates/devices")
    assert response.status_code == 200
    return list(response.json())


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"<Request>" + b"x" * 70_000 + b"</Request>", "text/xml", 413, "larger than 64 KiB"),
        (
            b'<!DOCTYPE r [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;">]><r><MAC>&b;</MAC></r>',
            "text/xml",
            400,
            "DTD",
        ),
        (b"<Request><MAC>00-04-F2-11-11-11</Request>", "text/xml", 400, "malformed XML"),
        (b"<Request><Model>CX700</Model></Request>", "text/xml", 400, "neither a MAC address nor a serial"),
        (b"model=CX700", "application/x-www-form-urlencoded", 400, "neither a MAC"),
    ],
)
def test_bad_check_ins_are_refused_audited_and_change_nothing(
    srv: PhonehomeServer, admin: httpx.Client, body: bytes, content_type: str, status: int, reason: str
) -> None:
    before_devices, before_audit = devices(admin), audit_lines(srv)
    response = httpx.post(
        srv.http + CHECKIN, content=body, headers={"Content-Type": content_type}, timeout=30
    )
    assert response.status_code == status
    assert reason in response.text and response.text.count("\n") == 1
    assert audit_lines(srv) == before_audit + 1
    assert devices(admin) == before_devices


def test_unknown_model_gets_nothing_and_is_recorded(srv: PhonehomeServer, admin: httpx.Client) -> None:
    with httpx.Client(base_url=srv.http, timeout=30) as phone:
        assert (
            check_in(phone, CHECKIN, "00-04-F2-22-22-22", "4.0.7577.4387", model="CX9999")["NumOfFiles"]
            == "0"
        )
    [seen] = [d for d in devices(admin) if d["mac"] == "00-04-F2-22-22-22"]
    assert (seen["model"], seen["version"], seen["site"], seen["last_offer"]) == (
        "CX9999",
        "4.0.7577.4387",
        "Redmond",
        "",
    )


def test_client_version_filter_refuses_with_a_reason(srv: PhonehomeServer) -> None:
    before = audit_lines(srv)
    response = httpx.post(srv.http + CHECKIN, content=checkin_body(MAC, "1.0.198.5"), timeout=30)
    assert response.status_code == 403
    assert "client version filter 'OCPhone >= 1.0.199.*' refuses version 1.0.198.5" in response.text
    assert audit_lines(srv) == before + 1


def test_any_host_and_form_bodies(srv: PhonehomeServer) -> None:
    headers = {"Host": "ucupdates-r2.contoso.com"}
    with httpx.Client(base_url=srv.http, timeout=30, headers=headers) as phone:
        status = phone.get(CHECKIN)
        assert status.status_code == 200 and "<NumOfFiles>0</NumOfFiles>" in status.text
        assert "<ServiceVersion>3.5.6907.0</ServiceVersion>" in status.text
        answer = check_in(phone, CHECKIN, MAC, "1.0.199.123")
        assert (
            answer["BaseURL"]
            == f"http://ucupdates-r2.contoso.com/DeviceUpdateFiles_Int/{CX700}/1.0.522.101/CPE"
        )
        form = phone.post(
            CHECKIN,
            content=b"Manufacturer=Polycom&Model=CX700&Revision=A&Locale=ENU&MAC=00%3A04%3Af2%3A33%3A33%3A33&Version=1.0.199.123",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 200 and "<Version>1.0.522.101</Version>" in form.text


def test_file_routes_never_leave_the_store(srv: PhonehomeServer) -> None:
    curl = require_binary("curl")
    for path in (
        "/DeviceUpdateFiles_Int/../phonehome.db",
        "/DeviceUpdateFiles_Int/..%2F..%2Fphonehome.db",
        f"/DeviceUpdateFiles_Int/{CX700}/1.0.522.101/%2e%2e/%2e%2e/%2e%2e/phonehome.toml",
        f"/RequestHandler/Files/{CX700}/1.0.522.101/CPE/..%2f..%2f..%2f..%2f..%2f..%2f..%2fphonehome.db",
        "/RequestHandler/Files/OCInterim/ENU/../../../pki/ca.key",
        "/DeviceUpdateFiles_Int/UCPhone/Polycom/CX700/A/ENU/9.9.9/CPE/CPE.nbt",
    ):
        result = subprocess.run(
            [curl, "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", srv.http + path],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert result.stdout == "404", path


def test_ocinterim_is_served(srv: PhonehomeServer) -> None:
    response = httpx.get(srv.http + "/DeviceUpdateFiles_Int/OCInterim/ENU/cpe.nbt", timeout=30)
    assert response.status_code == 200 and response.content == b"interim image 522.103"
    assert response.headers["content-type"] == "binary/octet-stream"


def client_context(srv: PhonehomeServer, tmp: Path) -> ssl.SSLContext:
    ca = load_ca(PkiPaths(srv.data_dir))
    leaf = make_leaf(
        ca, common_name="00-04-F2-44-44-44", now=dt.datetime.now(dt.UTC), server=False, client=True
    )
    (tmp / "client.pem").write_bytes(pem_cert(leaf.certificate))
    (tmp / "client.key").write_bytes(pem_key(leaf.key))
    context = ssl.create_default_context(cafile=str(srv.ca_file))
    context.load_cert_chain(tmp / "client.pem", tmp / "client.key")
    return context


def test_external_check_in_needs_a_client_certificate(srv: PhonehomeServer, tmp_path: Path) -> None:
    url = "/RequestHandlerExt/ucdevice.upx"
    anonymous = ssl.create_default_context(cafile=str(srv.ca_file))
    before = audit_lines(srv)
    refused = httpx.post(
        srv.https + url, content=checkin_body(MAC, "1.0.199.123"), verify=anonymous, timeout=30
    )
    assert refused.status_code == 401 and "client certificate" in refused.text
    assert audit_lines(srv) == before + 1
    with httpx.Client(base_url=srv.https, verify=client_context(srv, tmp_path), timeout=30) as phone:
        answer = check_in(phone, url, "00-04-F2-44-44-44", "1.0.199.123")
        assert offered(answer) == "1.0.522.101"
        assert answer["ExternalBaseURL"] == f"{srv.https}/DeviceUpdateFiles_Ext/{CX700}/1.0.522.101/CPE"
        assert answer["BaseURL"].startswith("http://127.0.0.1/DeviceUpdateFiles_Int/")
        expected = image_files("1.0.522.101")[f"{CX700}/1.0.522.101/CPE/CPE.nbt"]
        ranged = phone.get(answer["ExternalBaseURL"] + "/CPE.nbt", headers={"Range": "bytes=100-"})
        assert ranged.status_code == 206 and ranged.content == expected[100:]
        lync = phone.get(f"/RequestHandlerExt/Files/{CX700}/1.0.522.101/CPE/CPE.nbt")
        assert lync.status_code == 200 and lync.content == expected
    # The internal store is not on the external listener.
    assert (
        httpx.get(srv.https + "/DeviceUpdateFiles_Int/OCInterim/ENU/cpe.nbt", verify=anonymous).status_code
        == 404
    )


def test_admin_api_refusals(srv: PhonehomeServer, admin: httpx.Client) -> None:
    assert admin.post("/api/v1/updates/test-devices", json={"mac": "00-04-F2"}).status_code == 400
    assert admin.post("/api/v1/updates/test-devices", json={"serial": "SN 1"}).status_code == 400
    assert admin.post("/api/v1/updates/test-devices", json={"mac": "1", "serial": "2"}).status_code == 400
    assert (
        admin.post("/api/v1/updates/test-devices", json={"serial": "SN1", "site": "Nowhere"}).status_code
        == 400
    )
    created = admin.post("/api/v1/updates/test-devices", json={"mac": "0004.f255.5555", "site": "Redmond"})
    assert created.status_code == 201 and created.json()["identifier"] == "00-04-F2-55-55-55"
    assert (
        admin.post(
            "/api/v1/updates/test-devices", json={"mac": "00:04:F2:55:55:55", "site": "Redmond"}
        ).status_code
        == 409
    )
    assert [d["identifier"] for d in admin.get("/api/v1/updates/test-devices").json()] == [
        "00-04-F2-55-55-55"
    ]
    gone = admin.delete("/api/v1/updates/test-devices", params={"mac": "0004F2555555", "site": "Redmond"})
    assert gone.status_code == 204
    assert admin.get("/api/v1/updates/test-devices").json() == []
    assert admin.post(f"/api/v1/updates/rules/reset/{CX700}").status_code == 409
    assert admin.post("/api/v1/updates/rules/approve/UCPhone/No/Such/A/ENU").status_code == 404
    assert httpx.get(srv.admin + "/api/v1/updates/rules", timeout=30).status_code == 401
    assert admin.get(f"/api/v1/updates/rules/{CX700.lower()}").json()["approved_version"] == "1.0.522.101"
    samples = admin.get("/api/v1/updates/checkin-samples", params={"model": "polycom/cx9999"}).json()
    assert len(samples) == 1 and "<Model>CX9999</Model>" in samples[0]["body"]
    listed = admin.get("/api/v1/updates/firmware").json()
    assert {(i["name"], i["version"]) for i in listed} == {(CX700, "1.0.522.101"), ("OCInterim/ENU", "0")}


def test_cli_lists_and_refusals(srv: PhonehomeServer, tmp_path: Path) -> None:
    srv.env["COLUMNS"] = "250"  # Rich tables: no truncated MACs
    hostile = cab_corpus() / "hostile" / "dirwalk-vulns.cab"
    refused = srv.cli("firmware", "import", str(hostile), check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "phonehome: error: dirwalk-vulns.cab: corrupt cabinet: No CFDATA blocks"
    ]
    bad = srv.cli("test-devices", "add", "--mac", "00-04", check=False)
    assert bad.returncode == 2 and "not a MAC address" in bad.stderr
    assert (
        "SN-9 (Redmond) added"
        in srv.cli("test-devices", "add", "--serial", "SN-9", "--site", "Redmond").stdout
    )
    gone = srv.cli("test-devices", "remove", "--serial", "SN-9", check=False)  # global: not that one
    assert gone.returncode == 4 and "no test device SN-9 (global)" in gone.stderr
    # 00-04-F2-22-22-22 (CX9999) has no rule; 00-04-F2-11-11-11 was seen on 1.0.199.123, behind 522.
    behind = srv.cli("devices", "list", "--behind").stdout
    assert "00-04-F2-11-11-11" in behind and "00-04-F2-22-22-22" not in behind


def test_remove_rule_then_prune(srv: PhonehomeServer, admin: httpx.Client) -> None:
    assert admin.delete(f"/api/v1/updates/rules/{CX700}").status_code == 204
    assert admin.delete(f"/api/v1/updates/rules/{CX700}").status_code == 404
    with httpx.Client(base_url=srv.http, timeout=30) as phone:
        assert check_in(phone, CHECKIN, MAC, "1.0.199.123")["NumOfFiles"] == "0"
    pruned = admin.post("/api/v1/updates/firmware/prune")
    assert pruned.status_code == 200 and pruned.json() == {"images": [f"{CX700}/1.0.522.101"], "blobs": 3}
    assert httpx.get(f"{srv.http}/DeviceUpdateFiles_Int/{CX700}/1.0.522.101/CPE/CPE.nbt").status_code == 404
    changes = admin.get("/api/v1/changelog", params={"object_type": "update_rule"}).json()
    assert changes[0]["action"] == "remove" and changes[0]["actor"] == "admin"
