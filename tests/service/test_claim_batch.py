"""Batch claim scrubbing (``service.claim_batch`` and ``medcoder claim-batch``) on the sample claims and the real
knowledge base: one output line per claim line, the same findings and prices as one claim at a time, bad lines
reported with their line number and JSON path without stopping the batch."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medcoder.claim import load_claim, sample_path
from medcoder.cli import app
from medcoder.errors import ClaimError
from medcoder.service import claims
from medcoder.service.claim_batch import ClaimBatch, scrub, scrub_file
from medcoder.settings import Settings


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_path(name).read_text(encoding="utf-8"))
    return data


def _shifted(data: dict[str, Any], day: str, claim_id: str) -> dict[str, Any]:
    """The office visit on another date of service (another set of releases when ``day`` is in another year)."""
    return {**data, "claim_id": claim_id, "lines": [{**line, "service_date": day} for line in data["lines"]]}


def _write(path: Path, lines: list[str | bytes]) -> Path:
    with path.open("wb") as out:
        for line in lines:
            out.write((line.encode("utf-8") if isinstance(line, str) else line) + b"\n")
    return path


def test_batch_results_equal_one_claim_at_a_time(kb_settings: Settings) -> None:
    office, inpatient = _sample("office_visit"), _sample("inpatient_pneumonia")
    lines = [json.dumps(office), json.dumps(inpatient), json.dumps(_shifted(office, "2026-02-11", "PCLM-2"))]
    outputs = list(scrub(lines, settings=kb_settings, source="day.jsonl"))
    assert [o["line"] for o in outputs] == [1, 2, 3]
    for output, name in zip(outputs, ["office_visit", "inpatient_pneumonia"], strict=False):
        claim = load_claim(sample_path(name))
        findings = claims.check(claim, settings=kb_settings)
        assert output["check"] == claims.findings_dict(claim, findings, claims.codesets_for(claim,
                                                                                           settings=kb_settings))
        assert output["price"] == claims.price(claim, settings=kb_settings)
    assert outputs[0]["price"]["pfs"]["total"] == "150.97"  # tests/test_cli_claims.py: 99214 + 81002 in 2026
    assert outputs[1]["price"]["drg"]["drg"] == "194"


def test_batch_shares_code_sets_and_groupers_across_dates(kb_settings: Settings) -> None:
    office = load_claim(sample_path("office_visit"))
    batch = ClaimBatch(kb_settings)
    same_release = [replace(office, lines=tuple(replace(line, service_date=date(2026, 2, d)) for line in office.lines))
                    for d in (10, 11, 12)]
    opened = {id(batch.codesets(c)) for c in same_release}
    assert batch.dates == 3
    assert len(opened) == 1 and batch.code_sets == 1
    codesets = batch.codesets(same_release[0])
    assert batch.grouper(codesets) is batch.grouper(codesets)


def test_bad_lines_are_reported_and_the_batch_goes_on(kb_settings: Settings, tmp_path: Path) -> None:
    office = _sample("office_visit")
    bad_date = _shifted(office, "2026-13-01", "PCLM-BAD")
    no_dx = {**office, "claim_id": "PCLM-NODX", "diagnoses": []}
    source = _write(tmp_path / "day.jsonl", [
        json.dumps(office), "", "{not json", json.dumps(bad_date), b'{"claim_id": "\xff"}', json.dumps(no_dx),
        "[1, 2]", json.dumps(_shifted(office, "2026-03-02", "PCLM-LAST"))])
    out = tmp_path / "out.jsonl"
    summary = scrub_file(source, out, settings=kb_settings)
    outputs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [o["line"] for o in outputs] == [1, 3, 4, 5, 6, 7, 8]  # the blank line 2 has no output
    errors = {o["line"]: o["error"] for o in outputs if "error" in o}
    assert {line: e["code"] for line, e in errors.items()} == {3: "E801", 4: "E803", 5: "E801", 6: "E802",
                                                              7: "E801"}
    assert errors[4]["where"] == "day.jsonl:4:lines[0].service_date"
    assert errors[6]["where"] == "day.jsonl:6:diagnoses"
    assert "utf-8" in errors[5]["message"]
    assert outputs[-1]["claim_id"] == "PCLM-LAST" and outputs[-1]["price"]["pfs"]["total"]
    assert (summary.lines, summary.checked, summary.unreadable) == (7, 2, 5)
    assert [e["line"] for e in summary.error_list] == [3, 4, 5, 6, 7]
    assert summary.pfs_total == Decimal("301.94")  # the office visit twice in CY2026, 150.97 each


def test_summary_counts_rejections_by_rule(kb_settings: Settings, tmp_path: Path) -> None:
    office = _sample("office_visit")
    # E11 is a category, not a billable code (validity.dx-header, an error a payer rejects on).
    header = {**office, "claim_id": "PCLM-E11", "diagnoses": ["E11", *office["diagnoses"][1:]]}
    source = _write(tmp_path / "day.jsonl", [json.dumps(office), json.dumps(header)])
    summary = scrub_file(source, tmp_path / "out.jsonl", settings=kb_settings)
    assert summary.checked == 2 and summary.with_errors == 1
    assert summary.rules["validity.dx-header"] == 1
    assert summary.findings["error"] >= 1
    assert summary.to_dict()["rules"]["validity.dx-header"] == 1


def test_cli_claim_batch(kb_settings: Settings, tmp_path: Path) -> None:
    office, inpatient = _sample("office_visit"), _sample("inpatient_pneumonia")
    source = _write(tmp_path / "day.jsonl", [json.dumps(office), "{oops", json.dumps(inpatient)])
    out = tmp_path / "out.jsonl"
    env = {"MEDCODER_HOME": str(kb_settings.home), "MEDCODER_MIRROR": str(kb_settings.mirror)}
    result = CliRunner().invoke(app, ["claim-batch", str(source), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "3 claim lines" in result.output and "2 checked" in result.output and "1 unreadable" in result.output
    assert "PFS 150.97, MS-DRG 5441.93" in result.output
    assert "line 2: [E801]" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    as_json = CliRunner().invoke(app, ["claim-batch", str(source), "--out", str(out), "--json"], env=env)
    summary = json.loads(as_json.output)
    assert (summary["checked"], summary["unreadable"], summary["pfs_total"]) == (2, 1, "150.97")


def test_cli_claim_batch_missing_file(kb_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["claim-batch", str(tmp_path / "nope.jsonl"), "--out", str(out)])
    assert result.exit_code == 2  # a usage error: the input file does not exist
    assert not out.exists()


def test_claims_checked_together_equal_one_at_a_time_and_errors_stay_with_their_claim(kb_settings: Settings) -> None:
    """``check_and_price_many`` prices part by part across the claims (``claims.price_many``): each claim's
    findings and price must be exactly what it gets alone, in order, and a claim that cannot be served (E804, no
    date of service) is that claim's error only."""
    office, inpatient = load_claim(sample_path("office_visit")), load_claim(sample_path("inpatient_pneumonia"))
    undated = replace(office, claim_id="PCLM-NODATE", lines=tuple(replace(line, service_date=None)
                                                                  for line in office.lines))
    later = replace(office, claim_id="PCLM-LATER", lines=tuple(replace(line, service_date=date(2026, 2, 11))
                                                               for line in office.lines))
    batch = [office, inpatient, undated, later, inpatient]
    together = ClaimBatch(kb_settings).check_and_price_many(batch)
    alone = ClaimBatch(kb_settings)
    for claim, done in zip(batch, together, strict=True):
        if claim is undated:
            assert isinstance(done, ClaimError) and done.code == "E804" and done.where == "PCLM-NODATE"
            continue
        assert done == alone.check_and_price(claim)
    assert together[1] == together[4]  # the same stay twice in one batch: the same answer
    priced = [done[1] for done in together if not isinstance(done, ClaimError)]
    assert [p["claim_id"] for p in priced] == ["PCLM-1001", "ICLM-1001", "PCLM-LATER", "ICLM-1001"]
    assert [list(p) for p in priced[:2]] == [
        ["claim_id", "kind", "setting", "date", "total_charge", "pfs", "risk", "releases"],
        ["claim_id", "kind", "setting", "date", "total_charge", "drg", "risk", "releases"]]


def test_scrub_output_does_not_depend_on_the_chunk_size(kb_settings: Settings) -> None:
    office, inpatient = _sample("office_visit"), _sample("inpatient_pneumonia")
    lines = [json.dumps(office), "{oops", json.dumps(inpatient), json.dumps(_shifted(office, "2026-13-01", "BAD")),
             json.dumps(_shifted(office, "2026-02-11", "PCLM-2")), json.dumps(inpatient)]
    by_size = [list(scrub(lines, settings=kb_settings, source="day.jsonl", chunk=n)) for n in (1, 2, 4, 512)]
    assert all(outputs == by_size[0] for outputs in by_size[1:])
    assert [o["line"] for o in by_size[0]] == [1, 2, 3, 4, 5, 6]
    assert ["error" in o for o in by_size[0]] == [False, True, False, True, False, False]
    with pytest.raises(ValueError, match="at least one at a time, not 0"):
        next(scrub(lines, settings=kb_settings, chunk=0))  # never an empty output for a whole file
