"""CPT (HCPCS Level I) from a file the user supplies under their own AMA licence.

Why a loader and no data: CPT descriptors are copyrighted by the AMA, so medcoder never ships, fetches or
tests with CPT text. Users export their licensed data in whatever shape they have (AMA ``LONGULT.txt``
"code, whitespace, descriptor" lines, or a CSV/TSV/pipe file from a vendor), so the loader detects the
delimiter, the header and the code and descriptor columns, and refuses a file it cannot read
unambiguously, naming the file and line.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from medcoder.codesets.kbfile import Progress, write_meta
from medcoder.errors import CodeFormatError, SourceError

__all__ = ["Cpt", "CptEntry", "build", "normalize_code"]

BUILDER_VERSION = 1

SCHEMA = """
CREATE TABLE cpt_code (
    code TEXT PRIMARY KEY,      -- 99213, 0591T ...
    descriptor TEXT NOT NULL,   -- from the user's licensed file; never shipped
    line INTEGER NOT NULL       -- line of the user's file it came from
) WITHOUT ROWID;
"""

FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "code UNINDEXED, kind UNINDEXED, text, tokenize='porter unicode61')"
)

CODE = re.compile(r"\d{4}[0-9AFMTU]")
"""5 digits (Category I), or 4 digits and F (Category II), T (III), U (PLA), M (MAAA), A (vaccine admin)."""

CATEGORIES = {"F": "II", "T": "III", "U": "PLA", "M": "MAAA", "A": "I"}
DELIMITERS = ("\t", "|", ",", ";")
SAMPLE = 200
# Header names, best first: vendors call the long text many things.
DESCRIPTOR_NAMES = (
    re.compile(r"long.*desc"), re.compile(r"^descriptor$"), re.compile(r"^description$"),
    re.compile(r"desc"), re.compile(r"text|title|name"),
)


def normalize_code(code: str) -> str:
    """Upper-case and check a CPT code; ``CodeFormatError`` E336 when malformed."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if CODE.fullmatch(text):
        return text
    hint = ("Letter + 4 digits is HCPCS Level II: use medcoder.codesets.hcpcs.Hcpcs"
            if re.fullmatch(r"[A-Z]\d{4}", text) else "CPT codes are 5 digits, or 4 digits and F/T/U/M/A")
    raise CodeFormatError(f"{code!r} is not a CPT code", code="E336", where=repr(code), fix=hint)


@dataclass(frozen=True, slots=True, kw_only=True)
class CptEntry:
    code: str
    descriptor: str
    category: str
    """``I``, ``II``, ``III``, ``PLA`` or ``MAAA``, from the code's last character."""
    line: int
    """Line of the user's file the descriptor was read from, for "where did this text come from"."""


Rows = list[tuple[int, list[str]]]
"""(line number, cells) of the non-blank lines of a file."""


def _is_code(value: str) -> bool:
    return CODE.fullmatch(value.strip().upper()) is not None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceError(f"cannot read the CPT file: {e}", code="E330", where=str(path),
                          fix="Pass the path of your licensed CPT export") from e
    for encoding in ("utf-8-sig", "cp1252"):  # AMA text files are often Windows-1252
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _rows(text: str, delimiter: str, limit: int | None = None) -> Rows:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out = []
    for row in reader:
        if any(cell.strip() for cell in row):
            out.append((reader.line_num, row))
            if limit is not None and len(out) >= limit:
                break
    return out


def _code_column(rows: Rows) -> int | None:
    """The first column holding a code on at least 90% of the data lines (the first may be a header)."""
    data = rows[1:] if len(rows) > 1 else rows
    width = max((len(r) for _, r in data), default=0)
    for col in range(width):
        hits = sum(1 for _, r in data if col < len(r) and _is_code(r[col]))
        if hits and hits >= 0.9 * len(data):
            return col
    return None


def _descriptor_column(rows: Rows, code_col: int, header: list[str] | None) -> int | None:
    """By header name when there is one; else the column with the longest mostly non-code text."""
    width = len(header) if header else Counter(len(r) for _, r in rows).most_common(1)[0][0]
    others = [c for c in range(width) if c != code_col]
    if header:
        names = [h.strip().lower() for h in header]
        for pattern in DESCRIPTOR_NAMES:
            for col in others:
                if pattern.search(names[col]):
                    return col
    data = rows[1:] if header else rows
    lengths: dict[int, float] = {}
    for col in others:
        cells = [r[col].strip() for _, r in data if col < len(r)]
        if sum(1 for cell in cells if cell and not _is_code(cell)) > len(data) / 2:
            lengths[col] = sum(map(len, cells)) / len(data)
    return max(lengths, key=lambda c: lengths[c]) if lengths else None


def _parse_delimited(path: Path, text: str, delimiter: str) -> tuple[list[tuple[str, str, int]], str] | None:
    """Parse with ``delimiter`` if some column holds codes; ``None`` to try another layout."""
    sample = _rows(text, delimiter, SAMPLE)
    code_col = _code_column(sample)
    if code_col is None:
        return None
    rows = _rows(text, delimiter)
    first = rows[0][1]
    header = None if code_col < len(first) and _is_code(first[code_col]) else first
    desc_col = _descriptor_column(sample, code_col, header)
    if desc_col is None:
        raise SourceError(f"found codes in column {code_col + 1} but no descriptor column", code="E332",
                          where=f"{path}:{rows[0][0]}",
                          fix="Add a column of descriptors (a header such as 'descriptor' helps)")
    ncols = len(header) if header else Counter(len(r) for _, r in sample).most_common(1)[0][0]
    entries = _from_rows(path, rows[1:] if header else rows, code_col, desc_col, (delimiter, ncols))
    layout = (f"delimited {delimiter!r}, {'header' if header else 'no header'}, code column {code_col + 1}, "
              f"descriptor column {desc_col + 1}")
    return entries, layout


def _parse(path: Path) -> tuple[list[tuple[str, str, int]], str]:
    """Return (code, descriptor, line) triples and a description of the layout found."""
    text = _read_text(path)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise SourceError("the CPT file is empty", code="E330", where=str(path),
                          fix="Export the code and descriptor columns of your licensed CPT data")
    head = lines[:SAMPLE]
    for delimiter in DELIMITERS:
        if sum(delimiter in line for _, line in head) >= 0.9 * len(head):
            parsed = _parse_delimited(path, text, delimiter)
            if parsed is not None:
                return parsed
    # AMA LONGULT.txt style: code, whitespace, descriptor. The first line may be a header.
    data = head[1:] if len(head) > 1 else head
    if sum(_is_code(line.split(maxsplit=1)[0]) for _, line in data) >= 0.9 * len(data):
        skip = 0 if _is_code(lines[0][1].split(maxsplit=1)[0]) else 1
        rows = [(n, line.strip().split(maxsplit=1)) for n, line in lines[skip:]]
        return _from_rows(path, rows, 0, 1, None), "code + whitespace + descriptor lines"
    raise SourceError(f"no column of CPT codes found; first line reads {lines[0][1][:80]!r}", code="E331",
                      where=f"{path}:{lines[0][0]}",
                      fix="Give a CSV/TSV/pipe file with a column of 5-character CPT codes, or "
                          "'code descriptor' lines like the AMA LONGULT.txt")


def _from_rows(path: Path, rows: Rows, code_col: int, desc_col: int,
               delimited: tuple[str, int] | None) -> list[tuple[str, str, int]]:
    """Check every line; ``delimited`` is (delimiter, expected column count) for delimited files."""
    seen: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        where = f"{path}:{line}"
        if len(row) <= code_col or not _is_code(row[code_col]):
            found = row[code_col].strip() if len(row) > code_col else ""
            raise SourceError(f"{found!r} is not a CPT code", code="E333", where=where,
                              fix="Every data line needs a 5-character code (99213, 0591T ...)")
        code = row[code_col].strip().upper()
        if delimited and desc_col == delimited[1] - 1 and len(row) > delimited[1]:
            # An unquoted delimiter inside the last column: put the descriptor back together.
            descriptor = delimited[0].join(row[desc_col:])
        else:
            descriptor = row[desc_col] if len(row) > desc_col else ""
        descriptor = " ".join(descriptor.split())
        if not descriptor:
            raise SourceError(f"code {code} has an empty descriptor", code="E335", where=where,
                              fix="Fill in the descriptor or drop the line")
        if code in seen and seen[code][0] != descriptor:
            raise SourceError(f"code {code} appears twice with different descriptors (first at line "
                              f"{seen[code][1]})", code="E334", where=where,
                              fix="Keep one line per code (mixing descriptor files, e.g. long and short?)")
        seen.setdefault(code, (descriptor, line))
    return [(code, text, line) for code, (text, line) in seen.items()]


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    """Load ``files["cpt_file"]``, a licensed CPT export, into ``cpt_code`` and ``search_fts``."""
    if not files.get("cpt_file"):
        raise SourceError("the CPT loader needs your licensed CPT file", code="E337",
                          where=f"files keys {sorted(files)}", fix="Pass it as files['cpt_file']")
    path = Path(files["cpt_file"])
    entries, layout = _parse(path)
    conn.executescript(SCHEMA)
    conn.execute(FTS_DDL)
    conn.executemany("INSERT INTO cpt_code VALUES (?, ?, ?)", entries)
    conn.executemany("INSERT INTO search_fts(code, kind, text) VALUES (?, 'cpt', ?)",
                     [(code, text) for code, text, _ in entries])
    write_meta(conn, {"cpt.file": path.name, "cpt.layout": layout})
    conn.commit()
    progress(f"cpt: {len(entries):,} codes from {path.name} ({layout})")
    return {"cpt_codes": len(entries)}


class Cpt:
    """Lookups over a KB built from the user's CPT file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, code: str) -> CptEntry | None:
        code = normalize_code(code)
        row = self.conn.execute("SELECT descriptor, line FROM cpt_code WHERE code = ?", (code,)).fetchone()
        if row is None:
            return None
        return CptEntry(code=code, descriptor=row[0], category=CATEGORIES.get(code[-1], "I"), line=row[1])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM cpt_code").fetchone()[0])
