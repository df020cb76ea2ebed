"""The change log: who changed what, when, before and after; written in the changing transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from phonehome.db import Base, UtcDateTime, utcnow


class ChangeLogEntry(Base):
    __tablename__ = "changelog"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64), index=True)
    object_id: Mapped[str] = mapped_column(String(255), index=True)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: an admin user via REST/UI, ``cli:<unix user>`` from the CLI, or ``system``."""

    name: str
    request_id: str | None = None


SYSTEM = Actor("system")


async def record_change(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
) -> None:
    session.add(
        ChangeLogEntry(
            actor=actor.name,
            request_id=actor.request_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=before,
            after=after,
        )
    )


async def list_changes(
    session: AsyncSession, *, object_type: str | None = None, object_id: str | None = None, limit: int = 100
) -> list[ChangeLogEntry]:
    query = select(ChangeLogEntry).order_by(ChangeLogEntry.id.desc()).limit(limit)
    if object_type:
        query = query.where(ChangeLogEntry.object_type == object_type)
    if object_id:
        query = query.where(ChangeLogEntry.object_id == object_id)
    return list((await session.scalars(query)).all())
