from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring

from phonehome.sim.identities import fleet
from phonehome.sim.wire import BadOffer, OfferedFile, parse_offer, render_check_in

# The "no update" response as the Polycom CX700 deployment guide prints it (p. 31).
NO_UPDATE = b"""<?xml version="1.0" ?>
<Response>
<NumOfFiles>0</NumOfFiles>
<CurrentTime>2009-06-04T06:22:03</CurrentTime>
<ServerVersion>3.5.6907.0</ServerVersion>
<ServiceVersion>3.5.6907.0</ServiceVersion>
</Response>
"""

ONE_FILE = b"""<?xml version="1.0" encoding="utf-8"?>
<Response>
  <NumOfFiles>1</NumOfFiles>
  <CurrentTime>2026-11-25T08:00:00</CurrentTime>
  <ServerVersion>1.0</ServerVersion>
  <ServiceVersion>1.0</ServiceVersion>
  <FileName>CPE.nbt</FileName>
  <SignatureFileName>CPE.cat</SignatureFileName>
  <DescriptFile>CPE_desc.xml</DescriptFile>
  <Version>1.0.522.101</Version>
  <Timestamp>2026-11-01T00:00:00</Timestamp>
  <BaseURL>http://pool01.contoso.com/RequestHandler/Files/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE</BaseURL>
  <ExternalBaseURL>https://ocsrp.fabrikam.com/RequestHandlerExt/Files/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE</ExternalBaseURL>
</Response>
"""


def test_check_in_carries_every_data_item() -> None:
    phone = fleet("cx700", 1, seed=3)[0]
    root = fromstring(render_check_in(phone, "1.0.199.123", "2026-11-25T08:00:00"))
    assert root.tag == "Request"
    assert root.findtext("DeviceType") == "UCPhone"
    assert root.findtext("MACAddress") == phone.mac
    assert root.findtext("SerialNumber") == phone.serial
    assert (root.findtext("Vendor"), root.findtext("Model")) == ("Polycom", "CX700")
    assert (root.findtext("Revision"), root.findtext("Locale")) == ("A", "ENU")
    module = root.find("RequestModules/Module")
    assert module is not None
    assert module.findtext("FileName") == "CPE.nbt"
    assert module.findtext("Version") == "1.0.199.123"
    assert module.findtext("Timestamp") == "2026-11-25T08:00:00"


def test_no_update() -> None:
    offer = parse_offer(NO_UPDATE)
    assert offer.files == () and offer.version is None
    assert (offer.current_time, offer.server_version) == ("2009-06-04T06:22:03", "3.5.6907.0")


def test_one_file() -> None:
    offer = parse_offer(ONE_FILE)
    assert offer.version == "1.0.522.101"
    (file,) = offer.files
    assert (file.file_name, file.signature_file_name, file.descript_file) == (
        "CPE.nbt",
        "CPE.cat",
        "CPE_desc.xml",
    )
    assert file.url("http://x") == (
        "http://pool01.contoso.com/RequestHandler/Files/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE/CPE.nbt"
    )
    assert file.url("https://x", external=True).startswith("https://ocsrp.fabrikam.com/RequestHandlerExt/")


def test_names_are_matched_without_case_or_namespace() -> None:
    body = (
        b'<r:response xmlns:r="urn:x"><r:numoffiles>2</r:numoffiles>'
        b"<r:file><r:FILENAME>a.nbt</r:FILENAME><r:version>2</r:version><r:baseurl>/f/</r:baseurl></r:file>"
        b"<r:file><r:filename>b.nbt</r:filename><r:baseurl>/g</r:baseurl></r:file></r:response>"
    )
    offer = parse_offer(body)
    assert [f.file_name for f in offer.files] == ["a.nbt", "b.nbt"]
    assert offer.version == "2"
    assert [f.url("http://h:1/x") for f in offer.files] == ["http://h:1/f/a.nbt", "http://h:1/g/b.nbt"]


def test_a_relative_base_url_joins_the_server() -> None:
    assert OfferedFile("CPE.nbt", base_url="/RequestHandler/Files/v").url("http://10.0.0.1:8080") == (
        "http://10.0.0.1:8080/RequestHandler/Files/v/CPE.nbt"
    )


def test_a_file_without_base_url_cannot_be_fetched() -> None:
    with pytest.raises(BadOffer, match="no BaseURL"):
        OfferedFile("CPE.nbt").url("http://h")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "malformed XML"),
        (b"<Response><NumOfFiles>0</NumOfFiles>", "malformed XML"),
        (b"<Response/>", "no NumOfFiles"),
        (b"<Response><NumOfFiles>x</NumOfFiles></Response>", "not a number"),
        (b"<Response><NumOfFiles>-1</NumOfFiles></Response>", "not a number"),
        (b"<Response><NumOfFiles>1</NumOfFiles></Response>", "says 1 but the response lists 0"),
        (
            b"<Response><NumOfFiles>0</NumOfFiles><FileName>a</FileName></Response>",
            "says 0 but the response lists 1",
        ),
        (b"<Response><Version>1</Version><NumOfFiles>0</NumOfFiles></Response>", "before any FileName"),
        (b'<!DOCTYPE r [<!ENTITY a "b">]><Response>&a;</Response>', "DTD or entities"),
    ],
)
def test_bad_responses(body: bytes, reason: str) -> None:
    with pytest.raises(BadOffer, match=reason):
        parse_offer(body)
