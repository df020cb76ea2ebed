"""What every service and listener shares: settings, database, blob store, paths, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phonehome.blobs import BlobStore
from phonehome.config import Settings
from phonehome.db import Database
from phonehome.metrics import Metrics
from phonehome.pki.store import PkiPaths


@dataclass
class DataPaths:
    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def marker(self) -> Path:
        """Written last by ``init``: its presence means the data dir is complete."""
        return self.root / ".phonehome"

    @property
    def pki(self) -> PkiPaths:
        return PkiPaths(self.root)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    paths: DataPaths
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        paths = DataPaths(settings.data_dir)
        return cls(
            settings=settings, db=Database(settings.database_url), blobs=BlobStore(paths.blobs), paths=paths
        )

    async def close(self) -> None:
        await self.db.close()
