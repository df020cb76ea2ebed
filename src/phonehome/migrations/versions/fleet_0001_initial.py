"""fleet: the device inventory

Revision ID: fleet_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phonehome.db import UtcDateTime

revision: str = "fleet_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("fleet",)
depends_on: str | Sequence[str] | None = "kernel_0001"


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mac", sa.String(length=32), nullable=True),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("device_type", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=False),
        sa.Column("last_offer", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("mac", name=op.f("uq_devices_mac")),
    )
    op.create_index(op.f("ix_devices_model"), "devices", ["model"], unique=False)
    op.create_index(op.f("ix_devices_serial"), "devices", ["serial"], unique=False)


def downgrade() -> None:
    op.drop_table("devices")
