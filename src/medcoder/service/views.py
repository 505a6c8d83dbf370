"""Plain-data views of stored rows: what the API returns and the CLI prints (no ORM object leaves here)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from medcoder.store.tables import CodeSuggestionRow, CodingRun, DocumentationQueryRow, Encounter

FINAL_STATUSES = ("accepted", "modified", "added-by-coder")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def suggestion_view(row: CodeSuggestionRow) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "run_id": row.run_id, "system": row.system, "code": row.code,
            "title": row.title, "sequence": row.sequence, "confidence": row.confidence,
            "evidence": row.evidence, "rationale": row.rationale, "status": row.status,
            "original_code": row.original_code, "active": row.active, "decided_by": row.decided_by,
            "decided_at": _iso(row.decided_at), "note": row.note}


def query_view(row: DocumentationQueryRow) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "run_id": row.run_id, "code": row.code, "missing": row.missing,
            "question": row.question, "options": row.options, "evidence": row.evidence, "status": row.status,
            "answer": row.answer, "answered_by": row.answered_by, "answered_at": _iso(row.answered_at),
            "active": row.active}


def run_view(run: CodingRun) -> dict[str, Any]:
    return {"id": run.id, "document_id": run.document_id, "pipeline_version": run.pipeline_version,
            "releases": run.releases, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
            "seconds": run.seconds, "actor": run.actor}


def encounter_view(encounter: Encounter) -> dict[str, Any]:
    patient = encounter.patient
    return {"id": encounter.id, "version": encounter.version, "external_id": encounter.external_id,
            "setting": encounter.setting, "date_of_service": _iso(encounter.date_of_service),
            "discharge_date": _iso(encounter.discharge_date), "facility": encounter.facility,
            "provider": encounter.provider, "age": encounter.age, "status": encounter.status,
            "coder": encounter.coder, "updated_at": _iso(encounter.updated_at),
            "patient": None if patient is None else {
                "id": patient.id, "identifier": patient.identifier, "name": patient.name,
                "birth_date": _iso(patient.birth_date), "sex": patient.sex}}


def contract_code(row: CodeSuggestionRow, sequence: int) -> dict[str, Any]:
    """A code in the batch-contract shape (``shared/CONTRACTS.md``), with its review status added."""
    return {"system": row.system, "code": row.code, "title": row.title, "sequence": sequence,
            "confidence": None if row.confidence is None else round(row.confidence, 3),
            "evidence": row.evidence, "rationale": row.rationale, "status": row.status}
