"""Code lookups per second: medcoder's Tabular reader vs the simple-icd-10-cm package, same codes.

Run: .venv/bin/python bench/bench_lookup.py [--home DIR]
Both answer "title and billable?" for every billable FY2026-April code and every category/subcategory;
simple-icd-10-cm knows no synthesised 7th-character codes beyond those it lists, so the shared set is the
codes both know. Prints rates and the ratio; no thresholds (speed is measured, never asserted in tests).
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
    tab = cs.tabular
    started = time.perf_counter()
    tab.get("E11.22")
    load_medcoder = time.perf_counter() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        import simple_icd_10_cm as sicd
        sicd.is_valid_item("E11.22")
        load_simple = time.perf_counter() - started
    codes = [c for c in sicd.get_all_codes(with_dots=True) if sicd.is_category_or_subcategory(c)]
    undotted = [c.replace(".", "") for c in codes]

    def ours(code: object) -> object:
        entry = tab.get(str(code))
        return entry.title if entry else None

    def theirs(code: object) -> object:
        return sicd.get_description(str(code)) if sicd.is_valid_item(str(code)) else None

    cold_rate, _ = rate(ours, codes, repeat=1)  # first pass: 7th-character codes synthesised, not memoised
    ours_rate, n = rate(ours, codes)
    theirs_rate, _ = rate(theirs, codes)
    ours_undotted, _ = rate(ours, undotted)
    theirs_undotted, _ = rate(theirs, undotted)
    mismatches = sum(1 for c in codes if (tab.get(c).title if tab.get(c) else None) != sicd.get_description(c))
    print(f"codes looked up: {n:,} (categories, subcategories and codes listed in the April 2026 Tabular)")
    print(f"first-use load:  medcoder {load_medcoder:.2f}s   simple-icd-10-cm {load_simple:.2f}s")
    print(f"dotted, first pass: medcoder {cold_rate:,.0f}/s")
    print(f"dotted:   medcoder {ours_rate:>12,.0f}/s   simple-icd-10-cm {theirs_rate:>12,.0f}/s   "
          f"ratio {ours_rate / theirs_rate:.2f}x")
    print(f"undotted: medcoder {ours_undotted:>12,.0f}/s   simple-icd-10-cm {theirs_undotted:>12,.0f}/s   "
          f"ratio {ours_undotted / theirs_undotted:.2f}x")
    print(f"title disagreements: {mismatches}")
    billable = list(tab.billable_codes())
    seventh_rate, m = rate(lambda c: tab.get(str(c)), [e.code if hasattr(e, "code") else e for e in billable])
    print(f"all billable incl. 7th-character codes: {m:,} at {seventh_rate:,.0f}/s (medcoder only)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
