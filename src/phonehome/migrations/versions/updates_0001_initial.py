"""updates: rules, firmware images and files, test devices, check-in samples

Revision ID: updates_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phonehome.db import UtcDateTime

revision: str = "updates_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("updates",)
depends_on: str | Sequence[str] | None = "kernel_0001"


def upgrade() -> None:
    op.create_table(
        "update_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("match_key", sa.String(length=400), nullable=False),
        sa.Column("device_type", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=64), nullable=False),
        sa.Column("update_type", sa.String(length=64), nullable=False),
        sa.Column("approved_version", sa.String(length=64), nullable=True),
        sa.Column("pending_version", sa.String(length=64), nullable=True),
        sa.Column("restore_version", sa.String(length=64), nullable=True),
        sa.Column("restored", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_rules")),
        sa.UniqueConstraint("match_key", name=op.f("uq_update_rules_match_key")),
    )
    op.create_table(
        "firmware_images",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("match_key", sa.String(length=400), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("min_from", sa.String(length=64), nullable=True),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firmware_images")),
        sa.UniqueConstraint("match_key", "version", name=op.f("uq_firmware_images_match_key")),
    )
    op.create_index(op.f("ix_firmware_images_match_key"), "firmware_images", ["match_key"], unique=False)
    op.create_table(
        "firmware_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("path_key", sa.String(length=400), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["firmware_images.id"],
            name=op.f("fk_firmware_files_image_id_firmware_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firmware_files")),
        sa.UniqueConstraint("image_id", "path_key", name=op.f("uq_firmware_files_image_id")),
    )
    op.create_index(op.f("ix_firmware_files_image_id"), "firmware_files", ["image_id"], unique=False)
    op.create_index(op.f("ix_firmware_files_sha256"), "firmware_files", ["sha256"], unique=False)
    op.create_table(
        "update_test_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identifier_type", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_test_devices")),
        sa.UniqueConstraint(
            "identifier_type", "identifier", "site", name=op.f("uq_update_test_devices_identifier_type")
        ),
    )
    op.create_table(
        "update_checkin_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_key", sa.String(length=200), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_checkin_samples")),
    )
    op.create_index(
        op.f("ix_update_checkin_samples_model_key"), "update_checkin_samples", ["model_key"], unique=False
    )


def downgrade() -> None:
    op.drop_table("update_checkin_samples")
    op.drop_table("update_test_devices")
    op.drop_table("firmware_files")
    op.drop_table("firmware_images")
    op.drop_table("update_rules")
