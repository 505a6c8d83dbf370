"""Statements encoded per second on the gold case suite, against a code-title search baseline, same run.

Run: .venv/bin/python bench/bench_encoder.py [--home DIR]
The baseline is what "searching titles" does: the best-ranked Tabular title for the statement (FTS5 bm25).
Both are scored on the suite (exact set match per case) so speed is read next to accuracy. Rates are per CPU
second of this process (``time.process_time``, as in the other benches): other work on a shared machine does not
count against them; compare runs side by side all the same.
"""

from __future__ import annotations

import argparse
import json
import os
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
    clock = time.process_time
    for _ in range(3):
        started = clock()
        results = [encoder.encode(c["statement"], ctx) for c, ctx in zip(cases, contexts, strict=True)]
        best_ours = min(best_ours, clock() - started)
        started = clock()
        baseline = [search(cs, c["statement"], limit=1, kinds=("icd10cm-tabular",)) for c in cases]
        best_base = min(best_base, clock() - started)
    for case, result, hits in zip(cases, results, baseline, strict=True):
        ours_ok += sorted(c.code for c in result.codes) == sorted(case["expected"])
        base_ok += [h.code for h in hits[:1]] == case["expected"]
    n = len(cases)
    print(f"cases: {n}; first statement (compiles the Index): {warm:.2f}s")
    print(f"encoder:  {n / best_ours:8,.0f} statements/CPU-s   exact set match {ours_ok}/{n} = {ours_ok / n:.1%}")
    print(f"baseline: {n / best_base:8,.0f} statements/CPU-s   exact set match {base_ok}/{n} = {base_ok / n:.1%} "
          f"(top code-title search hit)")
    print(f"speed ratio encoder/baseline: {best_base / best_ours:.2f}x; peak RSS {peak_rss_mb():.0f} MB")
    load = os.getloadavg()
    print(f"note: one process on one core, CPU time; machine load average {load[0]:.2f} / {load[1]:.2f} / "
          f"{load[2]:.2f} (1/5/15 min) on {os.cpu_count()} CPUs: a loaded machine gives lower rates")


if __name__ == "__main__":
    main()
