"""NCCI add-on code (AOC) edits: which primary codes each add-on code may be billed with, and since when.

Why each row keeps its own dates: an add-on code's edit type and primary list change over the years (20701
had a type 1 list until 2022 and a type 3 list from 2023), and a claim is edited with the rows in force on
its date of service. CMS writes the dates as Julian ``YYYYDDD`` (``2013091`` = 2013-04-01); they are stored
as ``YYYYMMDD``. A deletion date is the last date the row applies to (``2022365`` = 2022-12-31, with the
successor row starting ``2023001``).

Edit types (CMS AOC edit file): 1 only the listed primary codes; 2 no primary list, the payer (MAC)
defines the primaries (the file writes primary ``CCCCC``); 3 some primaries listed, the MAC may allow others.
"""

from __future__ import annotations

import re
import sqlite3
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError
from medcoder.model.frozen import quick_init

BUILDER_VERSION = 1

CONTRACTOR_DEFINED = "CCCCC"
"""The file's placeholder primary code: 'Contractor Defined Primary Codes'."""
NOT_DELETED = 99991231
EDIT_TYPES: dict[int, str] = {
    1: "only the listed primary codes",
    2: "primary codes defined by the payer (no CMS list)",
    3: "listed primary codes, and others the payer may allow",
}

_HEADER = ("AOC_Edit_Type", "Add-On_Code", "AOC_DelDT", "Primary_Code", "Primary_Code_DelDT", "AOC_Edit_EffDT",
           "AOC_Edit_DelDT", "Special_Instruction_Notes")
_CODE = re.compile(r"[0-9A-Z]{5}")
_JULIAN = re.compile(r"(\d{4})(\d{3})")
_FIX_REFETCH = "The file is damaged or is not the NCCI add-on code table medcoder pins; fetch it again"

_SCHEMA = """
CREATE TABLE aoc (
  addon TEXT NOT NULL,
  primary_code TEXT NOT NULL,        -- 'CCCCC' = contractor-defined primaries
  effective INTEGER NOT NULL,        -- YYYYMMDD, AOC_Edit_EffDT
  edit_type INTEGER NOT NULL CHECK (edit_type IN (1, 2, 3)),
  deleted INTEGER NOT NULL,          -- YYYYMMDD, AOC_Edit_DelDT (last date in force); 99991231 = none
  addon_deleted INTEGER NOT NULL,    -- AOC_DelDT: the add-on code itself ended
  primary_deleted INTEGER NOT NULL,  -- Primary_Code_DelDT: the primary code itself ended
  note TEXT,                         -- Special_Instruction_Notes
  PRIMARY KEY (addon, primary_code, effective)
) WITHOUT ROWID;
"""
# Key columns first, in key order (SQLite 3.40's integrity check misreads WITHOUT ROWID tables otherwise).


def _day(on: date) -> int:
    return on.year * 10000 + on.month * 100 + on.day


def _julian(value: object, column: str, where: str, *, required: bool) -> int:
    """``YYYYDDD`` (day of year) -> ``YYYYMMDD``; empty -> 99991231 unless required."""
    text = "" if value is None else str(value).strip()
    if not text and not required:
        return NOT_DELETED
    m = _JULIAN.fullmatch(text)
    if m is not None:
        year, day = int(m[1]), int(m[2])
        first = date(year, 1, 1) if 1900 <= year <= 2999 else None
        if first is not None and 1 <= day <= (first.replace(year=year + 1) - first).days:
            return _day(first + timedelta(days=day - 1))
    raise BuildError(f"{column} {text!r} is not a Julian date YYYYDDD", code="E202", where=where,
                     fix=_FIX_REFETCH)


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def _read(path: Path) -> list[tuple[str, str, int, int, int, int, int, str | None]]:
    import openpyxl  # only the AOC builder needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and XML errors for a damaged workbook
        raise BuildError(f"not a readable xlsx workbook: {e}", code="E202", where=str(path),
                         fix=_FIX_REFETCH) from e
    rows: dict[tuple[str, str, int], tuple[str, str, int, int, int, int, int, str | None]] = {}
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            where = f"{path}:{number}"
            cells = tuple(_cell(v) for v in values)
            if number == 1:
                continue  # the AMA CPT copyright notice
            if number == 2:
                if cells[:len(_HEADER)] != _HEADER:
                    raise BuildError(f"unexpected header {list(cells)}, expected {list(_HEADER)}", code="E201",
                                     where=where, fix=_FIX_REFETCH)
                continue
            if not any(cells):
                continue
            if len(cells) < len(_HEADER) or any(cells[len(_HEADER):]):
                raise BuildError(f"row has {len(cells)} cells, expected {len(_HEADER)}", code="E202",
                                 where=where, fix=_FIX_REFETCH)
            kind, addon, addon_del, primary, primary_del, effective, deleted, note = cells[:len(_HEADER)]
            if kind not in ("1", "2", "3"):
                raise BuildError(f"AOC_Edit_Type {kind!r} is not 1, 2 or 3", code="E202", where=where,
                                 fix=_FIX_REFETCH)
            for column, code in (("Add-On_Code", addon), ("Primary_Code", primary)):
                if not _CODE.fullmatch(code):
                    raise BuildError(f"{column} {code!r} is not a HCPCS/CPT code", code="E202", where=where,
                                     fix=_FIX_REFETCH)
            if (kind == "1" and primary == CONTRACTOR_DEFINED) or (kind == "2" and primary != CONTRACTOR_DEFINED):
                raise BuildError(f"edit type {kind} with primary {primary}: type 2 edits list no primary code "
                                 f"({CONTRACTOR_DEFINED}), type 1 edits only real ones", code="E202", where=where,
                                 fix=_FIX_REFETCH)
            start = _julian(effective, "AOC_Edit_EffDT", where, required=True)
            row = (addon, primary, start, int(kind), _julian(deleted, "AOC_Edit_DelDT", where, required=False),
                   _julian(addon_del, "AOC_DelDT", where, required=False),
                   _julian(primary_del, "Primary_Code_DelDT", where, required=False), note or None)
            if row[4] < start:  # AOC_Edit_DelDT before AOC_Edit_EffDT
                raise BuildError(f"edit {addon}/{primary} ends before it starts", code="E202", where=where,
                                 fix=_FIX_REFETCH)
            if (addon, primary, start) in rows:
                raise BuildError(f"edit {addon}/{primary} effective {effective} is listed twice", code="E243",
                                 where=where, fix=_FIX_REFETCH)
            rows[(addon, primary, start)] = row
        if not rows:
            raise BuildError("the workbook holds no AOC edit", code="E201", where=str(path), fix=_FIX_REFETCH)
    finally:
        book.close()
    return list(rows.values())


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    rows = _read(files["aoc_xlsx"])
    conn.executemany("INSERT INTO aoc VALUES (?,?,?,?,?,?,?,?)", rows)
    counts = {"rows": len(rows), "addon_codes": len({r[0] for r in rows})}
    for kind in EDIT_TYPES:
        counts[f"type_{kind}_rows"] = sum(1 for r in rows if r[3] == kind)
    progress(f"ncci-aoc: {len(rows):,} add-on code edits for {counts['addon_codes']:,} add-on codes")
    return counts


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AocRule:
    """What an add-on code needs on a date of service."""

    addon: str
    edit_type: int
    """1 only ``primaries``; 2 payer-defined primaries (``primaries`` empty); 3 ``primaries`` and others the
    payer allows."""
    primaries: tuple[str, ...]
    contractor_defined: bool = False
    """The file lists ``CCCCC``: the payer (MAC) defines primary codes beyond any listed."""
    notes: tuple[str, ...] = ()


_AocRow = tuple[str, int, str | None, int, int, int, int]
"""(primary code, edit type, note, effective, deleted, add-on deleted, primary deleted) of one edit row."""


class NcciAoc:
    """Reader: is a code an add-on code on a date, and which primary codes it may be billed with."""

    _ACTIVE = "addon=? AND effective<=? AND deleted>=? AND addon_deleted>=?"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # The KB is read-only (opened immutable): each add-on code's rules are worked out once, period by period.
        self._periods: dict[str, tuple[list[int], list[AocRule | None]]] = {}
        self._by_addon: dict[str, tuple[_AocRow, ...]] | None = None

    def _rows(self) -> dict[str, tuple[_AocRow, ...]]:
        """Every row of the release by add-on code, read in one query (9,000 rows, 830 add-on codes): most
        codes a claim bills are no add-on code at all, and a dict answers that without a query per date."""
        if self._by_addon is None:
            grouped: dict[str, list[_AocRow]] = {}
            for row in self._conn.execute("SELECT addon, primary_code, edit_type, note, effective, deleted, "
                                          "addon_deleted, primary_deleted FROM aoc ORDER BY addon, primary_code"):
                grouped.setdefault(row[0], []).append(row[1:])
            self._by_addon = {addon: tuple(rows) for addon, rows in grouped.items()}
        return self._by_addon

    def is_addon(self, code: str, on: date) -> bool:
        day = _day(on)
        return self._conn.execute(f"SELECT 1 FROM aoc WHERE {self._ACTIVE} LIMIT 1",
                                  (code.strip().upper(), day, day, day)).fetchone() is not None

    def primaries(self, addon: str, on: date) -> AocRule | None:
        """The add-on code's rule in force on ``on``; ``None`` when it is not an add-on code then."""
        return self.rule_on(addon.strip().upper(), on)

    def rule_on(self, code: str, on: date) -> AocRule | None:
        """``primaries`` of a code already stripped and upper-cased (the NCCI rule set's line codes are): the
        rule set asks it of every line, and most codes are no add-on code at all."""
        rows = self._by_addon if self._by_addon is not None else self._rows()
        if code not in rows:
            return None
        periods = self._periods.get(code)
        if periods is None:
            periods = self._periods[code] = self._periods_of(code)
        starts, rules = periods
        return rules[bisect_right(starts, _day(on)) - 1]

    def _periods_of(self, code: str) -> tuple[list[int], list[AocRule | None]]:
        """The code's rule period by period: (first days, the rule from each until the next; None before the
        first). The rows in force change only on a row's effective day or the day after one of its three
        deletion dates, so one rule per period answers every date of service (claims bring new dates all the
        time; a code has a handful of periods)."""
        changes = {0}
        for _, _, _, effective, deleted, addon_deleted, primary_deleted in self._rows()[code]:
            # day <= deleted <=> day < deleted + 1, on the YYYYMMDD integers (deleted + 1 need not be a date)
            changes.update((effective, deleted + 1, addon_deleted + 1, primary_deleted + 1))
        starts = sorted(changes)
        return starts, [self._rule_at(code, day) for day in starts]

    def _rule_at(self, addon: str, day: int) -> AocRule | None:
        """The rule of the rows in force on ``day`` (YYYYMMDD), ``None`` when none is."""
        # The ``_ACTIVE`` and ``primary_deleted`` conditions, on the rows held in primary-code order.
        rows = [(p, t, n) for p, t, n, effective, deleted, addon_deleted, primary_deleted
                in self._rows().get(addon, ())
                if effective <= day and deleted >= day and addon_deleted >= day and primary_deleted >= day]
        if not rows:
            return None
        types = {t for _, t, _ in rows}
        # One type per add-on code and date in the 2026-Q2 file; were two ever in force, the one that lets a
        # payer accept more primaries is kept, so the editor never reports an error CMS would not.
        kind = 2 if 2 in types else 3 if 3 in types else 1
        primaries = tuple(p for p, _, _ in rows if p != CONTRACTOR_DEFINED)
        notes = tuple(sorted({n for _, _, n in rows if n}))
        return AocRule(addon=addon, edit_type=kind, primaries=primaries, notes=notes,
                       contractor_defined=any(p == CONTRACTOR_DEFINED for p, _, _ in rows))

    def counts(self) -> dict[str, int]:
        one = self._conn.execute
        return {"rows": one("SELECT count(*) FROM aoc").fetchone()[0],
                "addon_codes": one("SELECT count(DISTINCT addon) FROM aoc").fetchone()[0]}
