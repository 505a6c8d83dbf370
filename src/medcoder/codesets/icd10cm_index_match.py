"""How one step of an index walk finds its term: the match rules, in order, over one book held in memory.

Why in-memory dicts: a coding run walks the index thousands of times per note; one SQL query per step would
dominate. A book is loaded once into children keyed by (parent id, normalized title), so a step is a dict
lookup. Why a fixed order of rules: the more literal rule always wins, so an entry's own printed path
always walks back to it, and looser rules only fill gaps for notes (and cross-references) that word a term
differently. Ties (siblings printed alike) go to the entry printed exactly as asked, then to the one whose
modifier the query names, then to the one under which the rest of the path matches, then to the first in
document order, so a walk is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from medcoder.codesets.icd10cm_index_model import (
    MARKERS,
    Book,
    IndexTerm,
    WalkStep,
    collapse,
    normalize,
    paren_tokens,
    split_reference,
    strip_markers,
    title_aliases,
)

ROOT = 0
"""Parent id of main terms in the in-memory maps (ids in the KB start at 1)."""

MATCH_RULES: tuple[str, ...] = (
    "exact", "exact without NEC/NOS", "title without NEC/NOS", "inverted title, head form",
    "inverted title, other form", "words in any order, modifiers optional", "singular/plural",
    "leading words of one title",
)
"""How a step matched, most literal first; a :class:`WalkStep` names its rule so a coder can judge it."""

LITERAL = 4
"""Rules up to here (exact, without NEC/NOS, head form of an inverted title) name a term unambiguously."""
_LOOSE = 6
"""Rules from here on (1-based) are loose enough that a comma-separated step is also tried split up."""

_NO_WORDS: frozenset[str] = frozenset()

Step = tuple[int, int]
"""(term id, 1-based rule that matched it)."""


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold_plural(norm: str) -> str:
    """A normalized text with each word made singular ("complications" = "complication(s)")."""
    return " ".join(_singular(word) for word in norm.split(" "))


class _Under:
    """Lookup maps for the looser rules over one parent's children, built the first time they are needed."""

    __slots__ = ("postings", "folded")

    def __init__(self) -> None:
        self.postings: dict[str, list[tuple[int, frozenset[str], str, bool]]] = defaultdict(list)
        self.folded: dict[str, list[int]] = defaultdict(list)


class BookIndex:
    """One book's terms and the maps that match a step's text to a child of a given term."""

    def __init__(self, name: Book, rows: Iterable[tuple[IndexTerm, str]]) -> None:
        self.name = name
        self.terms: dict[int, IndexTerm] = {}
        self.norm: dict[int, str] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.full: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.bare: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.alias_head: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.alias_tail: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.under: dict[int, _Under] = {}
        self.nemods: dict[int, frozenset[str]] = {}
        self.steps: dict[Step, WalkStep] = {}
        for term, norm in rows:
            self.add(term, norm)

    def add(self, term: IndexTerm, full: str) -> None:
        """Index one term under its parent; ``full`` is its stored ``title_norm``."""
        parent = term.parent_id or ROOT
        self.terms[term.id] = term
        self.norm[term.id] = full
        self.children[parent].append(term.id)
        self.full[parent, full].append(term.id)
        bare = strip_markers(full)
        if bare != full:
            self.bare[parent, bare].append(term.id)
        if "," in term.title:
            # "Abdomen, abdominal": the first form is the head word the index is sorted by; it outranks the
            # later forms, so "disease" finds "Disease, diseased" before "Blood-forming organs, disease".
            for k, alias in enumerate(title_aliases(term.title)):
                if alias != bare:
                    (self.alias_head if k == 0 else self.alias_tail)[parent, alias].append(term.id)

    def step(self, term_id: int, rule: int) -> WalkStep:
        """The (cached) evidence for one step of a walk."""
        step = self.steps.get((term_id, rule))
        if step is None:
            t = self.terms[term_id]
            step = WalkStep(term_id=t.id, book=t.book, title=t.title, nemod=t.nemod, level=t.level, code=t.code,
                            manif=t.manif, see=t.see, see_also=t.see_also, subcat=t.subcat, seecat=t.seecat,
                            cells=t.cells, match=MATCH_RULES[rule - 1])
            self.steps[term_id, rule] = step
        return step

    def nemod_words(self, term_id: int) -> frozenset[str]:
        words = self.nemods.get(term_id)
        if words is None:
            nemod = self.terms[term_id].nemod
            words = self.nemods[term_id] = frozenset(normalize(nemod).split()) if nemod else _NO_WORDS
        return words

    def children_maps(self, parent: int) -> _Under:
        under = self.under.get(parent)
        if under is None:
            under = _Under()
            for term_id in self.children.get(parent, ()):
                own = strip_markers(self.norm[term_id])
                for form in dict.fromkeys((own, *title_aliases(self.terms[term_id].title))):
                    words = frozenset(form.split()) - MARKERS
                    for word in words:
                        under.postings[word].append((term_id, words, form, form == own))
                    under.folded[fold_plural(form)].append(term_id)
            self.under[parent] = under
        return under

    # --- one step -----------------------------------------------------------------------------------------

    def lookup(self, parent: int, text: str) -> tuple[list[int], int]:
        """Candidate terms under ``parent`` for one step's text, and the rule that matched (0 = none)."""
        norm = normalize(text)
        if not norm:
            return [], 0
        found, rule = self.full.get((parent, norm)), 1
        if not found:
            bare = strip_markers(norm)
            literal = ((table.get((parent, bare)), rule) for rule, table in
                       enumerate((self.full, self.bare, self.alias_head, self.alias_tail), start=2))
            found, rule = next((hit for hit in literal if hit[0]), None) or self.loose(parent, bare)
        if not found:
            return [], 0
        if len(found) > 1:
            found = self.rank(found, text)
        return found, rule

    def loose(self, parent: int, bare: str) -> tuple[list[int], int]:
        under = self.children_maps(parent)
        found = self.by_words(under, bare)
        if found:
            return found, 6
        found = under.folded.get(fold_plural(bare), [])
        if found:
            return list(found), 7
        # Leading words of exactly one whole title ("streetcar" -> "streetcar occupant"); never a guess among
        # many, and never a later form of an inverted title ("pneumococcal, acute or subacute").
        words = bare.split(" ")
        leading = {term_id for term_id, _, form, whole in under.postings.get(words[0], ())
                   if whole and form.startswith(bare + " ")}
        return (sorted(leading), 8) if len(leading) == 1 else ([], 0)

    def rank(self, found: list[int], text: str) -> list[int]:
        """Order tied candidates: printed exactly as asked, then modifier named by the query, then document
        order (sorted() is stable)."""
        folded = collapse(text).casefold()
        wanted = paren_tokens(text) if "(" in text else _NO_WORDS

        def score(term_id: int) -> tuple[bool, bool, int]:
            term = self.terms[term_id]
            nemod = (term.nemod or "").casefold()
            return (term.printed.casefold() == folded, bool(nemod) and nemod in folded,
                    len(wanted & self.nemod_words(term_id)))

        return sorted(found, key=score, reverse=True)

    def by_words(self, under: _Under, bare: str) -> list[int]:
        """Words in any order; query words beyond the title's must be among the term's nemod words.

        The term whose own title covers most of the query wins ("essential hypertension" finds
        "Hypertension, hypertensive", whose modifiers include "essential").
        """
        query = frozenset(bare.split()) - MARKERS
        best = 0
        found: list[int] = []
        for word in query:
            for term_id, words, _, _ in under.postings.get(word, ()):
                if len(words) < best or not words <= query:
                    continue
                if not query.difference(words) <= self.nemod_words(term_id):
                    continue
                if len(words) > best:
                    best, found = len(words), [term_id]
                elif term_id not in found:
                    found.append(term_id)
        return sorted(found)

    # --- a path -------------------------------------------------------------------------------------------

    def chain(self, parent: int, elems: tuple[str, ...]) -> tuple[list[Step], tuple[str, ...]]:
        """Match as many query elements as possible below ``parent``: (steps, elements left over)."""
        if not elems:
            return [], ()
        head = elems[0]
        options: list[tuple[list[int], int, tuple[str, ...]]] = []
        found, rule = self.lookup(parent, head)
        if found:
            options.append((found, rule, elems[1:]))
        if (not found or rule >= _LOOSE) and "," in head:
            # A reference written as one string ("Disease, Alzheimer's, early onset"): a run of its comma
            # parts names a term, longest run first; the rest stays one string, matched the same way one
            # level down ("Loss, ossicles, ear" -> Loss > "ossicles, ear"). Shorter runs are tried too:
            # "Legal, intervention" loosely names "Intervention, legal", but Legal > intervention > gas
            # is the path that uses every part.
            parts = split_reference(head)
            for size in range(len(parts) - 1, 0, -1):
                found, rule = self.lookup(parent, ", ".join(parts[:size]))
                if found:
                    options.append((found, rule, (", ".join(parts[size:]), *elems[1:])))
        best: tuple[list[Step], tuple[str, ...]] = ([], elems)
        for candidates, rule, rest in options:
            for term_id in candidates:
                steps, left = self.chain(term_id, self.skip_own_forms(term_id, rest))
                if not best[0] or len(left) < len(best[1]):
                    best = ([(term_id, rule), *steps], left)
                if not left:
                    return best
        return best

    def skip_own_forms(self, term_id: int, rest: tuple[str, ...]) -> tuple[str, ...]:
        """Drop leading parts that only repeat another form of the matched title: "Findings, abnormal, in
        blood" names main term "Findings, abnormal, inconclusive, without diagnosis", then "in blood"."""
        title = self.terms[term_id].title
        if not rest or "," not in title or self.lookup(term_id, rest[0])[0]:
            return rest
        forms = set(title_aliases(title))
        parts = split_reference(rest[0])
        k = 0
        while (k < len(parts) and strip_markers(normalize(parts[k])) in forms
               and not self.lookup(term_id, parts[k])[0]):
            k += 1
        if k == 0:
            return rest
        return ((", ".join(parts[k:]),) if k < len(parts) else ()) + rest[1:]
