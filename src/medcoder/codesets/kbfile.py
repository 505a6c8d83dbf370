"""One knowledge-base file per (kind, release): how it is created, opened and described.

Why SQLite files opened ``immutable``: reference data never changes after a build, so readers need no
locks and many processes can share the page cache (datasette's habit). A build writes to a temporary file
and is renamed into place only when complete, so a failed build never replaces a good one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

KB_FORMAT = 1
"""Bumped whenever a builder's schema or parsing changes, so that existing KBs are rebuilt."""

Progress = Callable[[str], None]
"""Builders report what they are doing with short messages ("tabular: 12,000 codes")."""


class Builder(Protocol):
    """What every code-set parser module exposes as ``build``."""

    def __call__(self, conn: sqlite3.Connection, files: Mapping[str, Path], *,
                 progress: Progress) -> dict[str, int]: ...


def create_kb(path: Path) -> sqlite3.Connection:
    """Open a new, empty KB file for writing with settings tuned for a one-shot bulk load."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA page_size=8192")
    conn.execute(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    return conn


def write_meta(conn: sqlite3.Connection, meta: Mapping[str, Any]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        [(k, json.dumps(v, sort_keys=True, default=str)) for k, v in meta.items()],
    )


def open_kb(path: Path) -> sqlite3.Connection:
    """Open a built KB read-only; safe to share across threads for reading."""
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
