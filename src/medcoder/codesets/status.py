"""What each release contains and lacks, and what is built: the honest inventory behind ``data status``."""

from __future__ import annotations

from typing import Any

from medcoder.codesets.build import existing_meta, kb_path
from medcoder.codesets.sources import catalog
from medcoder.settings import Settings


def release_status(settings: Settings) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for release in catalog():
        meta = existing_meta(kb_path(release, settings)) or {}
        rows.append({
            "name": release.name, "kind": release.kind, "release": release.id, "title": release.title,
            "effective_from": release.effective_from.isoformat(),
            "effective_to": release.effective_to.isoformat(),
            "contains": list(release.contains), "lacks": list(release.lacks),
            "built": bool(meta), "built_at": meta.get("built_at"), "counts": meta.get("counts", {}),
            "sources": meta.get("sources", []),
            "files": [{"key": f.key, "relpath": f.relpath, "sha256": f.sha256, "derived": f.derived,
                       "optional": f.optional, "url": f.url} for f in release.files],
        })
    return rows
