"""NCCI procedure-to-procedure (PTP) edits: the column 1 / column 2 code pairs of one quarterly release.

Why this layout: the practitioner and hospital-outpatient tables hold 4.3 million rows, and a claim asks
one question of them ("which pairs among these 12 codes are edits on this date?"). One ``WITHOUT ROWID``
table keyed (setting, column 1, column 2, deletion date, rationale) answers it with a few index probes
(under a millisecond for a 20-code claim). Its 13,000 codes and twelve rationale texts are numbered in
lookup tables, so a row takes about 22 bytes and the 340 MB of source text builds into 95 MB.

Dates: the CMS deletion date is the *last* date of service the edit applies to. The evidence is in the
table itself: edits deleted by a quarterly release carry that quarter's eve (20240630 in the 2024-07-01
release, 20191231 for edits dropped on 2020-01-01), and a pair deleted and re-added shows ``20191231`` on
its old row. An edit therefore applies when ``deletion_date >= date of service``; ``99991231`` (CMS ``*``)
means not deleted. The mirrored tables lack the CMS effective-date column, so an edit added after a date of
service cannot be told from an older one (the catalog entry says so).
"""

from __future__ import annotations

import lzma
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError
from medcoder.model.frozen import quick_init
from medcoder.model.memo import remember

BUILDER_VERSION = 1

PtpSetting = Literal["practitioner", "outpatient"]
SETTINGS: tuple[PtpSetting, ...] = ("practitioner", "outpatient")
NOT_DELETED = 99991231
"""CMS prints ``*`` (no deletion date); the mirrored CSV writes 99991231."""

_FILES: dict[PtpSetting, str] = {"practitioner": "practitioner_csv", "outpatient": "outpatient_csv"}
_HEADER = "column_1,column_2,deletion_date,modifier_indicator,ptp_edit_rationale"
_ROW = re.compile(r"([0-9A-Z]{5}),([0-9A-Z]{5}),(\d{8}),([019]),([^,\"\r\n]+)")
_ROWS = re.compile("^" + _ROW.pattern + r"\r?$", re.MULTILINE)
_NOT_DELETED_TEXT = str(NOT_DELETED)
_BLOCK = 1 << 22
"""Characters decompressed and matched at a time (about 90,000 rows)."""
_FIX_REFETCH = "The file is damaged or is not the NCCI PTP table medcoder pins; fetch it again"

_SCHEMA = """
CREATE TABLE ptp_setting (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE ptp_rationale (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE ptp_code (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE ptp (
  setting INTEGER NOT NULL,               -- ptp_setting.id
  column_1 INTEGER NOT NULL,              -- ptp_code.id of the comprehensive code (payable)
  column_2 INTEGER NOT NULL,              -- ptp_code.id of the component code (denied unless bypassed)
  deletion_date INTEGER NOT NULL,         -- YYYYMMDD, last date of service the edit applies; 99991231 = none
  rationale INTEGER NOT NULL,             -- ptp_rationale.id
  modifier_indicator INTEGER NOT NULL,    -- 0 not allowed, 1 allowed, 9 not applicable
  PRIMARY KEY (setting, column_1, column_2, deletion_date, rationale)
) WITHOUT ROWID;
"""
# Key columns come first, in key order: SQLite 3.40's integrity check misreads NOT NULL columns of a WITHOUT
# ROWID table whose declared order differs from its on-disk (key first) order, and fails every build.


def _day(on: date) -> int:
    return on.year * 10000 + on.month * 100 + on.day


def _as_date(value: int) -> date | None:
    return None if value == NOT_DELETED else date(value // 10000, value // 100 % 100, value % 100)


def _blocks(path: Path) -> Iterator[tuple[int, str]]:
    """(number of the first line, text of whole lines) blocks of an xz-compressed CSV.

    Blocks rather than lines: the rows are matched a block at a time by one regular expression, which keeps
    the 4.3-million-row build within seconds. A truncated or corrupt stream names the line it stopped at.
    """
    line, rest = 1, ""
    try:
        with lzma.open(path, "rt", encoding="ascii", newline="") as handle:
            while block := handle.read(_BLOCK):
                block = rest + block
                cut = block.rfind("\n") + 1
                text, rest = block[:cut], block[cut:]
                if text:
                    yield line, text
                    line += text.count("\n")
        if rest:
            yield line, rest + "\n"
    except (lzma.LZMAError, EOFError, UnicodeDecodeError) as e:
        raise BuildError(f"unreadable xz stream after line {line - 1:,}: {e}", code="E202",
                         where=f"{path}:{line}", fix=_FIX_REFETCH) from e


class _Numbering(dict[str, int]):
    """Numbers each new key 1, 2, 3 ... on first lookup (codes and rationales become small integers)."""

    def __missing__(self, key: str) -> int:
        number = self[key] = len(self) + 1
        return number


class _Loader:
    """Reads the tables into the KB, numbering codes and rationales and validating each date once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.codes = _Numbering()
        self.rationales = _Numbering()
        self._dates: dict[str, int] = {str(NOT_DELETED): NOT_DELETED}

    def _check_dates(self, values: set[str], path: Path, first: int, text: str) -> None:
        for value in sorted(values - self._dates.keys()):  # a table holds a few hundred distinct dates
            try:
                date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError as e:
                line = first + next(i for i, t in enumerate(text.splitlines()) if t.split(",")[2:3] == [value])
                raise BuildError(f"deletion_date {value!r} is not a date", code="E202", where=f"{path}:{line}",
                                 fix=_FIX_REFETCH) from e
            self._dates[value] = int(value)

    def load(self, setting_id: int, path: Path) -> tuple[int, int]:
        """Insert one table's rows a block at a time; returns (rows, rows not deleted)."""
        rows = active = 0
        header_seen = False
        codes, dates, rationales = self.codes, self._dates, self.rationales
        for first, text in _blocks(path):
            if first == 1:
                header_seen = True
                header, _, text = text.partition("\n")
                if header.rstrip("\r") != _HEADER:
                    raise BuildError(f"unexpected header {header[:100]!r}, expected {_HEADER!r}", code="E201",
                                     where=f"{path}:1", fix=_FIX_REFETCH)
                first = 2
            found = _ROWS.findall(text)
            if len(found) != text.count("\n"):
                _raise_bad_line(path, first, text)
            self._check_dates({m[2] for m in found}, path, first, text)
            batch = [(setting_id, codes[c1], codes[c2], dates[d], rationales[r], int(i))
                     for c1, c2, d, i, r in found]
            active += sum(1 for m in found if m[2] == _NOT_DELETED_TEXT)
            try:
                self.conn.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?)", batch)
            except sqlite3.IntegrityError as e:
                _raise_repeat(path, first, found)
                raise BuildError(f"an edit is listed twice (same codes, deletion date and rationale): {e}",
                                 code="E243", where=f"{path}:{first}", fix=_FIX_REFETCH) from e
            rows += len(batch)
        if not header_seen:
            raise BuildError(f"the table is empty, expected the header {_HEADER!r}", code="E201",
                             where=f"{path}:1", fix=_FIX_REFETCH)
        if rows == 0:
            raise BuildError("the table has a header but no edit", code="E201", where=f"{path}:2",
                             fix=_FIX_REFETCH)
        return rows, active

    def finish(self) -> None:
        self.conn.executemany("INSERT INTO ptp_code VALUES (?,?)", [(n, c) for c, n in self.codes.items()])
        self.conn.executemany("INSERT INTO ptp_rationale VALUES (?,?)",
                              [(n, t) for t, n in self.rationales.items()])


def _raise_bad_line(path: Path, first: int, text: str) -> None:
    """The first line of a block that is not an edit row (the block's count of matches fell short)."""
    for number, line in enumerate(text.split("\n")[:-1], start=first):
        if not _ROW.fullmatch(line.rstrip("\r")):
            raise BuildError(f"not a 'column_1,column_2,deletion_date,modifier_indicator,rationale' row: "
                             f"{line[:100]!r}", code="E202", where=f"{path}:{number}", fix=_FIX_REFETCH)
    raise BuildError("a line holds more than one row", code="E202", where=f"{path}:{first}", fix=_FIX_REFETCH)


def _raise_repeat(path: Path, first: int, found: list[tuple[str, ...]]) -> None:
    """Name the repeated row: the same codes, deletion date and rationale listed twice."""
    seen: set[tuple[str, str, str, str]] = set()
    for number, (c1, c2, deleted, _, rationale) in enumerate(found, start=first):
        key = (c1, c2, deleted, rationale)
        if key in seen:
            raise BuildError(f"edit {c1}/{c2} deleted {deleted} ({rationale}) is listed twice", code="E243",
                             where=f"{path}:{number}", fix=_FIX_REFETCH)
        seen.add(key)
    # A repeat across blocks (an unsorted file) is reported at the first line of the block holding it.


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    counts: dict[str, int] = {}
    loader = _Loader(conn)
    for setting_id, setting in enumerate(SETTINGS, start=1):
        conn.execute("INSERT INTO ptp_setting VALUES (?,?)", (setting_id, setting))
        rows, active = loader.load(setting_id, files[_FILES[setting]])
        counts[f"{setting}_rows"], counts[f"{setting}_not_deleted"] = rows, active
        progress(f"ncci-ptp: {rows:,} {setting} edits ({active:,} not deleted)")
    loader.finish()
    counts["codes"], counts["rationales"] = len(loader.codes), len(loader.rationales)
    return counts


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PtpEdit:
    """One PTP edit row: ``column_2`` is denied when billed with ``column_1`` unless a modifier bypasses."""

    setting: PtpSetting
    column_1: str
    column_2: str
    deletion_date: date | None
    """Last date of service the edit applies to; ``None`` when not deleted."""
    modifier_indicator: int
    """0 no modifier bypasses; 1 an NCCI-associated modifier may bypass; 9 not applicable (deleted)."""
    rationale: str


def _normal(code: str) -> str:
    return code.strip().upper()


class NcciPtp:
    """Reader: the PTP edits among a claim's codes on a date of service, per setting."""

    _SELECT = ("SELECT s.name, c1.code, c2.code, p.deletion_date, p.modifier_indicator, r.text FROM ptp p "
               "JOIN ptp_setting s ON s.id = p.setting JOIN ptp_rationale r ON r.id = p.rationale "
               "JOIN ptp_code c1 ON c1.id = p.column_1 JOIN ptp_code c2 ON c2.id = p.column_2 ")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._settings: dict[str, int] = {name: int(i) for i, name in
                                          conn.execute("SELECT id, name FROM ptp_setting")}
        # (setting id, column 1, column 2) -> that ordered pair's rows, any deletion date, in table order
        # (the KB is read-only): claims repeat pairs, so ``pairs`` queries only for pairs not seen before.
        self._pair_rows: dict[tuple[int, str, str], tuple[tuple[int, PtpEdit], ...]] = {}
        # setting id -> column 1 code number -> the numbers of every column 2 code it has a row with (any deletion
        # date), each spelled as the one character of that code point, read in one aggregate query per setting
        # (13,000 codes, 2.5 million pairs) on first use, as the other readers read their tables: most pairs of a
        # claim's codes are no edit at all, and this says so without a query per claim. Strings are nothing for
        # the garbage collector to walk, and a one-character search is a scan of ~200 characters (",n," in the
        # numbers' text searched 1,100 on average: it was half the rule set's instructions).
        self._partners: dict[int, dict[int, str]] = {}
        self._code_ids: dict[str, int] | None = None
        self._code_names: dict[int, str] = {}
        self._rationale_texts: dict[int, str] = {}

    def _setting_id(self, setting: str) -> int:
        if setting not in self._settings:
            raise ValueError(f"unknown PTP setting {setting!r}; expected one of {sorted(self._settings)}")
        return self._settings[setting]

    @staticmethod
    def _edit(row: tuple[str, str, str, int, int, str]) -> PtpEdit:
        setting: PtpSetting = "practitioner" if row[0] == "practitioner" else "outpatient"
        return PtpEdit(setting=setting, column_1=row[1], column_2=row[2], deletion_date=_as_date(row[3]),
                       modifier_indicator=row[4], rationale=row[5])

    @staticmethod
    def _in_force(edits: list[PtpEdit]) -> list[PtpEdit]:
        """One row per pair: the one deleted soonest after the date (a re-added pair's older row came first)."""
        best: dict[tuple[str, str], PtpEdit] = {}
        for edit in edits:
            key = (edit.column_1, edit.column_2)
            held = best.get(key)
            if held is None or (edit.deletion_date or date.max) < (held.deletion_date or date.max):
                best[key] = edit
        return sorted(best.values(), key=lambda e: (e.column_1, e.column_2))

    def _numbers(self) -> tuple[dict[str, int], dict[int, str], dict[int, str]]:
        """(code -> number, number -> code, rationale number -> text), read once per release (13,000 codes and
        twelve texts): ``pairs`` then asks the 95 MB table alone, without a lookup query or joins per claim."""
        if self._code_ids is None:
            self._code_ids = {code: int(i) for i, code in self._conn.execute("SELECT id, code FROM ptp_code")}
            self._code_names = {i: code for code, i in self._code_ids.items()}
            self._rationale_texts = {int(i): text for i, text in
                                     self._conn.execute("SELECT id, text FROM ptp_rationale")}
        return self._code_ids, self._code_names, self._rationale_texts

    def pairs(self, codes: Iterable[str], *, setting: PtpSetting, on: date) -> list[PtpEdit]:
        """Edits in force on ``on`` whose column 1 and column 2 codes are both among ``codes``."""
        wanted = sorted({c.strip().upper() for c in codes})  # ``_normal``, without a call per code
        setting_id = self._setting_id(setting)
        code_ids = self._numbers()[0]
        partners = self._column_2s(setting_id)
        # (code, number, its character as the partner strings spell it), without codes the table does not know
        numbered = [(code, i, chr(i)) for code in wanted if (i := code_ids.get(code)) is not None]
        day = _day(on)
        found_edits: list[PtpEdit] = []
        # Most ordered pairs of a claim's codes have no row: ``_column_2s`` says so per pair without a key or a
        # memo entry (fresh claims bring mostly unseen pairs, which a per-pair memo would only fill and clear).
        for first, i, _ in numbered:
            seconds = partners.get(i)
            if seconds is None:
                continue
            for second, j, spelled in numbered:
                if spelled in seconds:
                    rows = self._rows(setting, setting_id, first, i, second, j)
                    found_edits += [edit for deleted, edit in rows if deleted >= day]
        return self._in_force(found_edits) if found_edits else []

    def _rows(self, setting: PtpSetting, setting_id: int, first: str, i: int, second: str,
              j: int) -> tuple[tuple[int, PtpEdit], ...]:
        """The rows of the ordered pair (``first``, ``second``), numbered ``i``, ``j``, any deletion date, in
        table order; memoised per pair that has rows (claims repeat them)."""
        key = (setting_id, first, second)
        memo = self._pair_rows
        hit = memo.get(key)
        if hit is None:
            rationales = self._numbers()[2]
            hit = remember(memo, key, tuple((deleted, PtpEdit(
                setting=setting, column_1=first, column_2=second, deletion_date=_as_date(deleted),
                modifier_indicator=indicator, rationale=rationales[rationale]))
                for deleted, indicator, rationale in self._conn.execute(
                    "SELECT deletion_date, modifier_indicator, rationale FROM ptp "
                    "WHERE setting=? AND column_1=? AND column_2=? ORDER BY deletion_date, rationale",
                    (setting_id, i, j))), 500_000)
        return hit

    def _column_2s(self, setting_id: int) -> dict[int, str]:
        """Column 1 code number -> the column 2 codes of its rows in the setting, code number n spelled ``chr(n)``
        (SQLite's ``char``; the 13,000 code numbers are far below the surrogates at 0xD800)."""
        found = self._partners.get(setting_id)
        if found is None:
            found = self._partners[setting_id] = dict(self._conn.execute(
                "SELECT column_1, group_concat(char(column_2), '') FROM ptp WHERE setting=? GROUP BY column_1",
                (setting_id,)))
        return found

    def edit(self, column_1: str, column_2: str, *, setting: PtpSetting, on: date) -> PtpEdit | None:
        """The edit of this ordered pair in force on ``on``, if any."""
        rows = self._conn.execute(
            self._SELECT + "WHERE p.setting=? AND c1.code=? AND c2.code=? AND p.deletion_date>=?",
            (self._setting_id(setting), _normal(column_1), _normal(column_2), _day(on)))
        found = self._in_force([self._edit(r) for r in rows])
        return found[0] if found else None

    def history(self, column_1: str, column_2: str, *, setting: PtpSetting) -> list[PtpEdit]:
        """Every row of the ordered pair, deleted ones included."""
        rows = self._conn.execute(
            self._SELECT + "WHERE p.setting=? AND c1.code=? AND c2.code=? ORDER BY p.deletion_date",
            (self._setting_id(setting), _normal(column_1), _normal(column_2)))
        return [self._edit(r) for r in rows]

    def counts(self) -> dict[str, int]:
        out = {f"{name}_rows": n for name, n in self._conn.execute(
            "SELECT s.name, count(*) FROM ptp p JOIN ptp_setting s ON s.id = p.setting GROUP BY s.name")}
        out["rationales"] = self._conn.execute("SELECT count(*) FROM ptp_rationale").fetchone()[0]
        return out
