"""Plain data for the ICD-10-CM Alphabetic Index and its companion books, and the text rules for matching.

Why one model for four books: the Alphabetic Index, the External Cause Index, the Table of Neoplasms and the
Table of Drugs and Chemicals share one XML schema (``<ICD10CM.index>``: mainTerm/term with title, nemod,
see, seeAlso, code, seecat, subcat, manif, warning, cells). Keeping them in one tree, told apart by ``book``,
lets one walker serve all four and lets a "see" cross-reference jump from one book to another.

Why the matching rules live here and not in the walker: the builder stores the normalized title it derives
with the same :func:`normalize`, so a stored ``title_norm`` and a walked query always agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

Book = Literal["index", "eindex", "neoplasm", "drug"]
BOOKS: tuple[Book, ...] = ("index", "eindex", "neoplasm", "drug")
TABLE_BOOKS: frozenset[str] = frozenset({"neoplasm", "drug"})

NEOPLASM_COLUMNS: tuple[str, ...] = (
    "malignant_primary", "malignant_secondary", "ca_in_situ", "benign", "uncertain_behavior",
    "unspecified_behavior",
)
"""The six code columns of the Table of Neoplasms, ``<cell col=2..7>`` in that order."""

DRUG_COLUMNS: tuple[str, ...] = (
    "poisoning_accidental", "poisoning_intentional_self_harm", "poisoning_assault", "poisoning_undetermined",
    "adverse_effect", "underdosing",
)
"""The six code columns of the Table of Drugs and Chemicals, ``<cell col=2..7>`` in that order."""

COLUMN_WORDS: dict[str, dict[str, str]] = {
    "neoplasm": {
        "malignant": "malignant_primary", "malignant primary": "malignant_primary", "primary": "malignant_primary",
        "malignant secondary": "malignant_secondary", "secondary": "malignant_secondary",
        "in situ": "ca_in_situ", "ca in situ": "ca_in_situ", "carcinoma in situ": "ca_in_situ",
        "benign": "benign", "uncertain behavior": "uncertain_behavior", "uncertain": "uncertain_behavior",
        "unspecified behavior": "unspecified_behavior", "unspecified": "unspecified_behavior",
    },
    "drug": {
        # Guideline I.C.19.e.5(b): poisoning of unknown or unspecified intent is coded as accidental.
        "poisoning": "poisoning_accidental", "adverse effect": "adverse_effect", "underdosing": "underdosing",
    },
}
"""Words in a cross-reference that name a table column, not a subterm ("see Neoplasm, skin, benign")."""

NONE_CELLS: frozenset[str] = frozenset({"-", "--", "\u2014", "\u2013"})
"""What the tables print in a cell that has no code ("-" in neoplasms, "--" in drugs)."""

MARKERS: frozenset[str] = frozenset({"nec", "nos"})
"""'Not elsewhere classifiable' / 'not otherwise specified': printed after a title, optional when matching."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTerm:
    """One mainTerm/term as read from a source file, before it gets an id in the knowledge base.

    ``ordinal`` is the CSV RowID or the 1-based position of the element among the XML's mainTerm/term
    elements; ``line`` is the source line. Both are kept so a code can be traced to the very row it came from.
    """

    ordinal: int
    line: int
    level: int
    letter: str | None
    title: str
    nemod: str | None
    printed: str
    code: str | None = None
    manif: str | None = None
    see: str | None = None
    see_also: str | None = None
    seecat: str | None = None
    subcat: str | None = None
    warning: str | None = None
    cells: tuple[str | None, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedSource:
    """Everything one source file gives: its terms in document order plus what describes the file."""

    book: Book
    form: Literal["csv-derived", "xml-official"]
    path: str
    terms: tuple[ParsedTerm, ...]
    version: str | None = None
    title: str | None = None
    headings: dict[int, str] = field(default_factory=dict)
    repaired_codes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexTerm:
    """A stored index entry. ``title`` is printed text without the nonessential modifier (``nemod``)."""

    id: int
    book: Book
    parent_id: int | None
    level: int
    title: str
    nemod: str | None
    printed: str
    code: str | None
    manif: str | None
    see: str | None
    see_also: str | None
    seecat: str | None
    subcat: str | None
    warning: str | None
    cells: tuple[str | None, ...] | None
    source_row: int

    @property
    def incomplete(self) -> bool:
        """True when the code ends in "-": the index says more characters are required (Tabular decides)."""
        return self.code is not None and self.code.endswith("-")


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkStep:
    """One term on the path a walk took: what a coder would read at that indent of the printed index."""

    term_id: int
    book: Book
    title: str
    nemod: str | None
    level: int
    code: str | None
    manif: str | None
    see: str | None
    see_also: str | None
    subcat: str | None = None
    seecat: str | None = None
    cells: tuple[str | None, ...] | None = None
    match: str = "exact"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossRef:
    """A "see", "see also" or "see category" instruction met on the way, with the term that printed it."""

    kind: Literal["see", "see_also", "seecat"]
    target: str
    term_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkResult:
    """What walking one path through a book found, with the evidence to show a coder.

    ``code`` (and ``manif``, ``subcat``, ``seecat``, ``cells``) is the answer: the code of the deepest term on
    the path that carries one. ``code_is_default`` says it came from an ancestor, the index's default when a
    subterm does not apply. When the deepest term only says "see ...", ``code`` is None and ``see`` names
    the target; with ``follow_see=True`` the target is walked, ``followed`` holds that walk and the answer
    fields are taken from the end of the chain (``code_term_id`` says exactly which term gave the code).
    In the two tables ``cells`` holds the row's six columns; ``column`` is set when a followed reference
    names one ("see Neoplasm, skin, benign"), and ``code`` is then that cell.
    """

    query: tuple[str, ...]
    book: Book
    steps: tuple[WalkStep, ...]
    matched: bool
    unmatched: tuple[str, ...]
    code: str | None
    code_term_id: int | None
    code_is_default: bool
    manif: str | None = None
    subcat: str | None = None
    seecat: str | None = None
    cells: tuple[str | None, ...] | None = None
    column: str | None = None
    see: str | None = None
    cross_refs: tuple[CrossRef, ...] = ()
    followed: WalkResult | None = None

    @property
    def incomplete(self) -> bool:
        """True when the code ends in "-" ("additional characters required")."""
        return self.code is not None and self.code.endswith("-")

    @property
    def titles(self) -> tuple[str, ...]:
        """The printed titles of the path taken, main term first (the evidence line "A > b > c")."""
        return tuple(step.title for step in self.steps)

    @property
    def final(self) -> WalkResult:
        """The last walk of a "see" chain (this walk when nothing was followed)."""
        result = self
        while result.followed is not None:
            result = result.followed
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundTripFailure:
    """An entry whose own path does not walk back to its own code, and why."""

    term_id: int
    source_row: int
    path: tuple[str, ...]
    expected: str | None
    got: str | None
    landed_term_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundTripReport:
    """Walk every coded entry by its own titles and check the walk returns its code."""

    book: Book
    total: int
    ok: int
    failures: dict[str, tuple[RoundTripFailure, ...]]
    explanations: dict[str, str]

    @property
    def share(self) -> float:
        return self.ok / self.total if self.total else 1.0


# --- matching text -------------------------------------------------------------------------------------

_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_POSSESSIVE = re.compile(r"'s\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")


def collapse(text: str) -> str:
    """Collapse runs of whitespace, as printed: the derived CSV has doubled spaces where markup was dropped."""
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=131072)
def normalize(text: str) -> str:
    """The matching form of a title or a query: case, accents, punctuation and parenthesized text ignored.

    Parenthesized text is a nonessential modifier in the index's own notation, so it never decides a match;
    a title made only of a modifier (the CSV lost "enteritis" after "(gastro)") keeps the modifier's words.
    Possessives fold ("Alzheimer's" = "Alzheimer") because notes write them both ways.
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    folded = folded.replace("\u2019", "'").replace("\u2018", "'")
    bare = folded
    while "(" in bare or "[" in bare:  # nested modifiers: "(degenerative (primary))"
        stripped = _PARENS.sub(" ", bare)
        if stripped == bare:
            break
        bare = stripped
    if _NON_WORD.sub("", bare) == "":
        bare = folded
    bare = _POSSESSIVE.sub("", bare).replace("'", "")
    return " ".join(token for token in _NON_WORD.split(bare) if token)


def strip_markers(norm: str) -> str:
    """Drop trailing NEC/NOS from a normalized text ("basilar nec" -> "basilar"); never to nothing."""
    tokens = norm.split(" ")
    while len(tokens) > 1 and tokens[-1] in MARKERS:
        tokens.pop()
    return " ".join(tokens)


def paren_tokens(text: str) -> frozenset[str]:
    """Words a query wrote inside parentheses: they break ties between titles that differ only by nemod."""
    words: set[str] = set()
    for match in _PARENS.finditer(text.casefold()):
        words.update(normalize(match.group(0)[1:-1]).split())
    return frozenset(words)


def split_reference(text: str) -> tuple[str, ...]:
    """Split a cross-reference ("Pregnancy, complicated by (management affected by), anemia") at its
    top-level commas; commas inside parentheses belong to a modifier."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return tuple(part.strip() for part in parts if part.strip())


@lru_cache(maxsize=32768)
def title_aliases(title: str) -> tuple[str, ...]:
    """The forms an inverted title lists: "Abdomen, abdominal" can be looked up as either word."""
    parts = split_reference(title)
    if len(parts) < 2:
        return ()
    return tuple(dict.fromkeys(strip_markers(normalize(part)) for part in parts if normalize(part)))


def clean_cell(value: str | None) -> str | None:
    """A table cell's code, or None where the table prints "-"/"--" (no code for that column)."""
    if value is None:
        return None
    value = collapse(value)
    return None if not value or value in NONE_CELLS else value
