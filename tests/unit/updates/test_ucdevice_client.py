"""The client side of ucdevice.upx (what the doctor sends and reads): a Lync answer as the CX700 guide
shows it, our own rendered answers, and bodies that are not the status XML."""

from __future__ import annotations

import datetime as dt

import pytest

from phonehome.updates import ucdevice

# CX700 guide p.31, verbatim apart from the browser's "- " fold marker.
NO_UPDATE = b"""<?xml version="1.0" ?>
<Response>
<NumOfFiles>0</NumOfFiles>
<CurrentTime>2009-06-04T06:22:03</CurrentTime>
<ServerVersion>3.5.6907.0</ServerVersion>
<ServiceVersion>3.5.6907.0</ServiceVersion>
</Response>"""


def test_lync_answer_without_update() -> None:
    reply = ucdevice.parse_response(NO_UPDATE, "text/xml")
    assert reply.files == ()
    assert reply.current_time == dt.datetime(2009, 6, 4, 6, 22, 3, tzinfo=dt.UTC)
    assert (reply.server_version, reply.service_version) == ("3.5.6907.0", "3.5.6907.0")


def test_answer_offering_an_image_any_case_and_namespace() -> None:
    body = (
        b'<response xmlns="urn:x"><numoffiles>1</numoffiles><FileName>CPE.nbt</FileName><VERSION>1.0.522.101'
        b"</VERSION><BaseURL>http://pool01.contoso.com/DeviceUpdateFiles_Int/UCPhone/Polycom/CX700/A/ENU/"
        b"1.0.522.101/CPE/</BaseURL></response>"
    )
    [offered] = ucdevice.parse_response(body).files
    assert (offered.file_name, offered.version) == ("CPE.nbt", "1.0.522.101")
    assert offered.base_url.endswith("/1.0.522.101/CPE/") and offered.signature_file_name is None


def test_our_rendered_answers_read_back() -> None:
    when = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    files = tuple(
        ucdevice.OfferedFile(
            f"CPE{i}.nbt", "CPE.cat", "CPE_desc.xml", "4.0.7577.4455", when, "http://a/b", "https://c/d"
        )
        for i in range(2)
    )
    for reply in (ucdevice.Reply((), when, "3.5", "3.5"), ucdevice.Reply(files, when, "3.5", "3.5")):
        assert ucdevice.parse_response(ucdevice.render_response(reply)) == reply


def test_rendered_request_reads_back() -> None:
    checkin = ucdevice.CheckIn(
        device_type="UCPhone",
        serial="phonehome-doctor",
        vendor="Polycom",
        model="CX600",
        revision="A",
        locale="ENU",
        modules=(ucdevice.Module("CPE.nbt", "4.0.7577.4363", ""),),
    )
    assert ucdevice.parse_request(ucdevice.render_request(checkin), "text/xml") == checkin


@pytest.mark.parametrize(
    ("body", "ctype", "reason"),
    [
        (b"<html><body>IIS</body></html>", "text/xml", "<html>, not <Response>"),
        (NO_UPDATE, "text/html; charset=utf-8", "HTML"),
        (b"", "text/xml", "empty"),
        (b"<Response><NumOfFiles>0</Response>", "", "well-formed"),
        (b"<Response><NumOfFiles>many</NumOfFiles></Response>", "", "NumOfFiles"),
        (b"<Response><NumOfFiles>2</NumOfFiles><FileName>a</FileName></Response>", "", "lists 1 file"),
        (b"<Response><NumOfFiles>0</NumOfFiles><CurrentTime>noon</CurrentTime></Response>", "", "not a time"),
        (b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', "", "DTD"),
    ],
)
def test_not_status_xml(body: bytes, ctype: str, reason: str) -> None:
    with pytest.raises(ucdevice.MalformedResponse, match=reason):
        ucdevice.parse_response(body, ctype)
