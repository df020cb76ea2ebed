"""Device Updater, device and dashboard pages on a real server, driven like a browser without JavaScript.

A scripted CX700 checks in over HTTP (tests/integration/updates/phones.py); the pages must show what
the REST API says about rules and devices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.updates.packages import CX700, build_cab, image_files
from tests.integration.updates.phones import TANJAY01, check_in, offered
from tests.support.admin_web import csrf, page, submit, text
from tests.support.server import PhonehomeServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    data = tmp_path_factory.mktemp("updater") / "data"
    srv = PhonehomeServer(data).start()
    try:
        yield srv
    finally:
        srv.kill()


def upload(web: httpx.Client, cab: bytes, name: str = "UCUpdates.cab") -> httpx.Response:
    token = csrf(web, "/updates/firmware/")
    return web.post(
        "/updates/firmware/",
        data={"csrf_token": token},
        files={"package": (name, cab, "application/vnd.ms-cab-compressed")},
    )


def rule_id(server: PhonehomeServer) -> str:
    with server.admin_client(server.admin_token("restapi")) as api:
        rules = api.get("/api/v1/updates/rules").json()
    return str(next(r["id"] for r in rules if r["name"] == CX700))


def test_upload_approve_check_in_and_see_it(server: PhonehomeServer, web: httpx.Client) -> None:
    imported = upload(web, build_cab({**image_files("1.0.522.101")}))
    assert imported.status_code == 200, imported.text
    result = page_text = text(imported.text)
    assert f"{CX700}/1.0.522.101" in result and "set Pending: approve it to roll it out" in page_text

    again = upload(web, build_cab({**image_files("1.0.522.101")}))
    assert "nothing changed (already imported)" in text(again.text)
    broken = upload(web, b"MSCF not really a cabinet", "broken.cab")
    assert broken.status_code == 400 and "broken.cab" in text(broken.text)

    rid = rule_id(server)
    rules = page(web, "/updates/")
    assert "pending" in text(rules) and "1.0.522.101" in text(rules)

    # A phone on the old firmware checks in before the approval: nothing offered.
    with httpx.Client(timeout=30) as phone:
        url = f"{server.http}/RequestHandler/ucdevice.upx"
        assert offered(check_in(phone, url, TANJAY01, "1.0.199.123")) is None

        confirm = page(web, f"/updates/rules/{rid}/approve")
        assert "Every phone of UCPhone/Polycom/CX700/A/ENU older than 1.0.522.101 is offered" in text(confirm)
        assert "(1 of 1 known phone of" in text(confirm)
        approved = submit(web, f"/updates/rules/{rid}/approve", {}, from_page=f"/updates/rules/{rid}/approve")
        assert approved.status_code == 303
        rule = page(web, approved.headers["location"])
        assert "approve update_rule UCPhone/Polycom/CX700/A/ENU" in text(rule)  # the change log on the object

        dashboard = text(page(web, "/"))
        assert "1 phone run an older version than their rule serves" in dashboard
        assert "CX700 1.0.199.123" in page(web, "/").xpath(
            "string(//svg[@aria-label='phones per model and version'])"
        )

        assert offered(check_in(phone, url, TANJAY01, "1.0.199.123")) == "1.0.522.101"
        check_in(phone, url, TANJAY01, "1.0.522.101")  # installed

    devices = page(web, "/devices/?model=CX700")
    assert "1.0.522.101" in text(devices) and "behind" not in text(devices.xpath("//tbody")[0])
    assert "1 device" in text(devices)
    assert "No device matches" in text(page(web, "/devices/?behind=1"))
    exported = web.get("/devices/?model=CX700&export=csv")
    assert exported.headers["content-disposition"] == 'attachment; filename="phonehome-devices.csv"'
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["mac"], r["version"]) for r in rows] == [(TANJAY01, "1.0.522.101")]
    with server.admin_client(server.admin_token("restapi")) as api:  # the same filter over REST
        listed = api.get("/api/v1/devices", params={"model": "CX700"}).json()
        assert [(d["mac"], d["version"], d["behind"]) for d in listed] == [(TANJAY01, "1.0.522.101", False)]
        assert api.get("/api/v1/devices", params={"model": "CX700", "format": "csv"}).text == exported.text
        assert api.get("/api/v1/devices", params={"unseen_hours": "x"}).status_code == 400

    link = devices.xpath("string(//tbody/tr[1]/td[1]/a/@href)")
    checkins = page(web, link)
    reported = checkins.xpath("//table[@class='list']/tbody/tr/td[3]/text()")
    assert reported[:3] == ["CPE.nbt 1.0.522.101", "CPE.nbt 1.0.199.123", "CPE.nbt 1.0.199.123"]
    offers = page(web, link + "offers/")
    assert [str(v) for v in offers.xpath("//table[@class='list']/tbody/tr/td[4]/text()")] == ["1.0.522.101"]
    assert "No backup files for this device" in text(page(web, link + "backups/"))
    assert "No certificate issued to this device" in text(page(web, link + "certificates/"))

    checkins_chart = page(web, "/").xpath("string(//svg[@aria-label='check-ins per hour'])")
    assert checkins_chart  # rendered in the page itself, no external fetch
    assert "3 check-ins in 48 hours" in text(page(web, "/"))


def test_rule_actions_that_cannot_happen_are_refused(server: PhonehomeServer, web: httpx.Client) -> None:
    upload(web, build_cab(image_files("3.5.6907.35")))
    rid = rule_id(server)
    reset_text = text(page(web, f"/updates/rules/{rid}/reset"))
    assert "Pending 3.5.6907.35 is dropped" in reset_text
    submit(web, f"/updates/rules/{rid}/reset", {}, from_page="/updates/")
    refused = page(web, f"/updates/rules/{rid}/reset", status=409)
    assert "nothing to reset: the rule has no pending version" in text(refused)
    posted = submit(web, f"/updates/rules/{rid}/reset", {}, from_page="/updates/")
    assert posted.status_code == 409
    assert page(web, f"/updates/rules/{rid}/teleport", status=400) is not None


def test_test_devices_add_and_remove(web: httpx.Client) -> None:
    added = submit(
        web,
        "/updates/test-devices/",
        {"kind": "mac", "identifier": "00-04-F2-00-00-01", "site": "", "name": "lab"},
    )
    assert added.status_code == 303
    listed = page(web, "/updates/test-devices/")
    assert "lab" in text(listed) and "create test_device global/00-04-F2-00-00-01" in text(listed)
    bad = submit(web, "/updates/test-devices/", {"kind": "mac", "identifier": "nope", "site": ""})
    assert bad.status_code == 400
    removed = submit(
        web, "/updates/test-devices/remove", {"kind": "mac", "identifier": "00-04-F2-00-00-01", "site": ""}
    )
    assert removed.status_code == 303
    assert "No test devices" in text(page(web, "/updates/test-devices/"))


def test_bad_filter_is_one_line(web: httpx.Client) -> None:
    refused = page(web, "/devices/?unseen_hours=soon", status=400)
    assert "unseen_hours: give a whole number of hours" in text(refused)


FORMS = [
    ("/updates/firmware/", {}),
    ("/updates/rules/x/approve", {}),
    ("/updates/rules/x/remove", {}),
    ("/updates/test-devices/", {"kind": "mac", "identifier": "00-04-F2-00-00-09"}),
    ("/updates/test-devices/remove", {"kind": "mac", "identifier": "00-04-F2-00-00-09"}),
]
PAGES = [
    "/updates/",
    "/updates/firmware/",
    "/updates/test-devices/",
    "/devices/",
    "/devices/1/",
    "/devices/1/offers/",
]


@pytest.mark.parametrize(("url", "data"), FORMS, ids=[u for u, _ in FORMS])
def test_form_without_csrf_token_is_refused(web: httpx.Client, url: str, data: dict[str, str]) -> None:
    before = web.get("/changelog/").text
    assert web.post(url, data=data).status_code == 403
    assert web.get("/changelog/").text == before


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_a_session(server: PhonehomeServer, url: str) -> None:
    with httpx.Client(base_url=server.admin, timeout=30, follow_redirects=False) as anonymous:
        assert anonymous.get(url).status_code == 303
