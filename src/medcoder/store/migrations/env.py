"""Alembic environment: always given a live connection by ``medcoder.store.db.upgrade``."""

from __future__ import annotations

from alembic import context

from medcoder.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI directly
    raise RuntimeError("run migrations with medcoder.store.db.upgrade(url)")
# render_as_batch: SQLite cannot ALTER most constraints; batch mode copies the table instead.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
