"""The infectious agent of a condition classified elsewhere, found the way the Index lists it.

Why a walk and not a title match: the Index lists each organism under its own term or under Infection, and
gives the code for the organism causing a disease classified elsewhere (B95-B97) in a subterm "as cause of
disease classified elsewhere" (Infection > Helicobacter pylori > as cause of ... -> B96.81; Staphylococcus >
as cause of ... > aureus > methicillin resistant -> B95.62). Guideline I.C.1.b: the agent is coded after the
condition it causes ("H. pylori gastritis" is K29.70 + B96.81).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from functools import lru_cache

from medcoder.coding.index_search import CompiledBook, Hit, IndexSearch
from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import tokens

AS_CAUSE = "as cause of disease classified elsewhere"
# Words that say an organism is infecting rather than name it.
_INFECTION = frozenset({"infection", "infected", "infective", "organism"})


@lru_cache(maxsize=1)
def _cause_words() -> tuple[str, ...]:
    stop = lexicon().stopwords
    return tuple(w for w in tokens(AS_CAUSE) if w not in stop)


_AGENT_WORDS: weakref.WeakKeyDictionary[CompiledBook, frozenset[str]] = weakref.WeakKeyDictionary()


def _agent_words(book: CompiledBook) -> frozenset[str]:
    """Every word of the Index terms above and below an "as cause of disease classified elsewhere" subterm: the
    words that can name an organism there. A clause with none of them names no agent, and is not searched.
    Kept per compiled book (one per code-set release in use) for as long as the book lives."""
    found_words = _AGENT_WORDS.get(book)
    if found_words is None:
        found_words = _AGENT_WORDS[book] = _collect_agent_words(book)
    return found_words


def _collect_agent_words(book: CompiledBook) -> frozenset[str]:
    cause = tuple(tokens(AS_CAUSE))
    found: set[str] = set()
    for node in book.nodes.values():
        if "cause" not in node.title or tuple(tokens(node.title)) != cause:
            continue
        up = node.parent
        while up is not None:
            found.update(w for form in book.nodes[up].forms for w in form)
            up = book.nodes[up].parent
        stack = list(node.children)
        while stack:
            child = book.nodes[stack.pop()]
            found.update(w for form in child.forms for w in form)
            stack.extend(child.children)
    return frozenset(found)


def infectious_agent(search: IndexSearch, words: Sequence[str]) -> Hit | None:
    """The walk that codes ``words`` (an organism: "helicobacter pylori", "methicillin resistant staphylococcus
    aureus") as the cause of a disease classified elsewhere, when the Index explains every one of them there."""
    named = frozenset(words) - _INFECTION
    if not named or not named & _agent_words(search.book("index")):
        return None
    cause = _cause_words()
    for hit in search.search(("infection", *words, *cause))[:8]:
        through = any(tuple(tokens(title)) == tuple(tokens(AS_CAUSE)) for title in hit.titles)
        if hit.code and through and named <= hit.used:
            return hit
    return None
