"""Phone routes: the root chain (certsrv, CertProv) and SCEP, on both listeners."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from phonehome.http.phone import Plane
from phonehome.pki import certprov, certsrv
from phonehome.pki.errors import BadCertsrvQuery, BadScepMessage, CertsrvNotFound, UnknownScepOperation
from phonehome.pki.scep import ScepError, message_from_body, message_from_query, render_caps
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService

# IIS matches paths case-insensitively; phones and scripts spell certsrv both ways.
_CERTSRV = r"/{certsrv:(?i:certsrv)}/{file:(?i:certnew\.(?:p7b|cer))}"
_CERTPROV = r"/{certprov:(?i:certprov)}/{svc:(?i:certprovisioningservice\.svc)}"


def routes(pki: PkiService, scep: ScepService, plane: Plane) -> Sequence[web.AbstractRouteDef]:
    async def certsrv_file(request: web.Request) -> web.Response:
        try:
            query = certsrv.parse_query(request.query)
        except certsrv.UnknownRenewal as exc:
            raise CertsrvNotFound(str(exc)) from exc
        except certsrv.CertsrvQueryError as exc:
            raise BadCertsrvQuery(str(exc)) from exc
        _, chain = pki.authority.load()
        if request.match_info["file"].lower().endswith(".p7b"):
            body, ctype = certsrv.render_p7b(chain, query.encoding), certsrv.P7B_TYPE
        else:
            body, ctype = certsrv.render_cer(chain[0], query.encoding), certsrv.CER_TYPE
        return web.Response(body=body, content_type=ctype)

    async def certprov_post(request: web.Request) -> web.Response:
        body = await request.content.read(certprov.MAX_REQUEST_BYTES + 1)
        try:
            parsed = certprov.parse_request(body, request.headers.get("SOAPAction", ""))
        except certprov.CertProvRequestError as exc:
            return _soap(certprov.render_fault(str(exc), exc.soap_ns), exc.soap_ns, 400)
        if parsed.operation != certprov.GET_ROOT_CERT_CHAINS:
            reason = f"operation {parsed.operation} is not supported here (only GetRootCertChains)"
            return _soap(certprov.render_fault(reason, parsed.soap_ns), parsed.soap_ns, 400)
        _, chain = pki.authority.load()
        der = certsrv.render_p7b(chain, "bin")
        return _soap(certprov.render_root_chains([der], parsed.soap_ns), parsed.soap_ns, 200)

    async def certprov_get(request: web.Request) -> web.Response:
        raise web.HTTPMethodNotAllowed("GET", ["POST"], text="POST a SOAP GetRootCertChains request\n")

    async def scep_endpoint(request: web.Request) -> web.Response:
        operation = request.query.get("operation", "")
        if operation == "GetCACaps":
            return web.Response(text=render_caps(), content_type="text/plain")
        if operation == "GetCACert":
            ctype, body = scep.ca_certs()
            return web.Response(body=body, content_type=ctype)
        if operation != "PKIOperation":
            raise UnknownScepOperation(
                f"unknown SCEP operation {operation[:40]!r}: GetCACaps, GetCACert or PKIOperation"
            )
        try:
            if request.method == "POST":
                der = message_from_body(await request.read())
            else:
                der = message_from_query(request.query.get("message", ""))
        except ScepError as exc:
            raise BadScepMessage(f"SCEP PKIOperation: {exc}") from exc
        reply = await scep.pki_operation(der, request.remote or "-")
        return web.Response(body=reply, content_type="application/x-pki-message")

    scep_paths = [scep.settings.scep_path, scep.settings.scep_path + "/pkiclient.exe"]
    return [
        web.get(_CERTSRV, certsrv_file),
        web.post(_CERTPROV, certprov_post),
        web.get(_CERTPROV, certprov_get, allow_head=False),
        *[web.get(path, scep_endpoint, allow_head=False) for path in scep_paths],
        *[web.post(path, scep_endpoint) for path in scep_paths],
    ]


def _soap(body: bytes, soap_ns: str, status: int) -> web.Response:
    response = web.Response(body=body, status=status)
    response.headers["Content-Type"] = certprov.CONTENT_TYPES.get(
        soap_ns, certprov.CONTENT_TYPES[certprov.SOAP11]
    )
    return response
