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

    def blob_store(self, namespace: str) -> BlobStore:
        """A slice's own content-addressed store (``blobs/<namespace>/``).

        Each slice prunes what it no longer references; separate namespaces mean one slice's prune
        can never delete bytes another slice still serves, even when the content is identical.
        """
        store = BlobStore(self.paths.blobs / namespace)
        store.ensure()
        return store

    def clean_partial_uploads(self) -> int:
        """Remove temp files interrupted writes (kill -9) left in any namespace; called at start."""
        removed = self.blobs.clean_tmp()
        if self.paths.blobs.is_dir():
            for namespace in self.paths.blobs.iterdir():
                if namespace.is_dir() and namespace.name not in ("sha256", "tmp"):
                    removed += BlobStore(namespace).clean_tmp()
        return removed

    async def close(self) -> None:
        await self.db.close()
