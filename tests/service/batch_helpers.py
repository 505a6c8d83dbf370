"""Helpers for the batch tests: synthetic records and a coder that kills its process midway (a crash)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from medcoder.service.coder import CodingRequest, CodingResult, search_coder
from medcoder.settings import Settings

CONDITIONS = ["Essential hypertension", "Lateral epicondylitis, right elbow", "Hypothyroidism", "Chest pain",
              "Type 2 diabetes mellitus", "Headache", "Acute sinusitis", "Low back pain", "Gout", "Asthma"]


def write_records(path: Path, count: int) -> list[str]:
    """``count`` synthetic records plus bad lines and a duplicate; returns each output line's expected id."""
    lines, ids = [], []
    for n in range(count):
        cond = CONDITIONS[n % len(CONDITIONS)]
        lines.append(json.dumps({"id": f"S{n:03d}", "text": f"CHIEF COMPLAINT\nVisit {n}.\n\nASSESSMENT AND PLAN\n"
                                 f"{cond}.\n", "date_of_service": "2026-05-01", "patient": {"age": 40 + n % 30}}))
        ids.append(f"S{n:03d}")
        if n == 3:
            lines.append("{this is not json")
            ids.append(None)
        if n == 9:
            lines.append(json.dumps({"id": "NOTEXT"}))
            ids.append("NOTEXT")
        if n == 12:
            lines.append(lines[0])  # the same record again: stored once
            ids.append("S000")
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return ids


class CrashingCoder:
    """Codes like the baseline, then ends the whole process (no cleanup, like kill -9) at call ``after``."""

    def __init__(self, settings: Settings, after: int) -> None:
        self.inner = search_coder(settings)
        self.after = after
        self.calls = 0

    def __call__(self, request: CodingRequest, /) -> CodingResult:
        self.calls += 1
        if self.calls >= self.after:
            sys.stdout.flush()
            os._exit(17)
        return self.inner(request)


def run_crashing(args: list[str]) -> None:
    """Entry point for the subprocess: HOME MIRROR IN OUT DB AFTER CHUNK."""
    from medcoder.service.batch import code_batch

    home, mirror, src, out, db, after, chunk = args
    settings = Settings(home=Path(home), mirror=Path(mirror), base_url=None)
    coder: Any = CrashingCoder(settings, int(after))
    code_batch(Path(src), Path(out), coder=coder, db_url=db, chunk_size=int(chunk))


if __name__ == "__main__":
    run_crashing(sys.argv[1:])
