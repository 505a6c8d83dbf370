"""The index round trip through the full encoder: every coded Alphabetic Index entry, written as a statement
from its own path (main term and subterms, first printed form of each), must come back with its own code
(or a code below it when the Index entry needs more characters).

Run: .venv/bin/python bench/bench_engine_roundtrip.py [--home DIR] [--sample N] [--show K]
Compare with the plain index walk's round trip (bench/bench_index.py), which walks titles exactly.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, settings_for  # noqa: E402
from medcoder.coding.encoder import Encoder  # noqa: E402
from medcoder.coding.index_search import statement_for_path  # noqa: E402


def statement_of(titles: list[str]) -> str:
    return statement_for_path(titles)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    cs = ensure_built(settings_for(args.home))
    encoder = Encoder(cs)
    index = cs.index
    terms, _ = index.tree(book="index")
    coded = [t for t in terms.values() if t.code]
    if args.sample:
        coded = random.Random(7).sample(coded, args.sample)
    ok = 0
    misses: list[tuple[str, str, list[str]]] = []
    by_letter: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for term in coded:
        statement = statement_of([t.title for t in index.path(term.id)])
        want = (term.code or "").rstrip("-").rstrip(".").replace(".", "")
        got = [c.code for c in encoder.encode(statement).codes]
        if any(g.replace(".", "").startswith(want) for g in got):
            ok += 1
        else:
            misses.append((statement, term.code or "", got))
            by_letter[statement[:1].upper()] += 1
    seconds = time.perf_counter() - started
    print(f"engine round trip: {ok:,}/{len(coded):,} = {ok / len(coded):.2%} "
          f"({len(coded) / seconds:,.0f} statements/s)")
    for statement, want, got in misses[: args.show]:
        print(f"  {statement!r}: index {want}, engine {got}")


if __name__ == "__main__":
    main()
