"""ICD-10-PCS: build the official Tables, Definitions and Index XML into a KB, and re-export the reader.

Why store the tables and not only the code list: a PCS code is valid only if every character appears in
the *same row* of its table, and the meaning of a character depends on that row (in table XW0, device
value 2 names a different drug in each row). Keeping the rows lets ``Pcs.explain`` say exactly which
character broke a code, and keeping the expanded code list makes ``is_valid`` one index lookup.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

from medcoder.codesets.icd10pcs_index import build_index
from medcoder.codesets.icd10pcs_reader import (
    Pcs,
    PcsAxis,
    PcsAxisValues,
    PcsExplanation,
    PcsIndexEntry,
    PcsIndexRef,
    PcsRow,
    PcsTable,
    normalize_code,
)
from medcoder.codesets.kbfile import Progress, write_meta
from medcoder.errors import BuildError, SourceError

__all__ = [
    "Pcs", "PcsAxis", "PcsAxisValues", "PcsExplanation", "PcsIndexEntry", "PcsIndexRef", "PcsRow",
    "PcsTable", "build", "normalize_code",
]

BUILDER_VERSION = 1

SCHEMA = """
CREATE TABLE pcs_table (
    prefix TEXT PRIMARY KEY,          -- characters 1-3, e.g. '0DT'
    seq INTEGER NOT NULL              -- order in the Tables file
);
CREATE TABLE pcs_table_axis (         -- characters 1-3 of a table: one value each
    prefix TEXT NOT NULL, pos INTEGER NOT NULL, title TEXT NOT NULL,
    code TEXT NOT NULL, label TEXT NOT NULL, definition TEXT,
    PRIMARY KEY (prefix, pos)
) WITHOUT ROWID;
CREATE TABLE pcs_row (
    prefix TEXT NOT NULL, row_no INTEGER NOT NULL, codes INTEGER NOT NULL,
    PRIMARY KEY (prefix, row_no)
) WITHOUT ROWID;
CREATE TABLE pcs_row_axis (           -- characters 4-7 of a row: one line per allowed value
    prefix TEXT NOT NULL, row_no INTEGER NOT NULL, pos INTEGER NOT NULL, title TEXT NOT NULL,
    code TEXT NOT NULL, label TEXT NOT NULL,
    PRIMARY KEY (prefix, row_no, pos, code)
) WITHOUT ROWID;
CREATE TABLE pcs_code (               -- every valid code, and the row of its table that allows it
    code TEXT PRIMARY KEY, row_no INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE pcs_definition (         -- Definitions file: one line per term title
    section TEXT NOT NULL, pos INTEGER NOT NULL, axis_title TEXT NOT NULL, term TEXT NOT NULL,
    definition TEXT, explanation TEXT, includes TEXT NOT NULL,  -- includes: JSON list of strings
    PRIMARY KEY (section, pos, term)
) WITHOUT ROWID;
CREATE TABLE pcs_device_aggregate (   -- Definitions file: specific device -> general device value
    device TEXT NOT NULL, operation TEXT NOT NULL, body_systems TEXT NOT NULL,  -- JSON list
    parent_code TEXT NOT NULL, parent_label TEXT NOT NULL
);
"""

FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "code UNINDEXED, kind UNINDEXED, text, tokenize='porter unicode61')"
)

# Values that say "nothing here"; they add noise to search text and to built descriptions.
NONE_LABELS = frozenset({"None", "No Device", "No Qualifier"})


def _text(el: ET.Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _parse(path: Path, root_tag: str) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise SourceError(f"cannot read ICD-10-PCS XML: {e}", code="E315", where=str(path),
                          fix="Re-download the CMS 'Code Tables and Index' zip and point at its XML") from e
    if root.tag != root_tag:
        raise SourceError(f"expected a <{root_tag}> file, found <{root.tag}>", code="E315",
                          where=str(path), fix="Check which XML was passed for which key")
    return root


def _store_tables(conn: sqlite3.Connection, root: ET.Element, path: Path) -> tuple[int, int, int]:
    """Insert tables, rows and the expanded codes; check each row expands to its ``codes`` attribute."""
    table_axes: list[tuple[str, int, str, str, str, str | None]] = []
    row_axes: list[tuple[str, int, int, str, str, str]] = []
    rows: list[tuple[str, int, int]] = []
    codes: dict[str, int] = {}
    tables: list[tuple[str, int]] = []
    for seq, table in enumerate(root.iter("pcsTable")):
        head = [(axis, axis.find("label")) for axis in table.findall("axis")]
        labels = [label for _, label in head if label is not None]
        prefix = "".join(label.get("code", "") for label in labels)
        if len(head) != 3 or len(labels) != 3 or len(prefix) != 3:
            raise BuildError(f"table {seq + 1} does not have one value for each of characters 1-3",
                             code="E317", where=str(path), fix="The Tables XML is damaged; re-download it")
        tables.append((prefix, seq))
        for (axis, _), label in zip(head, labels, strict=True):
            table_axes.append((prefix, int(axis.get("pos", "0")), _text(axis.find("title")),
                               label.get("code", ""), _text(label), _text(axis.find("definition")) or None))
        for row_no, row in enumerate(table.findall("pcsRow"), start=1):
            values: list[list[str]] = []
            for axis in row.findall("axis"):
                pos, title = int(axis.get("pos", "0")), _text(axis.find("title"))
                chars = [label.get("code", "") for label in axis.findall("label")]
                values.append(chars)
                row_axes.extend((prefix, row_no, pos, title, label.get("code", ""), _text(label))
                                for label in axis.findall("label"))
            expected = int(row.get("codes", "-1"))
            expanded = ["".join(chars) for chars in itertools.product(*values)]
            if len(values) != 4 or len(expanded) != expected:
                raise BuildError(f"row {row_no} of table {prefix} expands to {len(expanded)} codes, "
                                 f"the file says {expected}", code="E317", where=str(path),
                                 fix="The Tables XML is damaged or of an unknown layout")
            for tail in expanded:
                if prefix + tail in codes:
                    raise BuildError(f"code {prefix + tail} is allowed by two rows of table {prefix}",
                                     code="E317", where=str(path), fix="Report this to CMS")
                codes[prefix + tail] = row_no
            rows.append((prefix, row_no, expected))
    conn.executemany("INSERT INTO pcs_table VALUES (?, ?)", tables)
    conn.executemany("INSERT INTO pcs_table_axis VALUES (?, ?, ?, ?, ?, ?)", table_axes)
    conn.executemany("INSERT INTO pcs_row VALUES (?, ?, ?)", rows)
    conn.executemany("INSERT INTO pcs_row_axis VALUES (?, ?, ?, ?, ?, ?)", row_axes)
    conn.executemany("INSERT INTO pcs_code VALUES (?, ?)", sorted(codes.items()))
    return len(tables), len(rows), len(codes)


def _store_definitions(conn: sqlite3.Connection, root: ET.Element) -> int:
    """One line per term title: a ``<terms>`` block may name several labels (``1st Toe, Left/Right``)."""
    found: dict[tuple[str, int, str], tuple[str, str | None, str | None, list[str]]] = {}
    for section in root.iter("section"):
        sec = section.get("code", "")
        for axis in section.findall("axis"):
            pos, axis_title = int(axis.get("pos", "0")), _text(axis.find("title"))
            for terms in axis.findall("terms"):
                definition = _text(terms.find("definition")) or None
                explanation = _text(terms.find("explanation")) or None
                includes = [_text(el) for el in terms.findall("includes")]
                for title in terms.findall("title"):
                    key = (sec, pos, _text(title))
                    if key in found:  # the same label twice: keep every "includes" it lists
                        includes = found[key][3] + [i for i in includes if i not in found[key][3]]
                    found[key] = (axis_title, definition, explanation, includes)
    conn.executemany(
        "INSERT INTO pcs_definition VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(sec, pos, axis_title, term, definition, explanation, json.dumps(includes))
         for (sec, pos, term), (axis_title, definition, explanation, includes) in found.items()],
    )
    aggregates = []
    for agg in root.iter("aggregate"):
        parent = agg.find("parent")
        aggregates.append((_text(agg.find("device")), _text(agg.find("operation")),
                           json.dumps([_text(b) for b in agg.findall("bodySys")]),
                           parent.get("value", "") if parent is not None else "", _text(parent)))
    conn.executemany("INSERT INTO pcs_device_aggregate VALUES (?, ?, ?, ?, ?)", aggregates)
    return len(found)


def _table_search_texts(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """One text per table (code = 3 chars) and per table + body part (code = 4 chars).

    Why per body part: a coder searches "laparoscopic appendix resection"; the 4-character prefix is
    the most specific thing the table alone can answer. Body-part "includes" from the Definitions file
    (e.g. "Vermiform appendix") are added so anatomical synonyms match.
    """
    includes: dict[tuple[str, int, str], list[str]] = {
        (sec, pos, term): json.loads(inc)
        for sec, pos, term, inc in conn.execute("SELECT section, pos, term, includes FROM pcs_definition")
    }
    heads: dict[str, list[str]] = defaultdict(list)
    for prefix, label, definition in conn.execute(
            "SELECT prefix, label, definition FROM pcs_table_axis ORDER BY prefix, pos"):
        heads[prefix].append(label)
        if definition:
            heads[prefix].append(definition)
    for prefix, words in heads.items():
        yield prefix, "pcs-table", " ".join(words)
    parts: dict[str, dict[str, None]] = defaultdict(dict)  # ordered sets
    row_parts: dict[tuple[str, int], list[str]] = defaultdict(list)
    rest: dict[tuple[str, int], list[str]] = defaultdict(list)
    for prefix, row_no, pos, code, label in conn.execute(
            "SELECT prefix, row_no, pos, code, label FROM pcs_row_axis ORDER BY prefix, row_no, pos"):
        if pos == 4:
            row_parts[(prefix, row_no)].append(code)
            parts[prefix + code][label] = None
            for term in includes.get((prefix[0], 4, label), ()):
                parts[prefix + code][term] = None
        elif label not in NONE_LABELS:
            rest[(prefix, row_no)].append(label)
    for key, body_parts in row_parts.items():
        for code in body_parts:
            for label in rest[key]:
                parts[key[0] + code][label] = None
    for code4, labels in parts.items():
        yield code4, "pcs-table", " ".join([*heads[code4[:3]][:3], *labels])


def build(conn: sqlite3.Connection, files: Mapping[str, Path], *, progress: Progress) -> dict[str, int]:
    """Build the ICD-10-PCS KB from ``tables_xml`` (+ optional ``definitions_xml``, ``index_xml``)."""
    if "tables_xml" not in files:
        raise SourceError("the ICD-10-PCS build needs the Tables XML", code="E316",
                          where="files['tables_xml']", fix="Pass the icd10pcs_tables_YYYY.xml file")
    conn.executescript(SCHEMA)
    conn.execute(FTS_DDL)
    tables_path = Path(files["tables_xml"])
    root = _parse(tables_path, "ICD10PCS.tabular")
    n_tables, n_rows, n_codes = _store_tables(conn, root, tables_path)
    progress(f"icd10pcs tables: {n_tables:,} tables, {n_rows:,} rows, {n_codes:,} codes")
    meta: dict[str, object] = {"icd10pcs.version": _text(root.find("version")),
                               "icd10pcs.title": _text(root.find("title"))}
    counts = {"pcs_tables": n_tables, "pcs_rows": n_rows, "pcs_codes": n_codes,
              "pcs_definitions": 0, "pcs_index_terms": 0}
    if files.get("definitions_xml"):
        counts["pcs_definitions"] = _store_definitions(
            conn, _parse(Path(files["definitions_xml"]), "ICD10PCS.definitions"))
        progress(f"icd10pcs definitions: {counts['pcs_definitions']:,} terms")
    texts = list(_table_search_texts(conn))
    if files.get("index_xml"):
        index_root = _parse(Path(files["index_xml"]), "ICD10PCS.index")
        counts["pcs_index_terms"], index_texts = build_index(conn, index_root)
        texts.extend(index_texts)
        meta["icd10pcs.index_version"] = _text(index_root.find("version"))
        progress(f"icd10pcs index: {counts['pcs_index_terms']:,} terms")
    conn.executemany("INSERT INTO search_fts(code, kind, text) VALUES (?, ?, ?)", texts)
    counts["pcs_search_rows"] = len(texts)
    meta["icd10pcs.has_index"] = bool(counts["pcs_index_terms"])
    write_meta(conn, meta)
    conn.commit()
    progress(f"icd10pcs search: {len(texts):,} rows")
    return counts
