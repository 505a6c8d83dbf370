"""A builder that fails midway, to prove a failed build leaves the previous knowledge base intact."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from medcoder.codesets.kbfile import Progress

BUILDER_VERSION = 999
RAISE: type[BaseException] = RuntimeError


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.execute("CREATE TABLE half (x)")
    conn.execute("INSERT INTO half VALUES (1)")
    raise RAISE("simulated failure halfway through the build")
