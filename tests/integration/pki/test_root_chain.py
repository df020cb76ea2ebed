"""The root chain downloads: /certsrv (AD CS style) and the Lync CertProv SOAP service, both planes."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from lxml import etree

from tests.support.server import PhonehomeServer

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
AUTH = "http://schemas.microsoft.com/OCS/AuthWebServices/"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhonehomeServer]:
    server = PhonehomeServer(tmp_path_factory.mktemp("chain") / "data").start()
    try:
        yield server
    finally:
        server.kill()


def _clients(srv: PhonehomeServer) -> list[tuple[str, httpx.Client]]:
    tls = ssl.create_default_context(cafile=str(srv.ca_file))
    return [
        ("http", httpx.Client(base_url=srv.http, timeout=30)),
        ("https", httpx.Client(base_url=srv.https, verify=tls, timeout=30)),
    ]


def _ca(srv: PhonehomeServer) -> x509.Certificate:
    return x509.load_pem_x509_certificate(srv.ca_file.read_bytes())


def test_certsrv_p7b_and_cer(srv: PhonehomeServer) -> None:
    ca = _ca(srv)
    for _, client in _clients(srv):
        with client:
            der = client.get(
                "/certsrv/certnew.p7b", params={"ReqID": "CACert", "Renewal": "-1", "Enc": "bin"}
            )
            assert der.headers["content-type"] == "application/x-pkcs7-certificates"
            assert pkcs7.load_der_pkcs7_certificates(der.content) == [ca]
            b64 = client.get("/CertSrv/certnew.p7b?ReqID=CACert&Renewal=-1&Enc=b64")
            assert b64.text.startswith("-----BEGIN PKCS7-----")
            assert pkcs7.load_pem_pkcs7_certificates(b64.content) == [ca]
            cer = client.get("/certsrv/certnew.cer?ReqID=CACert&Renewal=0&Enc=bin")
            assert x509.load_der_x509_certificate(cer.content) == ca
            pem = client.get("/certsrv/certnew.cer?reqid=cacert&enc=B64")
            assert x509.load_pem_x509_certificate(pem.content) == ca


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("ReqID=17&Enc=bin", 400, "only ReqID=CACert"),
        ("ReqID=CACert&Renewal=3", 404, "only the current CA certificate"),
        ("ReqID=CACert&Renewal=abc", 400, "expected a number"),
        ("ReqID=CACert&Enc=der", 400, "expected b64 or bin"),
    ],
)
def test_certsrv_bad_queries(srv: PhonehomeServer, query: str, status: int, reason: str) -> None:
    response = httpx.get(f"{srv.http}/certsrv/certnew.p7b?{query}", timeout=30)
    assert response.status_code == status and reason in response.text
    assert response.text.count("\n") == 1


def _envelope(ns: str, body: str) -> bytes:
    return f'<s:Envelope xmlns:s="{ns}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


@pytest.mark.parametrize("soap_ns", [SOAP11, SOAP12])
def test_certprov_root_chains(srv: PhonehomeServer, soap_ns: str) -> None:
    ca = _ca(srv)
    request = _envelope(soap_ns, f'<GetRootCertChains xmlns="{AUTH}"/>')
    for _, client in _clients(srv):
        with client:
            response = client.post(
                "/CertProv/CertProvisioningService.svc", content=request, headers={"Content-Type": "text/xml"}
            )
            assert response.status_code == 200
            root = etree.fromstring(response.content)
            assert root.tag == f"{{{soap_ns}}}Envelope"
            answer = root.find(f"{{{soap_ns}}}Body/{{{AUTH}}}GetRootCertChainsResponse")
            assert answer is not None and answer.get("ResponseClass") == "Success"
            chains = answer.findall(f"{{{AUTH}}}RootCertChains/{{{AUTH}}}Chain")
            assert len(chains) == 1
            der = base64.b64decode(chains[0].text or "")
            # The capture in the Lync seed starts "MIID…YJKoZIhvcNAQcC": a PKCS#7 signedData.
            assert bytes.fromhex("06092a864886f70d010702") in der[:20]
            assert pkcs7.load_der_pkcs7_certificates(der) == [ca]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty request"),
        (b"<not xml", "malformed XML"),
        (b"<Foo/>", "expected a SOAP Envelope"),
        (_envelope(SOAP11, "").replace(b"<s:Body></s:Body>", b""), "no Body"),
        (_envelope(SOAP11, f'<GetAndPublishCert xmlns="{AUTH}"/>'), "GetAndPublishCert is not supported"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "malformed XML"),
    ],
)
def test_certprov_bad_envelopes(srv: PhonehomeServer, body: bytes, reason: str) -> None:
    response = httpx.post(f"{srv.http}/CertProv/CertProvisioningService.svc", content=body, timeout=30)
    assert response.status_code == 400
    fault = etree.fromstring(response.content).find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None and reason in (fault.findtext("faultstring") or "")
    assert httpx.get(f"{srv.http}/CertProv/CertProvisioningService.svc", timeout=30).status_code == 405


def test_files_stay_in_the_data_dir(srv: PhonehomeServer, tmp_path: Path) -> None:
    for path in ("/certsrv/../pki/ca.key", "/certsrv/certnew.key", "/certsrv/%2e%2e/ca.key"):
        response = httpx.get(f"{srv.http}{path}", timeout=30)
        assert response.status_code == 404
        assert b"PRIVATE KEY" not in response.content
