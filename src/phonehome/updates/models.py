"""Device update tables: rules, firmware images and their files, test devices, check-in samples.

Firmware bytes live in the blob store (sha256); these rows say what they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phonehome.db import Base, UtcDateTime, utcnow


class UpdateRule(Base):
    __tablename__ = "update_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "ucphone/polycom/cx700/a/enu": phones and IIS compare case-insensitively.
    match_key: Mapped[str] = mapped_column(String(400), unique=True)
    device_type: Mapped[str] = mapped_column(String(64))
    brand: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    revision: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(64))
    update_type: Mapped[str] = mapped_column(String(64), default="CPE")
    approved_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pending_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    restore_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    restored: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class FirmwareImage(Base):
    __tablename__ = "firmware_images"
    __table_args__ = (UniqueConstraint("match_key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # A rule's match_key, or "ocinterim/<locale>" for OCS 2007 R2 interim files.
    match_key: Mapped[str] = mapped_column(String(400), index=True)
    path: Mapped[str] = mapped_column(String(400))  # "UCPhone/Polycom/CX700/A/ENU" as imported
    version: Mapped[str] = mapped_column(String(64))
    min_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timestamp: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    files: Mapped[list[FirmwareFile]] = relationship(
        back_populates="image", cascade="all, delete-orphan", lazy="selectin"
    )


class FirmwareFile(Base):
    __tablename__ = "firmware_files"
    __table_args__ = (UniqueConstraint("image_id", "path_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("firmware_images.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(400))  # "CPE/CPE.nbt"
    path_key: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    image: Mapped[FirmwareImage] = relationship(back_populates="files")


class TestDevice(Base):
    __tablename__ = "update_test_devices"
    __table_args__ = (UniqueConstraint("identifier_type", "identifier", "site"),)
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier_type: Mapped[str] = mapped_column(String(16))  # "mac" or "serial"
    identifier: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64), default="")  # "" = global
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class CheckInSample(Base):
    """Raw check-in bodies, a bounded number per model: the capture a real phone will settle."""

    __tablename__ = "update_checkin_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_key: Mapped[str] = mapped_column(String(200), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    content_type: Mapped[str] = mapped_column(String(200))
    user_agent: Mapped[str] = mapped_column(String(300))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class CatalogGeneration(Base):
    """One row whose counter database triggers bump on every change to rules, images, files and test
    devices (migration updates_0002), so each node knows when its in-memory catalog is out of date."""

    __tablename__ = "update_catalog"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
