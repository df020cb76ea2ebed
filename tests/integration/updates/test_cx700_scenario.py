"""The CX700 deployment guide's upgrade, played over real HTTP against the real server.

1.0.522.101 approved and 3.5.6907.35 pending; phones on 1.0.199.123 step to 522 first; the test device
gets 6907.35; approve, restore and reset behave as the cmdlets do; images download (resumed with curl)
and match their sha256; the audit log parses back into the fields the phones sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import httpx
import pytest

from phonehome.updates.auditlog import file_name, parse_records
from tests.integration.updates.packages import CX700, build_cab, build_exe, image_files, manifest
from tests.integration.updates.phones import TANJAY01, check_in, offered
from tests.support.peers import require_binary
from tests.support.server import PhonehomeServer

# The scenario runs on PostgreSQL; test_phone_edges runs the same server on SQLite.
DATABASE = "postgresql"
CHECKIN = "/RequestHandler/ucdevice.upx"
OTHER = "00-04-F2-00-00-01"
OLD = "00-04-F2-00-00-02"
SIZE = 300_000


def package_522(tmp: Path) -> Path:
    path = tmp / "UCUpdates-522.exe"
    path.write_bytes(build_exe(build_cab(image_files("1.0.522.101", SIZE))))
    return path


def package_6907(tmp: Path) -> Path:
    files = image_files("3.5.6907.35", SIZE)
    # 1.0.199.123 "does not recognize builds greater than 1.0.522.*": 6907 installs from 522 on.
    files["updateInfo.xml"] = manifest(
        [
            {
                "DeviceType": "UCPhone",
                "Brand": "Polycom",
                "Model": "CX700",
                "Revision": "A",
                "Locale": "ENU",
                "Version": "3.5.6907.35",
                "MinimumVersion": "1.0.522.0",
            }
        ]
    )
    path = tmp / "UCUpdates-6907.cab"
    path.write_bytes(build_cab(files))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_cx700_upgrade_scenario(update_server: PhonehomeServer, admin: httpx.Client, tmp_path: Path) -> None:
    srv = update_server
    curl = require_binary("curl")
    srv.cli("firmware", "import", str(package_522(tmp_path)))
    srv.cli("rules", "approve", CX700)
    srv.cli("firmware", "import", str(package_6907(tmp_path)))
    for device in ({"mac": TANJAY01.replace("-", ":").lower()}, {"serial": "SN_TEST_2", "site": "Redmond"}):
        assert admin.post("/api/v1/updates/test-devices", json=device).status_code == 201
    [rule] = admin.get("/api/v1/updates/rules").json()
    assert (rule["approved_version"], rule["pending_version"]) == ("1.0.522.101", "3.5.6907.35")

    with httpx.Client(base_url=srv.http, timeout=30) as phone:
        url = CHECKIN
        # Everyone on 1.0.199.123 is offered 1.0.522.101 first, test device or not.
        assert offered(check_in(phone, url, OLD, "1.0.199.123")) == "1.0.522.101"
        assert offered(check_in(phone, url, TANJAY01, "1.0.199.123")) == "1.0.522.101"
        # On 522: the test devices (by MAC, and by serial in their site) get 6907.35; others nothing.
        answer = check_in(phone, url, TANJAY01, "1.0.522.101")
        assert offered(answer) == "3.5.6907.35"
        assert (
            offered(check_in(phone, url, "00-04-F2-00-00-09", "1.0.522.101", serial="SN_TEST_2"))
            == "3.5.6907.35"
        )
        assert check_in(phone, url, OTHER, "1.0.522.101")["NumOfFiles"] == "0"
        assert answer["FileName"] == "CPE.nbt" and answer["SignatureFileName"] == "CPE.cat"
        assert answer["DescriptFile"] == "CPE_desc.xml"
        assert answer["BaseURL"] == f"{srv.http}/DeviceUpdateFiles_Int/{CX700}/3.5.6907.35/CPE"
        assert answer["ExternalBaseURL"].startswith("https://127.0.0.1/DeviceUpdateFiles_Ext/")
        assert answer["ExternalBaseURL"].endswith(f"/{CX700}/3.5.6907.35/CPE")

        # The image downloads, and a broken download resumes with curl -C -.
        nbt_url = answer["BaseURL"] + "/" + answer["FileName"]
        expected = image_files("3.5.6907.35", SIZE)[f"{CX700}/3.5.6907.35/CPE/CPE.nbt"]
        whole = phone.get(nbt_url)
        assert whole.status_code == 200 and whole.headers["content-type"] == "binary/octet-stream"
        assert sha(whole.content) == sha(expected) and whole.headers["etag"] == f'"{sha(expected)}"'
        partial = tmp_path / "CPE.nbt"
        partial.write_bytes(expected[:123_457])
        subprocess.run([curl, "-sS", "-f", "-C", "-", "-o", str(partial), nbt_url], check=True, timeout=60)
        assert sha(partial.read_bytes()) == sha(expected)
        cat = phone.get(answer["BaseURL"] + "/cpe.cat")  # IIS-style: file names in any case
        assert cat.status_code == 200 and cat.headers["content-type"] == "binary/octet-stream"

        # Reset drops Pending: the test device on 6907.35 goes back to the approved 522.
        reset = admin.post(f"/api/v1/updates/rules/reset/{CX700}")
        assert reset.status_code == 200 and reset.json()["pending_version"] is None
        assert offered(check_in(phone, url, TANJAY01, "3.5.6907.35")) == "1.0.522.101"
        assert check_in(phone, url, TANJAY01, "1.0.522.101")["NumOfFiles"] == "0"

        # Import again (Pending), approve: everyone on 522 gets 6907.35; 199 still steps through 522.
        srv.cli("firmware", "import", str(package_6907(tmp_path)))
        approved = admin.post(f"/api/v1/updates/rules/approve/{rule['id']}").json()
        assert (approved["approved_version"], approved["restore_version"]) == ("3.5.6907.35", "1.0.522.101")
        assert offered(check_in(phone, url, OTHER, "1.0.522.101")) == "3.5.6907.35"
        assert offered(check_in(phone, url, OLD, "1.0.199.123")) == "1.0.522.101"
        assert check_in(phone, url, OTHER, "3.5.6907.35")["NumOfFiles"] == "0"

        behind = admin.get("/api/v1/updates/devices", params={"behind": "true", "model": "cx700"}).json()
        assert OLD in {d["mac"] for d in behind} and OTHER not in {d["mac"] for d in behind}

        # Restore sends them back to 522, although older.
        assert "(restored)" in srv.cli("rules", "restore", CX700).stdout
        assert offered(check_in(phone, url, OTHER, "3.5.6907.35")) == "1.0.522.101"
        assert check_in(phone, url, OTHER, "1.0.522.101")["NumOfFiles"] == "0"

    changes = admin.get("/api/v1/changelog", params={"object_type": "update_rule"}).json()
    assert [c["action"] for c in changes][:4] == ["restore", "approve", "import", "reset"]

    # The audit log: one line per check-in, the phones' fields back as they were sent.
    logs = sorted((srv.data_dir / "logs").glob("RequestHandlerAuditLog_FE01_*.log"))
    assert logs[-1].name == file_name("FE01", dt.datetime.now(dt.UTC).date())
    records = [r for log in logs for r in parse_records(log.read_text())]
    assert len(records) == 12
    first = records[0]
    assert (first.user_host_address, first.device_type, first.mac, first.vendor, first.model) == (
        "127.0.0.1",
        "UCPhone",
        OLD,
        "Polycom",
        "CX700",
    )
    assert [(m.filename, m.version) for m in first.request_modules] == [("CPE.nbt", "1.0.199.123")]
    assert [(m.filename, m.signature_filename, m.version) for m in first.response_modules] == [
        ("CPE.nbt", "CPE.cat", "1.0.522.101")
    ]
    assert records[-1].response_modules == ()
    assert records[-1].request_modules[0].version == "1.0.522.101"


@pytest.fixture(scope="module")
def imported_522(update_server: PhonehomeServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    update_server.cli("firmware", "import", str(package_522(tmp_path_factory.mktemp("pkg"))))


@pytest.mark.parametrize("layout", ["/RequestHandler/Files", "/DeviceUpdateFiles_Int"])
def test_ranges_and_conditionals_with_curl(
    update_server: PhonehomeServer, imported_522: None, tmp_path: Path, layout: str
) -> None:
    curl = require_binary("curl")
    srv = update_server
    data = image_files("1.0.522.101", SIZE)[f"{CX700}/1.0.522.101/CPE/CPE.nbt"]
    url = f"{srv.http}{layout}/{CX700}/1.0.522.101/CPE/CPE.nbt"
    etag = f'"{sha(data)}"'

    def get(*args: str) -> tuple[str, bytes]:
        head = tmp_path / "head"
        body = subprocess.run(
            [curl, "-sS", "-D", str(head), *args, url], capture_output=True, check=True, timeout=60
        ).stdout
        return head.read_text(), body

    head, body = get("-r", "-100")
    assert head.startswith("HTTP/1.1 206") and body == data[-100:]
    assert f"content-range: bytes {SIZE - 100}-{SIZE - 1}/{SIZE}" in head.lower()
    head, body = get("-r", "0-9,100-109")
    assert "multipart/byteranges" in head and data[:10] in body and data[100:110] in body
    head, _ = get("-r", f"{SIZE}-")
    assert head.startswith("HTTP/1.1 416") and f"bytes */{SIZE}" in head
    head, body = get("-r", "10-19", "-H", f"If-Range: {etag}")
    assert head.startswith("HTTP/1.1 206") and body == data[10:20]
    head, body = get("-r", "10-19", "-H", 'If-Range: "stale"')
    assert head.startswith("HTTP/1.1 200") and body == data
    head, _ = get("-H", f"If-None-Match: {etag}")
    assert head.startswith("HTTP/1.1 304")
    head, body = get("-I")
    assert head.startswith("HTTP/1.1 200") and f"content-length: {SIZE}" in head.lower()
    assert len(body) < 1000  # curl -I prints the headers; no payload follows them
