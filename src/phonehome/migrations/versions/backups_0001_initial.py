"""backups: accounts, files, versions

Revision ID: backups_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phonehome.db import UtcDateTime

revision: str = "backups_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("backups",)
depends_on: str | Sequence[str] | None = "kernel_0001"


def upgrade() -> None:
    op.create_table(
        "backup_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("mac", sa.String(12), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_backup_accounts_name")),
        sa.UniqueConstraint("mac", name=op.f("uq_backup_accounts_mac")),
    )
    op.create_table(
        "backup_files",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_files")),
        sa.UniqueConstraint("name", name=op.f("uq_backup_files_name")),
    )
    op.create_index(op.f("ix_backup_files_owner"), "backup_files", ["owner"])
    op.create_table(
        "backup_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("peer", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["backup_files.id"],
            name=op.f("fk_backup_versions_file_id_backup_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_versions")),
        sa.UniqueConstraint("file_id", "number", name=op.f("uq_backup_versions_file_id")),
    )
    op.create_index(op.f("ix_backup_versions_file_id"), "backup_versions", ["file_id"])
    op.create_index(op.f("ix_backup_versions_sha256"), "backup_versions", ["sha256"])


def downgrade() -> None:
    op.drop_table("backup_versions")
    op.drop_table("backup_files")
    op.drop_table("backup_accounts")
