"""Code ICD-10-PCS procedures named in a note's sentences, built axis by axis from the PCS tables.

Why build from the tables instead of a phrase -> code list: PCS codes are combinations (CT x body part x
contrast), so a list would need thousands of entries and still miss "CT of chest, abdomen and pelvis". The
lexicon (``data/pcs_lexicon.json``) says only what the wording fixes: the table (section, body system, root
operation or type) and, where the note cannot vary it, the approach or qualifier. The body part is chosen
among the *table's own* body-part labels by the words around the mention, and every remaining axis takes the
value the table allows in a fixed preference order ("None" for contrast unless the sentence names contrast),
so every code produced is one the tables allow, and the rationale names each label chosen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from medcoder.codesets.icd10pcs_reader import Pcs, PcsRow
from medcoder.errors import MedcoderError
from medcoder.model.suggestion import CodeSuggestion, Evidence
from medcoder.nlp import ReadNote

__all__ = ["PcsLexicon", "PcsRule", "code_procedures", "pcs_lexicon"]

_WORD = re.compile(r"[A-Za-z]+")
_RULE_KEYS = frozenset({"id", "patterns", "case_sensitive", "tables", "codes", "body_words", "chars",
                        "default_body_part", "contrast", "confidence", "sided"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsRule:
    """One way notes name a procedure: the pattern, and the table or complete codes it leads to."""

    id: str
    pattern: re.Pattern[str]
    tables: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    body_words: tuple[str, ...] = ()
    """Body-part words the procedure word itself implies ("nephrectomy" -> kidney)."""
    chars: dict[int, tuple[str, ...]]
    default_body_part: str | None = None
    """Table and body part (4 characters, e.g. ``BW21``) coded when the window names no body part."""
    contrast: bool = False
    sided: bool = False
    """The body part must name the side the note names: an unsided "nephrectomy" is not coded."""
    confidence: float = 0.7


@dataclass(frozen=True, slots=True, kw_only=True)
class PcsLexicon:
    version: str
    rules: tuple[PcsRule, ...]
    defaults: tuple[str, ...]
    contrast_words: frozenset[str]
    contrast_chars: tuple[str, ...]
    before: int
    after: int
    label_stopwords: frozenset[str]
    sides: dict[str, str]
    body_words: dict[str, tuple[str, ...]]


def _rule(raw: dict[str, object]) -> PcsRule:
    unknown = set(raw) - _RULE_KEYS
    rule_id = str(raw.get("id", "?"))
    if unknown or "patterns" not in raw or not (raw.get("tables") or raw.get("codes")):
        raise MedcoderError(f"PCS lexicon rule {rule_id!r} is malformed (unknown keys {sorted(unknown)}, or no "
                            "patterns, or neither tables nor codes)", code="E330", where=rule_id,
                            fix="Fix src/medcoder/coding/data/pcs_lexicon.json")
    patterns = [str(p) for p in raw["patterns"]]  # type: ignore[attr-defined]
    exact = {str(p) for p in raw.get("case_sensitive", [])}  # type: ignore[attr-defined]
    # Abbreviations ("CT", "US", "VA") count only in capitals; words in any case.
    parts = [p if p in exact else f"(?i:{p})" for p in sorted(patterns, key=len, reverse=True)]
    chars = {int(k): tuple(v) for k, v in dict(raw.get("chars", {})).items()}  # type: ignore[call-overload]
    return PcsRule(id=rule_id, pattern=re.compile(r"(?<![A-Za-z])(?:" + "|".join(parts) + r")(?![A-Za-z])"),
                   tables=tuple(raw.get("tables", ())),  # type: ignore[arg-type]
                   codes=tuple(raw.get("codes", ())),  # type: ignore[arg-type]
                   body_words=tuple(raw.get("body_words", ())),  # type: ignore[arg-type]
                   chars=chars, default_body_part=raw.get("default_body_part"),  # type: ignore[arg-type]
                   contrast=bool(raw.get("contrast", False)), sided=bool(raw.get("sided", False)),
                   confidence=float(raw.get("confidence", 0.7)))  # type: ignore[arg-type]


@cache
def pcs_lexicon() -> PcsLexicon:
    """The PCS wording data, validated on load (E330 names the bad rule)."""
    text = resources.files("medcoder.coding").joinpath("data/pcs_lexicon.json").read_text("utf-8")
    raw = json.loads(text)
    rules = tuple(_rule(r) for r in raw["rules"])
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise MedcoderError("PCS lexicon rule ids repeat", code="E330", where=",".join(ids),
                            fix="Give every rule of pcs_lexicon.json its own id")
    return PcsLexicon(
        version=raw["version"], rules=rules, defaults=tuple(raw["defaults"]),
        contrast_words=frozenset(raw["contrast_words"]), contrast_chars=tuple(raw["contrast_chars"]),
        before=int(raw["window"]["before"]), after=int(raw["window"]["after"]),
        label_stopwords=frozenset(raw["label_stopwords"]), sides=dict(raw["sides"]),
        body_words={k.lower(): tuple(v) for k, v in raw["body_words"].items()})


def _stem(word: str) -> str:
    """Singular and lower case, so "Kidneys" in a label meets "kidney" in a note."""
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _concepts(words: list[str], lex: PcsLexicon) -> set[str]:
    """The body-part concepts of some words: each word itself and what the lexicon says it names."""
    out: set[str] = set()
    for word in words:
        low = word.lower()
        out.add(_stem(low))
        out.update(_stem(w) for w in lex.body_words.get(low, ()))
    return out


def _nearness(words: list[tuple[str, int]], lex: PcsLexicon) -> dict[str, int]:
    """Each concept of the window with its distance in words from the mention (the nearest use wins)."""
    near: dict[str, int] = {}
    for word, distance in words:
        for concept in _concepts([word], lex):
            near[concept] = min(distance, near.get(concept, distance))
    return near


@dataclass(frozen=True, slots=True)
class _Mention:
    rule: PcsRule
    start: int
    end: int


def _mentions(text: str, lex: PcsLexicon) -> list[_Mention]:
    """Procedure words of one sentence; a match inside a longer one ("CT" in "angio-CT") is dropped."""
    found = [_Mention(rule, m.start(), m.end()) for rule in lex.rules for m in rule.pattern.finditer(text)]
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Mention] = []
    for mention in found:
        if kept and mention.start < kept[-1].end:
            continue
        kept.append(mention)
    return kept


@dataclass(frozen=True, slots=True)
class _Choice:
    table: str
    character: str
    label: str
    score: float


def _body_part(rule: PcsRule, pcs: Pcs, near: dict[str, int], sides: set[str],
               lex: PcsLexicon) -> _Choice | None:
    """The best body part over the rule's tables: the label whose every word the mention's window names.

    More label words matched wins ("Chest, Abdomen and Pelvis" over "Abdomen"); then the words nearer the
    mention ("chest radiograph and abdominal ultrasound"); a label naming a side needs that side in the
    window; remaining ties go to the table listed first in the rule.
    """
    best: _Choice | None = None
    for order, prefix in enumerate(rule.tables):
        table = pcs.table(prefix)
        if table is None:
            continue
        labels = {char: label for row in table.rows for char, label in row.axes[0].values}
        for char, label in labels.items():
            if rule.default_body_part == prefix + char and best is None:
                best = _Choice(prefix, char, label, 0.0)
            words = [w for w in _WORD.findall(label) if w.lower() not in lex.label_stopwords]
            own = {_stem(w) for w in words}
            distances = [min((near[c] for c in _concepts([w], lex) if c in near), default=None) for w in words]
            if not own or any(d is None for d in distances):
                continue
            label_sides = {lex.sides[w.lower()] for w in _WORD.findall(label) if w.lower() in lex.sides}
            if (label_sides - {"bilateral"} or rule.sided) and not label_sides & sides:
                continue
            score = (len(own) + 0.5 * len(label_sides & sides) - 0.02 * sum(d or 0 for d in distances)
                     - 0.005 * order)
            if best is None or score > best.score:
                best = _Choice(prefix, char, label, score)
    return best


def _fill(rows: list[PcsRow], rule: PcsRule, contrast: bool, lex: PcsLexicon) -> tuple[str, list[str]]:
    """Characters 5-7 among the rows that hold the body part: the rule's preference, else the defaults."""
    chars = ""
    labels: list[str] = []
    for index, pos in enumerate((5, 6, 7)):
        allowed: dict[str, str] = {}
        for row in rows:
            allowed.update(row.axes[index + 1].values)
        name = rows[0].axes[index + 1].name
        wanted, why = rule.chars.get(pos, ()), f"preferred by rule {rule.id}"
        if name == "Contrast" and contrast and rule.contrast:
            wanted, why = lex.contrast_chars, "the sentence names contrast"
        pick = next((c for c in wanted if c in allowed), None)
        if pick is None:
            pick, why = next((c for c in lex.defaults if c in allowed), None) or min(allowed), "table default"
        chars += pick
        labels.append(f"{name} {pick} {allowed[pick]} ({why})")
        rows = [r for r in rows if pick in dict(r.axes[index + 1].values)]
    return chars, labels


def _build(rule: PcsRule, pcs: Pcs, words: list[tuple[str, int]], lex: PcsLexicon,
           contrast: bool) -> list[tuple[str, str, tuple[str, ...]]]:
    """The codes one mention supports, each with its title and the steps that built it."""
    if rule.codes:
        out: list[tuple[str, str, tuple[str, ...]]] = []
        for code in rule.codes:
            if pcs.is_valid(code):
                explanation = pcs.explain(code)
                axes = "; ".join(f"{a.name} {a.character} {a.label}" for a in explanation.axes)
                out.append((code, explanation.description or code,
                            (f"lexicon rule {rule.id}: complete code", f"table {code[:3]}: {axes}")))
        return out
    near = _nearness([*words, *((w, 0) for w in rule.body_words)], lex)
    sides = {lex.sides[w.lower()] for w, _ in words if w.lower() in lex.sides}
    choice = _body_part(rule, pcs, near, sides, lex)
    if choice is None:
        return []
    table = pcs.table(choice.table)
    if table is None:
        return []
    rows = [r for r in table.rows if choice.character in dict(r.axes[0].values)]
    filled = _fill(rows, rule, contrast, lex)
    code = choice.table + choice.character + filled[0]
    if not pcs.is_valid(code):
        return []
    head = ", ".join(a.label or "" for a in table.axes)
    return [(code, pcs.description(code), (
        f"lexicon rule {rule.id}", f"table {choice.table} ({head})",
        f"Body Part {choice.character} {choice.label} (named by the words around the mention)",
        *filled[1], f"ICD-10-PCS FY{pcs.version}"))]


def code_procedures(note: ReadNote, pcs: Pcs, *, offset_base: int = 0) -> list[CodeSuggestion]:
    """Procedures the note says were done, one suggestion per code, in order of first mention.

    Negated, hypothetical and family mentions are skipped ("no CT was done", "a biopsy if it grows").
    ``offset_base`` is added to every evidence offset, for a note cut out of a longer document.
    """
    lex = pcs_lexicon()
    found: dict[str, CodeSuggestion] = {}
    for sentence in note.sentences:
        body = note.text[sentence.start:sentence.end]
        mentions = _mentions(body, lex)
        tokens = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(body)]
        for k, mention in enumerate(mentions):
            # The words near the mention, not past a neighbouring mention: "chest X-ray and abdominal CT".
            low_bound = mentions[k - 1].end if k else 0
            high_bound = mentions[k + 1].start if k + 1 < len(mentions) else len(body)
            before = [t for t in tokens if low_bound <= t[0] and t[1] <= mention.start][-lex.before:]
            after = [t for t in tokens if mention.end <= t[0] and t[1] <= high_bound][:lex.after]
            words = [(t[2], len(before) - n) for n, t in enumerate(before)]
            words += [(t[2], n + 1) for n, t in enumerate(after)]
            contrast = any(w.lower() in lex.contrast_words for w, _ in words)
            start, end = sentence.start + mention.start, sentence.start + mention.end
            context = note.context_of(start, end)
            if context.negated or context.hypothetical or context.family:
                continue
            for code, title, rationale in _build(mention.rule, pcs, words, lex, contrast):
                evidence = Evidence(start=start + offset_base, end=end + offset_base, text=note.text[start:end],
                                    context=context.label)
                if code in found:
                    kept = found[code]
                    found[code] = CodeSuggestion(
                        system="ICD-10-PCS", code=code, title=kept.title, sequence=kept.sequence,
                        confidence=max(kept.confidence, mention.rule.confidence),
                        evidence=kept.evidence + (evidence,), rationale=kept.rationale)
                else:
                    found[code] = CodeSuggestion(system="ICD-10-PCS", code=code, title=title,
                                                 sequence=len(found) + 1, confidence=mention.rule.confidence,
                                                 evidence=(evidence,), rationale=rationale)
    return list(found.values())
