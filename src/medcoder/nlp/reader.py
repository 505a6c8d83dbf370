"""Read a whole note: sections, sentences tagged with their section, and the context of any span.

``read_note(text)`` is the one entry point the coding pipeline needs::

    note = read_note(text)
    for sentence in note.sentences:          # offsets into text, .section = canonical section name
        ...
    context = note.context_of(start, end)    # section context + the sentence's ConText
    if context.present: ...                  # affirmed, current, the patient's
    context.rules                            # ("sec.family_history", "neg.denies", ...) as evidence

Why lazy ConText: sections and sentences are cheap (a few regular expressions per line) and always needed;
ConText runs only on the sentences a caller asks about, once per sentence, then answers every target of
that sentence from the cached cues.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from medcoder.model.note import ContextModifier, Section, SectionContext, SectionName, Sentence, TargetContext
from medcoder.nlp.context import SentenceContext, analyze_sentence
from medcoder.nlp.sections import find_sections, section_context
from medcoder.nlp.sentences import split_sentences


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadNote:
    """A note read into sections and sentences; ask it for the context of any span."""

    text: str
    sections: tuple[Section, ...]
    sentences: tuple[Sentence, ...]
    _section_starts: tuple[int, ...] = field(repr=False, compare=False)
    _sentence_starts: tuple[int, ...] = field(repr=False, compare=False)
    _read: dict[int, SentenceContext] = field(default_factory=dict, repr=False, compare=False)

    def section_at(self, offset: int) -> Section | None:
        """The section whose body or header holds ``offset`` (None before the first section's body)."""
        k = bisect.bisect_right(self._section_starts, offset) - 1
        if k >= 0 and offset < self.sections[k].end:
            return self.sections[k]
        # In a header: the section that header opens.
        for section in self.sections[max(0, k + 1):k + 2]:
            if section.title_start <= offset < section.title_end:
                return section
        return None

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence holding ``offset``, if any (headers and blank lines are in none)."""
        k = bisect.bisect_right(self._sentence_starts, offset) - 1
        if k >= 0 and offset < self.sentences[k].end:
            return self.sentences[k]
        return None

    def sentence_context(self, sentence: Sentence) -> SentenceContext:
        """ConText over one sentence of this note, computed once."""
        found = self._read.get(sentence.start)
        if found is None:
            found = self._read[sentence.start] = analyze_sentence(self.text, sentence)
        return found

    def context_of(self, start: int, end: int) -> TargetContext:
        """The context of the span [start, end): the categories its section implies (family history ->
        family; past history -> historical) joined with the ConText cues of its sentence."""
        section = self.section_at(start)
        sentence = self.sentence_at(start)
        own = self.sentence_context(sentence).of(start, end) if sentence is not None else TargetContext()
        return _join(section, own)

    def contexts_of(self, spans: Iterable[tuple[int, int]]) -> list[TargetContext]:
        return [self.context_of(start, end) for start, end in spans]


def _join(section: Section | None, own: TargetContext) -> TargetContext:
    if section is None:
        return own
    implied = section_context(section.name)
    if not implied.implies:
        if not own.modifiers:
            return _present_in(section.name)
        return TargetContext(negated=own.negated, uncertain=own.uncertain, historical=own.historical,
                             family=own.family, hypothetical=own.hypothetical, rules=own.rules,
                             modifiers=own.modifiers, section=section.name)
    return _with_section(own, section, implied)


@cache
def _present_in(name: SectionName) -> TargetContext:
    return TargetContext(section=name)


def _with_section(own: TargetContext, section: Section, implied: SectionContext) -> TargetContext:
    flags = {"negated": own.negated, "uncertain": own.uncertain, "historical": own.historical,
             "family": own.family, "hypothetical": own.hypothetical}
    for category in implied.implies:
        flags[category] = True
    header = tuple(ContextModifier(category=category, rule_id=implied.rule_id, start=section.title_start,
                                   end=section.title_end) for category in implied.implies)
    rules = (implied.rule_id, *(r for r in own.rules if r != implied.rule_id))
    return TargetContext(negated=flags["negated"], uncertain=flags["uncertain"], historical=flags["historical"],
                         family=flags["family"], hypothetical=flags["hypothetical"], rules=rules,
                         modifiers=header + own.modifiers, section=section.name)


def read_note(text: str) -> ReadNote:
    """Sections, then the sentences of each section's body (each tagged with the section's name)."""
    sections = find_sections(text)
    sentences: list[Sentence] = []
    for section in sections:
        sentences.extend(split_sentences(text, section.start, section.end, section=section.name))
    return ReadNote(text=text, sections=sections, sentences=tuple(sentences),
                    _section_starts=tuple(s.start for s in sections),
                    _sentence_starts=tuple(s.start for s in sentences))


__all__ = ["ReadNote", "read_note", "section_context"]
