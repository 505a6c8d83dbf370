"""Split text into sentences and list items, with offsets into the original text.

Rules, each for a habit of clinical notes:
- a list item ("1.", "2)", "-", "*", "•", "a.") starts a new sentence; its marker is left out of the span;
- a line break ends a sentence, unless the line ends without punctuation and the next one starts in lower
  case (text wrapped at a fixed width);
- ".", "!" or "?" ends a sentence when followed by white space and then anything but a lower-case letter,
  except after titles and Latin abbreviations ("Dr.", "e.g.", "vs.") and a bare list number ("1. Asthma");
  "2.5" and "mg. daily" never split (no space after the point; lower case after it);
- a piece without a letter ("1.", "120/80") is no sentence: no mention can be in it;
- headers are not in sentences at all: the reader splits each section's body (``sections.py``).
"""

from __future__ import annotations

import re

from medcoder.model.note import SectionName, Sentence

ABBREVIATIONS = frozenset("""
dr mr mrs ms prof st sr jr e.g i.e eg ie vs cf approx viz fig figs pt pts dept
""".split())
"""Words whose trailing point never ends a sentence, even before a capital ("Dr. Gutierrez", "e.g. CT")."""

_LIST_MARKER = re.compile(r"[ \t]*(?:[-*•·▪◦‣+]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)](?=[ \t])|#\d+[.):]?)[ \t]+")
# A sentence end candidate: terminal marks (and closing quotes/brackets), then white space.
_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"([^\s(\[]+)$")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_TERMINAL = ".!?:;"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, start: int, point: int) -> bool:
    """Whether the point at ``point`` closes an abbreviation or a bare list number, not a sentence."""
    match = _WORD_BEFORE.search(text, start, point)
    if match is None:
        return False
    word = match.group(1).lower()
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return True
    # "1." or "a." alone at the start of a sentence is a list marker.
    return match.start() == start and (word.isdigit() or (len(word) == 1 and word.isalpha()))


def _split_block(text: str, start: int, end: int, section: SectionName, out: list[Sentence]) -> None:
    """Sentences of one block of text (one or more joined lines) with no list marker inside."""
    begin = start
    for match in _END.finditer(text, start, end):
        after = match.end()
        following = after
        while following < end and text[following].isspace():
            following += 1
        if following < end and text[following].islower():
            continue
        if _is_abbreviation(text, begin, match.start()):
            continue
        _add(text, begin, after, section, out)
        begin = following
    _add(text, begin, end, section, out)


def _add(text: str, start: int, end: int, section: SectionName, out: list[Sentence]) -> None:
    start, end = _trim(text, start, end)
    marker = _LIST_MARKER.match(text, start, end)
    if marker is not None:
        start, end = _trim(text, marker.end(), end)  # "- \nitem": the marker's line may end right after it
    if end > start and _HAS_LETTER.search(text, start, end):
        out.append(Sentence(start=start, end=end, section=section))


def split_sentences(text: str, start: int = 0, end: int | None = None, *,
                    section: SectionName = "other") -> list[Sentence]:
    """Sentences and list items of ``text[start:end]``, each tagged with ``section``."""
    stop = len(text) if end is None else end
    out: list[Sentence] = []
    block_start = -1
    block_end = -1
    line_start = start
    while line_start <= stop:
        line_end = text.find("\n", line_start, stop)
        if line_end < 0:
            line_end = stop
        content_start, content_end = _trim(text, line_start, line_end)
        if content_end > content_start:
            marker = _LIST_MARKER.match(text, content_start, content_end)
            wrapped = (block_start >= 0 and marker is None and text[content_start].islower()
                       and text[block_end - 1] not in _TERMINAL)
            if wrapped:
                block_end = content_end
            else:
                if block_start >= 0:
                    _split_block(text, block_start, block_end, section, out)
                block_start = marker.end() if marker is not None else content_start
                block_end = content_end
        elif block_start >= 0:
            # A blank line ends the block.
            _split_block(text, block_start, block_end, section, out)
            block_start = -1
        if line_end >= stop:
            break
        line_start = line_end + 1
    if block_start >= 0:
        _split_block(text, block_start, block_end, section, out)
    return out
