"""Alembic migrations of the working database, run programmatically by ``medcoder.store.db.upgrade``."""
