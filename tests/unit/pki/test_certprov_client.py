"""The client side of the CertProv codec: the GetRootCertChains request the doctor sends, and reading
the answer (chains, faults, things that are not an answer)."""

from __future__ import annotations

import pytest

from phonehome.pki import certprov

# -- the client side (the doctor's GetRootCertChains call) ----------------------------------------------


@pytest.mark.parametrize("soap_ns", [certprov.SOAP11, certprov.SOAP12])
def test_rendered_request_is_what_the_service_reads(soap_ns: str) -> None:
    assert certprov.parse_request(certprov.render_request(soap_ns)) == certprov.CertProvRequest(
        certprov.GET_ROOT_CERT_CHAINS, soap_ns
    )


@pytest.mark.parametrize("soap_ns", [certprov.SOAP11, certprov.SOAP12])
def test_root_chains_read_back(soap_ns: str) -> None:
    assert certprov.parse_root_chains(certprov.render_root_chains([b"\x30\x01", b"\x30\x02"], soap_ns)) == [
        b"\x30\x01",
        b"\x30\x02",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (certprov.render_fault("unknown operation Foo"), "SOAP Fault: .*unknown operation Foo"),
        (certprov.render_fault("broken", certprov.SOAP12, client=False), "SOAP Fault: .*broken"),
        (certprov.render_root_chains([]), "no root chain"),
        (b"<html>IIS</html>", "expected a SOAP Envelope"),
        (b"<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'/>", "expected a SOAP Envelope"),
        (b"not xml", "not well-formed"),
        (
            certprov.render_root_chains([b"x"]).replace(b"eA==", b"!!"),
            "not base64",
        ),
    ],
)
def test_not_a_root_chain_answer(body: bytes, reason: str) -> None:
    with pytest.raises(certprov.CertProvResponseError, match=reason):
        certprov.parse_root_chains(body)
