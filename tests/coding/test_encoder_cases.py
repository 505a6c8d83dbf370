"""The encoder's gold case suite (``tests/golden/encoder_cases.jsonl``), each case citing its index entry
or guideline. Cases the encoder does not yet get right are listed, with the reason, in
``tests/golden/encoder_known_failures.txt``: they are strict xfails, so fixing one fails the suite until the
list is updated (a ratchet that can only go up)."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncounterContext
from medcoder.settings import Settings

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = [json.loads(line) for line in (GOLDEN / "encoder_cases.jsonl").read_text().splitlines() if line.strip()] \
    if (GOLDEN / "encoder_cases.jsonl").exists() else []
KNOWN = {line.split()[0]: line for line in (GOLDEN / "encoder_known_failures.txt").read_text().splitlines()
         if line.strip() and not line.startswith("#")} if (GOLDEN / "encoder_known_failures.txt").exists() else {}


@cache
def _encoder(settings: Settings, day: date) -> Encoder:
    return Encoder(Codesets.for_date(day, settings=settings))


def outcome(case: dict[str, Any], settings: Settings) -> tuple[bool, str]:
    ctx = case.get("context", {})
    day = date.fromisoformat(ctx.get("date", "2026-05-01"))
    result = _encoder(settings, day).encode(case["statement"], EncounterContext(
        setting=ctx.get("setting", "outpatient"), age=ctx.get("age"), sex=ctx.get("sex"), day=day))
    got = [c.code for c in result.codes]
    expected = case["expected"]
    ok = sorted(got) == sorted(expected) and (not case.get("ordered") or got == expected)
    missing = set(case.get("queries", [])) - {q.missing for q in result.queries}
    ok = ok and not missing
    return ok, f"{case['statement']!r}: expected {expected}, got {got}; queries missing {sorted(missing)}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_encoder_case(case: dict[str, Any], kb_settings: Settings, request: pytest.FixtureRequest) -> None:
    if case["id"] in KNOWN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN[case["id"]]))
    ok, message = outcome(case, kb_settings)
    assert ok, message


def test_encoder_case_suite_covers_every_chapter() -> None:
    assert len(CASES) >= 300
    assert {c["chapter"] for c in CASES} >= set(range(1, 23))
    assert all(c.get("cite") for c in CASES), "every case cites its index entry or guideline"
