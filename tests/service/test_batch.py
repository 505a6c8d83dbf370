"""Batch coding (shared/CONTRACTS.md): input order, per-record errors, workers, and resuming after a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from medcoder.cli import app
from medcoder.service.batch import code_batch
from medcoder.service.coder import search_coder
from medcoder.settings import Settings
from medcoder.store.db import open_database
from medcoder.store.tables import AuditEvent, CodeSuggestionRow, CodingRun, Document, Encounter
from tests.service.batch_helpers import write_records

REPO = Path(__file__).resolve().parents[2]


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _counts(db_url: str) -> dict[str, int]:
    db = open_database(db_url)
    try:
        with db.read() as session:
            return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                    for t in (Document, Encounter, CodingRun, CodeSuggestionRow, AuditEvent)}
    finally:
        db.dispose()


@pytest.mark.parametrize("records", [16])
def test_batch_without_db_keeps_order_and_reports_errors(tmp_path: Path, kb_settings: Settings,
                                                          records: int) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_records(src, records)
    summary = code_batch(src, out, coder=search_coder(kb_settings), chunk_size=5)
    rows = _read(out)
    assert [r["id"] for r in rows] == ids
    assert summary.records == len(ids) and summary.errors == 2 and summary.coded == len(ids) - 2
    errors = {r["line"]: r["error"]["code"] for r in rows if "error" in r}
    assert errors == {5: "E601", 12: "E602"}
    first = rows[0]
    assert [c["code"] for c in first["codes"]] == ["I10"] and first["release"]["icd10cm"] == "FY2026-APR"
    code = first["codes"][0]
    assert set(code) >= {"system", "code", "title", "sequence", "confidence", "evidence", "rationale"}


@pytest.mark.parametrize(("records", "crash_at", "chunk"), [(24, 11, 4)])
def test_batch_resumes_after_crash_without_loss_or_duplicates(tmp_path: Path, kb_settings: Settings, db_url: str,
                                                              records: int, crash_at: int, chunk: int) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_records(src, records)
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.service.batch_helpers", str(kb_settings.home), str(kb_settings.mirror),
         str(src), str(out), db_url, str(crash_at), str(chunk)], cwd=REPO, capture_output=True, text=True,
        timeout=300)
    assert crashed.returncode == 17, crashed.stderr
    before = _counts(db_url)
    assert 0 < before["document"] < records  # some chunks committed, the one being coded lost
    assert before["document"] == before["coding_run"] == before["encounter"]

    summary = code_batch(src, out, coder=search_coder(kb_settings), db_url=db_url, chunk_size=chunk)
    after = _counts(db_url)
    assert after["document"] == after["coding_run"] == after["encounter"] == records  # each record once
    assert summary.resumed >= before["document"] and summary.stored == records - before["document"]
    rows = _read(out)
    assert [r["id"] for r in rows] == ids

    clean_out = tmp_path / "clean.jsonl"
    code_batch(src, clean_out, coder=search_coder(kb_settings), chunk_size=chunk)
    for resumed, clean in zip(rows, _read(clean_out), strict=True):  # resumed output = a clean run's output
        assert {k: v for k, v in resumed.items() if k != "pipeline_version"} == \
               {k: v for k, v in clean.items() if k != "pipeline_version"}

    again = code_batch(src, out, coder=search_coder(kb_settings), db_url=db_url, chunk_size=chunk)
    assert again.coded == 0 and again.stored == 0 and _counts(db_url) == after  # idempotent


@pytest.mark.parametrize("workers", [2])
def test_batch_cli_with_workers_into_db(tmp_path: Path, kb_settings: Settings, workers: int) -> None:
    src, out, db = tmp_path / "in.jsonl", tmp_path / "out.jsonl", f"sqlite:///{tmp_path / 'w.sqlite'}"
    ids = write_records(src, 20)
    env = {"MEDCODER_HOME": str(kb_settings.home), "MEDCODER_MIRROR": str(kb_settings.mirror)}
    result = CliRunner().invoke(app, ["code-batch", str(src), "--out", str(out), "--db", db, "--workers",
                                      str(workers), "--chunk-size", "6", "--coder", "baseline"], env=env)
    assert result.exit_code == 0, result.output
    assert "errors" in result.output and "rec/s" in result.output
    assert [r["id"] for r in _read(out)] == ids
    assert _counts(db)["document"] == 20
