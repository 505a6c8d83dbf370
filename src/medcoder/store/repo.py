"""Repository functions: keyword-only, one query or insert each, and never a commit (the service commits).

Why functions over a session rather than repository classes: the service composes several of them inside
one transaction per use case (dispatch's habit), and each is trivially testable on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from medcoder.store.tables import (
    ApiKey,
    AuditEvent,
    CodeSuggestionRow,
    CodingRun,
    Document,
    DocumentationQueryRow,
    Encounter,
    Patient,
)

# -- patients and encounters ---------------------------------------------------------------------------


def find_or_add_patient(session: Session, *, identifier: str | None, name: str | None = None,
                        birth_date: date | None = None, sex: str | None = None) -> Patient:
    """The patient with this identifier (filling in demographics it lacks), or a new one."""
    patient = None
    if identifier:
        patient = session.scalars(select(Patient).where(Patient.identifier == identifier)
                                  .order_by(Patient.id).limit(1)).first()
    if patient is None:
        patient = Patient(identifier=identifier, name=name, birth_date=birth_date, sex=sex)
        session.add(patient)
        session.flush()
        return patient
    patient.name = patient.name or name
    patient.birth_date = patient.birth_date or birth_date
    patient.sex = patient.sex or sex
    return patient


def add_encounter(session: Session, *, patient_id: int | None, external_id: str | None, setting: str,
                  date_of_service: date | None, discharge_date: date | None = None,
                  facility: str | None = None, provider: str | None = None, age: int | None = None) -> Encounter:
    encounter = Encounter(patient_id=patient_id, external_id=external_id, setting=setting,
                          date_of_service=date_of_service, discharge_date=discharge_date, facility=facility,
                          provider=provider, age=age, status="new")
    session.add(encounter)
    session.flush()
    return encounter


def get_encounter(session: Session, *, encounter_id: int, for_update: bool = False) -> Encounter | None:
    """``for_update``: lock the row until the transaction ends (PostgreSQL; SQLite's write lock covers it)."""
    return session.get(Encounter, encounter_id, with_for_update=for_update or None)


def worklist(session: Session, *, status: str | None = None, setting: str | None = None,
             date_from: date | None = None, date_to: date | None = None, coder: str | None = None,
             offset: int = 0, limit: int = 50) -> tuple[list[Encounter], int]:
    """Encounters matching every filter given, oldest date of service first, with the total count."""
    query = select(Encounter)
    if status is not None:
        query = query.where(Encounter.status == status)
    if setting is not None:
        query = query.where(Encounter.setting == setting)
    if date_from is not None:
        query = query.where(Encounter.date_of_service >= date_from)
    if date_to is not None:
        query = query.where(Encounter.date_of_service <= date_to)
    if coder is not None:
        query = query.where(Encounter.coder == coder)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Encounter.date_of_service.is_(None), Encounter.date_of_service,
                                          Encounter.id).offset(offset).limit(limit)).all()
    return list(rows), total


def count_active_codes(session: Session, *, encounter_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per encounter, how many active codes are in each status (for the worklist)."""
    ids = list(encounter_ids)
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    rows = session.execute(select(CodeSuggestionRow.encounter_id, CodeSuggestionRow.status, func.count())
                           .where(CodeSuggestionRow.encounter_id.in_(ids), CodeSuggestionRow.active.is_(True))
                           .group_by(CodeSuggestionRow.encounter_id, CodeSuggestionRow.status))
    for encounter_id, status, count in rows:
        out[encounter_id][status] = count
    return out


# -- documents and runs --------------------------------------------------------------------------------


def document_by_hash(session: Session, *, sha256: str) -> Document | None:
    return session.scalars(select(Document).where(Document.sha256 == sha256)).first()


def documents_by_hashes(session: Session, *, hashes: Iterable[str]) -> dict[str, Document]:
    wanted = list(set(hashes))
    found: dict[str, Document] = {}
    for start in range(0, len(wanted), 500):
        for doc in session.scalars(select(Document).where(Document.sha256.in_(wanted[start:start + 500]))):
            found[doc.sha256] = doc
    return found


def add_document(session: Session, *, encounter_id: int, format: str, content: bytes, text: str,
                 sha256: str) -> Document:
    doc = Document(encounter_id=encounter_id, format=format, content=content, text=text, sha256=sha256,
                   size=len(content))
    session.add(doc)
    session.flush()
    return doc


def latest_document(session: Session, *, encounter_id: int) -> Document | None:
    return session.scalars(select(Document).where(Document.encounter_id == encounter_id)
                           .order_by(Document.id.desc()).limit(1)).first()


def add_run(session: Session, *, encounter_id: int, document_id: int, pipeline_version: str,
            releases: dict[str, Any], started_at: datetime, finished_at: datetime, seconds: float,
            actor: str) -> CodingRun:
    run = CodingRun(encounter_id=encounter_id, document_id=document_id, pipeline_version=pipeline_version,
                    releases=releases, started_at=started_at, finished_at=finished_at, seconds=seconds,
                    actor=actor)
    session.add(run)
    session.flush()
    return run


def runs_of(session: Session, *, encounter_id: int) -> list[CodingRun]:
    return list(session.scalars(select(CodingRun).where(CodingRun.encounter_id == encounter_id)
                                .order_by(CodingRun.id)))


def latest_runs(session: Session, *, encounter_ids: Iterable[int]) -> dict[int, CodingRun]:
    ids = list(encounter_ids)
    out: dict[int, CodingRun] = {}
    for start in range(0, len(ids), 500):
        for run in session.scalars(select(CodingRun).where(CodingRun.encounter_id.in_(ids[start:start + 500]))
                                   .order_by(CodingRun.id)):
            out[run.encounter_id] = run  # ascending ids: the last one wins
    return out


# -- suggestions and queries ---------------------------------------------------------------------------


def add_suggestion(session: Session, *, encounter_id: int, run_id: int | None, system: str, code: str,
                   title: str, sequence: int, confidence: float | None, evidence: list[Any],
                   rationale: list[Any], status: str = "suggested", active: bool = True,
                   decided_by: str | None = None, decided_at: datetime | None = None,
                   note: str | None = None, flush: bool = True) -> CodeSuggestionRow:
    """``flush=False`` when adding a run's many rows: the caller flushes once, one round trip per table."""
    row = CodeSuggestionRow(encounter_id=encounter_id, run_id=run_id, system=system, code=code, title=title,
                            sequence=sequence, confidence=confidence, evidence=evidence, rationale=rationale,
                            status=status, active=active, decided_by=decided_by, decided_at=decided_at,
                            note=note)
    session.add(row)
    if flush:
        session.flush()
    return row


def get_suggestion(session: Session, *, suggestion_id: int, for_update: bool = False) -> CodeSuggestionRow | None:
    return session.get(CodeSuggestionRow, suggestion_id, with_for_update=for_update or None)


def suggestions(session: Session, *, encounter_id: int, active_only: bool = True,
                run_id: int | None = None) -> list[CodeSuggestionRow]:
    query = select(CodeSuggestionRow).where(CodeSuggestionRow.encounter_id == encounter_id)
    if active_only:
        query = query.where(CodeSuggestionRow.active.is_(True))
    if run_id is not None:
        query = query.where(CodeSuggestionRow.run_id == run_id)
    return list(session.scalars(query.order_by(CodeSuggestionRow.sequence, CodeSuggestionRow.id)))


def deactivate_undecided(session: Session, *, encounter_id: int) -> int:
    """Retire the engine's undecided suggestions and open queries before a new run; decisions stay."""
    changed = session.execute(
        update(CodeSuggestionRow)
        .where(CodeSuggestionRow.encounter_id == encounter_id, CodeSuggestionRow.active.is_(True),
               CodeSuggestionRow.status == "suggested")
        .values(active=False, version=CodeSuggestionRow.version + 1)
        .execution_options(synchronize_session="fetch"))
    session.execute(
        update(DocumentationQueryRow)
        .where(DocumentationQueryRow.encounter_id == encounter_id, DocumentationQueryRow.active.is_(True),
               DocumentationQueryRow.status == "open")
        .values(active=False, version=DocumentationQueryRow.version + 1)
        .execution_options(synchronize_session="fetch"))
    return int(getattr(changed, "rowcount", 0) or 0)


def add_query(session: Session, *, encounter_id: int, run_id: int | None, code: str, missing: str,
              question: str, options: list[Any], evidence: list[Any], flush: bool = True) -> DocumentationQueryRow:
    row = DocumentationQueryRow(encounter_id=encounter_id, run_id=run_id, code=code, missing=missing,
                                question=question, options=options, evidence=evidence, status="open", active=True)
    session.add(row)
    if flush:
        session.flush()
    return row


def get_query(session: Session, *, query_id: int, for_update: bool = False) -> DocumentationQueryRow | None:
    return session.get(DocumentationQueryRow, query_id, with_for_update=for_update or None)


def queries(session: Session, *, encounter_id: int, active_only: bool = True) -> list[DocumentationQueryRow]:
    query = select(DocumentationQueryRow).where(DocumentationQueryRow.encounter_id == encounter_id)
    if active_only:
        query = query.where(DocumentationQueryRow.active.is_(True))
    return list(session.scalars(query.order_by(DocumentationQueryRow.id)))


# -- audit events --------------------------------------------------------------------------------------

AUDIT_LOCK_KEY = 5_150_551
"""PostgreSQL advisory lock that serializes appends to the audit chain (SQLite's write lock does it there)."""


def lock_audit_chain(session: Session) -> None:
    """Hold the chain's append lock until the transaction ends (PostgreSQL; SQLite already holds one)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


def last_audit_event(session: Session) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()


def add_audit_event(session: Session, *, at: datetime, actor: str, action: str, entity_type: str,
                    entity_id: int | None, encounter_id: int | None, before: dict[str, Any] | None,
                    after: dict[str, Any] | None, prev_hash: str, hash: str) -> AuditEvent:
    event = AuditEvent(at=at, actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                       encounter_id=encounter_id, before=before, after=after, prev_hash=prev_hash, hash=hash)
    session.add(event)
    session.flush()
    return event


def audit_events(session: Session, *, encounter_id: int | None = None, batch: int = 1000) -> Iterator[AuditEvent]:
    """Events in chain order, fetched in batches (constant memory over a long log)."""
    last_id = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.id > last_id)
        if encounter_id is not None:
            query = query.where(AuditEvent.encounter_id == encounter_id)
        rows = list(session.scalars(query.order_by(AuditEvent.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


# -- API keys ------------------------------------------------------------------------------------------


def add_api_key(session: Session, *, key_id: str, name: str, role: str, salt: str, hash: str) -> ApiKey:
    key = ApiKey(key_id=key_id, name=name, role=role, salt=salt, hash=hash)
    session.add(key)
    session.flush()
    return key


def api_key_by_key_id(session: Session, *, key_id: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()


def api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
