"""Medicare Physician Fee Schedule of one calendar year: RVUs, GPCIs, localities, conversion factor, POS.

Why these files together: a PFS amount is [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)]
x CF, with the PE RVU chosen by the place of service. The RVU file (PPRRVU), the GPCI table (Addendum E),
the locality/county file, the conversion factor and the POS list are therefore one release, built and
cross-checked together. CMS's own locality amounts for revised codes (the PFREV payment file) are kept too,
so a price can be compared with the figure CMS published for the same code and locality.

The PPRRVU DESCRIPTION column holds AMA CPT short descriptors: it is dropped as each row is read, never stored.
The reader (``Pfs`` and its row types) lives in ``pfs_reader`` and is re-exported here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from medcoder.codesets.kbfile import Progress
from medcoder.codesets.pfs_reader import Gpci, Pfs, PlaceOfService, PublishedAmount, Rvu, split_locality
from medcoder.errors import BuildError

__all__ = ["BUILDER_VERSION", "STATUS_CODES", "Gpci", "Pfs", "PlaceOfService", "PublishedAmount", "Rvu", "build",
           "split_locality"]

BUILDER_VERSION = 1

_SCHEMA = """
CREATE TABLE rvu (
  hcpcs TEXT NOT NULL, modifier TEXT NOT NULL,   -- modifier '' for the global service, else 26, TC or 53
  status TEXT NOT NULL, not_used_for_medicare INTEGER NOT NULL,
  work_rvu TEXT NOT NULL, nonfac_pe_rvu TEXT NOT NULL, nonfac_na INTEGER NOT NULL,
  fac_pe_rvu TEXT NOT NULL, fac_na INTEGER NOT NULL, mp_rvu TEXT NOT NULL,
  nonfac_total TEXT NOT NULL, fac_total TEXT NOT NULL,
  pctc TEXT NOT NULL, global_days TEXT NOT NULL, mult_proc TEXT NOT NULL, bilateral TEXT NOT NULL,
  assistant TEXT NOT NULL, co_surgeon TEXT NOT NULL, team_surgery TEXT NOT NULL, endo_base TEXT NOT NULL,
  conversion_factor TEXT NOT NULL, supervision TEXT NOT NULL, imaging_family TEXT NOT NULL,
  opps_nonfac_pe TEXT NOT NULL, opps_fac_pe TEXT NOT NULL, opps_mp TEXT NOT NULL,
  line INTEGER NOT NULL,
  PRIMARY KEY (hcpcs, modifier)
) WITHOUT ROWID;
CREATE TABLE gpci (
  mac TEXT NOT NULL, locality TEXT NOT NULL, state TEXT NOT NULL, name TEXT NOT NULL,
  work_gpci TEXT NOT NULL, work_gpci_floor TEXT NOT NULL, pe_gpci TEXT NOT NULL, mp_gpci TEXT NOT NULL,
  PRIMARY KEY (mac, locality)
) WITHOUT ROWID;
CREATE TABLE county (mac TEXT NOT NULL, locality TEXT NOT NULL, state TEXT NOT NULL, area TEXT NOT NULL,
                     counties TEXT NOT NULL, PRIMARY KEY (mac, locality)) WITHOUT ROWID;
CREATE TABLE place_of_service (code TEXT PRIMARY KEY, name TEXT NOT NULL,
                               setting TEXT) WITHOUT ROWID;  -- 'facility', 'non-facility', NULL unassigned
CREATE TABLE published_amount (                             -- the PFREV payment file, as published
  mac TEXT NOT NULL, locality TEXT NOT NULL, hcpcs TEXT NOT NULL, modifier TEXT NOT NULL,
  nonfac_amount TEXT NOT NULL, fac_amount TEXT NOT NULL, pctc TEXT NOT NULL, status TEXT NOT NULL,
  mult_surg TEXT NOT NULL, opps_indicator TEXT NOT NULL, opps_nonfac_amount TEXT NOT NULL,
  opps_fac_amount TEXT NOT NULL, PRIMARY KEY (hcpcs, modifier, mac, locality)
) WITHOUT ROWID;
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

_FIX_REFETCH = "The file is damaged or is not the CMS release medcoder pins; fetch it again"
# The PPRRVU column headers, each the words of the header rows above it read top to bottom.
RVU_COLUMNS = (
    "HCPCS", "MOD", "DESCRIPTION", "STATUS CODE", "NOT USED FOR MEDICARE PAYMENT", "WORK RVU", "NON-FAC PE RVU",
    "NON-FAC NA INDICATOR", "FACILITY PE RVU", "FACILITY NA INDICATOR", "MP RVU", "NON-FACILITY TOTAL",
    "FACILITY TOTAL", "PCTC IND", "GLOB DAYS", "PRE OP", "INTRA OP", "POST OP", "MULT PROC", "BILAT SURG",
    "ASST SURG", "CO- SURG", "TEAM SURG", "PRIC IND", "ENDO BASE", "CONV FACTOR",
    "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES", "CALCULATION FLAG", "DIAGNOSTIC IMAGING FAMILY INDICATOR",
    "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT", "FACILITY PE USED FOR OPPS PAYMENT AMOUNT",
    "MP USED FOR OPPS PAYMENT AMOUNT")
GPCI_COLUMNS = ("Medicare Administrative Contractor (MAC)", "State", "Locality Number", "Locality Name",
                "PW GPCI (without 1.0 Floor)", "PW GPCI (with 1.0 Floor)", "PE GPCI", "MP GPCI")
LOCCO_COLUMNS = ("Medicare Adminstrative Contractor", "Locality Number", "State", "Fee Schedule Area", "Counties")
POS_COLUMNS = ["pos_code", "pos_type", "pos_name", "pos_description"]
# PF26PB.pdf record layout: 16 quoted, comma-separated fields; 'TRL-' trailer lines carry the copyright notice.
PFREV_FIELDS = 16
STATUS_CODES = frozenset("ABCDEFGHIJMNPRTX")
_HCPCS = re.compile(r"[0-9A-Z]{4}[0-9A-Z]")
_MAC, _LOCALITY = re.compile(r"\d{5}"), re.compile(r"\d{2}")
_POS_SETTING = {"1": "non-facility", "2": "facility", "3": None}
_AMOUNT = re.compile(r"\d{7}\.\d\d")


def _fail(message: str, code: str, where: str) -> BuildError:
    return BuildError(message, code=code, where=where, fix=_FIX_REFETCH)


def _decimal(value: str, where: str, column: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation as e:
        raise _fail(f"{column} is not a number: {value!r}", "E202", where) from e
    if not number.is_finite() or number < 0:
        raise _fail(f"{column} is not a non-negative number: {value!r}", "E202", where)
    return number


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a CMS CSV; line numbers count physical lines, as an editor shows them."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            for cells in reader:
                yield reader.line_num, cells
        except (UnicodeDecodeError, csv.Error) as e:
            raise _fail(f"unreadable CSV: {e}", "E202", f"{path}:{reader.line_num + 1}") from e


def _rvu_rows(path: Path, info: dict[str, str]) -> Iterator[tuple[int, list[str]]]:
    """PPRRVU data rows. The title lines and the stacked header rows are recognised, not counted."""
    stacked: list[list[str]] = []
    rows = _csv_rows(path)
    for line, cells in rows:
        if cells and cells[0].strip() == "HCPCS":
            names = tuple(" ".join(w for w in (r[i].strip() for r in [*stacked, cells] if i < len(r)) if w)
                          for i in range(len(cells)))
            if names != RVU_COLUMNS:
                raise _fail(f"unexpected PPRRVU header {names}, expected {RVU_COLUMNS}", "E201", f"{path}:{line}")
            break
        text = cells[2].strip() if len(cells) > 2 else ""
        if text:  # a title line ("... Relative Value File July Release", "RELEASED 06/30/2026")
            if "Relative Value File" in text:
                info.setdefault("rvu_title", text)
                month = re.search(r"(January|April|July|October) Release", text)
                if month and (year := re.match(r"\d{4}", text)):
                    start = {"January": 1, "April": 4, "July": 7, "October": 10}[month[1]]
                    info["rvu_effective_from"] = f"{year[0]}-{start:02d}-01"
            elif text.startswith("RELEASED"):
                info["rvu_released"] = text.removeprefix("RELEASED").strip()
            stacked = []
        elif any(c.strip() for c in cells):
            stacked.append(cells)
    else:
        raise _fail("no PPRRVU header row (first cell 'HCPCS') found", "E201", str(path))
    yield from rows


def _load_rvus(conn: sqlite3.Connection, path: Path, cf: Decimal, info: dict[str, str]) -> int:
    batch: list[tuple[object, ...]] = []
    seen: set[tuple[str, str]] = set()
    for line, cells in _rvu_rows(path, info):
        where = f"{path}:{line}"
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(RVU_COLUMNS):
            raise _fail(f"row has {len(cells)} cells, expected {len(RVU_COLUMNS)}", "E202", where)
        row = dict(zip(RVU_COLUMNS, (c.strip() for c in cells), strict=True))
        del row["DESCRIPTION"]  # AMA CPT descriptors: never stored
        code, mod, status = row["HCPCS"], row["MOD"], row["STATUS CODE"]
        if not _HCPCS.fullmatch(code) or not re.fullmatch(r"(?:[0-9A-Z]{2})?", mod):
            raise _fail(f"not a HCPCS code and modifier: {code!r} {mod!r}", "E202", where)
        if status not in STATUS_CODES:
            raise _fail(f"unknown status code {status!r} for {code}", "E202", where)
        if (code, mod) in seen:
            raise _fail(f"{code} {mod or '(no modifier)'} appears twice", "E204", where)
        seen.add((code, mod))
        num = {k: _decimal(row[k], where, k) for k in (
            "WORK RVU", "NON-FAC PE RVU", "FACILITY PE RVU", "MP RVU", "NON-FACILITY TOTAL", "FACILITY TOTAL",
            "CONV FACTOR", "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT",
            "FACILITY PE USED FOR OPPS PAYMENT AMOUNT", "MP USED FOR OPPS PAYMENT AMOUNT")}
        for setting, pe in (("NON-FACILITY", "NON-FAC PE RVU"), ("FACILITY", "FACILITY PE RVU")):
            # CMS sums unrounded components, so a printed total may differ from the printed parts by 0.01.
            if abs(num["WORK RVU"] + num[pe] + num["MP RVU"] - num[f"{setting} TOTAL"]) > Decimal("0.02"):
                raise _fail(f"{code} {mod}: work + PE + MP RVUs do not add up to the {setting.lower()} total "
                            f"{num[f'{setting} TOTAL']}", "E203", where)
        if num["CONV FACTOR"] != cf:
            raise _fail(f"conversion factor {num['CONV FACTOR']} differs from the release's {cf}", "E203", where)
        for flag in ("NON-FAC NA INDICATOR", "FACILITY NA INDICATOR"):
            if row[flag] not in ("", "NA"):
                raise _fail(f"{flag} is {row[flag]!r}, expected NA or blank", "E202", where)
        for ind in ("PCTC IND", "MULT PROC", "BILAT SURG", "ASST SURG", "CO- SURG", "TEAM SURG"):
            if not re.fullmatch(r"\d", row[ind]):
                raise _fail(f"{ind} is {row[ind]!r}, expected one digit", "E202", where)
        batch.append((code, mod, status, int(row["NOT USED FOR MEDICARE PAYMENT"] == "+"),
                      str(num["WORK RVU"]), str(num["NON-FAC PE RVU"]), int(row["NON-FAC NA INDICATOR"] == "NA"),
                      str(num["FACILITY PE RVU"]), int(row["FACILITY NA INDICATOR"] == "NA"), str(num["MP RVU"]),
                      str(num["NON-FACILITY TOTAL"]), str(num["FACILITY TOTAL"]), row["PCTC IND"],
                      row["GLOB DAYS"], row["MULT PROC"], row["BILAT SURG"], row["ASST SURG"], row["CO- SURG"],
                      row["TEAM SURG"], row["ENDO BASE"], str(num["CONV FACTOR"]),
                      row["PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES"],
                      row["DIAGNOSTIC IMAGING FAMILY INDICATOR"],
                      str(num["NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT"]),
                      str(num["FACILITY PE USED FOR OPPS PAYMENT AMOUNT"]),
                      str(num["MP USED FOR OPPS PAYMENT AMOUNT"]), line))
    if not batch:
        raise _fail("no RVU rows found", "E201", str(path))
    conn.executemany(f"INSERT INTO rvu VALUES ({','.join('?' * 27)})", batch)
    return len(batch)


def _load_gpcis(conn: sqlite3.Connection, path: Path, info: dict[str, str]) -> int:
    """Addendum E: a title, the header, one row per locality, then notes (the 1.0 work floor is explained)."""
    header_line, batch, notes = 0, list[tuple[str, ...]](), list[str]()
    for line, cells in _csv_rows(path):
        where, first = f"{path}:{line}", (cells[0].strip() if cells else "")
        if not header_line:
            if first.startswith("Medicare Administrative Contractor"):
                got = tuple(re.sub(r"^\d{4} ", "", c.strip()) for c in cells)
                if got != GPCI_COLUMNS:
                    raise _fail(f"unexpected GPCI header {got}, expected {GPCI_COLUMNS}", "E201", where)
                header_line = line
            continue
        if notes or not _MAC.fullmatch(first):
            if any(c.strip() for c in cells):
                notes.append(" ".join(c.strip() for c in cells if c.strip()))
            continue
        if len(cells) != len(GPCI_COLUMNS) or not _LOCALITY.fullmatch(cells[2].strip()):
            raise _fail(f"not a GPCI row: {cells!r}", "E202", where)
        mac, state, loc, name = (c.strip() for c in cells[:4])
        values = [str(_decimal(v, where, GPCI_COLUMNS[i + 4])) for i, v in enumerate(cells[4:])]
        batch.append((mac, loc, state, name.rstrip("*").strip(), *values))
    if not batch:
        raise _fail("no GPCI header or rows found", "E201", str(path))
    try:
        conn.executemany("INSERT INTO gpci VALUES (?,?,?,?,?,?,?,?)", batch)
    except sqlite3.IntegrityError as e:
        raise _fail(f"a locality appears twice: {e}", "E204", str(path)) from e
    info["gpci_notes"] = json.dumps(notes)
    return len(batch)


def _load_counties(conn: sqlite3.Connection, path: Path, localities: set[tuple[str, str]]) -> int:
    header, state = False, ""
    rows: dict[tuple[str, str], tuple[str, str, str, str, str]] = {}
    for line, cells in _csv_rows(path):
        where, first = f"{path}:{line}", (cells[0].strip() if cells else "")
        if not header:
            if first.startswith("Medicare Adm"):
                got = tuple(c.strip() for c in cells if c.strip())
                if got != LOCCO_COLUMNS:
                    raise _fail(f"unexpected locality header {got}, expected {LOCCO_COLUMNS}", "E201", where)
                header = True
            continue
        if not _MAC.fullmatch(first):
            continue  # blank separators and the '*' footnote
        if len(cells) < 5 or not _LOCALITY.fullmatch(cells[1].strip()):
            raise _fail(f"not a locality row: {cells!r}", "E202", where)
        state = cells[2].strip() or state  # the state is printed on its first locality only
        key = (first, cells[1].strip())
        row = (*key, state, cells[3].strip().rstrip("*").strip(), cells[4].strip())
        if key not in localities:
            raise _fail(f"locality {key[0]}-{key[1]} is not in the GPCI file", "E205", where)
        if key in rows and rows[key] != row:  # the file repeats a locality served by two carriers
            raise _fail(f"locality {key[0]}-{key[1]} is listed twice with different counties", "E204", where)
        rows[key] = row
    if not rows:
        raise _fail("no locality header or rows found", "E201", str(path))
    conn.executemany("INSERT INTO county VALUES (?,?,?,?,?)", rows.values())
    return len(rows)


def _conversion_factor(path: Path) -> tuple[Decimal, int]:
    try:
        raw = json.loads(path.read_text("utf-8"), parse_float=Decimal)
        return Decimal(raw["conversion_factor_non_qualifying_apm"]), int(raw["calendar_year"])
    except (ValueError, KeyError, TypeError, InvalidOperation) as e:
        raise _fail(f"no conversion factor: {e}", "E202", f"{path}:1") from e


def _load_pos(conn: sqlite3.Connection, path: Path) -> int:
    batch = []
    for line, cells in _csv_rows(path):
        where = f"{path}:{line}"
        if line == 1:
            if cells != POS_COLUMNS:
                raise _fail(f"unexpected header {cells}, expected {POS_COLUMNS}", "E201", where)
            continue
        if len(cells) != len(POS_COLUMNS) or not re.fullmatch(r"\d\d", cells[0]) or cells[1] not in _POS_SETTING:
            raise _fail(f"not a place-of-service row: {cells[:3]!r}", "E202", where)
        batch.append((cells[0], cells[2].strip(), _POS_SETTING[cells[1]]))
    conn.executemany("INSERT INTO place_of_service VALUES (?,?,?)", batch)
    return len(batch)


def _load_published(conn: sqlite3.Connection, path: Path, year: int, localities: set[tuple[str, str]],
                    info: dict[str, str]) -> int:
    """The PFREV payment file inside its zip (layout: PF26PB.pdf, 'ANNUAL PHYSICIAN FEE SCHEDULE PAYMENT
    AMOUNT FILE'): year, carrier, locality, HCPCS, modifier, non-facility and facility amounts, a filler,
    PC/TC, status, multiple surgery, two therapy-reduction amounts, OPPS indicator and OPPS amounts."""
    try:
        with zipfile.ZipFile(path) as zf:
            member = next((n for n in zf.namelist() if re.fullmatch(r"PFREV\d\d[A-Z]R?\.txt", n, re.I)), None)
            if member is None:
                raise _fail(f"no PFREVyyX.txt in {zf.namelist()}", "E201", str(path))
            text = zf.read(member).decode("ascii")
    except (zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise _fail(f"unreadable payment file archive: {e}", "E202", str(path)) from e
    info["pfrev_member"] = member
    batch = []
    for line, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        where = f"{path}!{member}:{line}"
        if cells and cells[0].startswith("TRL-"):
            continue
        if len(cells) != PFREV_FIELDS:
            raise _fail(f"record has {len(cells)} fields, expected {PFREV_FIELDS}", "E202", where)
        yr, mac, loc, code, mod, nonfac, fac, _filler, pctc, status, mult, _t1, _t2, opps, o_nf, o_f = cells
        if yr != str(year) or not _HCPCS.fullmatch(code) or (mac, loc) not in localities \
                or not all(_AMOUNT.fullmatch(a) for a in (nonfac, fac, o_nf, o_f)):
            raise _fail(f"not a {year} payment record of a known locality: {cells[:7]!r}", "E202", where)
        batch.append((mac, loc, code, mod.strip(), str(Decimal(nonfac)), str(Decimal(fac)), pctc, status, mult,
                      opps, str(Decimal(o_nf)), str(Decimal(o_f))))
    try:
        conn.executemany("INSERT INTO published_amount VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    except sqlite3.IntegrityError as e:
        raise _fail(f"a payment record appears twice: {e}", "E204", str(path)) from e
    return len(batch)


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    conn.executescript(_SCHEMA)
    info: dict[str, str] = {}
    cf, year = _conversion_factor(files["cf_json"])
    info.update(conversion_factor=str(cf), calendar_year=str(year))
    counts = {"rvu_rows": _load_rvus(conn, files["rvu_csv"], cf, info)}
    progress(f"pfs: {counts['rvu_rows']:,} RVU rows")
    counts["localities"] = _load_gpcis(conn, files["gpci_csv"], info)
    localities = {(m, loc) for m, loc in conn.execute("SELECT mac, locality FROM gpci")}
    counts["county_localities"] = _load_counties(conn, files["locco_csv"], localities)
    counts["places_of_service"] = _load_pos(conn, files["pos_csv"])
    counts["published_amounts"] = _load_published(conn, files["pfrev_zip"], year, localities, info)
    counts["codes"] = conn.execute("SELECT count(DISTINCT hcpcs) FROM rvu").fetchone()[0]
    conn.executemany("INSERT INTO info VALUES (?,?)", sorted(info.items()))
    progress(f"pfs: {counts['localities']} localities, {counts['published_amounts']:,} published amounts")
    return counts
