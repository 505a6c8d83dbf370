"""HCPCS Level II: build the CMS quarterly alpha-numeric file (or a codes-only list) and read it back.

Why keep the dates and the raw row: a HCPCS code is billable only between its add date and its
termination date, and claims are checked by date of service; the ~40 other columns (ASC group, OPPS
status, lab certification, cross-references ...) matter to later stages we have not written yet, so
each row is kept as JSON rather than dropped.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from medcoder.codesets.kbfile import Progress, write_meta
from medcoder.errors import CodeFormatError, SourceError

__all__ = ["Hcpcs", "HcpcsEntry", "build", "normalize_code", "normalize_modifier"]

BUILDER_VERSION = 1

SCHEMA = """
CREATE TABLE hcpcs_code (
    code TEXT PRIMARY KEY,              -- 'J1100', or a modifier without its padding: 'LT'
    is_modifier INTEGER NOT NULL,
    long_description TEXT,              -- continuation rows joined; NULL in a codes-only KB
    short_description TEXT,
    add_date TEXT,                      -- ISO dates; NULL when the source has none
    action_effective_date TEXT,
    termination_date TEXT,              -- last day the code is valid
    action_code TEXT,
    betos TEXT,
    type_of_service TEXT,               -- TOS1..TOS5, space-separated
    coverage TEXT,                      -- COV
    pricing TEXT,                       -- PRICE1..PRICE4, space-separated
    multiple_pricing TEXT,              -- MULT_PI
    raw TEXT                            -- the source row as JSON (column name -> text)
) WITHOUT ROWID;
"""

FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "code UNINDEXED, kind UNINDEXED, text, tokenize='porter unicode61')"
)

REQUIRED_COLUMNS = ("HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ADD DT",
                    "ACT EFF DT", "TERM DT", "ACTION CD")
# CMS record layout: RECID 3/4 = procedure first/continuation line, 7/8 = modifier first/continuation.
FIRST_RECIDS = {"3": False, "7": True}
CONTINUATION_RECIDS = {"4": "3", "8": "7"}

_PROCEDURE = re.compile(r"[A-Z]\d{4}")
_CPT_LIKE = re.compile(r"\d{4}[0-9A-Z]")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")


def normalize_code(code: str) -> str:
    """Upper-case and check a Level II code (letter + 4 digits); ``CodeFormatError`` E320/E322."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if _PROCEDURE.fullmatch(text):
        return text
    if _CPT_LIKE.fullmatch(text):
        raise CodeFormatError(f"{code!r} is a CPT (Level I) code, not a HCPCS Level II code", code="E322",
                              where=repr(code), fix="Look it up with medcoder.codesets.cpt.Cpt")
    raise CodeFormatError(f"{code!r} is not a HCPCS Level II code: expected a letter and 4 digits",
                          code="E320", where=repr(code), fix="Write it like J1100 or G0008")


def normalize_modifier(code: str) -> str:
    """Upper-case and check a 2-character modifier; ``CodeFormatError`` E321."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if _MODIFIER.fullmatch(text):
        return text
    raise CodeFormatError(f"{code!r} is not a HCPCS modifier: expected 2 letters or digits", code="E321",
                          where=repr(code), fix="Write it like LT, RT or XE")


@dataclass(frozen=True, slots=True, kw_only=True)
class HcpcsEntry:
    """One Level II code or modifier as the quarterly file describes it.

    ``raw`` holds the source row's non-empty columns by their CMS names. In a codes-only KB every field
    but ``code`` and ``is_modifier`` is empty: the source lists codes present in the quarter, nothing else.
    """

    code: str
    is_modifier: bool
    long_description: str | None
    short_description: str | None
    add_date: date | None
    action_effective_date: date | None
    termination_date: date | None
    action_code: str | None
    betos: str | None
    type_of_service: tuple[str, ...]
    coverage: str | None
    pricing: tuple[str, ...]
    multiple_pricing: str | None
    raw: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _iso(value: str, *, where: str, column: str) -> str | None:
    if not value:
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat() if len(value) == 8 \
            else date.fromisoformat(value[:10]).isoformat()
    except ValueError as e:
        raise SourceError(f"{column} {value!r} is not a date (YYYYMMDD)", code="E323", where=where,
                          fix="Use the CMS alpha-numeric HCPCS file unchanged") from e


def _read_xlsx(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(sheet row number, column name -> text) for every non-empty row of the first sheet."""
    import openpyxl  # only this builder needs it; keeps `import medcoder.codesets` light

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile/KeyError/InvalidFileException on a bad file
        raise SourceError(f"cannot open the HCPCS workbook: {e}", code="E323", where=str(path),
                          fix="Pass the HCPC<year>_<MON>_ANWEB.xlsx from the CMS zip") from e
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    try:
        header = [_cell(v) for v in next(rows, ())]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise SourceError(f"the first sheet lacks column(s) {missing}", code="E323", where=f"{path}:1",
                              fix="Pass the CMS ANWEB workbook; its first row names the columns")
        records = [(line, {name: _cell(v) for name, v in zip(header, values, strict=False) if name})
                   for line, values in enumerate(rows, start=2)]
    finally:
        rows.close()  # an unfinished row generator keeps the xlsx member, hence the file, open
        workbook.close()
    return [(line, record) for line, record in records if any(record.values())]


def _anweb_rows(path: Path) -> list[tuple[Any, ...]]:
    """Join continuation lines (RECID 4/8) onto their first line, in SEQNUM order."""
    records: dict[str, tuple[int, dict[str, str], list[tuple[str, str]]]] = {}
    for line, rec in _read_xlsx(path):
        where = f"{path}:{line}"
        raw_code, recid = rec["HCPC"], rec["RECID"]
        if recid in FIRST_RECIDS:
            try:
                code = normalize_modifier(raw_code) if FIRST_RECIDS[recid] else normalize_code(raw_code)
            except CodeFormatError as e:
                raise CodeFormatError(e.message, code=e.code, where=where, fix=e.fix) from e
            if code in records:
                raise SourceError(f"code {code} has two first lines (RECID {recid})", code="E325",
                                  where=where, fix="Use the CMS file unchanged")
            records[code] = (line, rec, [])
        elif recid in CONTINUATION_RECIDS:
            code = raw_code.strip().upper()
            if code not in records or records[code][1]["RECID"] != CONTINUATION_RECIDS[recid]:
                raise SourceError(f"continuation line for {code} (RECID {recid}) has no first line before it",
                                  code="E325", where=where, fix="Use the CMS file unchanged")
            records[code][2].append((rec["SEQNUM"], rec["LONG DESCRIPTION"]))
        else:
            raise SourceError(f"unknown RECID {recid!r}", code="E325", where=where,
                              fix="Expected 3/4 (procedure) or 7/8 (modifier) as in the CMS record layout")
    out = []
    for code, (line, rec, more) in records.items():
        where = f"{path}:{line}"
        long_text = " ".join([rec["LONG DESCRIPTION"], *(text for _, text in sorted(more))]).strip()
        # Empty columns are dropped from the raw copy: most of the 48 are blank on most rows.
        raw = {k: v for k, v in {**rec, "LONG DESCRIPTION": long_text}.items() if v}
        out.append((
            code, int(FIRST_RECIDS[rec["RECID"]]), long_text or None, rec["SHORT DESCRIPTION"] or None,
            _iso(rec["ADD DT"], where=where, column="ADD DT"),
            _iso(rec["ACT EFF DT"], where=where, column="ACT EFF DT"),
            _iso(rec["TERM DT"], where=where, column="TERM DT"),
            rec["ACTION CD"] or None, rec.get("BETOS") or None,
            " ".join(v for k in ("TOS1", "TOS2", "TOS3", "TOS4", "TOS5") if (v := rec.get(k, ""))),
            rec.get("COV") or None,
            " ".join(v for k in ("PRICE1", "PRICE2", "PRICE3", "PRICE4") if (v := rec.get(k, ""))),
            rec.get("MULT_PI") or None, json.dumps(raw, ensure_ascii=False),
        ))
    return out


def _codes_only_rows(path: Path) -> list[tuple[Any, ...]]:
    try:
        with gzip.open(path, "rt", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise SourceError(f"cannot read the gzip code list: {e}", code="E324", where=str(path),
                          fix="Pass a gzip file with one HCPCS Level II code per line") from e
    seen: set[str] = set()
    for line_no, line in enumerate(lines, start=1):
        code = line.strip().upper()
        if not code:
            continue
        if not _PROCEDURE.fullmatch(code) or code in seen:
            problem = "repeats a code" if code in seen else f"{line.strip()!r} is not a Level II code"
            raise SourceError(f"the code list {problem}", code="E324", where=f"{path}:{line_no}",
                              fix="One code per line, a letter and 4 digits (e.g. J1100)")
        seen.add(code)
    return [(c, 0, None, None, None, None, None, None, None, "", None, "", None, None) for c in sorted(seen)]


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    """Build from ``anweb_xlsx`` (full quarterly file) or, failing that, ``codes_txt_gz`` (codes only)."""
    if files.get("anweb_xlsx"):
        source, rows = "anweb_xlsx", _anweb_rows(Path(files["anweb_xlsx"]))
    elif files.get("codes_txt_gz"):
        source, rows = "codes_txt_gz", _codes_only_rows(Path(files["codes_txt_gz"]))
    else:
        raise SourceError("the HCPCS build needs anweb_xlsx or codes_txt_gz", code="E326",
                          where=f"files keys {sorted(files)}", fix="Pass the CMS ANWEB xlsx")
    conn.executescript(SCHEMA)
    conn.execute(FTS_DDL)
    conn.executemany(f"INSERT INTO hcpcs_code VALUES ({', '.join('?' * 14)})", rows)
    texts = [
        (r[0], "hcpcs-modifier" if r[1] else "hcpcs", r[2] if r[2] == r[3] or not r[3] else f"{r[2]} {r[3]}")
        for r in rows if r[2]
    ]
    conn.executemany("INSERT INTO search_fts(code, kind, text) VALUES (?, ?, ?)", texts)
    modifiers = sum(r[1] for r in rows)
    write_meta(conn, {"hcpcs.source": source, "hcpcs.has_descriptions": bool(texts)})
    conn.commit()
    progress(f"hcpcs: {len(rows) - modifiers:,} codes, {modifiers:,} modifiers from {source}")
    return {"hcpcs_codes": len(rows) - modifiers, "hcpcs_modifiers": modifiers,
            "hcpcs_search_rows": len(texts)}


class Hcpcs:
    """Lookups over one HCPCS Level II KB (one quarterly release)."""

    _COLUMNS = ("code, is_modifier, long_description, short_description, add_date, action_effective_date, "
                "termination_date, action_code, betos, type_of_service, coverage, pricing, multiple_pricing, "
                "raw")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._counts: dict[bool, int] = {}
        # The KB is read-only (opened immutable): entries are read once per release.
        self._fetched: dict[tuple[str, bool], HcpcsEntry | None] = {}

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> HcpcsEntry:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return HcpcsEntry(
            code=row[0], is_modifier=bool(row[1]), long_description=row[2], short_description=row[3],
            add_date=day(row[4]), action_effective_date=day(row[5]), termination_date=day(row[6]),
            action_code=row[7], betos=row[8], type_of_service=tuple((row[9] or "").split()),
            coverage=row[10], pricing=tuple((row[11] or "").split()), multiple_pricing=row[12],
            raw=json.loads(row[13]) if row[13] else {},
        )

    def _fetch(self, code: str, is_modifier: bool) -> HcpcsEntry | None:
        key = (code, is_modifier)
        if key not in self._fetched:
            row = self.conn.execute(f"SELECT {self._COLUMNS} FROM hcpcs_code WHERE code = ? AND is_modifier = ?",
                                    (code, int(is_modifier))).fetchone()
            self._fetched[key] = self._entry(row) if row else None
        return self._fetched[key]

    def get(self, code: str) -> HcpcsEntry | None:
        """A Level II code (``J1100``), or ``None`` if this release does not have it."""
        return self._fetch(normalize_code(code), False)

    def modifier(self, code: str) -> HcpcsEntry | None:
        """A modifier (``LT``); CPT modifiers such as 25 and 59 are not in the CMS Level II file."""
        return self._fetch(normalize_modifier(code), True)

    def modifiers(self) -> tuple[HcpcsEntry, ...]:
        return tuple(self._entry(row) for row in self.conn.execute(
            f"SELECT {self._COLUMNS} FROM hcpcs_code WHERE is_modifier = 1 ORDER BY code"))

    def count(self, *, modifiers: bool = False) -> int:
        """Number of Level II codes (or of modifiers, with ``modifiers=True``)."""
        if modifiers not in self._counts:  # the KB is read-only: count once (a full scan, asked per claim)
            self._counts[modifiers] = int(self.conn.execute("SELECT count(*) FROM hcpcs_code WHERE is_modifier = ?",
                                                            (int(modifiers),)).fetchone()[0])
        return self._counts[modifiers]

    def is_active(self, code: str, on: date) -> bool:
        """Whether a code (5 characters) or modifier (2) is in force on ``on``.

        Active means add date <= ``on`` <= termination date (each bound only when the file gives it).
        A codes-only KB has no dates, so there presence alone answers.
        """
        entry = self.modifier(code) if len(code.strip()) == 2 else self.get(code)
        if entry is None:
            return False
        if entry.add_date is not None and on < entry.add_date:
            return False
        return entry.termination_date is None or on <= entry.termination_date
