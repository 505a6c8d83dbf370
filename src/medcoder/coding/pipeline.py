"""A first reader of whole notes: the diagnostic statements of the assessment, coded by the encoder.

Why this shape for now: a coder codes what the provider concluded, which notes write under "Assessment",
"Impression" or "Diagnoses". Until the full note pipeline (sections, mentions, ConText-style context over
the whole record, issue 4) lands, we take the assessment part (the whole note when it has none), cut it into
sentences and list lines, and code each with the encoder, which already handles negation, uncertainty,
history and family cues per clause. Offsets of every evidence span point into the original text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from datetime import date

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncodeResult, EncounterContext
from medcoder.coding.terms import split_statement
from medcoder.model.suggestion import CodeSuggestion, DocumentationQuery, Evidence
from medcoder.settings import Settings, get_settings

PIPELINE_VERSION = "assessment-encoder/0.1"
MIN_CONFIDENCE = 0.8
"""Below this the encoder explained too few of a sentence's words for the code to be reported."""

_ASSESSMENT = re.compile(r"^[ \t]*(assessment(?:\s+and\s+plan)?|impression|diagnos[ie]s|a/p)\b[^\n]*$",
                         re.IGNORECASE | re.MULTILINE)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_MAX_SENTENCE = 300

_lock = threading.Lock()
_encoders: dict[tuple[str, date | None], Encoder] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteCoding:
    suggestions: tuple[CodeSuggestion, ...]
    queries: tuple[DocumentationQuery, ...] = ()
    releases: dict[str, str] = field(default_factory=dict)
    pipeline_version: str = PIPELINE_VERSION


def _encoder(settings: Settings, day: date | None) -> Encoder:
    key = (str(settings.home), day)
    with _lock:
        found = _encoders.get(key)
        if found is None:
            codesets = Codesets.for_date(day, settings=settings) if day else Codesets.newest(settings=settings)
            found = _encoders[key] = Encoder(codesets)
        return found


def _diagnostic_part(text: str) -> int:
    """Where the provider's conclusions start (the first assessment-like heading), else the note's start."""
    heading = _ASSESSMENT.search(text)
    return heading.start() if heading else 0


def _diagnosed_words(result: EncodeResult) -> frozenset[str]:
    """The index words of the evidence of every code confidently assigned to a sentence."""
    words: set[str] = set()
    for code in result.codes:
        if code.confidence >= MIN_CONFIDENCE:
            for evidence in code.evidence:
                words.update(w for c in split_statement(evidence.text) if c.context == "present" for w in c.words)
    return frozenset(words)


def code_text(text: str, *, setting: str = "outpatient", age: int | None = None, sex: str | None = None,
              date_of_service: date | None = None, settings: Settings | None = None) -> NoteCoding:
    """Code a note's diagnostic statements; the same code from several sentences is one suggestion."""
    settings = settings or get_settings()
    encoder = _encoder(settings, date_of_service)
    context = EncounterContext(setting=setting, age=age, sex=sex, day=date_of_service)
    start = _diagnostic_part(text)
    sentences: list[tuple[int, str]] = []
    for sentence in _SENTENCE.finditer(text, start):
        body = sentence.group(0).strip()
        if body and len(body) <= _MAX_SENTENCE:
            sentences.append((sentence.start() + sentence.group(0).index(body), body))
    # Conditions diagnosed in other sentences of the assessment stay available to "with" subterms
    # (Guideline I.A.15; I.C.9.a hypertension with CKD), as they are within one statement. Only the words of
    # what a first pass coded count: "renal artery ultrasound ordered" documents no kidney disease.
    words_of = [_diagnosed_words(encoder.encode(body, context)) for _, body in sentences]
    everything: frozenset[str] = frozenset().union(*words_of) if words_of else frozenset()
    found: dict[str, CodeSuggestion] = {}
    queries: dict[tuple[str, str], DocumentationQuery] = {}
    releases: dict[str, str] = {}
    for (offset, body), own in zip(sentences, words_of, strict=True):
        result = encoder.encode(body, context, linked_words=everything - own)
        releases = result.releases
        for code in result.codes:
            if code.confidence < MIN_CONFIDENCE:
                continue
            evidence = tuple(Evidence(start=e.start + offset, end=e.end + offset,
                                      text=text[e.start + offset:e.end + offset], context=e.context)
                             for e in code.evidence)
            if code.code in found:
                kept = found[code.code]
                found[code.code] = replace(kept, evidence=kept.evidence + evidence,
                                           confidence=max(kept.confidence, code.confidence))
            else:
                found[code.code] = replace(code, evidence=evidence)
        for query in result.queries:
            queries.setdefault((query.code, query.missing), query)
    ordered = tuple(replace(s, sequence=n + 1) for n, s in enumerate(found.values()))
    return NoteCoding(suggestions=ordered, queries=tuple(q for k, q in queries.items() if k[0] in found),
                      releases=releases)
