"""Alphabetic Index walks per second on every coded entry's own path, with the round-trip share.

Run: .venv/bin/python bench/bench_index.py [--home DIR]
Baseline in the same run: the same number of code lookups in simple-icd-10-cm (it has no index, so the
nearest comparable operation is resolving the code the walk ends on); the ratio says what a full index
walk (main term match, subterm matching with modifiers, defaults) costs against a plain dictionary lookup.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, peak_rss_mb, rate, settings_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    args = parser.parse_args()
    cs = ensure_built(settings_for(args.home))
    index = cs.index
    for book in ("index", "eindex", "neoplasm", "drug"):
        started = time.perf_counter()
        report = index.round_trip(book=book)
        seconds = time.perf_counter() - started
        print(f"round trip {book:<9} {report.ok:>6,}/{report.total:<6,} = {report.share:.4%}  "
              f"({report.total / seconds:,.0f} walks/s incl. checking)")
        for reason, failures in report.failures.items():
            print(f"    {len(failures):>3} {reason}: {report.explanations.get(reason, '')[:90]}")
    paths = []
    codes = []
    for term in list(index._book("index").terms.values()):  # noqa: SLF001 - benchmark reads the loaded book
        if term.code:
            paths.append(tuple(t.title or t.printed for t in index.path(term.id)))
            codes.append(term.code.rstrip("-").rstrip("."))
    walk_rate, n = rate(lambda p: index.walk(p), paths)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import simple_icd_10_cm as sicd
        base_rate, _ = rate(lambda c: sicd.is_valid_item(str(c)) and sicd.get_description(str(c)), codes)
    print(f"index walks: {n:,} paths at {walk_rate:,.0f}/s; baseline simple-icd-10-cm code lookups "
          f"{base_rate:,.0f}/s; ratio walk/lookup {walk_rate / base_rate:.3f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
