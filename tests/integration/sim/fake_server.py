"""A stand-in phone server for the simulator's own tests until the updates and backups routes merge.

It speaks the same URLs (``/RequestHandler/ucdevice.upx``, ``/RequestHandler/Files/…`` with Range via
aiohttp's FileResponse, ``/backup/<file>`` with Basic auth) and reads the check-in with its own
defusedxml code, not the simulator's, so the two are not judged by the same parser.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from defusedxml.ElementTree import fromstring

# model → (from version, offered version): one step per check-in, as the CX700 path goes.
UPGRADES: dict[str, dict[str, str]] = {
    "CX700": {"1.0.199.123": "1.0.522.101", "1.0.522.101": "3.5.6907.35"},
    "*": {"4.0.7577.4363": "4.0.7577.4372"},
}
NO_UPDATE = b"""<?xml version="1.0" ?>
<Response>
<NumOfFiles>0</NumOfFiles>
<CurrentTime>2009-06-04T06:22:03</CurrentTime>
<ServerVersion>3.5.6907.0</ServerVersion>
<ServiceVersion>3.5.6907.0</ServiceVersion>
</Response>
"""


@dataclass
class FakeServer:
    files: Path
    accounts: dict[str, str] = field(default_factory=dict)  # account → password
    backups: dict[str, bytes] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    digests: dict[str, str] = field(default_factory=dict)  # version → sha256 of its CPE.nbt

    def image(self, model: str, brand: str, version: str, size: int) -> None:
        folder = self.files / "UCPhone" / brand / model / "A" / "ENU" / version / "CPE"
        folder.mkdir(parents=True, exist_ok=True)
        data = hashlib.shake_256(f"{model}/{version}".encode()).digest(size)
        (folder / "CPE.nbt").write_bytes(data)
        self.digests[f"{model} {version}"] = hashlib.sha256(data).hexdigest()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/RequestHandler/ucdevice.upx", self.check_in)
        app.router.add_get("/RequestHandler/Files/{tail:.+}", self.download)
        app.router.add_route("*", "/backup/{name}", self.backup)
        return app

    async def check_in(self, request: web.Request) -> web.Response:
        self.seen["check_in"] += 1
        root = fromstring(await request.read(), forbid_dtd=True)
        fields = {el.tag.lower(): (el.text or "") for el in root.iter()}
        model, brand, version = fields["model"], fields["vendor"], fields["version"]
        offered = UPGRADES.get(model, UPGRADES["*"]).get(version)
        if offered is None or f"{model} {offered}" not in self.digests:
            return web.Response(body=NO_UPDATE, content_type="text/xml")
        base = f"http://{request.host}/RequestHandler/Files/UCPhone/{brand}/{model}/A/ENU/{offered}/CPE"
        body = (
            "<?xml version='1.0' encoding='utf-8'?><Response><NumOfFiles>1</NumOfFiles>"
            "<CurrentTime>2026-11-25T08:00:00</CurrentTime><ServerVersion>1</ServerVersion>"
            f"<FileName>CPE.nbt</FileName><SignatureFileName>CPE.cat</SignatureFileName>"
            f"<Version>{offered}</Version><BaseURL>{base}</BaseURL></Response>"
        )
        return web.Response(text=body, content_type="text/xml")

    async def download(self, request: web.Request) -> web.StreamResponse:
        self.seen["range" if "Range" in request.headers else "download"] += 1
        path = (self.files / request.match_info["tail"]).resolve()
        if not path.is_relative_to(self.files.resolve()) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def backup(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        if not header.startswith("Basic ") or self.accounts.get(user) != password:
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="fake"'})
        name = request.match_info["name"]
        owner = name.split("_", 1)[0] if name.endswith("_96xxdata.txt") else "sim-" + name.split("-", 1)[0]
        if owner != user:
            raise web.HTTPForbidden()
        self.seen[f"backup_{request.method.lower()}"] += 1
        if request.method == "PUT":
            created = name not in self.backups
            self.backups[name] = await request.read()
            return web.Response(status=201 if created else 204)
        if request.method == "GET":
            if name not in self.backups:
                raise web.HTTPNotFound()
            return web.Response(body=self.backups[name])
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "PUT"])
