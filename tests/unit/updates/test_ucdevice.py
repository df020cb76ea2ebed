from __future__ import annotations

import datetime as dt

import pytest
from defusedxml import ElementTree as ET

from phonehome.updates.ucdevice import (
    DEFAULT_TEMPLATE,
    CheckIn,
    MalformedCheckIn,
    Module,
    OfferedFile,
    Reply,
    parse_request,
    render_response,
)

NOW = dt.datetime(2009, 6, 4, 6, 22, 3, tzinfo=dt.UTC)


def test_elements_any_case_and_synonyms() -> None:
    body = b"""<?xml version="1.0"?>
    <UpdateRequest xmlns="urn:example">
      <deviceType>UCPhone</deviceType><MacAddress>00-04-F2-95-31-A2</MacAddress><SerialNumber>SN1</SerialNumber>
      <Manufacturer>Polycom</Manufacturer><MODEL>CX700</MODEL><Revision>A</Revision><Locale>ENU</Locale>
      <UserID>contoso\\ocstest1</UserID>
      <Modules><Module><FileName>CPE.nbt</FileName><Version>1.0.199.123</Version><Timestamp>2008-01-01</Timestamp></Module></Modules>
    </UpdateRequest>"""
    checkin = parse_request(body, "text/xml")
    assert checkin == CheckIn(
        "UCPhone",
        "00-04-F2-95-31-A2",
        "SN1",
        "Polycom",
        "CX700",
        "A",
        "ENU",
        "contoso\\ocstest1",
        (Module("CPE.nbt", "1.0.199.123", "2008-01-01"),),
    )
    assert checkin.current_version == "1.0.199.123"


def test_attributes_and_a_bare_version() -> None:
    body = b'<Request Brand="Polycom" Model="CX700" MAC="0004f29531a2"><FirmwareVersion>1.0.522.101</FirmwareVersion></Request>'
    checkin = parse_request(body)
    assert (checkin.vendor, checkin.model, checkin.mac, checkin.current_version) == (
        "Polycom",
        "CX700",
        "0004f29531a2",
        "1.0.522.101",
    )


def test_module_as_attributes() -> None:
    checkin = parse_request(b'<r><mac>1</mac><Update FileName="CPE.nbt" Version="3.5.6907.35"/></r>')
    assert checkin.modules == (Module("CPE.nbt", "3.5.6907.35", ""),)


def test_form_encoded() -> None:
    body = b"Vendor=Polycom&Model=CX700&MACAddress=00%3A04%3Af2%3A95%3A31%3Aa2&Version=1.0.522.101&FileName=CPE.nbt"
    checkin = parse_request(body, "application/x-www-form-urlencoded")
    assert checkin.mac == "00:04:f2:95:31:a2"
    assert checkin.modules == (Module("CPE.nbt", "1.0.522.101", ""),)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<Request>", "malformed XML"),
        (b'<!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>', "DTD or entities"),
        (b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd"><r/>', "DTD or entities"),
        (
            b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><r>&lol2;</r>',
            "DTD or entities",
        ),
        (b"<r>\xff\xfe</r>", "malformed XML"),
    ],
)
def test_bad_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedCheckIn, match=reason):
        parse_request(body, "text/xml")


def test_no_update_response_is_the_guides() -> None:
    xml = render_response(Reply((), NOW, "3.5.6907.0", "3.5.6907.0"))
    root = ET.fromstring(xml)
    assert [(e.tag, e.text) for e in root] == [
        ("NumOfFiles", "0"),
        ("CurrentTime", "2009-06-04T06:22:03"),
        ("ServerVersion", "3.5.6907.0"),
        ("ServiceVersion", "3.5.6907.0"),
    ]


def test_update_response_names_files_and_directory_urls() -> None:
    base = "/DeviceUpdateFiles_Int/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE"
    offered = OfferedFile(
        "CPE.nbt",
        "CPE.cat",
        None,
        "1.0.522.101",
        NOW,
        "http://pool01.contoso.com" + base,
        "https://ocsrp.fabrikam.com" + base.replace("_Int", "_Ext"),
    )
    root = ET.fromstring(render_response(Reply((offered,), NOW, "3.5.6907.0", "3.5.6907.0")))
    values = {e.tag: e.text for e in root}
    assert values["NumOfFiles"] == "1"
    assert values["FileName"] == "CPE.nbt" and values["SignatureFileName"] == "CPE.cat"
    assert "DescriptFile" not in values  # no description file: the element is left out
    assert values["BaseURL"] == "http://pool01.contoso.com" + base
    assert str(values["ExternalBaseURL"]).endswith(
        "/DeviceUpdateFiles_Ext/UCPhone/Polycom/CX700/A/ENU/1.0.522.101/CPE"
    )


def test_template_is_data() -> None:
    template = DEFAULT_TEMPLATE.replace('<Repeat over="files">', '<Repeat over="files"><File>').replace(
        "</Repeat>", "</File></Repeat>"
    )
    offered = OfferedFile("a.nbt", "a.cat", "a.xml", "1.0", NOW, "http://x/CPE", "https://x/CPE")
    root = ET.fromstring(render_response(Reply((offered, offered), NOW, "1", "1"), template))
    assert [f.findtext("FileName") for f in root.findall("File")] == ["a.nbt", "a.nbt"]
    assert root.findtext("NumOfFiles") == "2"
    # Values are text, never markup.
    evil = OfferedFile("<x>&", None, None, "1.0", NOW, "http://x/]]>", "https://x")
    assert ET.fromstring(render_response(Reply((evil,), NOW, "1", "1"))).findtext("FileName") == "<x>&"
