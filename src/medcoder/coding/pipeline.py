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
from functools import lru_cache

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncodeResult, EncounterContext
from medcoder.coding.lexicon import lexicon
from medcoder.coding.pcs import code_procedures
from medcoder.coding.terms import split_statement, tokens
from medcoder.model.note import TargetContext
from medcoder.model.suggestion import CodeSuggestion, DocumentationQuery, Evidence
from medcoder.nlp import ReadNote, read_note, section_context
from medcoder.settings import Settings, get_settings

PIPELINE_VERSION = "note-reader-encoder/0.2"
MIN_CONFIDENCE = 0.8
"""Below this the encoder explained too few of a diagnostic statement's words for the code to be reported."""
COMPANION_FACTOR = 0.9
"""The factor the encoder's guidelines apply to a companion code's confidence (coding/guidelines.py)."""
NARRATIVE_MIN_CONFIDENCE = 0.7
"""The same for a sentence of narrative prose (case reports), where conditions sit inside longer sentences."""

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


def statements(note: ReadNote) -> tuple[list[tuple[int, str]], float]:
    """The sentences a coder codes from, and how much of a sentence a code must explain to be reported.

    A note with conclusion sections (assessment, impression, diagnoses) is coded from them: the provider's
    diagnoses (Guidelines II and IV). A note without one (a case report, a narrative) is coded from every
    sentence of its diagnostic sections, where conditions are named inside longer prose, so a code may leave
    more of its sentence unexplained (threshold learned on the train splits only).
    """
    roles = {s.section: section_context(s.section) for s in note.sentences}
    conclusion = [s for s in note.sentences if roles[s.section].role == "conclusion"]
    if conclusion:
        chosen, threshold = conclusion, MIN_CONFIDENCE
    else:
        chosen = [s for s in note.sentences if roles[s.section].diagnostic and roles[s.section].role
                  in ("narrative", "history", "family")]
        threshold = NARRATIVE_MIN_CONFIDENCE
    out: list[tuple[int, str]] = []
    for sentence in chosen:
        raw = _masked(note.text[sentence.start:sentence.end])
        body = raw.strip()
        if body and len(body) <= _MAX_SENTENCE:
            out.append((sentence.start + raw.index(body), body))
    return out, threshold


@lru_cache(maxsize=1)
def _procedure_phrases() -> re.Pattern[str] | None:
    phrases = lexicon().procedure_phrases
    if not phrases:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)) + r")\b",
                      re.IGNORECASE)


def _masked(text: str) -> str:
    """The text with procedure phrases blanked out, same length so offsets still point into the note."""
    pattern = _procedure_phrases()
    return pattern.sub(lambda m: " " * len(m.group(0)), text) if pattern else text


def _states_encounter_reason(code: str, sentence: str) -> bool:
    """Z00-Z13 name the reason for an encounter; prose words ("on examination") do not state one."""
    lex = lexicon()
    if not code.startswith(lex.encounter_prefixes):
        return True
    lowered = sentence.lower()
    return any(cue in lowered for cue in lex.encounter_cues)


def _is_companion(code: CodeSuggestion) -> bool:
    """A code added by a Tabular instruction of another ("use additional code", "code first"): the encoder
    scales its confidence by the instruction's factor, so it is held to the same bar scaled alike."""
    return any(": use additional code" in step or ": code first" in step for step in code.rationale)


_WORD = re.compile(r"[A-Za-z][\w'-]*")


def _targets(note: ReadNote, code: CodeSuggestion, offset: int) -> list[tuple[int, int]]:
    """The words of a code's evidence that name it (words of its title or index path), where ConText asks
    whether the condition is the patient's: "She denied chest pain" -> "chest", "pain". When the code was
    reached through synonyms ("CVA"), every content word of the evidence stands in."""
    evidence = code.evidence[0]
    start = evidence.start + offset
    span = note.text[start:evidence.end + offset]
    named = frozenset(tokens(" ".join((code.title, *code.rationale[:1]))))
    words = [(m.start() + start, m.end() + start, m.group(0)) for m in _WORD.finditer(span)]
    chosen = [(a, b) for a, b, w in words if set(tokens(w)) & named]
    if not chosen:
        stop = lexicon().stopwords
        chosen = [(a, b) for a, b, w in words if len(w) >= 4 and not set(tokens(w)) <= stop]
    return chosen


def _not_reportable(note: ReadNote, code: CodeSuggestion, offset: int, setting: str) -> bool:
    """Most of the words naming the code sit in a context that is not the patient's current condition."""
    targets = _targets(note, code, offset)
    if not targets:
        return False
    blocked = sum(1 for a, b in targets if _reportable(note.context_of(a, b), setting) is not None)
    return blocked * 2 > len(targets)


def _reportable(context: TargetContext, setting: str) -> str | None:
    """Why a code's evidence is not reportable in its note context (ConText rule ids), or None."""
    if context.negated or context.hypothetical or context.family:
        return ",".join(context.rules) or context.label
    if context.uncertain and setting != "inpatient":
        return ",".join(context.rules) or context.label
    return None


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
    note = read_note(text)
    sentences, threshold = statements(note)
    narrative = threshold == NARRATIVE_MIN_CONFIDENCE
    # Conditions diagnosed in other sentences of the assessment stay available to "with" subterms
    # (Guideline I.A.15; I.C.9.a hypertension with CKD), as they are within one statement. Only the words of
    # what a first pass coded count: "renal artery ultrasound ordered" documents no kidney disease.
    first = [encoder.encode(body, context) for _, body in sentences]
    words_of = [_diagnosed_words(result) for result in first]
    everything: frozenset[str] = frozenset().union(*words_of) if words_of else frozenset()
    found: dict[str, CodeSuggestion] = {}
    queries: dict[tuple[str, str], DocumentationQuery] = {}
    releases: dict[str, str] = {}
    for (offset, body), own, alone in zip(sentences, words_of, first, strict=True):
        linked = everything - own
        # Linked words only refine a condition the sentence names ("with" subterms under its main term): a
        # sentence that coded nothing alone codes nothing with them.
        result = encoder.encode(body, context, linked_words=linked) if linked and alone.codes else alone
        releases = result.releases
        for code in result.codes:
            if code.confidence < threshold * (COMPANION_FACTOR if _is_companion(code) else 1.0):
                continue
            if code.evidence and _not_reportable(note, code, offset, setting):
                continue
            if narrative and not _states_encounter_reason(code.code, body):
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
    # Codes from different sentences meet here. An Excludes1 pair within one category restates one condition
    # at two specificities and is resolved; across categories, conditions documented in different sentences are
    # taken as unrelated, the exception Guideline I.A.12.a allows (within a sentence the encoder resolves all).
    for loser, winner in encoder.rules.excludes1_losers(list(found.values())).items():
        if loser[:3] != winner[:3]:
            continue
        found.pop(loser, None)
        kept = found[winner]
        found[winner] = replace(kept, rationale=(*kept.rationale, f"tabular: Excludes1 resolved against {loser} "
                                                                  "documented elsewhere in the note (I.A.12.a)"))
    ordered = tuple(replace(s, sequence=n + 1) for n, s in enumerate(found.values()))
    if setting == "inpatient":
        # Inpatient procedures are reported in ICD-10-PCS (issue 4), listed after the diagnoses.
        ordered += tuple(replace(s, sequence=len(ordered) + n + 1)
                         for n, s in enumerate(code_procedures(note, encoder.cs.pcs)))
    return NoteCoding(suggestions=ordered, queries=tuple(q for k, q in queries.items() if k[0] in found),
                      releases=releases)
