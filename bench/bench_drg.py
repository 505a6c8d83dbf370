"""Inpatient stays grouped and priced per second: drgpy alone vs medcoder's group + explain + price.

Run: .venv/bin/python bench/bench_drg.py [--home DIR] [--stays 2000] [--seed 7]
The stays are synthetic but made of real codes: a principal diagnosis drgpy can group, 0-6 secondary
diagnoses (half of them CC/MCCs), an O.R. procedure in a third of the stays, a sex, a discharge status and a
discharge date spread over FY2026 (so both v43 and v43.1 are used), every code valid on its date. drgpy alone
is ``DRGEngine.get_drg`` on the same dotless codes; medcoder adds code validation, the Table 6K explanation of
every secondary, the Table 5 weight and the payment. Prints both rates and the ratio; no thresholds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, peak_rss_mb, rate, settings_for  # noqa: E402
from medcoder.errors import ClaimError  # noqa: E402
from medcoder.model.drg import DrgCase  # noqa: E402
from medcoder.pricing.drg import DrgGrouper, _engine, grouper_version  # noqa: E402

FY_START = date(2025, 10, 1)


def synthetic_stays(grouper: DrgGrouper, codesets: object, n: int, seed: int) -> list[DrgCase]:
    mce = codesets.mce  # type: ignore[attr-defined]
    engine = _engine("v43")
    rnd = random.Random(seed)
    cm = sorted(mce.valid_codes(FY_START, system="cm") & mce.valid_codes(date(2026, 9, 30), system="cm"))
    principals = [c for c in cm if engine.dxmap.get(c)]
    severe = [c for c in cm if c in engine.ccmap]
    pcs = mce.valid_codes(FY_START, system="pcs")
    procedures = sorted(c for c in engine.orpcsmap if c in pcs)
    stays = []
    while len(stays) < n:
        secondary = rnd.sample(severe, rnd.randint(0, 3)) + rnd.sample(cm, rnd.randint(0, 3))
        case = DrgCase(principal_dx=rnd.choice(principals), secondary_dx=tuple(secondary),
                       procedures=tuple(rnd.sample(procedures, 1)) if rnd.random() < 0.33 else (),
                       sex=rnd.choice(("F", "M")), discharge_status=rnd.choice(("01", "01", "01", "06", "20")),
                       discharge_date=FY_START + timedelta(days=rnd.randrange(365)), age=rnd.randint(18, 95))
        try:
            grouper.price(case)
        except ClaimError:  # a sex-specific principal on the other sex, DRG 998: keep payable stays only
            continue
        stays.append(case)
    return stays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    parser.add_argument("--stays", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    codesets = ensure_built(settings_for(args.home))
    started = time.perf_counter()
    for version in ("v43", "v43.1"):
        _engine(version)
    load = time.perf_counter() - started
    stays = synthetic_stays(DrgGrouper(codesets), codesets, args.stays, args.seed)

    def drgpy_alone(item: object) -> object:
        case: DrgCase = item  # type: ignore[assignment]
        dx = [case.principal_dx, *case.secondary_dx]
        return _engine(grouper_version(case.discharge_date)).get_drg(
            dx, list(case.procedures), gender=case.sex, is_alive=case.discharged_alive,
            discharge_status=case.discharge_status)

    cold = DrgGrouper(codesets)
    cold_rate, _ = rate(lambda item: cold.price(item), stays, repeat=1)  # type: ignore[arg-type]
    warm = DrgGrouper(codesets)
    ours_rate, n = rate(lambda item: warm.price(item), stays)  # type: ignore[arg-type]
    theirs_rate, _ = rate(drgpy_alone, stays)
    results = [warm.group(s) for s in stays]
    corrected = sum(1 for r in results if any("replaces drgpy" in note for note in r.notes))
    differing = sum(1 for r in results if r.disagreements) - corrected
    tiers = {t: sum(1 for r in results if str(r.tier) == t) for t in sorted({str(r.tier) for r in results})}
    print(f"stays: {n:,} synthetic FY2026 stays from real codes, {len({r.drg for r in results})} distinct DRGs")
    print(f"drgpy engine load (v43 + v43.1): {load:.2f}s")
    print(f"drgpy alone (get_drg):               {theirs_rate:>9,.0f} stays/s")
    print(f"medcoder group + explain + price:    {ours_rate:>9,.0f} stays/s   ratio {ours_rate / theirs_rate:.2f}x")
    print(f"medcoder, first pass (cold memos):   {cold_rate:>9,.0f} stays/s")
    print(f"DRGs corrected from drgpy's (CC/MCC family split): {corrected}; other CC/MCC disagreements: {differing}")
    print(f"tiers: {tiers}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
