"""Walk the Alphabetic Index (and the other three books) the way a coder reads it: main term, then subterms.

Why a reader object: each book is loaded from the KB once, on first use, into the in-memory maps of
:mod:`icd10cm_index_match`; every walk after that is dict lookups (well over 20,000 walks a second). Why the
code falls back to an ancestor's: that is how the printed index works — a subterm that does not apply
leaves the code printed above it (the index default), and the result says so (``code_is_default``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from medcoder.codesets.icd10cm_index_match import LITERAL, ROOT, BookIndex, Step
from medcoder.codesets.icd10cm_index_model import (
    BOOKS,
    COLUMN_WORDS,
    DRUG_COLUMNS,
    NEOPLASM_COLUMNS,
    TABLE_BOOKS,
    Book,
    CrossRef,
    IndexTerm,
    RoundTripFailure,
    RoundTripReport,
    WalkResult,
    WalkStep,
    normalize,
    split_reference,
    strip_markers,
)
from medcoder.errors import NotFoundError

MAX_FOLLOW = 5
"""Longest "see" chain followed; the index has no legitimate chain this long, so more means a loop."""

CELL_NAMES: dict[str, tuple[str, ...]] = {"neoplasm": NEOPLASM_COLUMNS, "drug": DRUG_COLUMNS}

BOOK_NAMES: dict[str, Book] = {
    "index to diseases and injuries": "index", "alphabetic index": "index", "table of neoplasms": "neoplasm",
    "table of drugs and chemicals": "drug", "external cause index": "eindex",
    "index to external causes": "eindex", "external cause of injuries index": "eindex",
}
"""A cross-reference that starts by naming a book ("see Table of Drugs and Chemicals") is looked up there."""

ROUND_TRIP_EXPLANATIONS: dict[str, str] = {
    "duplicate-entry": "two siblings print the same title and modifier; the walk takes the first in document "
                       "order (in the derived CSV, title text after a nemod was lost: BI-RADS categories, "
                       "'tyrosinase (ty) negative/positive', opioid use/dependence pairs)",
    "duplicate-title-nemod-differs": "siblings differ only by their nonessential modifier (or by title text "
                                     "the derived CSV dropped after it, e.g. 'Cancer(o)phobia' vs 'Cancer'); "
                                     "walking with the modifier (use_nemod=True) picks the right one",
    "normalization-collision": "different printed titles that match alike once case, punctuation and "
                               "possessives are ignored; the first in document order wins",
    "path-not-matched": "the entry's own path did not walk to the end",
    "code-not-returned": "the walk reached the entry but returned another code",
}

_COLUMNS = ("id, parent_id, level, title, nemod, printed, code, manif, see, see_also, seecat, subcat, warning, "
            "col2, col3, col4, col5, col6, col7, source_row, title_norm")


class AlphabeticIndex:
    """Read-only access to the four books of an ICD-10-CM index knowledge base.

    Safe to share between threads: books load once under a lock and are not changed afterwards (the loose
    match maps fill in lazily, each built whole before it is stored).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._books: dict[str, BookIndex] = {}
        try:
            spans = conn.execute("SELECT book, MIN(id), MAX(id) FROM index_term GROUP BY book").fetchall()
        except sqlite3.OperationalError as e:
            raise NotFoundError("this knowledge base has no ICD-10-CM index (table index_term)", code="E510",
                                fix="Build it with medcoder.codesets.icd10cm_index.build") from e
        self._spans: dict[str, tuple[int, int]] = {book: (lo, hi) for book, lo, hi in spans}

    @property
    def books(self) -> tuple[Book, ...]:
        """The books this knowledge base holds, in the order of :data:`BOOKS`."""
        return tuple(book for book in BOOKS if book in self._spans)

    def _book(self, book: Book) -> BookIndex:
        loaded = self._books.get(book)
        if loaded is not None:
            return loaded
        if book not in self._spans:
            raise NotFoundError(f"book {book!r} is not in this knowledge base (it holds "
                                f"{', '.join(self.books) or 'none'})", code="E511", where=book,
                                fix=f"Use one of {', '.join(BOOKS)}; rebuild with its source file if missing")
        with self._lock:
            if book not in self._books:
                rows = self._conn.execute(f"SELECT {_COLUMNS} FROM index_term WHERE book = ? ORDER BY id",
                                          (book,))
                self._books[book] = BookIndex(book, ((_term(book, row), row[20]) for row in rows))
            return self._books[book]

    def _book_of(self, term_id: int) -> BookIndex:
        for book in self.books:
            lo, hi = self._spans[book]
            if lo <= term_id <= hi:
                return self._book(book)
        raise NotFoundError(f"no index term with id {term_id}", code="E512", where=str(term_id))

    # --- browsing -----------------------------------------------------------------------------------------

    def tree(self, *, book: Book = "index") -> tuple[Mapping[int, IndexTerm], Mapping[int, Sequence[int]]]:
        """The whole book as (terms by id, child ids by parent id; main terms under id 0), read-only.

        For consumers that compile their own search structures (the encoder) once per release.
        """
        b = self._book(book)
        return b.terms, b.children

    def term(self, term_id: int) -> IndexTerm:
        """One term by id (ids are stable within one KB build, not across builds)."""
        return self._book_of(term_id).terms[term_id]

    def children(self, term_id: int) -> tuple[IndexTerm, ...]:
        """The subterms directly under a term, in printed order."""
        book = self._book_of(term_id)
        return tuple(book.terms[i] for i in book.children.get(term_id, ()))

    def path(self, term_id: int) -> tuple[IndexTerm, ...]:
        """The term and its ancestors, main term first: the printed path to it."""
        book = self._book_of(term_id)
        chain: list[IndexTerm] = []
        current: int | None = term_id
        while current:
            term = book.terms[current]
            chain.append(term)
            current = term.parent_id
        return tuple(reversed(chain))

    def main_terms(self, prefix: str = "", *, book: Book = "index") -> tuple[IndexTerm, ...]:
        """Main terms whose printed title starts with ``prefix`` (case-insensitive), in printed order."""
        b = self._book(book)
        folded = prefix.casefold()
        return tuple(b.terms[i] for i in b.children[ROOT] if b.terms[i].title.casefold().startswith(folded))

    def find_main_terms(self, text: str, *, book: Book = "index") -> tuple[IndexTerm, ...]:
        """Main terms the text names, most literal match first.

        "Abdomen" and "abdominal" both find "Abdomen, abdominal"; "Disease" finds "Disease, diseased"
        first; "essential hypertension" finds "Hypertension, hypertensive" because "essential" is one of
        its nonessential modifiers.
        """
        b = self._book(book)
        norm = normalize(text)
        bare = strip_markers(norm)
        found: dict[int, None] = {}
        for ids in (b.full.get((ROOT, norm)), b.full.get((ROOT, bare)), b.bare.get((ROOT, bare)),
                    b.alias_head.get((ROOT, bare)), b.alias_tail.get((ROOT, bare)),
                    b.loose(ROOT, bare)[0] if bare else None):
            found.update(dict.fromkeys(ids or ()))
        return tuple(b.terms[i] for i in found)

    # --- walking ------------------------------------------------------------------------------------------

    def walk(self, path: Sequence[str], *, book: Book = "index", follow_see: bool = False) -> WalkResult:
        """Descend from a main term through subterms, one path element per indent level.

        An element may also be a whole reference ("Disease, Alzheimer's"): when it names no term as a whole
        it is split at its commas. The walk stops at the first element that names no subterm; the code is
        then the index default, the deepest code on the path taken (``code_is_default``). With
        ``follow_see`` a final "see" is followed, across books when the target is in another one.
        """
        query = (path,) if isinstance(path, str) else tuple(path)
        b = self._book(book)
        steps, left = b.chain(ROOT, query)
        result = _result(b, query, steps, left)
        return self._follow(result, set()) if follow_see else result

    def resolve(self, reference: str, *, book: Book = "index", follow_see: bool = False) -> WalkResult:
        """Walk a printed cross-reference such as "Pain, abdominal" or "Dementia, in, diseases specified
        elsewhere" (main term and subterms separated by commas)."""
        return self.walk(split_reference(reference), book=book, follow_see=follow_see)

    def _follow(self, result: WalkResult, seen: set[int]) -> WalkResult:
        if result.see is None or result.code_term_id is not None or len(seen) >= MAX_FOLLOW:
            return result
        seen.add(result.steps[-1].term_id)
        # "by site", "by type", "by drug": the reader's choice, not a subterm to look up.
        parts = [p for p in split_reference(result.see) if not p.casefold().startswith("by ")]
        books = (result.book, *(b for b in self.books if b != result.book))
        if parts and (named := BOOK_NAMES.get(normalize(parts[0]))):
            parts, books = parts[1:], tuple(b for b in self.books if b == named)
        best: tuple[tuple[int, int, int, int], BookIndex, tuple[str, ...], list[Step], tuple[str, ...],
                    str | None] | None = None
        for order, book in enumerate(books):
            b = self._book(book)
            for kept, column in _column_variants(book, parts):
                elems = ((", ".join(kept),) if kept else ()) + result.unmatched
                steps, left = b.chain(ROOT, elems)
                if not steps or steps[-1][0] in seen:
                    continue
                # Fewest parts left over, then fewest loose steps ("Neoplasm, malignant" is the Neoplasm
                # table's main term and its Malignant column, not "Neoplasm, neoplastic > malignant mast
                # cell" by leading words), then the deepest path (a subterm "primary" beats the column),
                # then the book the reference was printed in.
                score = (len(left), sum(rule > LITERAL for _, rule in steps), -len(steps), order)
                if best is None or score < best[0]:
                    best = (score, b, elems, steps, left, column)
        if best is None:
            return result
        _, b, elems, steps, left, column = best
        followed = self._follow(_result(b, elems, steps, left, column=column), seen)
        return replace(result, followed=followed, code=followed.code, code_term_id=followed.code_term_id,
                       code_is_default=followed.code_is_default, manif=followed.manif, subcat=followed.subcat,
                       seecat=followed.seecat, cells=followed.cells, column=followed.column)

    # --- checking -----------------------------------------------------------------------------------------

    def round_trip(self, *, book: Book = "index", use_nemod: bool = False) -> RoundTripReport:
        """Walk every coded entry by its own printed titles and check the walk returns that entry's code.

        In the two tables an entry is coded when it has any cell, and all six cells must come back.
        ``use_nemod=True`` walks with each title's nonessential modifier too, which breaks ties between
        siblings printed alike but for the modifier.
        """
        b = self._book(book)
        table = book in TABLE_BOOKS
        total = ok = 0
        failures: dict[str, list[RoundTripFailure]] = defaultdict(list)
        for term in b.terms.values():
            if not (any(term.cells or ()) if table else term.code):
                continue
            total += 1
            own = self.path(term.id)
            path = tuple(t.printed if use_nemod or not t.title else t.title for t in own)
            steps, left = b.chain(ROOT, path)
            result = _result(b, path, steps, left)
            if (result.cells == term.cells) if table else (result.code == term.code):
                ok += 1
                continue
            failures[_why(b, own, [i for i, _ in steps], left)].append(RoundTripFailure(
                term_id=term.id, source_row=term.source_row, path=path,
                expected=_show(term.cells) if table else term.code,
                got=_show(result.cells) if table else result.code,
                landed_term_id=steps[-1][0] if steps else None))
        return RoundTripReport(book=book, total=total, ok=ok,
                               failures={k: tuple(v) for k, v in sorted(failures.items())},
                               explanations={k: ROUND_TRIP_EXPLANATIONS[k] for k in sorted(failures)})


def _term(book: Book, row: tuple[Any, ...]) -> IndexTerm:
    cells = row[13:19]
    return IndexTerm(
        id=row[0], book=book, parent_id=row[1], level=row[2], title=row[3], nemod=row[4], printed=row[5],
        code=row[6], manif=row[7], see=row[8], see_also=row[9], seecat=row[10], subcat=row[11],
        warning=row[12], source_row=row[19], cells=tuple(cells) if any(c is not None for c in cells) else None,
    )


def _show(cells: tuple[str | None, ...] | None) -> str | None:
    return " ".join(c or "-" for c in cells) if cells else None


def _carries(step: WalkStep) -> bool:
    return bool(step.code or step.subcat or step.seecat or any(step.cells or ()))


def _column_variants(book: Book, parts: list[str]) -> list[tuple[list[str], str | None]]:
    """A reference into a table may name a column among its parts ("Neoplasm, skin, benign"): try it both
    as printed and with the column words taken out as the column to read."""
    variants: list[tuple[list[str], str | None]] = [(parts, None)]
    words = COLUMN_WORDS.get(book)
    if words:
        named = [words[normalize(p)] for p in parts if normalize(p) in words]
        if named:
            variants.append(([p for p in parts if normalize(p) not in words], named[-1]))
    return variants


def _result(b: BookIndex, query: tuple[str, ...], chain: list[Step], left: tuple[str, ...], *,
            column: str | None = None) -> WalkResult:
    steps = tuple(b.step(term_id, rule) for term_id, rule in chain)
    refs: list[CrossRef] = []
    for step in steps:
        if step.see:
            refs.append(CrossRef(kind="see", target=step.see, term_id=step.term_id))
        if step.see_also:
            refs.append(CrossRef(kind="see_also", target=step.see_also, term_id=step.term_id))
        if step.seecat:
            refs.append(CrossRef(kind="seecat", target=step.seecat, term_id=step.term_id))
    source: WalkStep | None = None
    default = False
    if steps:
        if _carries(steps[-1]):
            source = steps[-1]
        elif steps[-1].see is None:
            # Index convention: a subterm that adds nothing codable keeps the code printed above it.
            source = next((s for s in reversed(steps[:-1]) if _carries(s)), None)
            default = source is not None
    code = source.code if source else None
    if column and source and source.cells:
        code = source.cells[CELL_NAMES[b.name].index(column)]
    return WalkResult(
        query=query, book=b.name, steps=steps, matched=bool(steps) and not left, unmatched=left, code=code,
        code_term_id=source.term_id if source else None, code_is_default=default,
        manif=source.manif if source else None, subcat=source.subcat if source else None,
        seecat=source.seecat if source else None, cells=source.cells if source else None, column=column,
        see=steps[-1].see if steps else None, cross_refs=tuple(refs),
    )


def _why(b: BookIndex, own: tuple[IndexTerm, ...], ids: list[int], left: tuple[str, ...]) -> str:
    """Name the reason a round trip failed, from the first step where the walk left the entry's path."""
    for mine, taken in zip(own, ids, strict=False):
        if mine.id != taken:
            other = b.terms[taken]
            if other.title == mine.title:
                return "duplicate-entry" if other.nemod == mine.nemod else "duplicate-title-nemod-differs"
            return "normalization-collision"
    return "path-not-matched" if left or len(ids) < len(own) else "code-not-returned"
