"""The ICD-10-PCS Index: main terms and subterms pointing at codes, tables or other terms.

Why a tree of rows and not a flat term list: the Index is walked like the printed book
("Abortion > Laminaria -> 10A07ZW"), and a term's meaning depends on its ancestors. Each node keeps the
one reference the XML gives it: ``<use>`` (a table value to use instead), ``<see>`` (another main term),
``<code>`` (a full code), ``<codes>`` (a partial code of 4-6 characters) or ``<tab>`` (a table, 3
characters). Untitled ``<term>`` elements are alternatives of their parent ("Abdominoplasty: see
Alteration ...; see Repair ...; see Supplement ..."), so a walk folds them into the parent's references.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE pcs_index (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,       -- 0 for main terms
    letter TEXT NOT NULL,
    level INTEGER NOT NULL,           -- 0 main term, 1.. subterm level as in the XML
    title TEXT,                       -- NULL for an untitled alternative of its parent
    norm TEXT,                        -- casefolded title, for lookups
    ref TEXT,                         -- use | see | code | codes | tab | NULL
    target TEXT,                      -- the term named by use/see
    code TEXT                         -- the code, partial code or table of the reference
);
CREATE INDEX pcs_index_lookup ON pcs_index(parent_id, norm);
"""

REF_TAGS = ("use", "see", "code", "codes", "tab")


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsIndexRef:
    """One reference of an Index entry, kept as the XML states it.

    ``kind`` is the XML element: ``use`` and ``see`` name a ``target`` term (and may carry a ``code``,
    a partial code or table); ``code`` (7 characters), ``codes`` (4-6) and ``tab`` (3) only a ``code``.
    """

    kind: str
    target: str | None
    code: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsIndexEntry:
    """Where an Index walk ended: the path as printed, its references and the subterms below it."""

    path: tuple[str, ...]
    refs: tuple[PcsIndexRef, ...]
    subterms: tuple[str, ...]


def normalize_term(term: str) -> str:
    """Index lookups ignore case and spacing: coders type "abortion", the book prints "Abortion"."""
    return " ".join(term.split()).casefold()


def _text(el: ET.Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def build_index(conn: sqlite3.Connection, root: ET.Element) -> tuple[int, list[tuple[str, str, str]]]:
    """Store the Index tree; return the node count and the search rows (code, 'pcs-index', text)."""
    conn.executescript(SCHEMA)
    nodes: list[tuple[int, int, str, int, str | None, str | None, str | None, str | None, str | None]] = []
    texts: list[tuple[str, str, str]] = []

    def add(el: ET.Element, parent_id: int, letter: str, level: int, path: tuple[str, ...]) -> None:
        node_id = len(nodes) + 1
        title = _text(el.find("title")) or None
        ref_el = next((child for child in el if child.tag in REF_TAGS), None)
        ref = target = code = None
        if ref_el is not None:
            ref = ref_el.tag
            if ref in ("use", "see"):
                target = _text(ref_el) or None
                nested = next((child for child in ref_el if child.tag in ("code", "codes", "tab")), None)
                code = _text(nested) or None
            else:
                code = _text(ref_el) or None
        nodes.append((node_id, parent_id, letter, level, title,
                      normalize_term(title) if title else None, ref, target, code))
        here = (*path, title) if title else path
        if code is not None:  # a search hit must lead to a code; code-less use/see stay walkable only
            texts.append((code, "pcs-index", " ".join(here + ((target,) if target else ()))))
        for child in el.findall("term"):
            add(child, node_id, letter, int(child.get("level", str(level + 1))), here)

    for letter in root.findall("letter"):
        for main in letter.findall("mainTerm"):
            add(main, 0, _text(letter.find("title")), 0, ())
    conn.executemany("INSERT INTO pcs_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", nodes)
    return len(nodes), texts


def has_index(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pcs_index'").fetchone()
    return row is not None


def walk_index(conn: sqlite3.Connection, term: str, subterms: tuple[str, ...]) -> PcsIndexEntry | None:
    """Follow main term then each subterm; ``None`` when a step is not in the Index."""
    parent, path = 0, []
    for step in (term, *subterms):
        row = conn.execute("SELECT id, title FROM pcs_index WHERE parent_id = ? AND norm = ?",
                           (parent, normalize_term(step))).fetchone()
        if row is None:
            return None
        parent = row[0]
        path.append(row[1])
    own = conn.execute("SELECT ref, target, code FROM pcs_index WHERE id = ?", (parent,)).fetchone()
    refs = [PcsIndexRef(kind=own[0], target=own[1], code=own[2])] if own and own[0] else []
    titles = []
    for title, ref, target, code in conn.execute(
            "SELECT title, ref, target, code FROM pcs_index WHERE parent_id = ? ORDER BY id", (parent,)):
        if title is not None:
            titles.append(title)
        elif ref is not None:
            refs.append(PcsIndexRef(kind=ref, target=target, code=code))
    return PcsIndexEntry(path=tuple(path), refs=tuple(refs), subterms=tuple(titles))
