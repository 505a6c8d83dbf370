"""ICD-10-CM Tabular List: build it into a knowledge base, and read it back (``Tabular``).

Why the Tabular is its own table set: it is the authority on which codes exist, which are billable, what
every code is called and which instructional notes apply (Guideline I.A.12-I.A.13: Excludes1/Excludes2,
Code First, Use Additional Code, Code Also, 7th characters). The Index tells a coder where to look; the
Tabular decides. Source: the official FY2026 (April 1, 2026) Tabular XML, passed in as
``files["tabular_xml"]``.

Schema (all ``tabular_*`` tables are owned here; ``search_fts`` is shared with other builders):

- ``tabular_info(key, value)``: release facts (XML ``<version>``, source file name).
- ``tabular_chapter(number, title, first, last, seq)``.
- ``tabular_block(id, title, first, last, chapter, parent, seq)``: sections such as ``E08-E13``;
  ``parent`` is the enclosing "super-block" (``T20-T25`` is inside ``T20-T32``).
- ``tabular_code(code, undotted, title, level, parent, block, chapter, leaf, seventh_from, placeholder,
  seq, seq_end)``: every category, subcategory and code printed in the XML (dotted ``code``); ``seq`` is
  document order and ``seq_end`` the last seq in its subtree, so "is X under Y" is a range test.
- ``tabular_note(id, owner_kind, owner, kind, grp, seq, text, codes, character)``: one row per printed
  note line; ``owner_kind`` is introduction/chapter/block/code, ``codes`` a JSON list of references
  (``E11.-``, ``N18.1-N18.6``), ``grp`` numbers the XML element the line came from.
- ``tabular_seventh(owner, character, title, seq)``: each ``sevenChrDef`` extension, by defining code.
- ``tabular_seventh_rule(category, sixth, excluded, note)``: 7th characters a note withdraws (S06).
- ``search_fts(code, kind, text)``: FTS5 rows, kind ``title`` for every code title and ``inclusion``
  for every inclusion term; the contract other modules query.

7th-character codes (``S39.012A``) are not stored: they are synthesised from ``tabular_seventh`` by the
reader, which keeps one source of truth and the file small.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from medcoder.codesets.icd10cm_tabular_parse import ParsedTabular, parse_tabular
from medcoder.codesets.icd10cm_tabular_reader import (
    INHERITED_KINDS,
    Block,
    Chapter,
    Level,
    Note,
    NoteKind,
    NoteLevel,
    Tabular,
    TabularEntry,
)
from medcoder.codesets.kbfile import Progress
from medcoder.errors import BuildError

__all__ = ["INHERITED_KINDS", "SCHEMA", "Block", "Chapter", "Level", "Note", "NoteKind", "NoteLevel",
           "Tabular", "TabularEntry", "build"]

SCHEMA = """
CREATE TABLE tabular_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tabular_chapter (
    number INTEGER PRIMARY KEY, title TEXT NOT NULL, first TEXT NOT NULL, last TEXT NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE tabular_block (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, first TEXT NOT NULL, last TEXT NOT NULL,
    chapter INTEGER NOT NULL REFERENCES tabular_chapter(number),
    parent TEXT REFERENCES tabular_block(id), seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE tabular_code (
    code TEXT PRIMARY KEY, undotted TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('category', 'subcategory', 'code')),
    parent TEXT REFERENCES tabular_code(code),
    block TEXT NOT NULL REFERENCES tabular_block(id),
    chapter INTEGER NOT NULL REFERENCES tabular_chapter(number),
    leaf INTEGER NOT NULL, seventh_from TEXT REFERENCES tabular_code(code),
    placeholder INTEGER NOT NULL, seq INTEGER NOT NULL UNIQUE, seq_end INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX tabular_code_parent ON tabular_code(parent, seq);
CREATE INDEX tabular_code_block ON tabular_code(block, seq);
CREATE TABLE tabular_note (
    id INTEGER PRIMARY KEY, owner_kind TEXT NOT NULL, owner TEXT NOT NULL, kind TEXT NOT NULL,
    grp INTEGER NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, codes TEXT NOT NULL,
    character TEXT);
CREATE INDEX tabular_note_owner ON tabular_note(owner_kind, owner, seq);
CREATE INDEX tabular_note_kind ON tabular_note(kind);
CREATE TABLE tabular_seventh (
    owner TEXT NOT NULL REFERENCES tabular_code(code), character TEXT NOT NULL, title TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (owner, character)) WITHOUT ROWID;
CREATE TABLE tabular_seventh_rule (
    category TEXT NOT NULL, sixth TEXT NOT NULL, excluded TEXT NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (category, sixth)) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts
    USING fts5(code UNINDEXED, kind UNINDEXED, text, tokenize='porter unicode61');
"""


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    """Parse the Tabular XML at ``files["tabular_xml"]`` into ``conn`` and return what was loaded.

    Counts: chapters, blocks, categories, subcategories, codes (every diag printed), leaf_codes,
    seventh_expansions, billable (leaf codes needing no 7th character plus every valid 7th-character
    code), notes and notes_<kind>, search_rows, unknown_refs (code-like words in notes that name no
    category, e.g. "vitamin B12"). Commits once at the end.
    """
    if "tabular_xml" not in files:
        raise BuildError("no Tabular XML given", code="E200", where="files['tabular_xml']",
                         fix="Pass files={'tabular_xml': Path(...)} (the official ICD-10-CM Tabular XML)")
    path = Path(files["tabular_xml"])
    progress(f"tabular: reading {path.name}")
    parsed = parse_tabular(path)
    progress(f"tabular: {len(parsed.codes):,} codes, {len(parsed.notes):,} notes parsed; writing")
    try:
        conn.executescript(SCHEMA)
        search_rows = _write(conn, parsed, path)
        conn.commit()
    except sqlite3.Error as e:
        raise BuildError(f"could not write the Tabular tables: {e}", code="E210", where=str(path),
                         fix="Build into a new, empty KB file (kbfile.create_kb)") from e
    counts = _counts(parsed, Tabular(conn))
    counts["search_rows"] = search_rows
    progress(f"tabular: {counts['billable']:,} billable codes, {counts['notes']:,} notes")
    return counts


def _write(conn: sqlite3.Connection, parsed: ParsedTabular, path: Path) -> int:
    conn.executemany("INSERT INTO tabular_info(key, value) VALUES (?, ?)",
                     [("version", parsed.version), ("source", path.name)])
    conn.executemany("INSERT INTO tabular_chapter VALUES (?, ?, ?, ?, ?)",
                     [(c.number, c.title, c.first, c.last, c.seq) for c in parsed.chapters])
    conn.executemany("INSERT INTO tabular_block VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(b.id, b.title, b.first, b.last, b.chapter, b.parent, b.seq) for b in parsed.blocks])
    conn.executemany(
        "INSERT INTO tabular_code VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(c.code, c.code.replace(".", ""), c.title, c.level, c.parent, c.block, c.chapter, int(c.leaf),
          c.seventh_from, int(c.placeholder), c.seq, c.seq_end)
         for c in sorted(parsed.codes, key=lambda c: c.seq)])
    conn.executemany(
        "INSERT INTO tabular_note(owner_kind, owner, kind, grp, seq, text, codes, character) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(n.owner_kind, n.owner, n.kind, n.grp, n.seq, n.text, json.dumps(list(n.codes)), n.character)
         for n in parsed.notes])
    conn.executemany("INSERT INTO tabular_seventh VALUES (?, ?, ?, ?)",
                     [(s.owner, s.character, s.title, s.seq) for s in parsed.seventh])
    conn.executemany("INSERT INTO tabular_seventh_rule VALUES (?, ?, ?, ?)",
                     [(r.category, r.sixth, r.excluded, r.note) for r in parsed.seventh_rules])
    rows = [(c.code, "title", c.title) for c in parsed.codes]
    rows += [(n.owner, "inclusion", n.text) for n in parsed.notes
             if n.kind == "inclusionTerm" and n.owner_kind == "code"]
    conn.executemany("INSERT INTO search_fts(code, kind, text) VALUES (?, ?, ?)", rows)
    return len(rows)


def _counts(parsed: ParsedTabular, tabular: Tabular) -> dict[str, int]:
    """Count what was built; billable codes are counted by the reader, so the number reported is the
    number ``Tabular.billable_codes()`` will yield (7th-character codes included)."""
    levels = Counter(c.level for c in parsed.codes)
    billable = tabular.count(billable=True)
    plain = sum(1 for c in parsed.codes if c.leaf and c.seventh_from is None)
    counts = {
        "chapters": len(parsed.chapters),
        "blocks": len(parsed.blocks),
        "categories": levels["category"],
        "subcategories": levels["subcategory"],
        "codes": len(parsed.codes),
        "leaf_codes": sum(1 for c in parsed.codes if c.leaf),
        "seventh_expansions": billable - plain,
        "billable": billable,
        "notes": len(parsed.notes),
        "unknown_refs": parsed.unknown_refs,
    }
    for kind, n in sorted(Counter(n.kind for n in parsed.notes).items()):
        counts[f"notes_{kind}"] = n
    return counts
