"""Firmware import (Import-CsDeviceUpdate), ``firmware add`` and prune (Clear-CsDeviceUpdateFile).

Transactional: the package is read and checked completely first; blobs are written next (content
addressed, so a blob another image already holds is shared, not rewritten); the rows and rule
changes go in one database transaction. Should anything fail, the blobs this import created are
deleted again, so a failed import leaves nothing behind. Re-importing the same package changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.blobs import BlobStore
from phonehome.changelog import Actor, record_change
from phonehome.db import Database, utcnow
from phonehome.updates import cab, package
from phonehome.updates.catalog_cache import catalog_write
from phonehome.updates.errors import BadPackage
from phonehome.updates.models import FirmwareFile, FirmwareImage, UpdateRule
from phonehome.updates.package import ImageFile, ImageSpec, Package
from phonehome.updates.rules import RuleKey, referenced_versions
from phonehome.updates.service import rule_state, upsert_rule_for_import
from phonehome.updates.versions import Version

Progress = Callable[[int, int], None]  # (bytes stored so far, bytes to store)


@dataclass(frozen=True, slots=True)
class ImportedImage:
    name: str  # UCPhone/Polycom/CX700/A/ENU/1.0.522.101
    new: bool
    rule_changed: bool


@dataclass(frozen=True, slots=True)
class ImportResult:
    images: tuple[ImportedImage, ...]
    interim_files: int
    bytes_total: int

    @property
    def changed(self) -> bool:
        return any(i.new or i.rule_changed for i in self.images) or self.interim_files > 0


@dataclass(frozen=True, slots=True)
class PruneResult:
    images: tuple[str, ...]
    blobs: int


def _files_key(files: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(path.lower(), sha) for path, sha in files}


class FirmwareImporter:
    def __init__(self, db: Database, blobs: BlobStore, *, cabextract: str | None, max_size: int) -> None:
        self.db = db
        self.blobs = blobs
        self.cabextract = cabextract
        self.max_size = max_size
        self.catalog_changed: Callable[[], None] = lambda: None  # the check-in catalog's invalidate

    def read(self, data: bytes) -> Package:
        try:
            return package.interpret(
                cab.read_package(data, cabextract=self.cabextract, max_size=self.max_size)
            )
        except cab.PackageError as exc:
            raise BadPackage(str(exc)) from exc

    async def import_files(
        self, actor: Actor, paths: Sequence[Path], progress: Progress | None = None
    ) -> ImportResult:
        images: list[ImageSpec] = []
        interim: list[package.InterimFile] = []
        for path in paths:
            try:
                if path.stat().st_size > self.max_size:
                    raise BadPackage(f"{path.name}: larger than the limit of {self.max_size} bytes")
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise BadPackage(f"{path}: {exc.strerror or exc}") from exc
            try:
                found = await asyncio.to_thread(self.read, data)
            except BadPackage as exc:
                raise BadPackage(f"{path.name}: {exc.reason}") from exc
            images += found.images
            interim += found.interim
        return await self.store(actor, Package(images, interim), progress)

    async def add_image(self, actor: Actor, spec: ImageSpec) -> ImportResult:
        try:
            package.make_key(_key_dict(spec.key))
            package.check_version(spec.version)
            package.check_image(spec)
        except cab.PackageError as exc:
            raise BadPackage(str(exc)) from exc
        return await self.store(actor, Package([spec], []))

    async def store(self, actor: Actor, pkg: Package, progress: Progress | None = None) -> ImportResult:
        created: list[str] = []
        try:
            await self._write_blobs(pkg, created, progress)
            async with catalog_write(self.db, self.catalog_changed) as session:
                stored = [await self._store_image(session, actor, img) for img in pkg.images]
                # One package may carry several versions for a rule (a two-step path): the newest
                # becomes Pending, so importing the same package twice changes nothing.
                newest: dict[str, ImageSpec] = {}
                for img in pkg.images:
                    best = newest.get(img.key.match_key)
                    if best is None or Version.parse(img.version) > Version.parse(best.version):
                        newest[img.key.match_key] = img
                changed = {
                    (key, img.version)
                    for key, img in newest.items()
                    if await upsert_rule_for_import(session, actor, img.key, img.version)
                }
                results = [
                    ImportedImage(name, new, (img.key.match_key, img.version) in changed)
                    for (name, new), img in zip(stored, pkg.images, strict=True)
                ]
                interim = sum([await self._store_interim(session, actor, f) for f in pkg.interim])
        except BaseException:
            await asyncio.to_thread(self._forget, created)
            raise
        total = sum(len(f.data) for img in pkg.images for f in img.files) + sum(
            len(f.data) for f in pkg.interim
        )
        return ImportResult(tuple(results), interim, total)

    async def _write_blobs(self, pkg: Package, created: list[str], progress: Progress | None) -> None:
        datas = [f.data for img in pkg.images for f in img.files] + [f.data for f in pkg.interim]
        total, done = sum(len(d) for d in datas), 0
        for data in datas:
            if not self.blobs.exists(_digest(data)):
                ref = await self.blobs.put_bytes(data)
                created.append(ref.sha256)
            done += len(data)
            if progress:
                progress(done, total)

    def _forget(self, created: list[str]) -> None:
        for digest in created:
            self.blobs.delete(digest)

    async def _store_image(self, session: AsyncSession, actor: Actor, img: ImageSpec) -> tuple[str, bool]:
        name = f"{img.key.path}/{img.version}"
        files = [(f.path, _digest(f.data)) for f in img.files]
        existing = await session.scalar(
            select(FirmwareImage).where(
                FirmwareImage.match_key == img.key.match_key, FirmwareImage.version == img.version
            )
        )
        new = existing is None
        if existing is not None:
            if _files_key([(f.path, f.sha256) for f in existing.files]) != _files_key(files):
                raise BadPackage(f"image {name} was imported before with different files; remove it first")
            if img.min_from and existing.min_from != img.min_from:
                existing.min_from = img.min_from
                new = True
        else:
            session.add(
                FirmwareImage(
                    match_key=img.key.match_key,
                    path=img.key.path,
                    version=img.version,
                    min_from=img.min_from,
                    timestamp=img.timestamp or utcnow(),
                    files=[
                        FirmwareFile(path=f.path, path_key=f.path.lower(), sha256=d, size=len(f.data))
                        for f, (_, d) in zip(img.files, files, strict=True)
                    ],
                )
            )
            await record_change(session, actor, "import", "firmware_image", name, after={"files": files})
        return name, new

    async def _store_interim(self, session: AsyncSession, actor: Actor, item: package.InterimFile) -> int:
        match_key = f"{package.INTERIM}/{item.locale.lower()}"
        digest = _digest(item.data)
        image = await session.scalar(select(FirmwareImage).where(FirmwareImage.match_key == match_key))
        if image is None:
            image = FirmwareImage(
                match_key=match_key,
                path=f"OCInterim/{item.locale}",
                version="0",
                timestamp=utcnow(),
                files=[],
            )
            session.add(image)
        current = next((f for f in image.files if f.path_key == item.path.lower()), None)
        if current is not None and current.sha256 == digest:
            return 0
        if current is not None:
            image.files.remove(current)
            await session.flush()
        image.files.append(
            FirmwareFile(path=item.path, path_key=item.path.lower(), sha256=digest, size=len(item.data))
        )
        await record_change(
            session,
            actor,
            "import",
            "firmware_image",
            f"OCInterim/{item.locale}/{item.path}",
            after={"sha256": digest},
        )
        return 1

    async def prune(self, actor: Actor) -> PruneResult:
        """Delete images no rule references (Clear-CsDeviceUpdateFile), then their orphaned blobs."""
        async with catalog_write(self.db, self.catalog_changed) as session:
            keep = {
                (r.match_key, v)
                for r in await session.scalars(select(UpdateRule))
                for v in referenced_versions(rule_state(r))
            }
            doomed = [
                img
                for img in await session.scalars(select(FirmwareImage))
                if not img.match_key.startswith(package.INTERIM + "/")
                and (img.match_key, img.version) not in keep
            ]
            candidates = {f.sha256 for img in doomed for f in img.files}
            names = tuple(f"{img.path}/{img.version}" for img in doomed)
            for img in doomed:
                await session.delete(img)
                await record_change(session, actor, "prune", "firmware_image", f"{img.path}/{img.version}")
            await session.flush()
            still = (
                set(
                    await session.scalars(
                        select(FirmwareFile.sha256).where(FirmwareFile.sha256.in_(candidates))
                    )
                )
                if candidates
                else set()
            )
        removed = [d for d in candidates - still if self.blobs.delete(d)]
        return PruneResult(names, len(removed))

    async def list_images(self) -> list[tuple[str, str, str | None, int, dt.datetime]]:
        async with self.db.session() as session:
            found = await session.scalars(
                select(FirmwareImage).order_by(FirmwareImage.match_key, FirmwareImage.version)
            )
            return [
                (i.path, i.version, i.min_from, sum(f.size for f in i.files), i.imported_at) for i in found
            ]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key_dict(key: RuleKey) -> dict[str, str]:
    return {
        "device_type": key.device_type,
        "brand": key.brand,
        "model": key.model,
        "revision": key.revision,
        "locale": key.locale,
    }


def image_from_files(key: RuleKey, version: str, files: Sequence[Path], min_from: str | None) -> ImageSpec:
    """``firmware add``: the files go into the version's ``CPE/`` folder, as in the CX700 layout."""
    out = []
    for path in files:
        try:
            out.append(ImageFile(f"CPE/{path.name}", path.read_bytes()))
        except OSError as exc:
            raise BadPackage(f"{path}: {exc.strerror or exc}") from exc
    return ImageSpec(key, version, tuple(out), min_from=min_from, timestamp=None)
