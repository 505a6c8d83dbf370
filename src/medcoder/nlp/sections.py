"""Cut a note into sections by its headers (``rules/sections.json``), with offsets into the original text.

A line is a header when its words, markdown marks and a trailing colon dropped, equal a known variant
("ASSESSMENT AND PLAN", "Past Medical History:", "## Plan", "A/P") — alone on its line, or before a colon
with text after it ("PMH: diabetes, HTN", an inline header). Lines ending with a period are prose, never
headers ("Allergies." as a numbered problem of an assessment). Unknown all-caps lines are not headers:
assessments often title their problems in capitals, and a wrong boundary costs more than a missed one.

Why an inline header covers only its own line (and list items right under it): in narrative reports
("Family history: uncle with ALS.\\nNeurological examination revealed ...") the next line is back in the
story, and reading it as family history would hide the patient's findings from coding. The text after the
inline header resumes the enclosing section, whose header it points at again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder.model.note import Section, SectionContext, SectionName
from medcoder.nlp.rules import HeaderRule, header_key, section_rules

MAX_HEADER = 80
"""Characters: a longer line is prose even when it starts like a header (then only a colon makes it one)."""
MAX_INLINE_TITLE = 60
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•·▪◦‣+]|\(?\d{1,3}[.)]|[a-z][.)]|#\d+)[ \t]")
_HAS_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class _Header:
    rule: HeaderRule
    title_start: int
    title_end: int
    body_start: int
    inline: bool


def _header_of(text: str, start: int, end: int) -> _Header | None:
    """The header on line [start, end) of ``text``, if the line is one."""
    headers = section_rules().headers
    left = start
    while left < end and text[left] in " \t":
        left += 1
    right = end
    while right > left and text[right - 1] in " \t\r":
        right -= 1
    if right - left < 2 or (_LIST_ITEM.match(text, left, right) and text[left] not in "#*"):
        return None
    line = text[left:right]
    if right - left <= MAX_HEADER and not line.endswith(".") and _HAS_LETTER.search(line):
        rule = headers.get(header_key(line))
        if rule is not None:
            return _Header(rule, left, right, min(end + 1, len(text)), inline=False)
    colon = text.find(":", left, min(right, left + MAX_INLINE_TITLE))
    if colon > left:
        rule = headers.get(header_key(text[left:colon]))
        if rule is not None:
            body = colon + 1
            while body < right and text[body] in " \t":
                body += 1
            if body >= right:
                return _Header(rule, left, right, min(end + 1, len(text)), inline=False)
            return _Header(rule, left, colon + 1, body, inline=True)
    return None


def _lines(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            end = size
        spans.append((start, end))
        start = end + 1
    return spans


def _is_list_item(text: str, start: int, end: int) -> bool:
    return bool(_LIST_ITEM.match(text, start, end))


def find_sections(text: str) -> tuple[Section, ...]:
    """The sections of a note, in order, tiling it from its first header (text before it is ``other``)."""
    sections: list[Section] = []
    # The section the text is in (the last standalone header), and the one open now (it or an inline one).
    enclosing: tuple[SectionName, int, int, str | None] = ("other", 0, 0, None)
    current = enclosing
    body_start = 0
    inline = False
    # Whether the open section is the preamble or one resumed after an inline header: left out when empty
    # (a header's own section is kept even when empty, to show the note's structure).
    resumed = True

    def close(at: int) -> None:
        name, title_start, title_end, rule_id = current
        if not resumed or text[body_start:at].strip():
            sections.append(Section(name=name, title_start=title_start, title_end=title_end,
                                    start=body_start, end=max(at, body_start), rule_id=rule_id))

    for start, end in _lines(text):
        header = _header_of(text, start, end)
        if header is not None:
            close(header.title_start)
            current = (header.rule.section, header.title_start, header.title_end, header.rule.id)
            if not header.inline:
                enclosing = current
            body_start, inline, resumed = header.body_start, header.inline, False
            continue
        if inline and not (_is_list_item(text, start, end) and text[start:end].strip()):
            close(start)
            current, body_start, inline, resumed = enclosing, start, False, True
    close(len(text))
    return tuple(sections)


def section_context(name: str) -> SectionContext:
    """What a section implies for every mention in it: role (conclusion, listing, review ...), implied
    categories (family history -> family; past medical/surgical history -> historical) and the rule id."""
    table = section_rules().sections
    found = table.get(name)
    return found if found is not None else table["other"]
