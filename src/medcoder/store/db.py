"""Engines, sessions and migrations of the working database.

Why these SQLite settings: WAL lets readers run while one writer writes; foreign keys are off by default in
SQLite and must be switched on per connection; write transactions start ``BEGIN IMMEDIATE`` so two writers
queue on the lock instead of failing when one upgrades a read snapshot (``SQLITE_BUSY_SNAPSHOT``).
PostgreSQL is used by URL (``postgresql+psycopg://...``) with the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_url(home: Path) -> str:
    """The embedded default: one SQLite file in the medcoder home directory."""
    return f"sqlite:///{home / 'medcoder.sqlite'}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with foreign keys on and WAL for SQLite; plain for PostgreSQL."""
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if url.startswith("sqlite:///") and url not in ("sqlite:///", "sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


@dataclass(kw_only=True)
class Database:
    """An engine and its session factories; one per process (forked workers open their own)."""

    url: str
    engine: Engine
    _reader: sessionmaker[Session] = field(init=False, repr=False)
    _writer: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        writer_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.sqlite else self.engine
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writer = sessionmaker(bind=writer_bind, expire_on_commit=False)

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock at once (SQLite); the caller commits."""
        with self._writer() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open (and by default migrate to the newest schema) the working database at ``url``."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return Database(url=url, engine=engine)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (programmatically; no alembic.ini needed)."""
    engine = make_engine(target) if isinstance(target, str) else target
    config = _config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade(target: str | Engine, revision: str = "base") -> None:
    engine = make_engine(target) if isinstance(target, str) else target
    config = _config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def ping(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar() == 1
