"""Whole notes per second: our note reader against medspaCy's default pipeline, side by side, same notes.

Run: .venv/bin/python bench/bench_notes.py [--notes FILE] [--split dev] [--repeat 3] [--pipeline-limit 50]
Needs the bench extra (``pip install -e '.[bench]'``) for the medspaCy column.

Each engine runs in its own subprocess (so peak memory is its own) over the CodiEsp dev notes:
- medcoder read: ``read_note(text)`` (sections and sentences);
- medcoder read + context: the same, then ConText for every word of 4+ letters of every sentence taken as a
  target (about 190 targets per note) — more work than medspaCy is asked for below;
- medspaCy: ``medspacy.load()`` default pipeline (tokenizer, PyRuSH sentences, target matcher, ConText) over
  ``nlp.pipe(notes)``; it has no target rules, so ConText only finds its cues (PyRuSH debug logging off);
  and, as a more generous baseline, the same with spaCy's rule ``sentencizer`` in place of PyRuSH;
- full pipeline (hook below): ``read_note`` + ``medcoder.coding.pipeline.code_text`` with the knowledge base
  of the default settings home, when that module exists and a knowledge base is built.
Speed is notes per CPU-second of the engine's process (one core; robust when other jobs share the machine),
best of ``--repeat``; memory is the process's peak RSS and its growth over the RSS before the engine ran.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parents[2] / "shared" / "eval" / "codiesp_en_dev.jsonl"
_WORD = re.compile(r"[A-Za-z]{4,}")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_notes(path: Path, split: str | None) -> list[str]:
    notes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if split is None or record.get("split") == split:
                notes.append(record["text"])
    return notes


def best_rate(work: Callable[[], object], count: int, repeat: int) -> tuple[float, float]:
    """(notes per CPU-second, notes per wall second), best of ``repeat`` runs."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        work()
        cpu = min(cpu, time.process_time() - cpu_started)
        wall = min(wall, time.perf_counter() - started)
    return count / max(cpu, 1e-9), count / max(wall, 1e-9)


def run_medcoder(notes: list[str], repeat: int, *, with_context: bool) -> dict[str, Any]:
    from medcoder.nlp.reader import read_note

    read_note("warm up: load and validate the rules")
    before = _rss_mb()
    counts: dict[str, int] = {}

    def read() -> None:
        counts["sentences"] = sum(len(read_note(text).sentences) for text in notes)

    def read_and_context() -> None:
        sentences = targets = 0
        for text in notes:
            note = read_note(text)
            for sentence in note.sentences:
                spans = [m.span() for m in _WORD.finditer(text, sentence.start, sentence.end)]
                note.contexts_of(spans)
                targets += len(spans)
            sentences += len(note.sentences)
        counts.update(sentences=sentences, targets=targets)

    cpu, wall = best_rate(read_and_context if with_context else read, len(notes), repeat)
    return {"cpu_rate": cpu, "wall_rate": wall, "peak_rss_mb": _rss_mb(), "rss_before_mb": before, **counts}


def run_medspacy(notes: list[str], repeat: int, *, pyrush: bool = True) -> dict[str, Any]:
    try:
        import medspacy
        from loguru import logger
    except ImportError:
        return {"skipped": "medspaCy is not installed (pip install -e '.[bench]')"}
    logger.disable("PyRuSH")
    if pyrush:
        nlp = medspacy.load()
    else:
        # A more generous baseline: spaCy's rule sentencizer instead of PyRuSH (most of medspaCy's time).
        nlp = medspacy.load(medspacy_disable=["medspacy_pyrush"])
        nlp.add_pipe("sentencizer", first=True)
    list(nlp.pipe(["Warm up. No fever."]))
    before = _rss_mb()
    counts = {"sentences": 0, "modifiers": 0}

    def work() -> None:
        sentences = modifiers = 0
        for doc in nlp.pipe(notes):
            sentences += sum(1 for _ in doc.sents)
            modifiers += len(doc._.context_graph.modifiers) if doc._.context_graph is not None else 0
        counts.update(sentences=sentences, modifiers=modifiers)

    cpu, wall = best_rate(work, len(notes), repeat)
    return {"cpu_rate": cpu, "wall_rate": wall, "peak_rss_mb": _rss_mb(), "rss_before_mb": before,
            "pipeline": list(nlp.pipe_names), **counts}


# -- HOOK: the full pipeline (read + code) -------------------------------------------------------------
# Timed when medcoder.coding.pipeline.code_text exists and the default settings home has a built knowledge
# base; otherwise skipped with the reason. Adjust here when code_text's signature changes.
def run_pipeline(notes: list[str], repeat: int, limit: int) -> dict[str, Any]:
    import importlib
    import importlib.util

    if importlib.util.find_spec("medcoder.coding.pipeline") is None:
        return {"skipped": "medcoder.coding.pipeline is not installed"}
    code_text = getattr(importlib.import_module("medcoder.coding.pipeline"), "code_text", None)
    if code_text is None:
        return {"skipped": "medcoder.coding.pipeline has no code_text"}
    from medcoder.codesets.codesets import Codesets
    from medcoder.errors import MedcoderError
    from medcoder.nlp.reader import read_note
    from medcoder.settings import get_settings

    settings = get_settings()
    try:
        Codesets.newest(settings=settings)
    except MedcoderError as e:
        return {"skipped": f"no knowledge base built in {settings.home} ({e.code}); run `medcoder data build`"}
    sample = notes[:limit]
    code_text(sample[0], setting="inpatient", settings=settings)  # warm up: opens and compiles the KB
    before = _rss_mb()

    def work() -> None:
        for text in sample:
            read_note(text)
            code_text(text, setting="inpatient", settings=settings)

    cpu, wall = best_rate(work, len(sample), repeat)
    return {"cpu_rate": cpu, "wall_rate": wall, "peak_rss_mb": _rss_mb(), "rss_before_mb": before,
            "notes": len(sample)}


ENGINES = ("medcoder-read", "medcoder-context", "medspacy", "medspacy-sentencizer", "pipeline")


def child(args: argparse.Namespace) -> None:
    notes = load_notes(args.notes, args.split)
    if args.engine == "medcoder-read":
        result = run_medcoder(notes, args.repeat, with_context=False)
    elif args.engine == "medcoder-context":
        result = run_medcoder(notes, args.repeat, with_context=True)
    elif args.engine == "medspacy":
        result = run_medspacy(notes, args.repeat)
    elif args.engine == "medspacy-sentencizer":
        result = run_medspacy(notes, args.repeat, pyrush=False)
    else:
        result = run_pipeline(notes, args.repeat, args.pipeline_limit)
    result.setdefault("notes", len(notes))
    sys.stdout.write(json.dumps(result) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=Path, default=NOTES)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pipeline-limit", type=int, default=50, help="Notes coded by the full pipeline.")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        child(args)
        return
    results: dict[str, dict[str, Any]] = {}
    for engine in ENGINES:
        command = [sys.executable, __file__, "--engine", engine, "--notes", str(args.notes), "--split",
                   args.split, "--repeat", str(args.repeat), "--pipeline-limit", str(args.pipeline_limit)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        results[engine] = json.loads(lines[-1]) if lines else {"skipped": f"failed: {done.stderr[-500:]}"}
    notes = results["medcoder-read"].get("notes", 0)
    print(f"{notes} notes from {args.notes.name} (split {args.split}); notes per CPU-second (one core), "
          f"best of {args.repeat}\n")
    print(f"{'engine':40} {'notes/s':>9} {'wall/s':>9} {'peak RSS':>10} {'growth':>8}  notes")
    names = {"medcoder-read": "medcoder read_note", "medcoder-context": "medcoder read_note + ConText all words",
             "medspacy": "medspaCy default pipeline", "medspacy-sentencizer": "medspaCy, spaCy sentencizer for PyRuSH",
             "pipeline": "full pipeline (read + code_text)"}
    for engine, result in results.items():
        if "skipped" in result:
            print(f"{names[engine]:40} skipped: {result['skipped']}")
            continue
        growth = result["peak_rss_mb"] - result["rss_before_mb"]
        extra = {k: result[k] for k in ("sentences", "targets", "modifiers") if k in result}
        print(f"{names[engine]:40} {result['cpu_rate']:9,.1f} {result['wall_rate']:9,.1f} "
              f"{result['peak_rss_mb']:8,.0f}MB {growth:6,.0f}MB  {result['notes']} {extra or ''}")
    for baseline in ("medspacy", "medspacy-sentencizer"):
        if "skipped" in results[baseline]:
            continue
        for engine in ("medcoder-read", "medcoder-context", "pipeline"):
            if "skipped" in results[engine]:
                continue
            ratio = results[engine]["cpu_rate"] / results[baseline]["cpu_rate"]
            print(f"ratio {names[engine]} / {names[baseline]}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
