"""The database: one async engine, Alembic migrations at start, sessions for services.

SQLite (WAL) under the data dir by default; PostgreSQL by URL (``postgresql+asyncpg://`` or
``postgresql+psycopg://``; a bare ``postgresql://`` means asyncpg). Each slice keeps its migrations on
its own Alembic branch in ``migrations/versions`` (``kernel_0001``, ``updates_0001`` …) and the server
upgrades to all heads, so slices add tables without touching each other's history.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from phonehome.errors import ConfigError, StartupError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Held while migrating, so several nodes starting at once on one PostgreSQL do not race.
_PG_MIGRATION_LOCK = 0x70686F6E  # "phon"

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """Check a database URL and pick the async driver; a bad URL is a ConfigError (exit 2)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid --db URL {url!r}: expected sqlite:///PATH or postgresql://…") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "aiosqlite"):
            raise ConfigError(
                f"invalid --db URL: SQLite driver {driver!r} is not async; use sqlite+aiosqlite"
            )
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        if driver not in ("", "asyncpg", "psycopg"):
            raise ConfigError(f"invalid --db URL: PostgreSQL driver {driver!r}; use asyncpg or psycopg")
        parsed = parsed.set(drivername=f"postgresql+{driver or 'asyncpg'}")
        if not parsed.database:
            raise ConfigError("invalid --db URL: no database name")
    else:
        raise ConfigError(f"invalid --db URL: unsupported database {backend!r} (sqlite or postgresql)")
    return parsed.render_as_string(hide_password=False)


class Database:
    """The engine and its session factory; services open sessions through :meth:`session`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._thread_engine: Engine | None = None

    @property
    def thread_engine(self) -> Engine:
        """A plain (synchronous) SQLite engine for writers that run a whole transaction in one worker
        thread: one hand-off per batch instead of several per statement through aiosqlite."""
        if not self.is_sqlite:
            raise RuntimeError("the thread engine is for SQLite; PostgreSQL writers use the async engine")
        if self._thread_engine is None:
            url = make_url(self.url).set(drivername="sqlite")
            # The pool hands a connection to one thread at a time; any worker thread may get it.
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            self._thread_engine = engine
        return self._thread_engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        try:
            async with self.engine.begin() as conn:
                if not self.is_sqlite:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                await conn.run_sync(_upgrade_heads)
        except (OperationalError, OSError) as exc:
            raise StartupError(f"database {self.safe_url}: {_first_line(exc)}") from exc

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=5)
            return True
        except Exception:
            return False

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    async def close(self) -> None:
        if self._thread_engine is not None:
            self._thread_engine.dispose()
        await self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets phones read while the admin writes; NORMAL is durable across process crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_heads(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "heads")
