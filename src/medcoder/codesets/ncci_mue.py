"""NCCI medically unlikely edits (MUE): the most units of a code one provider reports for one patient.

Why the adjudication indicator is kept with each value: CMS applies an MUE either per claim line (MAI 1) or
to the units of all lines of the date of service (MAI 2, an absolute policy limit; MAI 3, a clinical limit
that an appeal with documentation may overturn). The same number means different things under each, so the
claim editor needs both.

The CMS CSV opens with the AMA copyright notice spread over several physical lines (one quoted cell) and a
header whose first cell holds a line break (``"HCPCS/\\nCPT Code"``); the header is found by its cells, with
whitespace collapsed, rather than by position.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError
from medcoder.model.frozen import quick_init

BUILDER_VERSION = 1

MueSetting = Literal["practitioner", "outpatient", "dme"]
ADJUDICATION: dict[int, str] = {1: "line edit", 2: "date of service edit: policy", 3: "date of service edit: clinical"}
"""MUE adjudication indicators (MAI): 1 per line; 2 and 3 per date of service."""

_HEADER = ("HCPCS/CPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator", "MUE Rationale")
_CODE = re.compile(r"[0-9A-Z]{5}")
_MAI = re.compile(r"([123]) \S.*")
_FIX_REFETCH = "The file is damaged or is not the NCCI MUE table medcoder pins; fetch it again"

_SCHEMA = """
CREATE TABLE mue (
  setting TEXT NOT NULL,          -- 'practitioner' (the outpatient hospital and DME tables are other files)
  code TEXT NOT NULL,             -- HCPCS/CPT code
  mue INTEGER NOT NULL,           -- most units of service reportable (0 = none payable)
  mai INTEGER NOT NULL CHECK (mai IN (1, 2, 3)),
  mai_text TEXT NOT NULL,         -- as printed, e.g. '2 Date of Service Edit: Policy'
  rationale TEXT NOT NULL,
  PRIMARY KEY (setting, code)
) WITHOUT ROWID;
"""


def _collapse(text: str) -> str:
    """'HCPCS/\\nCPT Code' -> 'HCPCS/CPT Code': line breaks inside a header cell carry no meaning."""
    return re.sub(r"\s*/\s*", "/", " ".join(text.split()))


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Data rows after the header row, with the physical line each ends on."""
    with path.open(encoding="cp1252", newline="") as handle:  # the notice's (R) sign is Windows-1252
        reader = csv.reader(handle)
        header_seen = False
        try:
            for cells in reader:
                line = reader.line_num
                if not header_seen:
                    got = tuple(_collapse(c) for c in cells)
                    if got[:1] == _HEADER[:1]:
                        if got != _HEADER:
                            raise BuildError(f"unexpected header {list(got)}, expected {list(_HEADER)}",
                                             code="E201", where=f"{path}:{line}", fix=_FIX_REFETCH)
                        header_seen = True
                    continue
                if any(c.strip() for c in cells):
                    yield line, cells
        except (UnicodeDecodeError, csv.Error) as e:
            raise BuildError(f"unreadable CSV: {e}", code="E202", where=f"{path}:{reader.line_num}",
                             fix=_FIX_REFETCH) from e
        if not header_seen:
            raise BuildError(f"no header row {list(_HEADER)} found", code="E201", where=str(path),
                             fix=_FIX_REFETCH)


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    path = files["practitioner_csv"]
    rows: dict[str, tuple[str, str, int, int, str, str]] = {}
    for line, cells in _rows(path):
        where = f"{path}:{line}"
        if len(cells) != len(_HEADER):
            raise BuildError(f"row has {len(cells)} fields, expected {len(_HEADER)}: {cells!r}", code="E202",
                             where=where, fix=_FIX_REFETCH)
        code, value, mai_text, rationale = (c.strip() for c in cells)
        if not _CODE.fullmatch(code):
            raise BuildError(f"{code!r} is not a HCPCS/CPT code", code="E202", where=where, fix=_FIX_REFETCH)
        if not value.isdigit():
            raise BuildError(f"MUE value {value!r} of {code} is not a whole number of units", code="E202",
                             where=where, fix=_FIX_REFETCH)
        mai = _MAI.fullmatch(mai_text)
        if mai is None:
            raise BuildError(f"adjudication indicator {mai_text!r} of {code} does not start with 1, 2 or 3",
                             code="E202", where=where, fix=_FIX_REFETCH)
        if not rationale:
            raise BuildError(f"{code} has no MUE rationale", code="E202", where=where, fix=_FIX_REFETCH)
        if code in rows:
            raise BuildError(f"{code} is listed twice", code="E243", where=where, fix=_FIX_REFETCH)
        rows[code] = ("practitioner", code, int(value), int(mai[1]), mai_text, rationale)
    if not rows:
        raise BuildError("the MUE table has a header but no row", code="E201", where=str(path), fix=_FIX_REFETCH)
    conn.executemany("INSERT INTO mue VALUES (?,?,?,?,?,?)", list(rows.values()))
    counts = {"practitioner_codes": len(rows)}
    for indicator in ADJUDICATION:
        counts[f"mai_{indicator}"] = sum(1 for r in rows.values() if r[3] == indicator)
    progress(f"ncci-mue: {len(rows):,} practitioner MUEs")
    return counts


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class MueLimit:
    """The MUE of one code: at most ``value`` units per line (MAI 1) or per date of service (MAI 2, 3)."""

    setting: MueSetting
    code: str
    value: int
    adjudication_indicator: int
    """1 line edit; 2 date-of-service edit, policy; 3 date-of-service edit, clinical."""
    adjudication: str
    """The indicator as CMS prints it, e.g. ``2 Date of Service Edit: Policy``."""
    rationale: str

    @property
    def per_day(self) -> bool:
        """MAI 2 and 3 count the units of every line of the date of service."""
        return self.adjudication_indicator in (2, 3)


class NcciMue:
    """Reader: the MUE of a code in a setting (this release holds the practitioner table only)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # The KB is read-only (opened immutable): answers are memoised per release.
        self._settings: tuple[str, ...] | None = None
        self._limits: dict[tuple[str, str], MueLimit | None] = {}
        self._rows: dict[tuple[str, str], tuple[int, int, str, str]] | None = None

    def settings(self) -> tuple[str, ...]:
        if self._settings is None:
            self._settings = tuple(s for (s,) in self._conn.execute(
                "SELECT DISTINCT setting FROM mue ORDER BY setting"))
        return self._settings

    def mue(self, code: str, *, setting: MueSetting = "practitioner") -> MueLimit | None:
        limits = self._limits if self._limits else self._every_limit()
        key = (setting, code)
        try:
            return limits[key]
        except KeyError:  # a code without MUE, or another spelling
            found = limits[key] = self._mue(code, setting)
            return found

    def _every_limit(self) -> dict[tuple[str, str], MueLimit | None]:
        """``mue``'s memo, filled with every code of the release as the table spells it (15,000 limits, once per
        release): claims bring codes not asked before all the time, and each cost a look-up and a new MueLimit."""
        for setting, code in self._table():
            self._limits[(setting, code)] = self._mue(code, cast(MueSetting, setting))
        return self._limits

    def _mue(self, code: str, setting: MueSetting) -> MueLimit | None:
        row = self._table().get((setting, code.strip().upper()))
        if row is None:
            return None
        return MueLimit(setting=setting, code=code.strip().upper(), value=row[0], adjudication_indicator=row[1],
                        adjudication=row[2], rationale=row[3])

    def _table(self) -> dict[tuple[str, str], tuple[int, int, str, str]]:
        """Every row of the release, read in one query (15,000 rows) instead of one query per new code."""
        if self._rows is None:
            self._rows = {(setting, code): (mue, mai, mai_text, rationale) for setting, code, mue, mai, mai_text,
                          rationale in self._conn.execute("SELECT setting, code, mue, mai, mai_text, rationale "
                                                          "FROM mue")}
        return self._rows

    def counts(self) -> dict[str, int]:
        return {f"{s}_codes": n for s, n in self._conn.execute("SELECT setting, count(*) FROM mue GROUP BY setting")}
