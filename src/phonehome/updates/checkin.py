"""Check-ins (``ucdevice.upx``) and firmware file lookups: the phone side of the Device Update Service.

Every check-in, accepted or refused, leaves one audit log line; every check-in that names a device
updates the inventory. The decision itself is decide.decide; this module gathers its inputs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import quote

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.blobs import BlobStore
from phonehome.config import UpdatesSettings
from phonehome.db import Database, utcnow
from phonehome.fleet.identity import try_mac, try_serial
from phonehome.fleet.service import FleetService, Sighting, record_sighting
from phonehome.updates import auditlog, ucdevice
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.decide import Decision, Image, decide
from phonehome.updates.download import StoredFile
from phonehome.updates.errors import (
    ClientVersionRefused,
    MalformedCheckIn,
    MissingIdentity,
    UpdateFileNotFound,
)
from phonehome.updates.models import CheckInSample, FirmwareFile, FirmwareImage, TestDevice, UpdateRule
from phonehome.updates.package import INTERIM
from phonehome.updates.service import rule_state, site_of
from phonehome.updates.versions import FilterRule, filter_refusal

# URL prefixes of the update store: OCS 2007 R2 and Lync, internal (HTTP) and external (HTTPS).
STORE_PREFIXES = {
    ("ocs2007r2", "internal"): "/DeviceUpdateFiles_Int",
    ("ocs2007r2", "external"): "/DeviceUpdateFiles_Ext",
    ("lync", "internal"): "/RequestHandler/Files",
    ("lync", "external"): "/RequestHandlerExt/Files",
}


@dataclass(frozen=True, slots=True)
class CheckInRequest:
    plane: str  # "internal" | "external"
    remote: str
    host: str  # the Host header: answers work on any name, ucupdates-r2.<domain> included
    body: bytes
    content_type: str = ""
    user_agent: str = ""


class CheckInService:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        settings: UpdatesSettings,
        fleet: FleetService,
        audit: AuditFile,
        template: str = ucdevice.DEFAULT_TEMPLATE,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.settings = settings
        self.fleet = fleet
        self.audit_file = audit
        self.template = template
        self.filters = [FilterRule.parse(line) for line in settings.client_version_filter]

    # -- check-in ------------------------------------------------------------------------------

    async def status(self) -> bytes:
        """What a GET on ucdevice.upx shows: the service answers, no files."""
        version = self.settings.server_version
        return ucdevice.render_response(ucdevice.Reply((), utcnow(), version, version), self.template)

    async def refuse(self, request: CheckInRequest, checkin: ucdevice.CheckIn | None = None) -> None:
        """Audit a check-in refused before it was read (too large, no credential)."""
        await self._audit(utcnow(), request.remote, checkin, ())

    async def check_in(self, request: CheckInRequest) -> tuple[bytes, str]:
        """The response XML and the device's name (MAC or serial) for the access log."""
        now = utcnow()
        try:
            checkin = ucdevice.parse_request(request.body, request.content_type)
        except ucdevice.MalformedCheckIn as exc:
            await self._audit(now, request.remote, None, ())
            raise MalformedCheckIn(str(exc)) from exc
        mac, serial = try_mac(checkin.mac), try_serial(checkin.serial)
        if not mac and not serial:
            await self._audit(now, request.remote, checkin, ())
            raise MissingIdentity()
        site = site_of(self.settings.sites, request.remote)
        sighting = Sighting(
            mac,
            serial,
            checkin.device_type,
            checkin.vendor,
            checkin.model,
            checkin.revision,
            checkin.locale,
            checkin.current_version or "",
            request.remote,
            checkin.user_id,
            site,
        )
        # A check-in without a device type is a phone (the rule lookup assumes UCPhone too).
        device_type = (checkin.device_type or "UCPhone").lower()
        clients = {device_type, request.user_agent.split("/", 1)[0].strip().lower()} - {""}
        refusal = filter_refusal(self.filters, clients, checkin.current_version)
        files: tuple[ucdevice.OfferedFile, ...] = ()
        for attempt in (1, 2):
            try:
                # One transaction: the sample, the decision and the inventory row agree.
                async with self.db.session() as session:
                    await self._sample(session, checkin, request)
                    if refusal:
                        await record_sighting(session, sighting, now)
                    else:
                        decision, image = await self._decide(session, checkin, mac, serial, site)
                        files = self._offer(image, request) if image is not None and decision.version else ()
                        offer = decision.version or ""
                        await record_sighting(session, replace(sighting, last_offer=offer), now)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        if refusal:
            await self._audit(now, request.remote, checkin, ())
            raise ClientVersionRefused(refusal)
        await self._audit(now, request.remote, checkin, files)
        version = self.settings.server_version
        xml = ucdevice.render_response(ucdevice.Reply(files, now, version, version), self.template)
        return xml, mac or serial or ""

    async def _decide(
        self, session: AsyncSession, checkin: ucdevice.CheckIn, mac: str | None, serial: str | None, site: str
    ) -> tuple[Decision, FirmwareImage | None]:
        query = select(UpdateRule).where(
            func.lower(UpdateRule.device_type) == (checkin.device_type or "UCPhone").lower(),
            func.lower(UpdateRule.brand) == checkin.vendor.lower(),
            func.lower(UpdateRule.model) == checkin.model.lower(),
        )
        candidates = [
            r
            for r in await session.scalars(query)
            if (not checkin.revision or r.revision.lower() == checkin.revision.lower())
            and (not checkin.locale or r.locale.lower() == checkin.locale.lower())
        ]
        if len(candidates) != 1:
            reason = (
                "no rule for this device"
                if not candidates
                else "several rules match; send revision and locale"
            )
            return Decision(None, reason), None
        rule = candidates[0]
        images = list(
            await session.scalars(select(FirmwareImage).where(FirmwareImage.match_key == rule.match_key))
        )
        matches = []
        if mac:
            matches.append((TestDevice.identifier_type == "mac") & (TestDevice.identifier == mac))
        if serial:
            matches.append((TestDevice.identifier_type == "serial") & (TestDevice.identifier == serial))
        scopes = ["", site] if site else [""]
        tester = await session.scalar(
            select(TestDevice.id).where(TestDevice.site.in_(scopes), or_(*matches)).limit(1)
        )
        decision = decide(
            checkin.current_version,
            rule_state(rule),
            [Image(i.version, i.min_from) for i in images],
            test_device=tester is not None,
        )
        image = next((i for i in images if i.version == decision.version), None)
        return decision, image

    def _origins(self, request: CheckInRequest) -> tuple[str, str]:
        host = request.host or "localhost"
        bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        internal = self.settings.internal_url or (
            f"http://{host}" if request.plane == "internal" else f"http://{bare}"
        )
        external = self.settings.external_url or (
            f"https://{host}" if request.plane == "external" else f"https://{bare}"
        )
        return internal.rstrip("/"), external.rstrip("/")

    def _offer(self, image: FirmwareImage, request: CheckInRequest) -> tuple[ucdevice.OfferedFile, ...]:
        nbt = next(f for f in image.files if f.path_key.endswith(".nbt"))
        folder = PurePosixPath(nbt.path).parent
        siblings = [f for f in image.files if PurePosixPath(f.path).parent == folder]
        cat = next((f for f in siblings if f.path_key.endswith(".cat")), None)
        xmls = sorted(
            (f for f in siblings if f.path_key.endswith(".xml")), key=lambda f: "desc" not in f.path_key
        )
        tail = "/".join(quote(p, safe="") for p in [*image.path.split("/"), image.version, *folder.parts])
        internal, external = self._origins(request)
        layout = self.settings.url_layout
        return (
            ucdevice.OfferedFile(
                file_name=PurePosixPath(nbt.path).name,
                signature_file_name=PurePosixPath(cat.path).name if cat else None,
                descript_file=PurePosixPath(xmls[0].path).name if xmls else None,
                version=image.version,
                timestamp=image.timestamp,
                base_url=f"{internal}{STORE_PREFIXES[(layout, 'internal')]}/{tail}",
                external_base_url=f"{external}{STORE_PREFIXES[(layout, 'external')]}/{tail}",
            ),
        )

    async def _sample(
        self, session: AsyncSession, checkin: ucdevice.CheckIn, request: CheckInRequest
    ) -> None:
        limit = self.settings.sample_bodies_per_model
        if limit <= 0:
            return
        model_key = f"{checkin.vendor}/{checkin.model}".lower()[:200]
        have = await session.scalar(
            select(func.count()).select_from(CheckInSample).where(CheckInSample.model_key == model_key)
        )
        if have and have >= limit:
            return
        if not have:
            models = await session.scalar(select(func.count(func.distinct(CheckInSample.model_key))))
            if models and models >= self.settings.sample_models:
                return
        session.add(
            CheckInSample(
                model_key=model_key,
                content_type=request.content_type[:200],
                user_agent=request.user_agent[:300],
                body=request.body,
            )
        )

    async def _audit(
        self,
        now: dt.datetime,
        remote: str,
        checkin: ucdevice.CheckIn | None,
        files: tuple[ucdevice.OfferedFile, ...],
    ) -> None:
        c = checkin or ucdevice.CheckIn()
        record = auditlog.AuditRecord(
            now,
            remote,
            c.device_type,
            c.mac,
            c.serial,
            c.vendor,
            c.model,
            c.revision,
            c.locale,
            tuple(auditlog.RequestModule(m.filename, m.version, m.timestamp) for m in c.modules),
            tuple(
                auditlog.ResponseModule(
                    f.file_name, f.signature_file_name or "", f.version, ucdevice.format_time(f.timestamp)
                )
                for f in files
            ),
            c.user_id,
        )
        await asyncio.to_thread(self.audit_file.write, record)

    async def samples(self, model: str | None = None, limit: int = 100) -> list[CheckInSample]:
        """The raw check-in bodies kept for capture analysis, newest first."""
        async with self.db.session() as session:
            query = select(CheckInSample).order_by(CheckInSample.id.desc()).limit(limit)
            if model:
                query = query.where(CheckInSample.model_key == model.lower())
            return list(await session.scalars(query))

    # -- downloads -----------------------------------------------------------------------------

    async def locate(self, tail: str) -> StoredFile:
        """The stored file for a store URL tail: ``UCPhone/…/<Version>/CPE/CPE.nbt`` or ``OCInterim/ENU/cpe.nbt``."""
        parts = tail.split("/")
        if any(p in ("", ".", "..") for p in parts) or len(parts) < 3:
            raise UpdateFileNotFound()
        if parts[0].lower() == INTERIM:
            match_key, version, rest = f"{INTERIM}/{parts[1].lower()}", "0", parts[2:]
        elif len(parts) >= 7:
            match_key, version, rest = "/".join(parts[:5]).lower(), parts[5], parts[6:]
        else:
            raise UpdateFileNotFound()
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(FirmwareFile, FirmwareImage.imported_at)
                    .join(FirmwareImage, FirmwareImage.id == FirmwareFile.image_id)
                    .where(
                        FirmwareImage.match_key == match_key,
                        FirmwareImage.version == version,
                        FirmwareFile.path_key == "/".join(rest).lower(),
                    )
                )
            ).first()
        if row is None:
            raise UpdateFileNotFound()
        found, imported_at = row
        return StoredFile(
            PurePosixPath(found.path).name,
            self.blobs.path(found.sha256),
            found.sha256,
            found.size,
            imported_at,
        )
