"""Build each release into its own read-only SQLite file, atomically, and only when its sources changed.

Why atomic: the knowledge base is what every code suggestion cites. A build writes ``NAME.sqlite.building``
and renames it over ``NAME.sqlite`` only after the builder finished and the file was checked, so an error or
Ctrl-C leaves the previous knowledge base in place and nothing half-built behind.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medcoder import __version__
from medcoder.codesets.fetch import describe, fetch_release
from medcoder.codesets.kbfile import KB_FORMAT, Builder, Progress, create_kb, open_kb, read_meta, write_meta
from medcoder.codesets.sources import Release, catalog
from medcoder.errors import BuildError, MedcoderError
from medcoder.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    release: Release
    path: Path
    skipped: bool
    seconds: float
    counts: dict[str, int]


def kb_path(release: Release, settings: Settings) -> Path:
    return settings.kb_dir / release.kind / f"{release.id}.sqlite"


def _builder(release: Release) -> tuple[Builder, int]:
    module = importlib.import_module(release.builder)
    return module.build, int(getattr(module, "BUILDER_VERSION", 1))


def _fingerprint(release: Release, version: int, sources: list[dict[str, object]]) -> dict[str, Any]:
    """What must be unchanged for an existing build to be reused."""
    return {"kb_format": KB_FORMAT, "builder_version": version,
            "sources": sorted((str(s["key"]), str(s["sha256"])) for s in sources)}


def existing_meta(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        conn = open_kb(path)
        try:
            return read_meta(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def build_release(release: Release, settings: Settings, *, force: bool = False,
                  progress: Progress) -> BuildResult:
    started = time.perf_counter()
    fetched = fetch_release(release, settings, progress=progress)
    sources = describe(fetched)
    builder, version = _builder(release)
    fingerprint = _fingerprint(release, version, sources)
    path = kb_path(release, settings)
    meta = existing_meta(path)
    if not force and meta is not None and meta.get("fingerprint") == json.loads(json.dumps(fingerprint)):
        progress(f"{release.name}: sources unchanged, keeping {path}")
        return BuildResult(release=release, path=path, skipped=True,
                           seconds=time.perf_counter() - started, counts=meta.get("counts", {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".building{os.getpid()}")
    conn = create_kb(tmp)
    try:
        progress(f"{release.name}: building from {len(fetched)} file(s)")
        counts = builder(conn, {k: f.path for k, f in fetched.items()}, progress=progress)
        write_meta(conn, {
            "kind": release.kind, "release": release.id, "title": release.title,
            "effective_from": release.effective_from.isoformat(),
            "effective_to": release.effective_to.isoformat(),
            "contains": list(release.contains), "lacks": list(release.lacks),
            "sources": sources, "counts": counts, "fingerprint": fingerprint,
            "medcoder_version": __version__, "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
        })
        conn.commit()
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BuildError(f"integrity check failed: {check}", code="E210", where=str(tmp))
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
        os.replace(tmp, path)
    except MedcoderError:
        raise
    except (sqlite3.Error, OSError, ValueError, KeyError) as e:
        raise BuildError(f"building {release.name} failed: {e}", code="E211", where=release.name,
                         fix="Re-run with --force after checking the source files") from e
    finally:
        conn.close()
        tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    progress(f"{release.name}: built in {seconds:.1f}s -> {path}")
    return BuildResult(release=release, path=path, skipped=False, seconds=seconds, counts=counts)


def select(kinds: list[str] | None = None) -> list[Release]:
    return [r for r in catalog() if not kinds or r.kind in kinds or r.name in kinds]


def build_all(settings: Settings, *, kinds: list[str] | None = None, force: bool = False,
              progress: Progress) -> list[BuildResult]:
    return [build_release(r, settings, force=force, progress=progress) for r in select(kinds)]
