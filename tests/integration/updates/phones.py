"""A scripted phone: check-in bodies and reading the answer (with defusedxml, not our parser)."""

from __future__ import annotations

import httpx
from defusedxml import ElementTree

TANJAY01 = "00-04-F2-95-31-A2"


def checkin_body(mac: str, version: str, *, model: str = "CX700", serial: str = "", user: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><Request>'
        f"<DeviceType>UCPhone</DeviceType><MACAddress>{mac}</MACAddress><SerialNumber>{serial}</SerialNumber>"
        f"<Vendor>Polycom</Vendor><Model>{model}</Model><Revision>A</Revision><Locale>ENU</Locale>"
        f"<UserID>{user}</UserID><Modules><Module><FileName>CPE.nbt</FileName><Version>{version}</Version>"
        "<Timestamp>2010-07-01T12:00:00</Timestamp></Module></Modules></Request>"
    ).encode()


def check_in(client: httpx.Client, url: str, mac: str, version: str, **kwargs: str) -> dict[str, str]:
    response = client.post(
        url, content=checkin_body(mac, version, **kwargs), headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return {child.tag: child.text or "" for child in root}


def offered(answer: dict[str, str]) -> str | None:
    return answer["Version"] if answer["NumOfFiles"] != "0" else None
