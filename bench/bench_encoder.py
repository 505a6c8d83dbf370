"""Statements encoded per second on the gold case suite, against a code-title search baseline, same run.

Run: .venv/bin/python bench/bench_encoder.py [--home DIR]
The baseline is what "searching titles" does: the best-ranked Tabular title for the statement (FTS5 bm25).
Both are scored on the suite (exact set match per case) so speed is read next to accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, peak_rss_mb, settings_for  # noqa: E402
from medcoder.codesets.search import search  # noqa: E402
from medcoder.coding.encoder import Encoder, EncounterContext  # noqa: E402

CASES = Path(__file__).resolve().parents[1] / "tests" / "golden" / "encoder_cases.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    args = parser.parse_args()
    cs = ensure_built(settings_for(args.home))
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    encoder = Encoder(cs)
    contexts = [EncounterContext(setting=c["context"].get("setting", "outpatient"), age=c["context"].get("age"),
                                 sex=c["context"].get("sex"), day=date.fromisoformat(c["context"]["date"]))
                for c in cases]
    started = time.perf_counter()
    encoder.encode("warm up the compiled index")
    warm = time.perf_counter() - started
    best_ours = best_base = float("inf")
    ours_ok = base_ok = 0
    for _ in range(3):
        started = time.perf_counter()
        results = [encoder.encode(c["statement"], ctx) for c, ctx in zip(cases, contexts, strict=True)]
        best_ours = min(best_ours, time.perf_counter() - started)
        started = time.perf_counter()
        baseline = [search(cs, c["statement"], limit=1, kinds=("icd10cm-tabular",)) for c in cases]
        best_base = min(best_base, time.perf_counter() - started)
    for case, result, hits in zip(cases, results, baseline, strict=True):
        ours_ok += sorted(c.code for c in result.codes) == sorted(case["expected"])
        base_ok += [h.code for h in hits[:1]] == case["expected"]
    n = len(cases)
    print(f"cases: {n}; first statement (compiles the Index): {warm:.2f}s")
    print(f"encoder:  {n / best_ours:8,.0f} statements/s   exact set match {ours_ok}/{n} = {ours_ok / n:.1%}")
    print(f"baseline: {n / best_base:8,.0f} statements/s   exact set match {base_ok}/{n} = {base_ok / n:.1%} "
          f"(top code-title search hit)")
    print(f"speed ratio encoder/baseline: {best_base / best_ours:.2f}x; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
