"""Shared helpers for benchmarks: a knowledge base to measure, timing, and peak memory."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from medcoder.codesets.build import build_all
from medcoder.codesets.codesets import Codesets
from medcoder.settings import Settings, get_settings


def settings_for(home: str | None) -> Settings:
    return get_settings(home=Path(home) if home else None)


def ensure_built(settings: Settings) -> Codesets:
    build_all(settings, progress=lambda m: None)
    return Codesets.newest(settings=settings)


def rate(fn: Callable[[object], object], items: Iterable[object], *, repeat: int = 3) -> tuple[float, int]:
    """Best-of-``repeat`` items per CPU-second of ``fn`` over ``items``.

    CPU time of this process (``time.process_time``), not wall time: the benches run one process on one core,
    and other work on a shared machine then does not count against the rate (a virtual machine's stolen time
    still does: compare rates measured side by side in one run)."""
    data = list(items)
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for item in data:
            fn(item)
        best = min(best, time.process_time() - started)
    return len(data) / best, len(data)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def interpreter() -> str:
    """Which CPython ran the benchmark, for reading its rates: the same code runs about a fifth faster on an
    interpreter with libpython linked in (distribution builds such as Debian's /usr/bin/python3.11, built with
    profile-guided optimisation) than on one calling into a shared libpython built without optimisations
    (pyenv's default build)."""
    import platform
    import sys

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            shared = any("libpython" in line for line in maps)
        linked = "calls into a shared libpython" if shared else "libpython linked in"
    except OSError:
        linked = "libpython linking unknown"
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}; {linked})"
