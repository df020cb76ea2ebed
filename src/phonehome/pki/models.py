"""PKI tables: certificates phonehome issued, SCEP challenges and SCEP transactions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from phonehome.db import Base, UtcDateTime, utcnow


class IssuedCertificate(Base):
    """Every certificate the CA signed: the server's and each device's (mapped to its account)."""

    __tablename__ = "pki_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # hex, upper case
    kind: Mapped[str] = mapped_column(String(16))  # "device" | "server"
    subject: Mapped[str] = mapped_column(String(512))
    account: Mapped[str | None] = mapped_column(String(128), index=True)
    issuer: Mapped[str] = mapped_column(String(512))
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # DER fingerprint, lower-case hex
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    transaction_id: Mapped[str | None] = mapped_column(String(256))
    pem: Mapped[str] = mapped_column(Text)


class ScepChallenge(Base):
    """A one-time SCEP challenge password for one account; only its SHA-256 is stored."""

    __tablename__ = "pki_scep_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(128), index=True)
    password_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    used_by: Mapped[str | None] = mapped_column(String(256))  # SCEP transaction id


class ScepTransaction(Base):
    """A SCEP enrolment by transaction id: issued, pending an admin, or rejected."""

    __tablename__ = "pki_scep_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(256), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # "issued" | "pending" | "rejected"
    account: Mapped[str | None] = mapped_column(String(128))
    csr_der: Mapped[bytes] = mapped_column(LargeBinary)
    key_sha256: Mapped[str] = mapped_column(String(64))  # of the CSR's public key: retransmits match it
    serial: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
