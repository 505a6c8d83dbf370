"""Submit a record: keep the document exactly, code it, store the coding run with its suggestions and queries.

Why coding happens outside the write transaction: coding takes milliseconds to seconds and needs no lock;
the transaction only stores the result, so writers never wait on the engine. Documents are identified by the
sha256 of their bytes, so submitting the same record twice (a retry, a re-run batch) stores it once.
Re-coding makes a new run; coder decisions are never overwritten by the engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medcoder.errors import EntityNotFoundError
from medcoder.ingest.record import ParsedRecord
from medcoder.service.auth import Actor
from medcoder.service.coder import Coder, CodingRequest, CodingResult
from medcoder.service.context import Service
from medcoder.service.events import record_event
from medcoder.service.views import encounter_view, query_view, run_view, suggestion_view
from medcoder.store import repo
from medcoder.store.tables import CodingRun, Document, Encounter


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    encounter_id: int
    document_id: int
    run_id: int | None
    created: bool
    """False when the same document (same bytes) was already stored: nothing new was written."""
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"encounter_id": self.encounter_id, "document_id": self.document_id, "run_id": self.run_id,
                "created": self.created, "sha256": self.sha256}


@dataclass(frozen=True, slots=True, kw_only=True)
class Coded:
    """A coding result with its timing, ready to be stored (picklable: batch workers return it)."""

    result: CodingResult
    started_at: datetime
    finished_at: datetime
    seconds: float


def request_of(record: ParsedRecord) -> CodingRequest:
    return CodingRequest(text=record.text, setting=record.setting, age=record.age, sex=record.patient.sex,
                         date_of_service=record.date_of_service)


def code_record(coder: Coder, request: CodingRequest) -> Coded:
    started, t0 = datetime.now(UTC), time.perf_counter()
    result = coder(request)
    return Coded(result=result, started_at=started, finished_at=datetime.now(UTC), seconds=time.perf_counter() - t0)


def _store_run(session: Session, *, encounter: Encounter, document: Document, coded: Coded,
               actor: str) -> CodingRun:
    """Store a run; a code the coder already decided on stays decided (the new row is kept inactive)."""
    decided = {(r.system, c) for r in repo.suggestions(session, encounter_id=encounter.id)
               if r.status != "suggested" for c in (r.code, r.original_code) if c}
    result = coded.result
    run = repo.add_run(session, encounter_id=encounter.id, document_id=document.id,
                       pipeline_version=result.pipeline_version, releases=dict(result.releases),
                       started_at=coded.started_at, finished_at=coded.finished_at, seconds=coded.seconds,
                       actor=actor)
    for s in sorted(result.suggestions, key=lambda s: s.sequence):
        repo.add_suggestion(session, encounter_id=encounter.id, run_id=run.id, system=s.system, code=s.code,
                            title=s.title, sequence=s.sequence, confidence=s.confidence,
                            evidence=[e.to_dict() for e in s.evidence], rationale=list(s.rationale),
                            active=(s.system, s.code) not in decided, flush=False)
    for q in result.queries:
        repo.add_query(session, encounter_id=encounter.id, run_id=run.id, code=q.code, missing=q.missing,
                       question=q.question, options=list(q.options), evidence=[e.to_dict() for e in q.evidence],
                       flush=False)
    session.flush()  # the run's rows in one flush (SQLAlchemy batches the INSERTs)
    record_event(session, actor=actor, action="coding.run", entity_type="coding_run", entity_id=run.id,
                 encounter_id=encounter.id,
                 after={"pipeline_version": run.pipeline_version, "releases": run.releases,
                        "codes": [s.code for s in result.suggestions], "queries": len(result.queries)})
    return run


def store_record(session: Session, *, record: ParsedRecord, coded: Coded, actor: str) -> Submitted:
    """Store a new record and its first coding run in the caller's transaction (no commit)."""
    p = record.patient
    patient = None
    if p.identifier or p.name or p.birth_date or p.sex:
        patient = repo.find_or_add_patient(session, identifier=p.identifier, name=p.name, birth_date=p.birth_date,
                                           sex=p.sex)
    encounter = repo.add_encounter(session, patient_id=patient.id if patient else None,
                                   external_id=record.record_id, setting=record.setting,
                                   date_of_service=record.date_of_service, discharge_date=record.discharge_date,
                                   facility=record.facility, provider=record.provider, age=record.age)
    document = repo.add_document(session, encounter_id=encounter.id, format=record.format, content=record.content,
                                 text=record.text, sha256=record.sha256)
    record_event(session, actor=actor, action="record.submit", entity_type="encounter", entity_id=encounter.id,
                 encounter_id=encounter.id,
                 after={"external_id": record.record_id, "format": record.format, "sha256": record.sha256,
                        "setting": record.setting, "date_of_service": record.date_of_service})
    run = _store_run(session, encounter=encounter, document=document, coded=coded, actor=actor)
    return Submitted(encounter_id=encounter.id, document_id=document.id, run_id=run.id, created=True,
                     sha256=record.sha256)


def existing(session: Session, *, sha256: str) -> Submitted | None:
    document = repo.document_by_hash(session, sha256=sha256)
    if document is None:
        return None
    runs = repo.runs_of(session, encounter_id=document.encounter_id)
    return Submitted(encounter_id=document.encounter_id, document_id=document.id,
                     run_id=runs[-1].id if runs else None, created=False, sha256=sha256)


def submit_record(svc: Service, *, record: ParsedRecord, actor: Actor) -> Submitted:
    """Store and code a record once; the same bytes submitted again return the stored encounter."""
    actor.require("submit")
    with svc.db.read() as session:
        found = existing(session, sha256=record.sha256)
    if found is not None:
        return found
    coded = code_record(svc.coder, request_of(record))
    with svc.db.write() as session:
        try:
            submitted = store_record(session, record=record, coded=coded, actor=actor.name)
            session.commit()
        except IntegrityError:
            # Another writer stored the same document meanwhile (unique sha256): theirs stands.
            session.rollback()
            found = existing(session, sha256=record.sha256)
            if found is None:
                raise
            return found
    return submitted


def _encounter(session: Session, encounter_id: int) -> Encounter:
    encounter = repo.get_encounter(session, encounter_id=encounter_id)
    if encounter is None:
        raise EntityNotFoundError(f"encounter {encounter_id} does not exist", code="E610",
                                  where=f"encounter {encounter_id}", fix="List encounters with the worklist")
    return encounter


def recode_encounter(svc: Service, *, encounter_id: int, actor: Actor) -> dict[str, Any]:
    """Code the encounter's newest document again into a new run; undecided suggestions are replaced,
    decided ones (accepted, rejected, modified, added) stay as the coder left them."""
    actor.require("change_codes")
    with svc.db.read() as session:
        encounter = _encounter(session, encounter_id)
        document = repo.latest_document(session, encounter_id=encounter_id)
        if document is None:
            raise EntityNotFoundError(f"encounter {encounter_id} has no document", code="E613",
                                      where=f"encounter {encounter_id}", fix="Submit the record first")
        patient = encounter.patient
        request = CodingRequest(text=document.text, setting=encounter.setting, age=encounter.age,
                                sex=patient.sex if patient else None, date_of_service=encounter.date_of_service)
        document_id = document.id
    coded = code_record(svc.coder, request)
    with svc.db.write() as session:
        encounter = _encounter(session, encounter_id)
        document = session.get(Document, document_id)
        if document is None:  # pragma: no cover - documents are never deleted
            raise EntityNotFoundError("document vanished", code="E613", where=str(document_id))
        repo.deactivate_undecided(session, encounter_id=encounter_id)
        run = _store_run(session, encounter=encounter, document=document, coded=coded, actor=actor.name)
        encounter.updated_at = datetime.now(UTC)
        session.commit()
        return run_view(run)


def encounter_detail(svc: Service, *, encounter_id: int, actor: Actor, history: bool = False) -> dict[str, Any]:
    """The encounter with its current suggestions (evidence, rationale), queries and runs."""
    actor.require("read")
    with svc.db.read() as session:
        encounter = _encounter(session, encounter_id)
        document = repo.latest_document(session, encounter_id=encounter_id)
        out = encounter_view(encounter)
        out["document"] = None if document is None else {
            "id": document.id, "format": document.format, "sha256": document.sha256, "size": document.size,
            "text": document.text}
        out["suggestions"] = [suggestion_view(r) for r in
                              repo.suggestions(session, encounter_id=encounter_id, active_only=not history)]
        out["queries"] = [query_view(r) for r in repo.queries(session, encounter_id=encounter_id,
                                                               active_only=not history)]
        out["runs"] = [run_view(r) for r in repo.runs_of(session, encounter_id=encounter_id)]
        return out


def original_document(svc: Service, *, encounter_id: int, actor: Actor) -> tuple[bytes, str]:
    """The newest document of the encounter exactly as received, and its format."""
    actor.require("read")
    with svc.db.read() as session:
        _encounter(session, encounter_id)
        document = repo.latest_document(session, encounter_id=encounter_id)
        if document is None:
            raise EntityNotFoundError(f"encounter {encounter_id} has no document", code="E613",
                                      where=f"encounter {encounter_id}", fix="Submit the record first")
        return document.content, document.format
