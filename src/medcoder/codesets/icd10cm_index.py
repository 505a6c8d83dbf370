"""Build the ICD-10-CM Alphabetic Index, External Cause Index, Table of Neoplasms and Table of Drugs into a KB.

Why one tree table for four books: they share one schema, and a "see" in one book can point into another
("see Neoplasm, by site, malignant"). Every term keeps its source row (CSV RowID or XML ordinal) so any code
the coder is shown can be traced back to the line of the official (or derived) file it came from.

Why the official index XML is preferred to the derived CSV: the CSV lost the bracketed manifestation codes,
subcategory pointers, see-category references, warnings and title text after a nonessential modifier (see
the mirror's ``cms/icd10cm/SOURCE.md``). Which form was used is written to ``meta`` and returned in the
counts (``index_from_xml``), so every result built on it can say so.

Table written (one row per mainTerm/term, ids in document order, contiguous per book)::

    index_term(id, book, parent_id, level, letter, title, title_norm, nemod, printed, code, manif, see,
               see_also, seecat, subcat, warning, col2..col7, source_row, source_line)
    search_fts(code UNINDEXED, kind UNINDEXED, text)   -- FTS5, porter unicode61; shared with other builders

Full-text rows (``kind`` = book): one per ``code`` and per ``subcat`` of the index and External Cause
Index, ``text`` = the printed path with nonessential modifiers ("Strain (overuse) > back"), so that words a
note uses only as modifiers ("essential") still find the entry; for the two tables one row per non-empty
cell, ``text`` = path plus the column heading ("Oxycodone [Adverse effect]").

``col2..col7`` are the table cells as the XML numbers them (Neoplasm: malignant primary, malignant
secondary, ca in situ, benign, uncertain, unspecified; Drug: poisoning accidental, intentional self-harm,
assault, undetermined, adverse effect, underdosing); NULL where the table prints "-"/"--".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from medcoder.codesets.icd10cm_index_csv import parse_index_csv
from medcoder.codesets.icd10cm_index_model import (
    BOOKS,
    DRUG_COLUMNS,
    NEOPLASM_COLUMNS,
    TABLE_BOOKS,
    Book,
    CrossRef,
    IndexTerm,
    ParsedSource,
    RoundTripFailure,
    RoundTripReport,
    WalkResult,
    WalkStep,
    normalize,
)
from medcoder.codesets.icd10cm_index_walk import AlphabeticIndex
from medcoder.codesets.icd10cm_index_xml import parse_index_xml
from medcoder.codesets.kbfile import Progress, write_meta
from medcoder.errors import BuildError, SourceError

__all__ = [
    "BOOKS", "AlphabeticIndex", "Book", "CrossRef", "IndexTerm", "RoundTripFailure", "RoundTripReport",
    "TABLE_COLUMNS", "WalkResult", "WalkStep", "build",
]

FILE_KEYS: dict[str, Book] = {"eindex_xml": "eindex", "neoplasm_xml": "neoplasm", "drug_xml": "drug"}
"""The companion books, each an official XML file of the index schema."""

DEFAULT_HEADINGS: dict[Book, tuple[str, ...]] = {
    "neoplasm": ("Malignant Primary", "Malignant Secondary", "Ca in situ", "Benign", "Uncertain Behavior",
                 "Unspecified Behavior"),
    "drug": ("Poisoning Accidental (unintentional)", "Poisoning Intentional self-harm", "Poisoning Assault",
             "Poisoning Undetermined", "Adverse effect", "Underdosing"),
}
"""Column labels for full-text rows when a file carries no ``<indexHeading>``."""

TABLE_COLUMNS: dict[Book, tuple[str, ...]] = {"neoplasm": NEOPLASM_COLUMNS, "drug": DRUG_COLUMNS}
"""Names of the six cells (``col2..col7``) of each table, for readers that map cells to names."""

SCHEMA = """
CREATE TABLE index_term (
    id INTEGER PRIMARY KEY,
    book TEXT NOT NULL CHECK (book IN ('index', 'eindex', 'neoplasm', 'drug')),
    parent_id INTEGER REFERENCES index_term(id),
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 9),
    letter TEXT,
    title TEXT NOT NULL,
    title_norm TEXT NOT NULL,
    nemod TEXT,
    printed TEXT NOT NULL,
    code TEXT, manif TEXT, see TEXT, see_also TEXT, seecat TEXT, subcat TEXT, warning TEXT,
    col2 TEXT, col3 TEXT, col4 TEXT, col5 TEXT, col6 TEXT, col7 TEXT,
    source_row INTEGER NOT NULL,
    source_line INTEGER NOT NULL
);
CREATE INDEX index_term_parent ON index_term(book, parent_id);
CREATE INDEX index_term_norm ON index_term(book, title_norm);
CREATE INDEX index_term_code ON index_term(code);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(code UNINDEXED, kind UNINDEXED, text,
    tokenize='porter unicode61');
"""

_INSERT = ("INSERT INTO index_term VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
           "?)")


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    """Build every book ``files`` names; return counts (terms, main terms, coded entries, FTS rows).

    ``files`` keys: ``index_xml`` (official, preferred) or ``index_csv`` (derived), and ``eindex_xml``,
    ``neoplasm_xml``, ``drug_xml``. Each is optional; at least one must be given.
    """
    started = time.perf_counter()
    sources = list(_parse_all(files, progress=progress))
    if not sources:
        raise BuildError("no index file given", code="E200", where=", ".join(sorted(files)) or "files",
                         fix="Pass index_xml or index_csv, and eindex_xml, neoplasm_xml, drug_xml")
    conn.executescript(SCHEMA)
    counts: dict[str, int] = {"index_from_xml": 0}
    next_id = 1
    fts_rows = 0
    for source in sources:
        book = source.book
        rows, fts = _rows(source, first_id=next_id)
        conn.executemany(_INSERT, rows)
        conn.executemany("INSERT INTO search_fts(code, kind, text) VALUES (?, ?, ?)", fts)
        next_id += len(rows)
        fts_rows += len(fts)
        counts[f"{book}_terms"] = len(rows)
        counts[f"{book}_main_terms"] = sum(1 for term in source.terms if term.level == 0)
        counts[f"{book}_coded"] = sum(1 for term in source.terms if _coded(book, term.code, term.cells))
        counts[f"{book}_fts_rows"] = len(fts)
        if book == "index":
            counts["index_from_xml"] = int(source.form == "xml-official")
            counts["index_csv_repaired_codes"] = source.repaired_codes
        progress(f"{book}: {len(rows):,} terms, {counts[f'{book}_coded']:,} coded ({source.form})")
    counts["fts_rows"] = fts_rows
    write_meta(conn, {
        "icd10cm_index.index_form": next((s.form for s in sources if s.book == "index"), None),
        "icd10cm_index.books": [s.book for s in sources],
        "icd10cm_index.files": {s.book: {"path": Path(s.path).name, "form": s.form, "version": s.version,
                                         "title": s.title} for s in sources},
        "icd10cm_index.headings": {s.book: {str(col): head for col, head in sorted(s.headings.items())}
                                   for s in sources if s.headings},
        "icd10cm_index.counts": counts,
    })
    conn.commit()
    progress(f"index books built in {time.perf_counter() - started:.1f} s")
    return counts


def _parse_all(files: Mapping[str, Path], *, progress: Progress) -> Iterator[ParsedSource]:
    if "index_xml" in files:
        yield parse_index_xml(_existing(files["index_xml"]), book="index")
    elif "index_csv" in files:
        progress("index: official XML not given, reading the derived CSV (no manif/subcat/seecat/warning)")
        yield parse_index_csv(_existing(files["index_csv"]))
    for key, book in FILE_KEYS.items():
        if key in files:
            yield parse_index_xml(_existing(files[key]), book=book)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise SourceError("index source file not found", code="E101", where=str(path),
                          fix="Restore the mirror (../shared/cms) or drop the key from files")
    return path


def _coded(book: Book, code: str | None, cells: tuple[str | None, ...] | None) -> bool:
    if book in TABLE_BOOKS:
        return bool(cells and any(cells))
    return bool(code)


def _rows(source: ParsedSource, *, first_id: int) -> tuple[list[tuple[object, ...]], list[tuple[str, str, str]]]:
    """Give each term its id and parent id (from document order and level) and its full-text rows."""
    book = source.book
    labels = tuple(source.headings.get(col, default) for col, default in
                   zip(range(2, 8), DEFAULT_HEADINGS.get(book, ("",) * 6), strict=True))
    ids: list[int] = []
    texts: list[str] = []
    rows: list[tuple[object, ...]] = []
    fts: list[tuple[str, str, str]] = []
    for offset, term in enumerate(source.terms):
        term_id = first_id + offset
        del ids[term.level:], texts[term.level:]
        if len(ids) != term.level:  # parsers guarantee this; a KB with orphans would mislead every walk
            raise BuildError(f"term at level {term.level} has no parent", code="E212",
                             where=f"{source.path}:{term.line}")
        parent = ids[-1] if ids else None
        ids.append(term_id)
        texts.append(term.printed)
        cells = term.cells or (None,) * 6
        rows.append((term_id, book, parent, term.level, term.letter, term.title,
                     normalize(term.title or term.nemod or ""), term.nemod, term.printed, term.code, term.manif,
                     term.see, term.see_also, term.seecat, term.subcat, term.warning, *cells,
                     term.ordinal, term.line))
        text = " > ".join(texts)
        for code in (term.code, term.subcat):
            if code:
                fts.append((code, book, text))
        for label, cell in zip(labels, cells, strict=True):
            if cell:
                fts.append((cell, book, f"{text} [{label}]"))
    return rows, fts

