"""The Lync Certificate Provisioning web service's root chain answer (pure SOAP codec).

Aries/Lync Phone Edition phones POST to ``/CertProv/CertProvisioningService.svc`` (the DHCP option
43 CertProvRelPath) to fetch the root chain before PIN sign-in. Only the response is known, from a
capture in the Lync 2013 seed::

    <GetRootCertChainsResponse ResponseClass="Success" xmlns="http://schemas.microsoft.com/OCS/AuthWebServices/">
      <RootCertChains><Chain>MIID…(base64 PKCS#7)</Chain></RootCertChains>
    </GetRootCertChainsResponse>

so the request is read leniently: SOAP 1.1 or 1.2, any namespace, the operation by its local name.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as SafeET
from lxml import etree  # building only; requests are parsed by defusedxml

AUTH_NS = "http://schemas.microsoft.com/OCS/AuthWebServices/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}

GET_ROOT_CERT_CHAINS = "GetRootCertChains"
MAX_REQUEST_BYTES = 64 * 1024


class CertProvRequestError(ValueError):
    """The request is not a SOAP envelope we can answer."""

    def __init__(self, reason: str, soap_ns: str = SOAP11) -> None:
        super().__init__(reason)
        self.soap_ns = soap_ns


@dataclass(frozen=True, slots=True)
class CertProvRequest:
    operation: str  # local name of the first element in the Body
    soap_ns: str


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def parse_request(body: bytes, soap_action: str = "") -> CertProvRequest:
    if len(body) > MAX_REQUEST_BYTES:
        raise CertProvRequestError("request too large")
    if not body.strip():
        # Some clients name the operation only in SOAPAction; an empty body cannot be answered.
        raise CertProvRequestError("empty request: expected a SOAP envelope")
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException family
        raise CertProvRequestError(f"malformed XML: {exc}") from exc
    ns, local = _local(root.tag)
    if local.lower() != "envelope":
        raise CertProvRequestError(f"expected a SOAP Envelope, got <{local}>")
    soap_ns = ns if ns in (SOAP11, SOAP12) else SOAP11
    bodies = [child for child in root if _local(child.tag)[1].lower() == "body"]
    if not bodies:
        raise CertProvRequestError("the SOAP envelope has no Body", soap_ns)
    operations = list(bodies[0])
    operation = _local(operations[0].tag)[1] if operations else soap_action.strip('"').rsplit("/", 1)[-1]
    if not operation:
        raise CertProvRequestError("the SOAP Body names no operation", soap_ns)
    # Request wrappers are sometimes named <Op>Request / <Op>Msg; answer them as the operation.
    for suffix in ("Request", "Msg"):
        if operation.endswith(suffix) and operation[: -len(suffix)] == GET_ROOT_CERT_CHAINS:
            operation = GET_ROOT_CERT_CHAINS
    return CertProvRequest(operation, soap_ns)


def _envelope(soap_ns: str, payload: Any) -> bytes:
    envelope = etree.Element(f"{{{soap_ns}}}Envelope", nsmap={"s": soap_ns})
    etree.SubElement(envelope, f"{{{soap_ns}}}Body").append(payload)
    return bytes(etree.tostring(envelope, encoding="utf-8", xml_declaration=True))


def render_root_chains(chains: Sequence[bytes], soap_ns: str = SOAP11) -> bytes:
    """``chains``: one DER PKCS#7 (certs-only) per trusted chain."""
    response = etree.Element(
        f"{{{AUTH_NS}}}GetRootCertChainsResponse", {"ResponseClass": "Success"}, nsmap={None: AUTH_NS}
    )
    holder = etree.SubElement(response, f"{{{AUTH_NS}}}RootCertChains")
    for der in chains:
        etree.SubElement(holder, f"{{{AUTH_NS}}}Chain").text = base64.b64encode(der).decode("ascii")
    return _envelope(soap_ns, response)


def render_fault(reason: str, soap_ns: str = SOAP11, *, client: bool = True) -> bytes:
    """A SOAP Fault naming what was wrong with the request."""
    fault = etree.Element(f"{{{soap_ns}}}Fault")
    if soap_ns == SOAP12:
        code = etree.SubElement(fault, f"{{{soap_ns}}}Code")
        etree.SubElement(code, f"{{{soap_ns}}}Value").text = "s:Sender" if client else "s:Receiver"
        text = etree.SubElement(etree.SubElement(fault, f"{{{soap_ns}}}Reason"), f"{{{soap_ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = reason
    else:
        etree.SubElement(fault, "faultcode").text = "s:Client" if client else "s:Server"
        etree.SubElement(fault, "faultstring").text = reason
    return _envelope(soap_ns, fault)


# -- the client side: the doctor asks as a phone would ----------------------------------------------------


class CertProvResponseError(ValueError):
    """The answer is not a GetRootCertChains response (a fault, HTML, malformed)."""


def render_request(soap_ns: str = SOAP11) -> bytes:
    """``<GetRootCertChains xmlns=AuthWebServices/>`` in a SOAP envelope: what :func:`parse_request` reads."""
    return _envelope(soap_ns, etree.Element(f"{{{AUTH_NS}}}{GET_ROOT_CERT_CHAINS}", nsmap={None: AUTH_NS}))


def parse_root_chains(body: bytes) -> list[bytes]:
    """The DER PKCS#7 chains of a GetRootCertChainsResponse; a SOAP Fault raises with its reason."""
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException family
        raise CertProvResponseError(f"not well-formed XML: {exc}") from exc
    if _local(root.tag)[1].lower() != "envelope":
        raise CertProvResponseError(f"expected a SOAP Envelope, got <{_local(root.tag)[1]}>")
    payload = [element for body_ in root if _local(body_.tag)[1].lower() == "body" for element in body_]
    if not payload:
        raise CertProvResponseError("the SOAP envelope has no Body content")
    answer = payload[0]
    if _local(answer.tag)[1] == "Fault":
        reason = " ".join(t.strip() for t in answer.itertext() if t.strip())
        raise CertProvResponseError(f"SOAP Fault: {reason}")
    if _local(answer.tag) != (AUTH_NS, "GetRootCertChainsResponse"):
        raise CertProvResponseError(f"expected GetRootCertChainsResponse, got <{_local(answer.tag)[1]}>")
    if answer.get("ResponseClass", "Success") != "Success":
        raise CertProvResponseError(f"ResponseClass={answer.get('ResponseClass')}")
    chains = []
    for element in answer.iter(f"{{{AUTH_NS}}}Chain"):
        try:
            chains.append(base64.b64decode((element.text or "").strip(), validate=True))
        except ValueError as exc:
            raise CertProvResponseError(f"a Chain is not base64: {exc}") from exc
    if not chains:
        raise CertProvResponseError("the response holds no root chain")
    return chains
