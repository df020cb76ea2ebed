"""An in-process Runtime on a throw-away data dir, migrated: what service-level tests build on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from phonehome.config import Settings, UpdatesSettings
from phonehome.runtime import Runtime


@asynccontextmanager
async def migrated_runtime(
    data_dir: Path, db_url: str, updates: UpdatesSettings | None = None
) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=data_dir, db_url=db_url, **({"updates": updates} if updates else {}))
    rt = Runtime.create(settings)
    rt.blobs.ensure()
    await rt.db.migrate()
    try:
        yield rt
    finally:
        await rt.close()
