"""Excludes1 as a pointer: the documented detail that a code's Excludes1 note classifies elsewhere.

Why: an Excludes1 note at a category says the condition it names is "not coded here" and where it is coded
(convention I.A.12.a). A coder who reaches W01.0 "Fall on same level from slipping" for "slipped on ice" reads
W01's note "fall on same level from slipping, tripping and stumbling due to ice or snow (W00.0)" and codes W00.0.
The note applies when the documentation states what the note adds to the code's own title ("ice"): words the
code's titles already say choose nothing, and a note adding nothing documented is no pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medcoder.codesets.icd10cm_tabular import Tabular
from medcoder.coding.terms import tokens

_CODES = re.compile(r"\([^()]*\)|\b[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]+)?\b")
# Words that link the parts of a note's phrase; documented alone they name nothing.
_LINKS = frozenset({"with", "without", "in", "due", "to", "from", "by", "of", "and", "or", "as", "on", "the", "a",
                    "an", "nos", "nec", "other", "specified", "unspecified"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Pointer:
    target: str
    """The code (or category) the note sends to."""
    note: str
    words: frozenset[str]
    """The documented words the note adds to the code's title."""


def excluded_elsewhere(tab: Tabular, code: str, words: frozenset[str]) -> Pointer | None:
    """The Excludes1 note of ``code`` (printed at its category or below) whose added words are documented in
    ``words``; each "x or y" of the note needs one of its alternatives documented."""
    best: Pointer | None = None
    for target, text, added in _pointers(tab, code):
        if not all(group & words for group in added):
            continue
        matched = frozenset(w for group in added for w in group & words)
        if best is None or len(matched) > len(best.words):
            best = Pointer(target=target, note=text, words=matched)
    return best


@lru_cache(maxsize=65536)
def _pointers(tab: Tabular, code: str) -> tuple[tuple[str, str, tuple[frozenset[str], ...]], ...]:
    """``code``'s Excludes1 notes naming one code, each with the word groups it adds to the code's own titles
    (cached per Tabular and code: the notes and titles of a release do not change)."""
    entry = tab.get(code)
    if entry is None:
        return ()
    said = set(tokens(entry.title))
    parent = entry.parent
    while parent is not None:
        above = tab.get(parent)
        if above is None or above.level not in ("category", "subcategory", "code"):
            break
        said.update(tokens(above.title))
        parent = above.parent
    found: list[tuple[str, str, tuple[frozenset[str], ...]]] = []
    for note in tab.notes(code):
        if note.kind != "excludes1" or len(note.codes) != 1 or note.level not in ("category", "subcategory", "code"):
            continue
        groups = _alternatives(tokens(_CODES.sub(" ", note.text)))
        added = tuple(group for group in groups if not group & said and group - _LINKS)
        if added:
            found.append((note.codes[0], note.text, added))
    return tuple(found)


def _alternatives(words: tuple[str, ...]) -> list[frozenset[str]]:
    """The note's words as groups: "ice or snow" is one group (either names it), every other word its own."""
    groups: list[set[str]] = []
    joined = False
    for word in words:
        if word == "or":
            joined = bool(groups)
            continue
        if joined:
            groups[-1].add(word)
        else:
            groups.append({word})
        joined = False
    return [frozenset(g) for g in groups]
