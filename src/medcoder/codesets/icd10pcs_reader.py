"""Read an ICD-10-PCS KB: validity, axis-by-axis explanations, built titles, tables and the Index.

Why explain instead of only validate: a coder who typed 0016 0J0 needs to know *which* character the
table refuses and what it would accept, so an invalid but well-formed code is answered with an
explanation (``valid=False`` and a ``problem``), never an exception. Only malformed input raises.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from medcoder.codesets.icd10pcs_index import PcsIndexEntry, PcsIndexRef, has_index, walk_index
from medcoder.errors import CodeFormatError, NotFoundError

__all__ = ["Pcs", "PcsAxis", "PcsAxisValues", "PcsExplanation", "PcsIndexEntry", "PcsIndexRef", "PcsRow",
           "PcsTable", "normalize_code"]

PCS_CHARS = frozenset("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
"""ICD-10-PCS uses digits and letters except I and O, which would be confused with 1 and 0."""

NONE_LABELS = frozenset({"None", "No Device", "No Qualifier"})


def _check(code: str, *, length: int, what: str, err: str) -> str:
    if not isinstance(code, str):
        raise CodeFormatError(f"{what} must be text, got {type(code).__name__}", code=err, where=repr(code))
    text = code.strip().upper()
    if "." in text or len(text) != length:
        dot = " and no dot" if "." in text else ""
        raise CodeFormatError(f"{what} {code!r} has {len(text)} characters; it must have {length}{dot}",
                              code=err, where=repr(code),
                              fix="ICD-10-PCS codes are 7 characters from the tables, e.g. 0DTJ4ZZ")
    for pos, char in enumerate(text, start=1):
        if char not in PCS_CHARS:
            hint = {"I": " (did you mean 1?)", "O": " (did you mean 0?)"}.get(char, "")
            raise CodeFormatError(
                f"{what} {code!r} has {char!r} at position {pos}{hint}; ICD-10-PCS uses only digits and "
                "letters other than I and O", code="E311", where=repr(code),
                fix="Retype the code from the ICD-10-PCS table")
    return text


def normalize_code(code: str) -> str:
    """Upper-case and check a 7-character PCS code; raise ``CodeFormatError`` (E310/E311) if malformed."""
    return _check(code, length=7, what="ICD-10-PCS code", err="E310")


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsAxis:
    """One character of a code: its axis as named in its table, its value and what the value means."""

    position: int
    name: str
    character: str
    label: str | None
    definition: str | None = None
    explanation: str | None = None
    includes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsExplanation:
    """A code read axis by axis; when ``valid`` is False, ``problem`` says which character is refused.

    ``allowed`` lists the values the table would accept at ``problem_position`` given the characters
    before it, so the explanation doubles as a fix.
    """

    code: str
    valid: bool
    axes: tuple[PcsAxis, ...]
    table: str
    row: int | None
    description: str | None
    problem: str | None = None
    problem_position: int | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsAxisValues:
    """Characters 4-7 of a table row: the values a position may take in that row."""

    position: int
    name: str
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsRow:
    row: int
    codes: int
    axes: tuple[PcsAxisValues, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsTable:
    """A table as printed: characters 1-3 fixed, then its rows."""

    prefix: str
    axes: tuple[PcsAxis, ...]
    rows: tuple[PcsRow, ...]


_RowMap = dict[int, dict[int, dict[str, str]]]  # row -> position -> character -> label


def describe(labels: dict[int, str], names: dict[int, str]) -> str:
    """Build a title from the labels of characters 3-7, close to the CMS long titles.

    "Resection of Appendix, Percutaneous Endoscopic Approach"; for Bypass the qualifier is the
    destination ("... to Nasopharynx"). "No Device", "No Qualifier" and "None" are left out.
    """
    head = f"{labels[3]} of {labels[4]}" if labels[4] not in NONE_LABELS else labels[3]
    used = {3, 4}
    if labels[3] in ("Introduction", "Transfusion") and "Substance" in names[6]:
        # "Introduction of Tocilizumab into Peripheral Vein": the substance is what is put in.
        head = f"{labels[3]} of {labels[6]} into {labels[4]}"
        used.add(6)
    if labels[3] == "Bypass" and labels[7] not in NONE_LABELS:
        head += f" to {labels[7]}"
        used.add(7)
    if names[6] == "Device" and labels[6] not in NONE_LABELS:
        head += f" with {labels[6]}"
        used.add(6)
    tail = []
    for pos in (5, 6, 7):
        if pos in used or labels[pos] in NONE_LABELS:
            continue
        tail.append(f"{labels[pos]} Approach" if names[pos] == "Approach" else labels[pos])
    return ", ".join([head, *tail])


class Pcs:
    """Lookups over one ICD-10-PCS KB (one fiscal year)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT value FROM meta WHERE key = 'icd10pcs.version'").fetchone()
        self.version: str = json.loads(row[0]) if row else ""

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM pcs_code").fetchone()[0])

    def is_valid(self, code: str) -> bool:
        """Whether the tables allow ``code``; a malformed code raises ``CodeFormatError`` instead,
        because a typo (letter O for zero) needs a different fix from a combination the table refuses."""
        code = normalize_code(code)
        return self.conn.execute("SELECT 1 FROM pcs_code WHERE code = ?", (code,)).fetchone() is not None

    def codes(self, prefix: str = "") -> tuple[str, ...]:
        """Every valid code starting with ``prefix`` (all codes when empty), sorted."""
        prefix = prefix.strip().upper()
        return tuple(code for (code,) in self.conn.execute(
            "SELECT code FROM pcs_code WHERE code >= ? AND code < ? ORDER BY code", (prefix, prefix + "~")))

    def description(self, code: str) -> str:
        """The title built from the labels; ``NotFoundError`` (E313) says why an invalid code has none."""
        explanation = self.explain(code)
        if explanation.description is None:
            raise NotFoundError(f"{explanation.code} is not a valid ICD-10-PCS code for FY{self.version}: "
                                f"{explanation.problem}", code="E313", where=explanation.code,
                                fix="Use Pcs.explain to see the values the table allows")
        return explanation.description

    def table(self, prefix: str) -> PcsTable | None:
        """The table for characters 1-3, or ``None`` if this release has no such table."""
        prefix = _check(prefix, length=3, what="ICD-10-PCS table", err="E312")
        head = self._head(prefix)
        if not head:
            return None
        rows = []
        titles = self._row_titles(prefix)
        all_values = self._rows(prefix)
        for row_no, count in self.conn.execute(
                "SELECT row_no, codes FROM pcs_row WHERE prefix = ? ORDER BY row_no", (prefix,)):
            values = all_values[row_no]
            rows.append(PcsRow(row=row_no, codes=count, axes=tuple(
                PcsAxisValues(position=pos, name=titles[pos], values=tuple(values[pos].items()))
                for pos in (4, 5, 6, 7))))
        return PcsTable(prefix=prefix, axes=head, rows=tuple(rows))

    def index(self, term: str, *subterms: str) -> PcsIndexEntry | None:
        """Walk the Index: main term, then subterms; ``None`` when a step is not found.

        Raises ``NotFoundError`` (E314) when this KB was built without an Index file.
        """
        if not has_index(self.conn):
            raise NotFoundError(f"the ICD-10-PCS FY{self.version} KB has no Index", code="E314",
                                where=term,
                                fix="Build with files['index_xml'], or use a release built with one (FY2025)")
        return walk_index(self.conn, term, subterms)

    # -- explanation ---------------------------------------------------------------------------------

    def _definition(self, section: str, pos: int, label: str | None) -> tuple[str | None, str | None,
                                                                                tuple[str, ...]]:
        if label is None:
            return None, None, ()
        row = self.conn.execute(
            "SELECT definition, explanation, includes FROM pcs_definition "
            "WHERE section = ? AND pos = ? AND term = ?", (section, pos, label)).fetchone()
        if row is None:
            return None, None, ()
        return row[0], row[1], tuple(json.loads(row[2]))

    def _axis(self, section: str, pos: int, name: str, char: str, label: str | None,
              fallback_definition: str | None = None) -> PcsAxis:
        definition, explanation, includes = self._definition(section, pos, label)
        return PcsAxis(position=pos, name=name, character=char, label=label,
                       definition=definition or fallback_definition, explanation=explanation,
                       includes=includes)

    def _head(self, prefix: str) -> tuple[PcsAxis, ...]:
        return tuple(
            self._axis(prefix[0], pos, title, code, label, definition)
            for pos, title, code, label, definition in self.conn.execute(
                "SELECT pos, title, code, label, definition FROM pcs_table_axis WHERE prefix = ? "
                "ORDER BY pos", (prefix,)))

    def _rows(self, prefix: str) -> _RowMap:
        rows: _RowMap = defaultdict(lambda: defaultdict(dict))
        for row_no, pos, code, label in self.conn.execute(
                "SELECT row_no, pos, code, label FROM pcs_row_axis WHERE prefix = ? "
                "ORDER BY row_no, pos, code", (prefix,)):
            rows[row_no][pos][code] = label
        return rows

    def _row_titles(self, prefix: str) -> dict[int, str]:
        return dict(self.conn.execute(
            "SELECT DISTINCT pos, title FROM pcs_row_axis WHERE prefix = ? AND row_no = 1", (prefix,)))

    def explain(self, code: str) -> PcsExplanation:
        """Read ``code`` axis by axis; say which character its table refuses when it is not valid."""
        code = normalize_code(code)
        prefix = code[:3]
        head = self._head(prefix)
        if not head:
            return self._explain_missing_table(code)
        rows = self._rows(prefix)
        titles = self._row_titles(prefix)
        candidates = sorted(rows)
        problem: str | None = None
        problem_pos: int | None = None
        allowed: tuple[str, ...] = ()
        for pos in (4, 5, 6, 7):
            char = code[pos - 1]
            narrowed = [r for r in candidates if char in rows[r][pos]]
            if not narrowed:
                problem_pos = pos
                allowed = tuple(sorted({c for r in candidates for c in rows[r][pos]}))
                problem = self._refusal(code, pos, rows, titles, head)
                break
            candidates = narrowed
        axes = list(head)
        labels: dict[int, str] = {axis.position: axis.label or "" for axis in head}
        for pos in (4, 5, 6, 7):
            char = code[pos - 1]
            # Meanings vary by row (XW0 device H is one of four drugs), so a label is given only when
            # the rows still matching (else all rows of the table) agree on it.
            meanings = {rows[r][pos][char] for r in candidates if char in rows[r][pos]}
            meanings = meanings or {values[pos][char] for values in rows.values() if char in values[pos]}
            label = meanings.pop() if len(meanings) == 1 else None
            axes.append(self._axis(code[0], pos, titles[pos], char, label))
            labels[pos] = label or ""
        valid = problem is None
        return PcsExplanation(
            code=code, valid=valid, axes=tuple(axes), table=prefix, row=candidates[0] if valid else None,
            description=describe(labels, {4: titles[4], 5: titles[5], 6: titles[6], 7: titles[7]})
            if valid else None, problem=problem, problem_position=problem_pos, allowed=allowed)

    def _refusal(self, code: str, pos: int, rows: _RowMap, titles: dict[int, str],
                 head: tuple[PcsAxis, ...]) -> str:
        """Name the smallest set of earlier characters (always body part) that rules ``code[pos]`` out."""
        char = code[pos - 1]
        table_name = f"table {code[:3]} ({', '.join(axis.label or '' for axis in head)})"
        if not any(char in values[pos] for values in rows.values()):
            return f"{titles[pos].lower()} {char} does not exist in {table_name}"
        context = list(range(4, pos))

        def refused(ctx: list[int]) -> bool:
            return not any(char in values[pos] for values in rows.values()
                           if all(code[p - 1] in values[p] for p in ctx))

        for p in range(pos - 1, 4, -1):
            trial = [q for q in context if q != p]
            if refused(trial):
                context = trial
        described = " and ".join(f"{titles[p].lower()} {code[p - 1]}" for p in context)
        return f"{titles[pos].lower()} {char} is not allowed for {described} in {table_name}"

    def _explain_missing_table(self, code: str) -> PcsExplanation:
        """No table for characters 1-3: find the first of them that this release does not have."""
        section, system, operation = code[0], code[1], code[2]
        sample = self.conn.execute(
            "SELECT prefix FROM pcs_table WHERE prefix >= ? AND prefix < ? ORDER BY "
            "substr(prefix, 2, 1) = ? DESC, substr(prefix, 3, 1) = ? DESC LIMIT 1",
            (section, section + "~", system, operation)).fetchone()
        names = {1: "Section", 2: "Body System", 3: "Operation", 4: "Character 4", 5: "Character 5",
                 6: "Character 6", 7: "Character 7"}
        labels: dict[int, str | None] = dict.fromkeys(range(1, 8))
        if sample is not None:
            names.update({axis.position: axis.name for axis in self._head(sample[0])})
            names.update(self._row_titles(sample[0]))

        def label_of(pos: int, where: str, args: tuple[str, ...]) -> str | None:
            row = self.conn.execute(
                f"SELECT a.label FROM pcs_table_axis a WHERE a.pos = ? AND a.code = ? AND {where} LIMIT 1",
                (pos, code[pos - 1], *args)).fetchone()
            return row[0] if row else None

        labels[1] = label_of(1, "1", ())
        labels[2] = label_of(2, "substr(a.prefix, 1, 1) = ?", (section,))
        labels[3] = label_of(3, "substr(a.prefix, 1, 1) = ?", (section,))
        existing = [p for (p,) in self.conn.execute("SELECT prefix FROM pcs_table ORDER BY prefix")]
        if labels[1] is None:
            pos, allowed = 1, sorted({p[0] for p in existing})
            problem = f"section {section} does not exist in ICD-10-PCS FY{self.version}"
        elif not any(p[:2] == code[:2] for p in existing):
            pos, allowed = 2, sorted({p[1] for p in existing if p[0] == section})
            problem = (f"{names[2].lower()} {system} does not exist in section {section} ({labels[1]})")
        else:
            pos, allowed = 3, sorted({p[2] for p in existing if p[:2] == code[:2]})
            problem = (f"{names[3].lower()} {operation} does not exist for {names[2].lower()} {system} "
                       f"({labels[2]}) in section {section} ({labels[1]}): there is no table {code[:3]}")
        axes = tuple(self._axis(section, p, names[p], code[p - 1], labels[p]) for p in range(1, 8))
        return PcsExplanation(code=code, valid=False, axes=axes, table=code[:3], row=None, description=None,
                              problem=problem, problem_position=pos, allowed=tuple(allowed))
