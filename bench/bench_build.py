"""Build time of every release from the mirror into a fresh cache, and the cost of a no-op rebuild.

Run: .venv/bin/python bench/bench_build.py
The baseline in the same run is the plain cost of parsing the Tabular XML with simple-icd-10-cm's own
loader (it builds its in-memory tree from the same file), so the ratio says what our full structured build
(all notes, index, tables, PCS, HCPCS, MCE, search) costs against merely loading one book.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import peak_rss_mb  # noqa: E402
from medcoder.codesets.build import build_all  # noqa: E402
from medcoder.settings import Settings, get_settings  # noqa: E402


def main() -> None:
    mirror = get_settings().mirror
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), mirror=mirror, base_url=None)
        started = time.perf_counter()
        results = build_all(settings, progress=lambda m: None)
        total = time.perf_counter() - started
        for r in results:
            size = r.path.stat().st_size / 1e6
            print(f"{r.release.name:28} {r.seconds:6.2f}s  {size:6.1f} MB")
        print(f"full build (fetch from mirror + verify + build): {total:.1f}s")
        started = time.perf_counter()
        again = build_all(settings, progress=lambda m: None)
        noop = time.perf_counter() - started
        assert all(r.skipped for r in again)
        print(f"no-op rebuild (sources unchanged, checksums re-verified): {noop:.2f}s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        import simple_icd_10_cm as sicd
        sicd.is_valid_item("E11.22")
        baseline = time.perf_counter() - started
    print(f"baseline: simple-icd-10-cm loads the Tabular XML in {baseline:.2f}s; "
          f"full medcoder build / baseline = {total / baseline:.1f}x")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
