"""``Codesets``: the releases in force on a date of service, opened read-only, behind one object.

Why one facade: the encoder, the claim editors and the CLI all ask "what does the code book say on this
date?". They get the Tabular, Index, tables, PCS, HCPCS and validity readers of the right releases, plus a
record of which releases answered, so every result can cite its source and be re-derived later.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from medcoder.codesets.build import existing_meta, kb_path
from medcoder.codesets.kbfile import open_kb
from medcoder.codesets.releases import ReleaseChoice, check_date, choose
from medcoder.codesets.sources import Release, catalog, find_release
from medcoder.errors import ReleaseError
from medcoder.settings import Settings, get_settings

if TYPE_CHECKING:
    from medcoder.codesets.cpt import Cpt
    from medcoder.codesets.hcc import Hcc
    from medcoder.codesets.hcpcs import Hcpcs
    from medcoder.codesets.icd10cm_index import AlphabeticIndex
    from medcoder.codesets.icd10cm_tabular import Tabular
    from medcoder.codesets.icd10pcs_reader import Pcs
    from medcoder.codesets.mce import Mce
    from medcoder.codesets.msdrg import MsDrg
    from medcoder.codesets.ncci_aoc import NcciAoc
    from medcoder.codesets.ncci_mue import NcciMue
    from medcoder.codesets.ncci_ptp import NcciPtp
    from medcoder.codesets.pfs_reader import Pfs
    from medcoder.codesets.tables import Tables

CPT_KIND = "cpt"
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseUse:
    """Which release answered for a kind, and whether it is the one in force on the date asked."""

    kind: str
    release: str
    title: str
    in_force: bool | None
    note: str | None = None


def built_releases(settings: Settings) -> list[Release]:
    return [r for r in catalog() if kb_path(r, settings).exists()]


@dataclass(kw_only=True)
class Codesets:
    """Readers over the knowledge bases of one set of releases; cheap to keep, safe to share read-only."""

    settings: Settings
    day: date | None
    choices: dict[str, ReleaseChoice]
    _conns: dict[str, sqlite3.Connection] = field(default_factory=dict, repr=False)
    pool: ReaderPool | None = field(default=None, repr=False)
    """Connections and readers shared with other ``Codesets`` of the same knowledge bases (``share``)."""

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def for_date(cls, day: date, *, settings: Settings | None = None) -> Codesets:
        """The releases in force on a date of service (fiscal years from Oct 1, April updates, quarters)."""
        settings = settings or get_settings()
        available = built_releases(settings)
        if not available:
            raise ReleaseError("no knowledge base is built", code="E403", where=str(settings.kb_dir),
                               fix="Run 'medcoder data build'")
        check_date(day, _horizon(available))
        kinds = sorted({r.kind for r in available})
        return cls(settings=settings, day=day, choices={k: choose(k, day, available) for k in kinds})

    @classmethod
    def newest(cls, *, settings: Settings | None = None) -> Codesets:
        """The newest release of every kind: the default when no date of service is given."""
        settings = settings or get_settings()
        available = built_releases(settings)
        if not available:
            raise ReleaseError("no knowledge base is built", code="E403", where=str(settings.kb_dir),
                               fix="Run 'medcoder data build'")
        choices = {}
        for kind in sorted({r.kind for r in available}):
            newest = max((r for r in available if r.kind == kind), key=lambda r: r.effective_from)
            choices[kind] = ReleaseChoice(release=newest, in_force=True)
        return cls(settings=settings, day=None, choices=choices)

    @classmethod
    def explicit(cls, *, settings: Settings | None = None, **release_ids: str) -> Codesets:
        """Ask for releases by id, e.g. ``Codesets.explicit(icd10pcs="FY2025")``; others are the newest."""
        base = cls.newest(settings=settings)
        for key, release_id in release_ids.items():
            kind = key.replace("_", "-")
            release = find_release(kind, release_id)
            if not kb_path(release, base.settings).exists():
                raise ReleaseError(f"{release.name} is not built", code="E405", where=release.name,
                                   fix=f"Run 'medcoder data build --only {release.name}'")
            base.choices[kind] = ReleaseChoice(release=release, in_force=True)
        return base

    # -- connections and readers --------------------------------------------------------------------
    def share(self, pool: ReaderPool) -> Codesets:
        """Take connections and readers from ``pool`` (and add those this object opens to it); returns self.

        Why: dates a few days apart choose the same release files but may differ in an in-force flag or a
        stand-in note, so a batch holds several ``Codesets`` over one Tabular, one MCE table, one fee
        schedule. A reader's lookup tables and memos depend only on its file, so one reader per file spares
        loading and warming the same tables once per ``Codesets``. Call before the first lookup."""
        self.pool = pool
        return self

    def connection(self, kind: str) -> sqlite3.Connection:
        if kind not in self._conns:
            choice = self.choices.get(kind)
            if choice is None:
                raise ReleaseError(f"no {kind} knowledge base is built", code="E403", where=kind,
                                   fix=f"Run 'medcoder data build --only {kind}'")
            self._conns[kind] = self._reader("connection", kind,
                                             lambda: open_kb(kb_path(choice.release, self.settings)))
        return self._conns[kind]

    def _reader(self, name: str, kind: str, make: Callable[[], _R]) -> _R:
        """``make()``, or the pool's object for this file when this object shares a pool."""
        if self.pool is None:
            return make()
        release = self.release(kind)
        return self.pool.get((str(kb_path(release, self.settings)), name, kind, release.id), make)

    def release(self, kind: str) -> Release:
        return self.choices[kind].release

    @cached_property
    def tabular(self) -> Tabular:
        from medcoder.codesets.icd10cm_tabular import Tabular
        return self._reader("tabular", "icd10cm-tabular", lambda: Tabular(self.connection("icd10cm-tabular")))

    @cached_property
    def index(self) -> AlphabeticIndex:
        from medcoder.codesets.icd10cm_index import AlphabeticIndex
        return self._reader("index", "icd10cm-index", lambda: AlphabeticIndex(self.connection("icd10cm-index")))

    @cached_property
    def tables(self) -> Tables:
        """Table of Neoplasms and Table of Drugs and Chemicals (same release as the Index)."""
        from medcoder.codesets.tables import Tables
        return self._reader("tables", "icd10cm-index",
                            lambda: Tables(self.connection("icd10cm-index"), index=self.index))

    @cached_property
    def pcs(self) -> Pcs:
        from medcoder.codesets.icd10pcs_reader import Pcs
        return self._reader("pcs", "icd10pcs", lambda: Pcs(self.connection("icd10pcs")))

    @cached_property
    def hcpcs(self) -> Hcpcs:
        from medcoder.codesets.hcpcs import Hcpcs
        return self._reader("hcpcs", "hcpcs", lambda: Hcpcs(self.connection("hcpcs")))

    @cached_property
    def mce(self) -> Mce:
        from medcoder.codesets.mce import Mce
        return self._reader("mce", "mce", lambda: Mce(self.connection("mce")))

    @cached_property
    def msdrg(self) -> MsDrg:
        """MS-DRG weights (Table 5), CC/MCC lists (6I/6J) and CC exclusions (6K) of the fiscal year."""
        from medcoder.codesets.msdrg import MsDrg
        return self._reader("msdrg", "msdrg", lambda: MsDrg(self.connection("msdrg")))

    @cached_property
    def hcc(self) -> Hcc:
        """CMS-HCC/ESRD/RxHCC maps, coefficients and hierarchies of the payment year."""
        from medcoder.codesets.hcc import Hcc
        return self._reader("hcc", "hcc", lambda: Hcc(self.connection("hcc")))

    @cached_property
    def ncci_ptp(self) -> NcciPtp:
        """NCCI procedure-to-procedure edits (practitioner and hospital outpatient) of the quarter."""
        from medcoder.codesets.ncci_ptp import NcciPtp
        return self._reader("ncci_ptp", "ncci-ptp", lambda: NcciPtp(self.connection("ncci-ptp")))

    @cached_property
    def ncci_mue(self) -> NcciMue:
        """NCCI medically unlikely edits (units per line or per date of service) of the quarter."""
        from medcoder.codesets.ncci_mue import NcciMue
        return self._reader("ncci_mue", "ncci-mue", lambda: NcciMue(self.connection("ncci-mue")))

    @cached_property
    def ncci_aoc(self) -> NcciAoc:
        """NCCI add-on code edits: the primary codes each add-on code needs."""
        from medcoder.codesets.ncci_aoc import NcciAoc
        return self._reader("ncci_aoc", "ncci-aoc", lambda: NcciAoc(self.connection("ncci-aoc")))

    @cached_property
    def pfs(self) -> Pfs:
        """Physician Fee Schedule RVUs, GPCIs, localities and conversion factor of the calendar year."""
        from medcoder.codesets.pfs_reader import Pfs
        return self._reader("pfs", "pfs", lambda: Pfs(self.connection("pfs")))

    @cached_property
    def cpt(self) -> Cpt | None:
        """The user's licensed CPT file, when they loaded one (never shipped with medcoder)."""
        from medcoder.codesets.cpt import Cpt
        path = cpt_path(self.settings)
        if not path.exists():
            return None
        conn = open_kb(path)
        self._conns[CPT_KIND] = conn
        return Cpt(conn)

    def uses(self) -> list[ReleaseUse]:
        """Which release answered for each kind: recorded with every result."""
        uses = []
        for kind, choice in sorted(self.choices.items()):
            uses.append(ReleaseUse(kind=kind, release=choice.release.id, title=choice.release.title,
                                   in_force=choice.in_force if self.day else None, note=choice.note))
        return uses

    def meta(self, kind: str) -> dict[str, Any]:
        return existing_meta(kb_path(self.release(kind), self.settings)) or {}

    def close(self) -> None:
        """Close the connections this object opened (a pool's shared connections stay open for the others)."""
        if self.pool is not None:
            self._conns.clear()
            return
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


class ReaderPool:
    """Connections and readers by (file, reader, kind, release), shared by the ``Codesets`` that join it.

    Readers are read-only views of immutable files and safe to share across threads; the lock only keeps two
    threads from building the same reader twice."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str, str], Any] = {}
        self._lock = threading.RLock()

    def get(self, key: tuple[str, str, str, str], make: Callable[[], _R]) -> _R:
        hit = self._items.get(key)
        if hit is None:
            with self._lock:
                hit = self._items.get(key)
                if hit is None:
                    hit = self._items[key] = make()
        return cast(_R, hit)


def cpt_path(settings: Settings) -> Path:
    return settings.kb_dir / CPT_KIND / "user.sqlite"


def _horizon(available: list[Release]) -> date:
    """The last date the validity data answers for (the MCE table's horizon, else the newest release)."""
    mce = [r for r in available if r.kind == "mce"]
    pool = mce or available
    return max(r.effective_to for r in pool)
