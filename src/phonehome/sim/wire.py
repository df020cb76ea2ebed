"""What a simulated phone says to ``ucdevice.upx`` and how it reads the answer, pure.

The request XML of a real Lync Phone Edition set has never been captured in public (research §1.2): only
its data items are known (device type, MAC, serial, vendor, model, revision, locale, and per installed
module its file name, version and timestamp). ``render_check_in`` writes one plausible shape; it lives
here alone so it can follow the server's parser when a capture turns up.

The response follows the CX700 deployment guide (``Response``, ``NumOfFiles``, ``FileName``, ``Version``,
``BaseURL`` …). ``parse_offer`` matches element local names case-insensitively and groups the per-file
elements in document order: a file starts at each ``FileName``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from phonehome.sim.identities import Identity

CHECK_IN_PATH = "/RequestHandler/ucdevice.upx"
CHECK_IN_PATH_EXTERNAL = "/RequestHandlerExt/ucdevice.upx"
IMAGE_FILE = "CPE.nbt"
_PROLOG = b'<?xml version="1.0" encoding="utf-8"?>\n'
_FILE_FIELDS = {
    "filename": "file_name",
    "signaturefilename": "signature_file_name",
    "descriptfile": "descript_file",
    "version": "version",
    "timestamp": "timestamp",
    "baseurl": "base_url",
    "externalbaseurl": "external_base_url",
}


class BadOffer(ValueError):
    """The check-in response cannot be read."""


@dataclass(frozen=True, slots=True)
class OfferedFile:
    file_name: str
    version: str = ""
    base_url: str = ""
    external_base_url: str = ""
    signature_file_name: str = ""
    descript_file: str = ""
    timestamp: str = ""

    def url(self, server: str, *, external: bool = False) -> str:
        """Where to GET the file: the (external) base URL, a directory, plus the file name."""
        base = (self.external_base_url if external else "") or self.base_url
        if not base:
            raise BadOffer(f"no BaseURL for {self.file_name}")
        return urljoin(urljoin(server, base.rstrip("/") + "/"), self.file_name)


@dataclass(frozen=True, slots=True)
class Offer:
    files: tuple[OfferedFile, ...]
    current_time: str = ""
    server_version: str = ""

    @property
    def version(self) -> str | None:
        """The version on offer (the image's), or None when the server has no update."""
        for offered in self.files:
            if offered.version:
                return offered.version
        return None


def render_check_in(phone: Identity, version: str, timestamp: str) -> bytes:
    root = ET.Element("Request")
    for tag, text in (
        ("DeviceType", "UCPhone"),
        ("MACAddress", phone.mac),
        ("SerialNumber", phone.serial),
        ("Vendor", phone.brand),
        ("Model", phone.model),
        ("Revision", phone.revision),
        ("Locale", phone.locale),
    ):
        ET.SubElement(root, tag).text = text
    modules = ET.SubElement(root, "RequestModules")
    module = ET.SubElement(modules, "Module")
    ET.SubElement(module, "FileName").text = IMAGE_FILE
    ET.SubElement(module, "Version").text = version
    ET.SubElement(module, "Timestamp").text = timestamp
    return _PROLOG + bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def parse_offer(body: bytes) -> Offer:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadOffer("a response with a DTD or entities is refused") from exc
    except (ET.ParseError, ValueError) as exc:
        raise BadOffer(f"malformed XML: {exc}") from exc
    declared: int | None = None
    top: dict[str, str] = {}
    files: list[dict[str, str]] = []
    for element in root.iter():
        if list(element):
            continue
        local, text = _local(element.tag), (element.text or "").strip()
        if local == "numoffiles":
            if not text.isdigit():
                raise BadOffer(f"NumOfFiles is not a number: {text!r}")
            declared = int(text)
        elif local in ("currenttime", "serverversion"):
            top[local] = text
        elif local == "filename":
            files.append({"file_name": text})
        elif local in _FILE_FIELDS:
            if not files:
                raise BadOffer(f"{element.tag} comes before any FileName")
            files[-1].setdefault(_FILE_FIELDS[local], text)
    offered = tuple(OfferedFile(**f) for f in files if f["file_name"])
    if declared is None:
        raise BadOffer("no NumOfFiles in the response")
    if declared != len(offered):
        raise BadOffer(f"NumOfFiles says {declared} but the response lists {len(offered)} files")
    return Offer(offered, top.get("currenttime", ""), top.get("serverversion", ""))
