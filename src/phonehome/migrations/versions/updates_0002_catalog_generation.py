"""updates: the catalog generation, bumped by triggers on rules, images, files and test devices

Every node answers check-ins from an in-memory snapshot of these four tables and reloads it when the
generation moves. Triggers rather than application code bump it, so no writer (the CLI, a future
endpoint, an admin's SQL) can change the catalog without the nodes noticing.

Revision ID: updates_0002
Revises: updates_0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "updates_0002"
down_revision: str | Sequence[str] | None = "updates_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("update_rules", "firmware_images", "firmware_files", "update_test_devices")
_BUMP = "UPDATE update_catalog SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "update_catalog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO update_catalog (id, generation) VALUES (1, 1)")
    if op.get_context().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_catalog_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {_BUMP}; END"
                )
    else:
        # Once per statement, not per row: an import inserting hundreds of files bumps it once.
        op.execute(
            "CREATE FUNCTION update_catalog_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION update_catalog_bump()"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog ON {table}")
        op.execute("DROP FUNCTION IF EXISTS update_catalog_bump()")
    op.drop_table("update_catalog")
