"""The ``ucdevice.upx`` wire format: the check-in request phones POST and the response they get.

The exact request XML is not public (research §1.2): only the data items are known. So the parser is
lenient: element and attribute local names, compared case-insensitively, with synonyms (Vendor,
Manufacturer, Brand; MAC, MACAddress …), from XML or a form-encoded body. DTDs and entities are
refused outright. The response comes from a data-driven XML template whose element names follow the
CX700 deployment guide (Response, NumOfFiles, CurrentTime, ServerVersion, ServiceVersion, FileName,
SignatureFileName, DescriptFile, Version, Timestamp, BaseURL, ExternalBaseURL), so a capture from a
real phone can correct them without code.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import threading
import xml.etree.ElementTree as ET  # renders our own template and the client side's request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree

_FIELDS: dict[str, tuple[str, ...]] = {
    "device_type": ("devicetype", "device_type", "type", "devtype", "class"),
    "mac": ("mac", "macaddress", "mac_address", "macaddr", "hardwareaddress"),
    "serial": ("serial", "serialnumber", "serial_number", "serialno", "sn"),
    "vendor": ("vendor", "manufacturer", "brand", "make", "oem"),
    "model": ("model", "modelname", "hardwaremodel", "product"),
    "revision": ("revision", "rev", "hardwarerevision", "hwrevision", "hwrev"),
    "locale": ("locale", "language", "lang", "culture"),
    "user_id": ("userid", "user_id", "user", "username", "sipuri", "lastuser", "account"),
    "version": ("version", "currentversion", "firmwareversion", "softwareversion", "fileversion"),
}
_MODULE_FIELDS: dict[str, tuple[str, ...]] = {
    "filename": ("filename", "file_name", "file", "name"),
    "version": _FIELDS["version"],
    "timestamp": ("timestamp", "time", "date", "datetime"),
}
_MODULE_ELEMENTS = {"module", "requestmodule", "file", "update", "image", "component"}
_SYNONYM = {syn: name for name, syns in _FIELDS.items() for syn in syns}
_MODULE_SYNONYM = {syn: name for name, syns in _MODULE_FIELDS.items() for syn in syns}
_MODULE_ONLY = _MODULE_ELEMENTS - set(_SYNONYM)  # an element named like a device field is that field
_MAX_VALUE = 256
_parsers = threading.local()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedCheckIn(ValueError):
    """The check-in body cannot be read."""


@dataclass(frozen=True, slots=True)
class Module:
    filename: str = ""
    version: str = ""
    timestamp: str = ""


@dataclass(frozen=True, slots=True)
class CheckIn:
    device_type: str = ""
    mac: str = ""
    serial: str = ""
    vendor: str = ""
    model: str = ""
    revision: str = ""
    locale: str = ""
    user_id: str = ""
    modules: tuple[Module, ...] = ()

    @property
    def current_version(self) -> str | None:
        """The firmware the device runs: the version of its (first) installed module."""
        for module in self.modules:
            if module.version:
                return module.version
        return None


@functools.lru_cache(maxsize=1024)
def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _clean(value: str | None) -> str:
    # Control characters (a form body's %00 above all) would make PostgreSQL refuse the inventory
    # batch this check-in shares with others, and have no place in an audit line either.
    return _CONTROL.sub(" ", value or "").strip()[:_MAX_VALUE]


def _module(values: Mapping[str, str]) -> Module:
    return Module(**{k: _clean(v) for k, v in values.items() if k in _MODULE_FIELDS})


def _from_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    found: dict[str, str] = {}
    module: dict[str, str] = {}
    for key, value in pairs:
        local, text = _local(key), _clean(value)
        if not text:
            continue
        if local in _SYNONYM:
            found.setdefault(_SYNONYM[local], text)
        if local in _MODULE_SYNONYM:
            module.setdefault(_MODULE_SYNONYM[local], text)
    return found, module


def _found(found: dict[str, str], local: str, value: str | None) -> None:
    name, text = _SYNONYM.get(local), _clean(value)
    if name is not None and text:
        found.setdefault(name, text)


def _build(found: Mapping[str, str], modules: list[Module]) -> CheckIn:
    version = found.get("version", "")
    if not modules and version:
        modules = [Module(version=version)]
    kwargs = {k: v for k, v in found.items() if k != "version"}
    return CheckIn(**kwargs, modules=tuple(modules))


def parse_form(body: bytes) -> CheckIn:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedCheckIn(f"form body cannot be read: {exc}") from exc
    found, module = _from_pairs(pairs)
    return _build(found, [_module(module)] if module.get("version") else [])


def _hardened_parser() -> etree.XMLParser:
    """lxml, told never to fetch, expand or load anything; DOCTYPEs are refused after parsing."""
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:  # lxml parsers must not be shared between threads
        parser = _parsers.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser


def parse_xml(body: bytes) -> CheckIn:
    # lxml rather than defusedxml here: a boot storm parses thousands of these a second, and the
    # pure-Python parser defusedxml hooks into costs ten times as much as lxml's.
    try:
        root = etree.fromstring(body, _hardened_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MalformedCheckIn(f"malformed XML: {' '.join(str(exc).split())}") from exc
    if root.getroottree().docinfo.doctype:
        raise MalformedCheckIn("XML with a DTD or entities is refused")
    found: dict[str, str] = {}
    modules: list[Module] = []

    def walk(element: etree._Element) -> None:
        # Comments and PIs are dropped by the parser and entities refused, so children are elements.
        local = _local(element.tag)
        if local in _MODULE_ONLY:
            pairs = element.items() + [(c.tag, c.text or "") for c in element if not len(c)]
            _, values = _from_pairs(pairs)
            if values:
                modules.append(_module(values))
                return
        for key, value in element.items():
            _found(found, _local(key), value)
        if not len(element):
            _found(found, local, element.text)
        for child in element:
            walk(child)

    walk(root)
    return _build(found, modules)


def parse_request(body: bytes, content_type: str = "") -> CheckIn:
    """Decode a check-in body: XML when it looks like XML (whatever the content type says), else a form."""
    stripped = body.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if not stripped:
        raise MalformedCheckIn("empty check-in body")
    if stripped.startswith(b"<") or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return parse_xml(body)
    if content_type.lower().startswith(("text/xml", "application/xml")):
        raise MalformedCheckIn("malformed XML: the body is not XML")
    return parse_form(body)


# -- the response -------------------------------------------------------------------------------------

DEFAULT_TEMPLATE = """\
<Response>
  <NumOfFiles>{num_files}</NumOfFiles>
  <CurrentTime>{current_time}</CurrentTime>
  <ServerVersion>{server_version}</ServerVersion>
  <ServiceVersion>{service_version}</ServiceVersion>
  <Repeat over="files">
    <FileName>{file_name}</FileName>
    <SignatureFileName>{signature_file_name}</SignatureFileName>
    <DescriptFile>{descript_file}</DescriptFile>
    <Version>{version}</Version>
    <Timestamp>{timestamp}</Timestamp>
    <BaseURL>{base_url}</BaseURL>
    <ExternalBaseURL>{external_base_url}</ExternalBaseURL>
  </Repeat>
</Response>
"""
_PROLOG = b'<?xml version="1.0" encoding="utf-8"?>\n'


@dataclass(frozen=True, slots=True)
class OfferedFile:
    file_name: str
    signature_file_name: str | None
    descript_file: str | None
    version: str
    timestamp: dt.datetime
    base_url: str
    external_base_url: str


@dataclass(frozen=True, slots=True)
class Reply:
    files: tuple[OfferedFile, ...]
    current_time: dt.datetime
    server_version: str
    service_version: str
    extra: dict[str, str] = field(default_factory=dict)


def format_time(when: dt.datetime) -> str:
    """``2009-06-04T06:22:03``, UTC, as the CX700 guide shows it."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def check_template(template: str) -> None:
    """A template must parse and have a root; raises ValueError naming the problem."""
    try:
        fromstring(template.encode(), forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ValueError(f"response template is not XML: {exc}") from exc


def _fill(element: ET.Element, values: Mapping[str, str | None], files: list[dict[str, str | None]]) -> None:
    """Substitute ``{name}`` texts; an element whose value is None is left out; Repeat copies per file."""
    kept: list[ET.Element] = []
    for child in list(element):
        if _local(child.tag) == "repeat":
            for file_values in files if child.get("over") == "files" else []:
                for part in child:
                    clone = copy.deepcopy(part)
                    if _fill_one(clone, {**values, **file_values}, []):
                        kept.append(clone)
        elif _fill_one(child, values, files):
            kept.append(child)
    element[:] = kept


def _fill_one(
    element: ET.Element, values: Mapping[str, str | None], files: list[dict[str, str | None]]
) -> bool:
    text = (element.text or "").strip()
    if text.startswith("{") and text.endswith("}") and not list(element):
        value = values.get(text[1:-1])
        if value is None:
            return False
        element.text = value
    _fill(element, values, files)
    return True


def render_response(reply: Reply, template: str = DEFAULT_TEMPLATE) -> bytes:
    root = fromstring(template.encode(), forbid_dtd=True)
    values: dict[str, str | None] = {
        "num_files": str(len(reply.files)),
        "current_time": format_time(reply.current_time),
        "server_version": reply.server_version,
        "service_version": reply.service_version,
        **reply.extra,
    }
    files: list[dict[str, str | None]] = [
        {
            "file_name": f.file_name,
            "signature_file_name": f.signature_file_name,
            "descript_file": f.descript_file,
            "version": f.version,
            "timestamp": format_time(f.timestamp),
            "base_url": f.base_url,
            "external_base_url": f.external_base_url,
        }
        for f in reply.files
    ]
    _fill(root, values, files)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return _PROLOG + body + b"\n"


# -- the client side: what a phone (or the doctor) sends and reads back ---------------------------------


class MalformedResponse(ValueError):
    """The answer is not a ucdevice.upx status document (HTML, empty, malformed, inconsistent)."""


def render_request(checkin: CheckIn) -> bytes:
    """A check-in as the test phones and the doctor send it (the element names the parser reads first)."""
    root = ET.Element("Request")
    for tag, value in (
        ("DeviceType", checkin.device_type),
        ("MACAddress", checkin.mac),
        ("SerialNumber", checkin.serial),
        ("Vendor", checkin.vendor),
        ("Model", checkin.model),
        ("Revision", checkin.revision),
        ("Locale", checkin.locale),
        ("UserID", checkin.user_id),
    ):
        ET.SubElement(root, tag).text = value
    modules = ET.SubElement(root, "Modules")
    for module in checkin.modules:
        element = ET.SubElement(modules, "Module")
        for tag, value in (
            ("FileName", module.filename),
            ("Version", module.version),
            ("Timestamp", module.timestamp),
        ):
            ET.SubElement(element, tag).text = value
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return _PROLOG + body


def _time(text: str, what: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponse(f"{what} is not a time: {text[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def parse_response(body: bytes, content_type: str = "") -> Reply:
    """Read a ucdevice.upx answer (ours or a Lync server's): element names by local name, any case; each
    ``FileName`` starts an offered file; ``NumOfFiles`` must match the files listed."""
    if "html" in content_type.lower():
        raise MalformedResponse(f"Content-Type {content_type!r} is HTML, not the status XML")
    if not body.strip():
        raise MalformedResponse("empty body")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedResponse("XML with a DTD or entities is refused") from exc
    except (ET.ParseError, ValueError) as exc:
        raise MalformedResponse(f"not well-formed XML: {exc}") from exc
    if _local(root.tag) != "response":
        raise MalformedResponse(f"the document is <{_local(root.tag)}>, not <Response>")
    top: dict[str, str] = {}
    files: list[dict[str, str]] = []
    for element in root.iter():
        local, text = _local(element.tag), (element.text or "").strip()
        if local == "filename":
            files.append({})
        target = files[-1] if files and local in _FILE_TAGS else top
        target.setdefault(local, text)
    try:
        count = int(top.get("numoffiles", ""))
    except ValueError:
        raise MalformedResponse(f"NumOfFiles is not a number: {top.get('numoffiles')!r}") from None
    if count != len(files):
        raise MalformedResponse(f"NumOfFiles says {count} but the answer lists {len(files)} file(s)")
    now = _time(top["currenttime"], "CurrentTime") if top.get("currenttime") else dt.datetime.now(dt.UTC)
    offered = tuple(
        OfferedFile(
            file_name=f["filename"],
            signature_file_name=f.get("signaturefilename") or None,
            descript_file=f.get("descriptfile") or None,
            version=f.get("version", ""),
            timestamp=_time(f["timestamp"], "Timestamp") if f.get("timestamp") else now,
            base_url=f.get("baseurl", ""),
            external_base_url=f.get("externalbaseurl", ""),
        )
        for f in files
    )
    return Reply(offered, now, top.get("serverversion", ""), top.get("serviceversion", ""))


_FILE_TAGS = {
    "filename",
    "signaturefilename",
    "descriptfile",
    "version",
    "timestamp",
    "baseurl",
    "externalbaseurl",
}
