"""Measure assertion context against an annotated reference set (the ConText test set's TSV shape).

Why in the package: whoever edits ``rules/context.json`` must see at once what the edit does to negation,
temporality and experiencer on sentences annotated by others; the test suite and ``bench/bench_context.py``
use these functions, and any engine (ours, medspaCy) is scored the same way on the same target spans.

Columns (tab-separated): number, note, condition phrase, sentence, negation (Affirmed/Negated),
temporality (Recent/Historical/Not particular), experiencer (Patient/Other/Family member).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from medcoder.model.note import TargetContext
from medcoder.model.scores import PrecisionRecall

_SPACES = re.compile(r"\s+")
ASPECTS: tuple[str, ...] = ("negated", "historical", "hypothetical", "family")
"""What the reference set annotates: negation, temporality (historical; 'Not particular' = hypothetical)
and experiencer (anyone but the patient = family)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceCase:
    number: str
    sentence: str
    """The sentence with runs of white space collapsed (as the phrase is found in it)."""
    start: int
    end: int
    """The condition phrase's characters in ``sentence``."""
    gold: dict[str, bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class AspectScore(PrecisionRecall):
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def read_reference(path: Path) -> tuple[list[ReferenceCase], list[str]]:
    """The cases whose phrase is found in its sentence, and the numbers of the rows where it is not."""
    cases: list[ReferenceCase] = []
    missing: list[str] = []
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 7 or not row[0].strip().isdigit():
                continue  # the header row, or a broken line
            number, phrase, sentence = row[0].strip(), _SPACES.sub(" ", row[2]).strip(), _SPACES.sub(" ", row[3])
            sentence = sentence.strip()
            at = sentence.lower().find(phrase.lower()) if phrase else -1
            if at < 0:
                missing.append(number)
                continue
            gold = {"negated": row[4].strip() == "Negated", "historical": row[5].strip() == "Historical",
                    "hypothetical": row[5].strip() == "Not particular", "family": row[6].strip() != "Patient"}
            cases.append(ReferenceCase(number=number, sentence=sentence, start=at, end=at + len(phrase), gold=gold))
    return cases, missing


def context_flags(context: TargetContext) -> dict[str, bool]:
    return {"negated": context.negated, "historical": context.historical, "hypothetical": context.hypothetical,
            "family": context.family}


def score(cases: Iterable[ReferenceCase], predicted: Iterable[dict[str, bool]]) -> dict[str, AspectScore]:
    """Per aspect: true/false positives and negatives of the predicted flags against the gold."""
    counts = {aspect: [0, 0, 0, 0] for aspect in ASPECTS}
    for case, flags in zip(cases, predicted, strict=True):
        for aspect in ASPECTS:
            gold, guess = case.gold[aspect], flags.get(aspect, False)
            slot = 0 if gold and guess else 1 if guess else 2 if gold else 3
            counts[aspect][slot] += 1
    return {aspect: AspectScore(tp=c[0], fp=c[1], fn=c[2], tn=c[3]) for aspect, c in counts.items()}


def run_engine(cases: list[ReferenceCase],
               engine: Callable[[str, int, int], dict[str, bool]]) -> list[dict[str, bool]]:
    return [engine(case.sentence, case.start, case.end) for case in cases]
