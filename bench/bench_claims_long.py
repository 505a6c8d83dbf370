"""Claims checked and priced per CPU-second over a long run of fresh claims, eight at a time against one at a time.

Run: .venv/bin/python bench/bench_claims_long.py [--sets 6] [--claims 5000]
``bench_claims.py`` reports the best of three fresh sets; a billing office's batch is one long run, so this one
averages: after the same warm-up, ``--sets`` fresh sets in a row (each built, checked once, then dropped, as
``medcoder claim-batch`` reads a file a chunk at a time) ``claim_batch.CHUNK`` claims at a time, then as many one
claim at a time, twice over, alternately. The garbage collector runs as it does in production: its collections
(counted per mode) fall inside the timed work. Prints the rates; no thresholds.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import date
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, interpreter, settings_for  # noqa: E402
from bench_claims import Batch, chunked, claim_set, one_by_one  # noqa: E402
from medcoder.codesets.codesets import Codesets  # noqa: E402
from medcoder.service.claim_batch import CHUNK  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--sets", type=int, default=6)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    settings = settings_for(args.home)
    ensure_built(settings)
    base = Codesets.for_date(date(2026, 3, 1), settings=settings)
    batch = Batch(settings)
    chunked(batch, claim_set(base, args.claims, args.seed)[2])  # warm-up: code sets of every date, groupers

    collections = [0, 0, 0]

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            collections[info["generation"]] += 1

    gc.callbacks.append(count)
    seed = args.seed + 100
    for round_ in (1, 2):
        for mode, run in ((f"{CHUNK} at a time", chunked), ("one at a time", one_by_one)):
            spent, n, collections[:] = 0.0, 0, [0, 0, 0]
            for _ in range(args.sets):
                claims = claim_set(base, args.claims, seed)[2]
                seed += 1
                spent += run(batch, claims)
                n += len(claims)
                del claims
            print(f"round {round_}, {mode:>13}: {n:,} fresh claims, {n / spent:,.0f} claims/CPU-s "
                  f"(collections while building and checking: {collections[0]} young, {collections[1]} middle, "
                  f"{collections[2]} full)", flush=True)
    started = time.process_time()
    gc.collect()
    print(f"one full collection now: {time.process_time() - started:.2f} CPU-s")
    print(f"interpreter: {interpreter()}")


if __name__ == "__main__":
    main()
