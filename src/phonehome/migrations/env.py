"""Alembic environment: always handed a live connection by :mod:`phonehome.db`."""

from alembic import context

import phonehome.models  # noqa: F401  (registers every table on Base.metadata)
from phonehome.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("phonehome migrations run through phonehome.db.Database.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
