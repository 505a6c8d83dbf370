"""ConText: is a mention negated, uncertain, historical, someone else's, or hypothetical?

The algorithm of Chapman, Harkema et al. (J Biomed Inform 2009), as medspaCy implements it, without spaCy:
cue phrases (``rules/context.json``) are found in a sentence, longest first, none overlapping another;
each cue's scope runs forward, backward or both from it, to the end of the sentence, to ``max_scope``
words, or to the nearest cue that ends it — a terminator ("but", "however", "which"), a cue of the same
category ("no fever, no chills"), or one of its ``terminated_by`` categories. A target inside a cue's scope
(and not overlapping the cue) takes the cue's category. Pseudo cues ("no change in", "gram negative",
"not only") match to stop their words from acting as cues and do nothing else.

Why our own engine: ConText needs lower-cased words and offsets, which one regular expression gives; a
sentence's cues and scopes are computed once and then answer any number of targets (``SentenceContext``),
so reading every mention of a note costs little more than reading one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from medcoder.model.note import Category, ContextModifier, Sentence, TargetContext
from medcoder.nlp.rules import ContextRule, context_rules
from medcoder.nlp.tokens import Tokens, tokenize


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue found in a sentence: its rule, word range [i, j), characters, and the word range of its scope
    on each side (empty for terminators and pseudo cues)."""

    rule: ContextRule
    i: int
    j: int
    start: int
    end: int
    back_start: int
    """Scope before the cue: words [back_start, i)."""
    forward_end: int
    """Scope after the cue: words [j, forward_end)."""

    def covers(self, ti: int, tj: int) -> bool:
        """Whether the target words [ti, tj) are in this cue's scope and do not overlap the cue itself."""
        if ti < self.j and tj > self.i:
            return False
        return (tj > self.back_start and ti < self.i) or (ti < self.forward_end and tj > self.j)


def _stops(other: ContextRule, rule: ContextRule) -> bool:
    """Whether a cue of rule ``other`` ends the scope of a cue of ``rule``."""
    category = rule.category
    if category is None:
        return False
    if other.direction == "terminate":
        return category in other.terminates
    if other.category is None:
        return False
    return other.category == category or other.category in rule.terminated_by


def scoped(tokens: Tokens, found: list[tuple[int, int, ContextRule]]) -> list[Cue]:
    """Cues with their scopes, from the matched cues of a sentence (text order, none overlapping)."""
    n = len(tokens.norms)
    cues: list[Cue] = []
    for k, (i, j, rule) in enumerate(found):
        back_start, forward_end = i, j
        direction = rule.direction
        if direction in ("forward", "bidirectional"):
            forward_end = n if rule.max_scope is None else min(n, j + rule.max_scope)
            for oi, _, other in found[k + 1:]:
                if oi >= forward_end:
                    break
                if _stops(other, rule):
                    forward_end = oi
                    break
        if direction in ("backward", "bidirectional"):
            limit = rule.max_scope if rule.back_scope is None else rule.back_scope
            back_start = 0 if limit is None else max(0, i - limit)
            for _, oj, other in reversed(found[:k]):
                if oj <= back_start:
                    break
                if _stops(other, rule):
                    back_start = oj
                    break
        cues.append(Cue(rule, i, j, tokens.starts[i], tokens.ends[j - 1], back_start, forward_end))
    return cues


class ContextEngine:
    """ConText over a set of rules (by default the packaged ``rules/context.json``)."""

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.rules = tuple(rules)
        # One-word cues by their word; longer ones by their first two words (few candidates per lookup).
        single: dict[str, ContextRule] = {}
        multi: dict[tuple[str, str], list[tuple[tuple[str, ...], ContextRule]]] = {}
        for rule in self.rules:
            for words in rule.sequences:
                if len(words) == 1:
                    single[words[0]] = rule
                else:
                    multi.setdefault((words[0], words[1]), []).append((words, rule))
        self._single = single
        self._multi = multi

    def match(self, tokens: Tokens) -> list[tuple[int, int, ContextRule]]:
        """The cue phrases of a sentence as word ranges, longest first then leftmost, none overlapping
        another ("no history of" wins over "history of"), in text order."""
        norms = tokens.norms
        single, multi = self._single, self._multi
        found: list[tuple[int, int, ContextRule]] = []
        last = len(norms) - 1
        for i, word in enumerate(norms):
            rule = single.get(word)
            if rule is not None:
                found.append((i, i + 1, rule))
            if i < last:
                candidates = multi.get((word, norms[i + 1]))
                if candidates is not None:
                    for words, rule in candidates:
                        size = len(words)
                        if size == 2 or norms[i:i + size] == words:
                            found.append((i, i + size, rule))
        if len(found) > 1:
            found.sort(key=lambda m: (m[0] - m[1], m[0]))
            taken = bytearray(len(norms))
            kept = []
            for i, j, rule in found:
                if not any(taken[i:j]):
                    taken[i:j] = b"\x01" * (j - i)
                    kept.append((i, j, rule))
            kept.sort(key=lambda m: m[0])
            found = kept
        return found

    def analyze(self, text: str, start: int = 0, end: int | None = None) -> SentenceContext:
        """Cues and scopes of the sentence ``text[start:end]``, ready to answer many targets."""
        tokens = tokenize(text, start, end)
        found = self.match(tokens)
        return SentenceContext(tokens, found, scoped(tokens, found) if found else [])


class SentenceContext:
    """One sentence read by ConText: its words and cues. ``of(start, end)`` gives a target's context."""

    __slots__ = ("tokens", "found", "cues")

    def __init__(self, tokens: Tokens, found: list[tuple[int, int, ContextRule]], cues: list[Cue]) -> None:
        self.tokens = tokens
        self.found = found
        self.cues = cues

    def of(self, start: int, end: int) -> TargetContext:
        """The context of the target at characters [start, end) (offsets into the text analysed)."""
        if not self.cues:
            return _PRESENT
        ti, tj = self.tokens.span_of(start, end)
        if tj <= ti:
            return _PRESENT
        cues = self.cues
        if any(cue.i < tj and cue.j > ti for cue in cues):
            # Cue words inside the target ("free" in "free fluid") neither modify it nor end the scope
            # of a cue that does ("no free fluid"): scope again without them, for this target only.
            cues = scoped(self.tokens, [m for m in self.found if not (m[0] < tj and m[1] > ti)])
        flags: dict[Category, bool] = {}
        rules: list[str] = []
        modifiers: list[ContextModifier] = []
        for cue in cues:
            category = cue.rule.category
            if category is None or not cue.covers(ti, tj):
                continue
            flags[category] = True
            if cue.rule.id not in rules:
                rules.append(cue.rule.id)
            modifiers.append(ContextModifier(category=category, rule_id=cue.rule.id, start=cue.start, end=cue.end))
        if not modifiers:
            return _PRESENT
        return TargetContext(negated=flags.get("negated", False), uncertain=flags.get("uncertain", False),
                             historical=flags.get("historical", False), family=flags.get("family", False),
                             hypothetical=flags.get("hypothetical", False), rules=tuple(rules),
                             modifiers=tuple(modifiers))

    def modifiers(self) -> tuple[ContextModifier, ...]:
        """Every category-setting cue of the sentence (what a reviewer sees highlighted)."""
        return tuple(ContextModifier(category=c.rule.category, rule_id=c.rule.id, start=c.start, end=c.end)
                     for c in self.cues if c.rule.category is not None)


_PRESENT = TargetContext()


@cache
def default_engine() -> ContextEngine:
    """The engine over the packaged rules, built once per process."""
    return ContextEngine(context_rules())


def analyze_sentence(text: str, sentence: Sentence | None = None) -> SentenceContext:
    """ConText over one sentence of ``text`` (the whole text when ``sentence`` is None)."""
    if sentence is None:
        return default_engine().analyze(text)
    return default_engine().analyze(text, sentence.start, sentence.end)


def context_of(text: str, sentence: Sentence | None, target_start: int, target_end: int) -> TargetContext:
    """The ConText context of the target at ``text[target_start:target_end]`` within ``sentence``."""
    return analyze_sentence(text, sentence).of(target_start, target_end)


def contexts_of(text: str, sentence: Sentence | None, targets: Iterable[tuple[int, int]]) -> list[TargetContext]:
    """Contexts of many targets of one sentence; the sentence is read once."""
    read = analyze_sentence(text, sentence)
    return [read.of(start, end) for start, end in targets]
