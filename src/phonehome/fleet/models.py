"""The device inventory shared by updates and backups: one row per device, by MAC and/or serial."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from phonehome.db import Base, UtcDateTime, utcnow


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mac: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    serial: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    device_type: Mapped[str] = mapped_column(String(64), default="")
    brand: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(64), default="", index=True)
    revision: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user: Mapped[str] = mapped_column(String(256), default="")
    site: Mapped[str] = mapped_column(String(64), default="")
    first_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_offer: Mapped[str] = mapped_column(String(64), default="")
