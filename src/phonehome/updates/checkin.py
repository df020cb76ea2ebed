"""Check-ins (``ucdevice.upx``) and firmware file lookups: the phone side of the Device Update Service.

Every check-in, accepted or refused, leaves one audit log line; every check-in that names a device
updates the inventory. The decision is the catalog's (catalog.py, decide.py); this module gathers the
request's side and writes what the check-in leaves behind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePosixPath
from urllib.parse import quote

from sqlalchemy import func, select

from phonehome.batching import GroupCommit
from phonehome.blobs import BlobStore
from phonehome.config import UpdatesSettings
from phonehome.db import Database, utcnow
from phonehome.fleet.identity import try_mac, try_serial
from phonehome.fleet.recorder import SightingRecorder
from phonehome.fleet.service import Sighting
from phonehome.updates import auditlog, ucdevice
from phonehome.updates.auditfile import AuditFile
from phonehome.updates.catalog import CatalogImage, DeviceAsks, image_folder_files
from phonehome.updates.catalog_cache import CatalogCache
from phonehome.updates.download import StoredFile
from phonehome.updates.errors import (
    ClientVersionRefused,
    MalformedCheckIn,
    MissingIdentity,
    UpdateFileNotFound,
)
from phonehome.updates.models import CheckInSample
from phonehome.updates.service import Sites
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


@dataclass(frozen=True, slots=True)
class Trace:
    """What one check-in leaves behind."""

    audit: auditlog.AuditRecord
    sighting: Sighting | None


class CheckInService:
    """Check-ins answer from the in-memory catalog; the inventory row and the audit line are written in
    batches shared with concurrent check-ins (the first raw bodies of each model, rare, on their own)."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        settings: UpdatesSettings,
        audit: AuditFile,
        template: str = ucdevice.DEFAULT_TEMPLATE,
        catalog: CatalogCache | None = None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.settings = settings
        self.audit_file = audit
        self.template = template
        self.filters = [FilterRule.parse(line) for line in settings.client_version_filter]
        self.catalog = catalog or CatalogCache(db, settings.catalog_refresh_seconds)
        self.recorder = SightingRecorder(db)
        # One group commit for what a check-in leaves behind: its inventory row and its audit line.
        # The linger costs a check-in up to 20 ms and saves most transactions in a boot storm; it ends as
        # soon as 32 check-ins wait or a 5 ms step brings none (batching.GroupCommit).
        self.log: GroupCommit[Trace] = GroupCommit(self._write_traces, linger=0.02, name="check-in log")
        self._sites = Sites(settings.sites)
        self._sample_counts: dict[str, int] | None = None
        self._offers: dict[tuple[object, ...], ucdevice.OfferedFile] = {}
        self._replies: tuple[str, dict[tuple[ucdevice.OfferedFile, ...], bytes]] = ("", {})

    # -- check-in ------------------------------------------------------------------------------

    async def status(self) -> bytes:
        """What a GET on ucdevice.upx shows: the service answers, no files."""
        return self._reply((), utcnow())

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
        site = self._sites.of(request.remote)
        # A check-in without a device type is a phone (the rule lookup assumes UCPhone too).
        device_type = (checkin.device_type or "UCPhone").lower()
        clients = {device_type, request.user_agent.split("/", 1)[0].strip().lower()} - {""}
        refusal = filter_refusal(self.filters, clients, checkin.current_version)
        files: tuple[ucdevice.OfferedFile, ...] = ()
        offer: str | None = None
        if not refusal:
            catalog = self.catalog.fresh() or await self.catalog.current()
            asks = DeviceAsks(
                checkin.device_type,
                checkin.vendor,
                checkin.model,
                checkin.revision,
                checkin.locale,
                checkin.current_version,
                mac,
                serial,
                site,
            )
            decision, image = catalog.decide(asks)
            files = (
                self._offer(catalog.generation, image, request)
                if image is not None and decision.version
                else ()
            )
            offer = decision.version or ""
        if self._wants_sample(checkin):
            await self._sample(checkin, request)
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
            last_offer=offer,
        )
        await self._audit(now, request.remote, checkin, files, sighting)
        if refusal:
            raise ClientVersionRefused(refusal)
        return self._reply(files, now), mac or serial or ""

    def _reply(self, files: tuple[ucdevice.OfferedFile, ...], now: dt.datetime) -> bytes:
        """The rendered answer; the same files within the same second render to the same bytes."""
        stamp = ucdevice.format_time(now)
        if self._replies[0] != stamp:
            self._replies = (stamp, {})
        rendered = self._replies[1]
        if files not in rendered:
            version = self.settings.server_version
            rendered[files] = ucdevice.render_response(
                ucdevice.Reply(files, now, version, version), self.template
            )
        return rendered[files]

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

    def _offer(
        self, generation: int, image: CatalogImage, request: CheckInRequest
    ) -> tuple[ucdevice.OfferedFile, ...]:
        internal, external = self._origins(request)
        key = (generation, image.match_key, image.version, internal, external)
        offered = self._offers.get(key)
        if offered is None:
            layout = self.settings.url_layout
            if len(self._offers) > 10_000 or any(k[0] != generation for k in islice(self._offers, 1)):
                self._offers.clear()  # a new catalog, or many Host spellings: start over
            nbt, cat, xml = image_folder_files(image)
            folder = PurePosixPath(nbt.path).parent
            parts = [*image.path.split("/"), image.version, *folder.parts]
            tail = "/".join(quote(p, safe="") for p in parts)
            offered = self._offers[key] = ucdevice.OfferedFile(
                file_name=PurePosixPath(nbt.path).name,
                signature_file_name=PurePosixPath(cat.path).name if cat else None,
                descript_file=PurePosixPath(xml.path).name if xml else None,
                version=image.version,
                timestamp=image.timestamp,
                base_url=f"{internal}{STORE_PREFIXES[(layout, 'internal')]}/{tail}",
                external_base_url=f"{external}{STORE_PREFIXES[(layout, 'external')]}/{tail}",
            )
        return (offered,)

    def _model_key(self, checkin: ucdevice.CheckIn) -> str:
        return f"{checkin.vendor}/{checkin.model}".lower()[:200]

    def _wants_sample(self, checkin: ucdevice.CheckIn) -> bool:
        """Keep the first bodies of each model; once this node knows a model is full, no query at all."""
        limit = self.settings.sample_bodies_per_model
        if limit <= 0:
            return False
        counts = self._sample_counts
        if counts is None:
            return True  # not loaded yet: _sample loads the counts
        have = counts.get(self._model_key(checkin))
        if have is None:
            return len(counts) < self.settings.sample_models
        return have < limit

    async def _sample(self, checkin: ucdevice.CheckIn, request: CheckInRequest) -> None:
        """Store one raw body. Counts are this node's view: with several nodes each may add up to the
        limit before it sees the others' samples, which keeps the table bounded all the same."""
        if self._sample_counts is None:
            async with self.db.session() as session:
                rows = await session.execute(
                    select(CheckInSample.model_key, func.count()).group_by(CheckInSample.model_key)
                )
                self._sample_counts = {key: count for key, count in rows}
            if not self._wants_sample(checkin):
                return
        model_key = self._model_key(checkin)
        # Counted before the write, so check-ins of one model arriving together stop at the limit.
        self._sample_counts[model_key] = self._sample_counts.get(model_key, 0) + 1
        async with self.db.session() as session:
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
        sighting: Sighting | None = None,
    ) -> None:
        """Returns once the audit line is written and the sighting (if any) committed."""
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
        await self.log.submit(Trace(record, sighting))

    async def _write_traces(self, traces: list[Trace]) -> None:
        records = [t.audit for t in traces]
        sightings = [(t.sighting, t.audit.time) for t in traces if t.sighting is not None]
        if self.db.is_sqlite:
            # One worker-thread hand-off for the whole batch: the inventory transaction, then the file.
            await asyncio.to_thread(self._write_traces_blocking, records, sightings)
            return
        audit = asyncio.to_thread(self.audit_file.write_many, records)
        if sightings:
            await asyncio.gather(audit, self.recorder.write(sightings))
        else:
            await audit

    def _write_traces_blocking(
        self, records: list[auditlog.AuditRecord], sightings: list[tuple[Sighting, dt.datetime]]
    ) -> None:
        try:
            if sightings:
                self.recorder.write_blocking(sightings)
        finally:
            self.audit_file.write_many(records)

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
        catalog = self.catalog.fresh() or await self.catalog.current()
        found = catalog.locate(tail)
        if found is None:
            raise UpdateFileNotFound()
        return StoredFile(
            PurePosixPath(found.file.path).name,
            self.blobs.path(found.file.sha256),
            found.file.sha256,
            found.file.size,
            found.image.imported_at,
        )
