"""pki: issued certificates, SCEP challenges and transactions

Revision ID: pki_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from phonehome.db import UtcDateTime

revision: str = "pki_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pki",)
depends_on: str | Sequence[str] | None = "kernel_0001"


def upgrade() -> None:
    op.create_table(
        "pki_certificates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("account", sa.String(128), nullable=True),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("not_before", UtcDateTime(), nullable=False),
        sa.Column("not_after", UtcDateTime(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("transaction_id", sa.String(256), nullable=True),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_pki_certificates_serial")),
        sa.UniqueConstraint("sha256", name=op.f("uq_pki_certificates_sha256")),
    )
    op.create_index(op.f("ix_pki_certificates_account"), "pki_certificates", ["account"])
    op.create_table(
        "pki_scep_challenges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("password_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("used_by", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_scep_challenges")),
        sa.UniqueConstraint("password_sha256", name=op.f("uq_pki_scep_challenges_password_sha256")),
    )
    op.create_index(op.f("ix_pki_scep_challenges_account"), "pki_scep_challenges", ["account"])
    op.create_table(
        "pki_scep_transactions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("transaction_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("account", sa.String(128), nullable=True),
        sa.Column("csr_der", sa.LargeBinary(), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("serial", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(512), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_scep_transactions")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_pki_scep_transactions_transaction_id")),
    )


def downgrade() -> None:
    op.drop_table("pki_scep_transactions")
    op.drop_index(op.f("ix_pki_scep_challenges_account"), table_name="pki_scep_challenges")
    op.drop_table("pki_scep_challenges")
    op.drop_index(op.f("ix_pki_certificates_account"), table_name="pki_certificates")
    op.drop_table("pki_certificates")
