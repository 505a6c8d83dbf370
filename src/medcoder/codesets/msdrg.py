"""MS-DRG reference tables of one IPPS fiscal year: Table 5 weights, Tables 6I/6J CC/MCC lists, Table 6K.

Why these tables and not a grouper's logic: pricing needs a DRG's relative weight and length-of-stay means
(Table 5), and coding review needs a secondary diagnosis's severity (6I MCC, 6J CC) and whether the
principal diagnosis cancels it (6K "PDX collections"). CMS publishes all four with each Final Rule; they
are read here in their published text layouts and cross-checked against each other at build time, so a
list and the exclusion table of different years can never be mixed silently.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Iterator, KeysView, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError, CodeFormatError
from medcoder.model.code import undotted
from medcoder.model.frozen import quick_init

BUILDER_VERSION = 1

Severity = Literal["MCC", "CC"]

_SCHEMA = """
CREATE TABLE drg (
  drg TEXT PRIMARY KEY,            -- '001'..'999'
  title TEXT NOT NULL,
  mdc TEXT,                        -- '01'..'25', 'PRE'; NULL for DRGs 981-989, 998, 999
  type TEXT,                       -- 'SURG' or 'MED'; NULL for 998/999 ('**' in Table 5)
  post_acute INTEGER NOT NULL,     -- post-acute care transfer DRG
  special_pay INTEGER NOT NULL,    -- special payment DRG
  weight REAL,                     -- 'Weights - 10% Cap Applied': the weight IPPS pays with
  weight_before_cap REAL,
  gmlos REAL,                      -- geometric mean length of stay
  alos REAL                        -- arithmetic mean length of stay
);
CREATE TABLE severity (
  code TEXT PRIMARY KEY,           -- dotless ICD-10-CM
  level TEXT NOT NULL CHECK (level IN ('CC', 'MCC')),
  title TEXT NOT NULL,
  pdx_collection TEXT,             -- Table 6K collection id; NULL for 'No Excl'
  alive_only INTEGER NOT NULL DEFAULT 0  -- 6K Part 2: CC/MCC only when the patient is discharged alive
) WITHOUT ROWID;
CREATE TABLE pdx_exclusion (
  collection TEXT NOT NULL,
  principal TEXT NOT NULL,         -- dotless principal diagnosis that cancels the CC/MCC
  PRIMARY KEY (collection, principal)
) WITHOUT ROWID;
CREATE TABLE drg_severity_exclusion (  -- 6K Part 3: CC/MCC ignored in these DRGs
  code TEXT NOT NULL,
  drg TEXT NOT NULL,
  PRIMARY KEY (code, drg)
) WITHOUT ROWID;
CREATE TABLE drg_exclusion_group (first_drg TEXT NOT NULL, last_drg TEXT NOT NULL, mdc TEXT NOT NULL,
                                  title TEXT NOT NULL);
"""

_FIX_REFETCH = "The file is damaged or is not the CMS table medcoder pins; fetch it again"
_TABLE5_HEADER = ["MS-DRG", "Post-Acute DRG", "Special Pay DRG", "MDC", "TYPE", "MS-DRG Title",
                  "Weights - Before Cap", "Weights - 10% Cap Applied", "Geometric mean LOS",
                  "Arithmetic mean LOS"]
_CODE = re.compile(r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])(?:\.?[0-9A-Z]{1,4})?")
_PART1 = re.compile(r" (?P<code>[A-Z][0-9A-Z]{2,6}) +(?P<level>MCC|CC) +"
                    r"(?:(?P<collection>\d{4}):(?P<size>[\d,]+) codes?|No Excl) +(?P<title>\S.*)")
_LISTED = re.compile(r"  (?P<code>[A-Z][0-9A-Z]{2,6}) +(?P<title>\S.*)")
_COLLECTION = re.compile(r"PDX collection (?P<collection>\d{4})")
_DRG_GROUP = re.compile(r"MDC (?P<mdc>\d\d) DRGs (?P<first>\d{3})-(?P<last>\d{3}) (?P<title>\S.*)")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text without line end) of a CMS text table (Windows-1252, CRLF)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("cp1252").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise BuildError(f"undecodable bytes: {e.reason}", code="E202", where=f"{path}:{number}",
                                 fix=_FIX_REFETCH) from e


def _number(value: str, path: Path, line: int, column: str) -> float | None:
    value = value.strip()
    if value in ("", "."):  # Table 5 prints '.' for the ungroupable DRGs 998 and 999
        return None
    try:
        return float(value)
    except ValueError as e:
        raise BuildError(f"{column} is not a number: {value!r}", code="E202", where=f"{path}:{line}",
                         fix=_FIX_REFETCH) from e


def _flag(value: str, path: Path, line: int, column: str) -> int:
    if value.strip() not in ("Yes", "No"):
        raise BuildError(f"{column} is {value!r}, expected Yes or No", code="E202", where=f"{path}:{line}",
                         fix=_FIX_REFETCH)
    return int(value.strip() == "Yes")


def _read_table5(path: Path) -> list[tuple[object, ...]]:
    """Table 5 rows. Its header names the fiscal year ('FY 2026 Final Post-Acute DRG'): matched without it."""
    rows: list[tuple[object, ...]] = []
    header_seen = False
    with path.open(encoding="cp1252", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        try:
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if not header_seen:
                    if cells[0].strip() != "MS-DRG":
                        continue  # the table title, which spans two physical lines
                    got = [re.sub(r"^FY \d{4} Final ", "", c.strip()) for c in cells]
                    if got != _TABLE5_HEADER:
                        raise BuildError(f"unexpected Table 5 header {got}, expected {_TABLE5_HEADER}",
                                         code="E201", where=f"{path}:{line}", fix=_FIX_REFETCH)
                    header_seen = True
                    continue
                if len(cells) != len(_TABLE5_HEADER) or not re.fullmatch(r"\d{3}", cells[0].strip()):
                    raise BuildError(f"not a Table 5 row: {cells!r}", code="E202", where=f"{path}:{line}",
                                     fix=_FIX_REFETCH)
                drg, post_acute, special, mdc, kind, title, before, capped, gmlos, alos = (c.strip() for c in cells)
                rows.append((drg, title, mdc or None, kind if kind in ("SURG", "MED") else None,
                             _flag(post_acute, path, line, "Post-Acute DRG"),
                             _flag(special, path, line, "Special Pay DRG"),
                             _number(capped, path, line, "Weights - 10% Cap Applied"),
                             _number(before, path, line, "Weights - Before Cap"),
                             _number(gmlos, path, line, "Geometric mean LOS"),
                             _number(alos, path, line, "Arithmetic mean LOS")))
        except (UnicodeDecodeError, csv.Error) as e:
            raise BuildError(f"unreadable Table 5: {e}", code="E202", where=f"{path}:{reader.line_num}",
                             fix=_FIX_REFETCH) from e
    if not header_seen or not rows:
        raise BuildError("no Table 5 header or rows found", code="E201", where=str(path), fix=_FIX_REFETCH)
    return rows


def _read_list(path: Path, table: str) -> dict[str, tuple[str, int]]:
    """Table 6I or 6J: dotted code and description per line, ending at a blank line and 'Notes:'."""
    codes: dict[str, tuple[str, int]] = {}
    ended = False
    for line, text in _lines(path):
        if line == 1:
            if not text.upper().startswith(f"TABLE {table}"):
                raise BuildError(f"expected the title 'TABLE {table} ...', found {text[:60]!r}", code="E201",
                                 where=f"{path}:1", fix=_FIX_REFETCH)
        elif line == 2:
            if text.split("\t")[:2] != ["Diagnosis Code", "Description"]:
                raise BuildError(f"unexpected header {text!r}", code="E201", where=f"{path}:2", fix=_FIX_REFETCH)
        elif not text.strip():
            ended = bool(codes)
        elif ended:
            if text.strip() != "Notes:":
                raise BuildError(f"unexpected line after the list: {text[:80]!r}", code="E202",
                                 where=f"{path}:{line}", fix=_FIX_REFETCH)
            break
        else:
            code, _, title = text.partition("\t")
            if not _CODE.fullmatch(code.strip()) or not title.strip():
                raise BuildError(f"not a 'code<TAB>description' line: {text[:80]!r}", code="E202",
                                 where=f"{path}:{line}", fix=_FIX_REFETCH)
            bare = code.strip().replace(".", "")
            if bare in codes:
                raise BuildError(f"{code.strip()} is listed twice", code="E243", where=f"{path}:{line}",
                                 fix=_FIX_REFETCH)
            codes[bare] = (title.strip(), line)
    if not codes:
        raise BuildError(f"Table {table} lists no code", code="E201", where=str(path), fix=_FIX_REFETCH)
    return codes


@dataclass(slots=True)
class _Table6K:
    part1: dict[str, tuple[str, str | None, int, str, int]]
    """code -> (level, collection or None, announced collection size, title, line)."""
    collections: dict[str, list[str]]
    alive_only: list[tuple[str, int]]
    """(code, line) of Part 2."""
    groups: list[tuple[str, str, str, str, list[str]]]
    """(first DRG, last DRG, MDC, title, codes) of Part 3."""


def _read_table6k(path: Path) -> _Table6K:
    """Table 6K: Part 1 (CC/MCC with its PDX collection), the collections, Part 2 and Part 3."""
    out = _Table6K(part1={}, collections={}, alive_only=[], groups=[])
    section = "preamble"
    current: list[str] | None = None
    for line, text in _lines(path):
        if line == 1 and not text.startswith("TABLE 6K"):
            raise BuildError(f"expected the title 'TABLE 6K ...', found {text[:60]!r}", code="E201",
                             where=f"{path}:1", fix=_FIX_REFETCH)
        if not text.strip():
            continue
        if text.startswith("K Part "):
            section, current = text[7], None
            continue
        if section == "preamble":
            continue
        if section == "1" and (m := _PART1.fullmatch(text)):
            size = int(m["size"].replace(",", "")) if m["size"] else 0
            if m["code"] in out.part1:
                raise BuildError(f"{m['code']} is listed twice in Part 1", code="E243", where=f"{path}:{line}",
                                 fix=_FIX_REFETCH)
            out.part1[m["code"]] = (m["level"], m["collection"], size, m["title"].strip(), line)
        elif section == "1" and text.startswith(" I10 Dx"):
            continue
        elif section == "1" and (m := _COLLECTION.fullmatch(text.strip())):
            if m["collection"] in out.collections:
                raise BuildError(f"PDX collection {m['collection']} appears twice", code="E241",
                                 where=f"{path}:{line}", fix=_FIX_REFETCH)
            current = out.collections[m["collection"]] = []
        elif section == "3" and (m := _DRG_GROUP.fullmatch(text.strip())):
            current = []
            out.groups.append((m["first"], m["last"], m["mdc"], m["title"].strip(), current))
        elif section == "2" and (m := _LISTED.fullmatch(text)):
            out.alive_only.append((m["code"], line))
        elif current is not None and (m := _LISTED.fullmatch(text)):
            current.append(m["code"])
        else:
            raise BuildError(f"unexpected line in Table 6K part {section}: {text[:80]!r}", code="E202",
                             where=f"{path}:{line}", fix=_FIX_REFETCH)
    if not out.part1 or not out.collections:
        raise BuildError("Table 6K has no Part 1 rows or no PDX collections", code="E201", where=str(path),
                         fix=_FIX_REFETCH)
    return out


def _check_6k(table: _Table6K, lists: Mapping[str, dict[str, tuple[str, int]]], paths: Mapping[str, Path],
              path: Path) -> None:
    """6K must agree with itself and with 6I/6J: they are one release, so any difference is damage."""
    for code, (level, collection, size, _, line) in table.part1.items():
        if collection is not None:
            members = table.collections.get(collection)
            if members is None:
                raise BuildError(f"{code} points at PDX collection {collection}, which the table lacks",
                                 code="E241", where=f"{path}:{line}", fix=_FIX_REFETCH)
            if len(members) != size or len(set(members)) != size:
                raise BuildError(f"PDX collection {collection} holds {len(set(members))} distinct codes; "
                                 f"{code} announces {size}", code="E241", where=f"{path}:{line}",
                                 fix=_FIX_REFETCH)
        if code not in lists[level]:
            listed = "MCC" if code in lists["MCC"] else "CC" if code in lists["CC"] else "neither"
            raise BuildError(f"Table 6K makes {code} a {level}, Tables 6I/6J list it as {listed}",
                             code="E242", where=f"{path}:{line}",
                             fix="Use Tables 5, 6I, 6J and 6K of the same Final Rule")
    for level, codes in lists.items():
        for code, (_, line) in codes.items():
            if code not in table.part1:
                raise BuildError(f"{code} is a {level} but Table 6K does not list it", code="E242",
                                 where=f"{paths[level]}:{line}",
                                 fix="Use Tables 5, 6I, 6J and 6K of the same Final Rule")
    for code, line in table.alive_only:
        if code not in table.part1:
            raise BuildError(f"Part 2 lists {code}, which is not a CC or MCC", code="E242",
                             where=f"{path}:{line}", fix=_FIX_REFETCH)


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    drgs = _read_table5(files["table5_txt"])
    conn.executemany("INSERT INTO drg VALUES (?,?,?,?,?,?,?,?,?,?)", drgs)
    progress(f"msdrg: {len(drgs):,} DRGs from Table 5")
    paths = {"MCC": files["table6i_mcc_txt"], "CC": files["table6j_cc_txt"]}
    lists = {"MCC": _read_list(paths["MCC"], "6I"), "CC": _read_list(paths["CC"], "6J")}
    table = _read_table6k(files["table6k_txt"])
    _check_6k(table, lists, paths, files["table6k_txt"])
    alive = {code for code, _ in table.alive_only}
    conn.executemany("INSERT INTO severity VALUES (?,?,?,?,?)", [
        (code, level, lists[level][code][0], collection, int(code in alive))
        for code, (level, collection, _, _, _) in table.part1.items()])
    conn.executemany("INSERT INTO pdx_exclusion VALUES (?,?)",
                     [(c, p) for c, members in table.collections.items() for p in members])
    exclusions = {(code, f"{n:03d}") for first, last, _, _, codes in table.groups
                  for n in range(int(first), int(last) + 1) for code in codes}
    conn.executemany("INSERT INTO drg_severity_exclusion VALUES (?,?)", sorted(exclusions))
    conn.executemany("INSERT INTO drg_exclusion_group VALUES (?,?,?,?)",
                     [(first, last, mdc, title) for first, last, mdc, title, _ in table.groups])
    progress(f"msdrg: {len(table.part1):,} CC/MCC codes, {len(table.collections):,} PDX collections")
    return {
        "drgs": len(drgs), "mcc": len(lists["MCC"]), "cc": len(lists["CC"]),
        "no_pdx_exclusion": sum(1 for v in table.part1.values() if v[1] is None),
        "pdx_collections": len(table.collections),
        "pdx_exclusion_rows": sum(len(m) for m in table.collections.values()),
        "alive_only": len(alive), "drg_exclusion_groups": len(table.groups),
        "drg_severity_exclusion_rows": len(exclusions),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class DrgWeight:
    """One Table 5 row. ``weight`` is the capped weight IPPS pays with; ``None`` for DRGs 998/999."""

    drg: str
    title: str
    mdc: str | None
    type: str | None
    weight: float | None
    weight_before_cap: float | None
    gmlos: float | None
    alos: float | None
    post_acute: bool
    special_pay: bool


def _drg_number(number: str | int) -> str:
    text = str(number).strip().upper().removeprefix("MS-DRG").removeprefix("DRG").strip()
    if not text.isdigit() or len(text) > 3:
        raise CodeFormatError(f"{number!r} is not an MS-DRG number", code="E340", where=repr(number),
                              fix="Write the DRG as up to three digits, e.g. 470 or '065'")
    return text.zfill(3)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SeverityFacts:
    """Everything Tables 6I/6J/6K say about one CC/MCC code (``MsDrg.severity_facts``)."""

    level: Severity
    """Its level on Table 6I (MCC) / 6J (CC)."""
    excluded_with: frozenset[str]
    """Dotless principal diagnoses that cancel it (Table 6K Part 1); empty for 'No Excl'."""
    alive_only: bool
    """A CC/MCC only when the patient is discharged alive (Table 6K Part 2)."""
    ignored_in: frozenset[str]
    """DRGs whose grouping ignores it (Table 6K Part 3)."""


_UNSEEN = SeverityFacts(level="CC", excluded_with=frozenset(), alive_only=False, ignored_in=frozenset())
"""Marks a code ``MsDrg.severity_facts`` has not looked up yet (None is an answer: neither CC nor MCC)."""


@dataclass(frozen=True, slots=True)
class _SeverityTables:
    levels: dict[str, tuple[str, str | None, bool]]
    """Dotless code -> (level, Table 6K PDX collection or None for 'No Excl', alive only) of Tables 6I/6J."""
    collections: dict[str, frozenset[str]]
    """PDX collection -> the dotless principal diagnoses that cancel its codes' CC/MCC status (6K Part 1)."""
    ignored: dict[str, frozenset[str]]
    """Dotless code -> the DRGs whose grouping ignores its CC/MCC status (6K Part 3)."""


class MsDrg:
    """Reader: DRG weights, a diagnosis's CC/MCC severity, and Table 6K's exclusions."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._tables: _SeverityTables | None = None
        self._facts: dict[str, SeverityFacts | None] = {}

    def _severity_tables(self) -> _SeverityTables:
        """Tables 6I/6J/6K held in memory, read once per release: grouping asks about every secondary diagnosis
        of every stay (several questions each), and a query per question cost more than the grouping."""
        if self._tables is None:
            levels = {code: (level, collection, bool(alive)) for code, level, collection, alive in
                      self._conn.execute("SELECT code, level, pdx_collection, alive_only FROM severity")}
            collections: dict[str, set[str]] = {}
            for collection, principal in self._conn.execute("SELECT collection, principal FROM pdx_exclusion"):
                collections.setdefault(collection, set()).add(principal)
            ignored: dict[str, set[str]] = {}
            for code, drg in self._conn.execute("SELECT code, drg FROM drg_severity_exclusion"):
                ignored.setdefault(code, set()).add(drg)
            self._tables = _SeverityTables(
                levels=levels, collections={c: frozenset(p) for c, p in collections.items()},
                ignored={c: frozenset(d) for c, d in ignored.items()})
        return self._tables

    def listed_codes(self) -> KeysView[str]:
        """The dotless codes on Table 6I or 6J (read-only): for a caller whose codes are dotless already and that
        asks of most only whether they are listed (the grouper, of each secondary it meets), one set look-up
        where ``severity`` would normalise the code and remember the answer."""
        return self._severity_tables().levels.keys()

    def drg(self, number: str | int) -> DrgWeight | None:
        row = self._conn.execute(
            "SELECT drg, title, mdc, type, weight, weight_before_cap, gmlos, alos, post_acute, special_pay "
            "FROM drg WHERE drg=?", (_drg_number(number),)).fetchone()
        if row is None:
            return None
        return DrgWeight(drg=row[0], title=row[1], mdc=row[2], type=row[3], weight=row[4],
                         weight_before_cap=row[5], gmlos=row[6], alos=row[7], post_acute=bool(row[8]),
                         special_pay=bool(row[9]))

    def drgs(self) -> tuple[DrgWeight, ...]:
        numbers = [n for (n,) in self._conn.execute("SELECT drg FROM drg ORDER BY drg")]
        return tuple(d for n in numbers if (d := self.drg(n)) is not None)

    def severity(self, dx_code: str) -> Severity | None:
        """``'MCC'`` (Table 6I), ``'CC'`` (Table 6J) or ``None``; before any principal-diagnosis exclusion."""
        facts = self.severity_facts(dx_code)
        return None if facts is None else facts.level

    def is_cc_excluded(self, secondary_dx: str, principal_dx: str) -> bool:
        """True when Table 6K's PDX collection of ``secondary_dx`` holds ``principal_dx``.

        A secondary diagnosis that is neither CC nor MCC, or has no exclusions ('No Excl'), is never excluded.
        """
        facts = self.severity_facts(secondary_dx)
        return facts is not None and undotted(principal_dx) in facts.excluded_with

    def pdx_exclusions(self, secondary_dx: str) -> tuple[str, ...]:
        """The principal diagnoses (dotless) that cancel ``secondary_dx``'s CC/MCC status."""
        return tuple(p for (p,) in self._conn.execute(
            "SELECT x.principal FROM severity s JOIN pdx_exclusion x ON x.collection = s.pdx_collection "
            "WHERE s.code=? ORDER BY x.principal", (undotted(secondary_dx),)))

    def alive_only(self, dx_code: str) -> bool:
        """Table 6K Part 2: the code is a CC/MCC only when the patient is discharged alive."""
        facts = self.severity_facts(dx_code)
        return facts is not None and facts.alive_only

    def severity_excluded_in_drg(self, dx_code: str, drg: str | int) -> bool:
        """Table 6K Part 3: the code's CC/MCC status is ignored when grouping to this DRG."""
        return _drg_number(drg) in self._severity_tables().ignored.get(undotted(dx_code), ())

    def secondary_severity(self, secondary_dx: str, *, principal_dx: str, discharged_alive: bool = True,
                           drg: str | int | None = None) -> Severity | None:
        """The severity a secondary diagnosis keeps after Table 6K Parts 1-3 are applied."""
        level = self.severity(secondary_dx)
        if level is None or self.is_cc_excluded(secondary_dx, principal_dx):
            return None
        if not discharged_alive and self.alive_only(secondary_dx):
            return None
        if drg is not None and self.severity_excluded_in_drg(secondary_dx, drg):
            return None
        return level

    def severity_facts(self, dx_code: str) -> SeverityFacts | None:
        """What Tables 6I/6J/6K say about a code, in one object (None: neither CC nor MCC); memoised per code.

        The grouper tests every CC/MCC secondary of a stay against the stay's principal and DRG: with the facts
        in hand each test is a set lookup. The single-question methods above answer from them too.
        """
        known = self._facts.get(dx_code, _UNSEEN)
        if known is not _UNSEEN:  # the grouper asks with dotless codes: no undotted() for a code known
            return known
        code = undotted(dx_code)
        if code != dx_code and code in self._facts:
            return self._facts[code]
        tables = self._severity_tables()
        row = tables.levels.get(code)
        facts = None
        if row is not None:
            collection = frozenset() if row[1] is None else tables.collections.get(row[1], frozenset())
            facts = SeverityFacts(level="MCC" if row[0] == "MCC" else "CC", excluded_with=collection,
                                  alive_only=row[2], ignored_in=tables.ignored.get(code, frozenset()))
        self._facts[code] = facts  # bounded: one entry per code of the release asked about
        return facts

    def counts(self) -> dict[str, int]:
        one = self._conn.execute
        return {
            "drgs": one("SELECT count(*) FROM drg").fetchone()[0],
            "mcc": one("SELECT count(*) FROM severity WHERE level='MCC'").fetchone()[0],
            "cc": one("SELECT count(*) FROM severity WHERE level='CC'").fetchone()[0],
            "pdx_collections": one("SELECT count(DISTINCT collection) FROM pdx_exclusion").fetchone()[0],
            "pdx_exclusion_rows": one("SELECT count(*) FROM pdx_exclusion").fetchone()[0],
            "alive_only": one("SELECT count(*) FROM severity WHERE alive_only=1").fetchone()[0],
            "drg_severity_exclusion_rows": one("SELECT count(*) FROM drg_severity_exclusion").fetchone()[0],
        }
