"""backups: the generation row that invalidates servers' current-version caches

Revision ID: backups_0002
Revises: backups_0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "backups_0002"
down_revision: str | Sequence[str] | None = "backups_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "backup_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("writer", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_generation")),
    )
    op.bulk_insert(table, [{"id": 1, "number": 0}])


def downgrade() -> None:
    op.drop_table("backup_generation")
