"""Assertion context on the ConText reference set: our reader against medspaCy's ConText, side by side.

Run: .venv/bin/python bench/bench_context.py [--tsv PATH] [--repeat 3]
Needs the bench extra (``pip install -e '.[bench]'``) for the medspaCy half; without it only ours is shown.

Both engines get the same sentences and the same target spans (the annotated condition phrase, found in its
sentence case-insensitively after collapsing white space). Ours: ``read_note(sentence).context_of(span)``
(sections, sentences, ConText — the whole reader). medspaCy: ``medspacy.load()`` default pipeline (PyRuSH
sentences, ConText with its default rules), the span set as the only entity before ConText runs; PyRuSH's
debug logging is switched off so it does not slow medspaCy down. Speed: best of ``--repeat`` runs over all
sentences, everything included (tokenizing, sentence splitting, ConText), as sentences per CPU-second of
this process (per core; robust when other jobs share the machine) and per wall-clock second.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medcoder.nlp.reader import read_note
from medcoder.nlp.reference import ASPECTS, AspectScore, ReferenceCase, context_flags, read_reference, score

TSV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "context" / "context_annotations_2376.tsv"
Engine = Callable[[str, int, int], dict[str, bool]]


def ours(sentence: str, start: int, end: int) -> dict[str, bool]:
    return context_flags(read_note(sentence).context_of(start, end))


def medspacy_engine() -> Engine | None:
    try:
        import medspacy
        from loguru import logger
    except ImportError:
        return None
    logger.disable("PyRuSH")
    nlp = medspacy.load()
    steps = [(name, pipe) for name, pipe in nlp.pipeline if name != "medspacy_context"]
    context = nlp.get_pipe("medspacy_context")

    def run(sentence: str, start: int, end: int) -> dict[str, bool]:
        doc = nlp.make_doc(sentence)
        for _, pipe in steps:
            doc = pipe(doc)
        span = doc.char_span(start, end, label="CONDITION", alignment_mode="expand")
        doc.ents = (span,) if span is not None else ()
        doc = context(doc)
        if not doc.ents:
            return {}
        ent: Any = doc.ents[0]
        return {"negated": bool(ent._.is_negated), "historical": bool(ent._.is_historical),
                "hypothetical": bool(ent._.is_hypothetical), "family": bool(ent._.is_family)}

    return run


def timed(engine: Engine, cases: list[ReferenceCase], repeat: int
          ) -> tuple[list[dict[str, bool]], tuple[float, float]]:
    """Flags, and (sentences per CPU-second, sentences per wall second), best of ``repeat``."""
    cpu = wall = float("inf")
    flags: list[dict[str, bool]] = []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        flags = [engine(c.sentence, c.start, c.end) for c in cases]
        cpu = min(cpu, time.process_time() - cpu_started)
        wall = min(wall, time.perf_counter() - started)
    return flags, (len(cases) / max(cpu, 1e-9), len(cases) / max(wall, 1e-9))


def _row(name: str, s: AspectScore) -> str:
    return f"{name:10} P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} acc {s.accuracy:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tsv", type=Path, default=TSV)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases, missing = read_reference(args.tsv)
    positives = {a: sum(c.gold[a] for c in cases) for a in ASPECTS}
    print(f"ConText reference set: {len(cases)} sentences scored ({len(missing)} whose phrase is not in the "
          f"sentence left out); gold positives {positives}")
    results: dict[str, tuple[dict[str, AspectScore], tuple[float, float]]] = {}
    flags, rate = timed(ours, cases, args.repeat)
    results["medcoder"] = (score(cases, flags), rate)
    other = medspacy_engine()
    if other is None:
        print("medspaCy not installed (pip install -e '.[bench]'): showing medcoder only")
    else:
        flags, rate = timed(other, cases, args.repeat)
        results["medspaCy"] = (score(cases, flags), rate)
    for aspect in ASPECTS:
        print(f"\n{aspect}")
        for name, (scores, _) in results.items():
            print("  " + _row(name, scores[aspect]))
    print()
    for name, (_, (cpu, wall)) in results.items():
        print(f"{name:10} {cpu:9,.0f} sentences per CPU-second (one core)   {wall:9,.0f} per wall second")
    if "medspaCy" in results:
        ratio = results["medcoder"][1][0] / results["medspaCy"][1][0]
        print(f"speed ratio medcoder/medspaCy (CPU): {ratio:.1f}x")


if __name__ == "__main__":
    main()
