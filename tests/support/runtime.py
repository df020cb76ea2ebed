"""An in-process Runtime on a throw-away data dir, migrated: what service-level tests build on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from phonehome.config import Settings
from phonehome.runtime import Runtime


async def start_runtime(data_dir: Path, db_url: str, **sections: Any) -> Runtime:
    """``sections``: settings sections to replace, e.g. ``backups=BackupsSettings(keep_versions=3)``."""
    rt = Runtime.create(Settings(data_dir=data_dir, db_url=db_url, **sections))
    rt.blobs.ensure()
    await rt.db.migrate()
    return rt


@asynccontextmanager
async def migrated_runtime(data_dir: Path, db_url: str, **sections: Any) -> AsyncIterator[Runtime]:
    rt = await start_runtime(data_dir, db_url, **sections)
    try:
        yield rt
    finally:
        await rt.close()
