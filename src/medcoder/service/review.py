"""A coder's decisions (accept, reject, modify, add a code; answer a query; complete) and an auditor's approval.

Why the client sends the version it saw: two coders may open the same encounter; whoever saves second with
a stale version gets E620 naming who changed it, instead of silently overwriting (optimistic locking; the
database's version column check catches the race between read and write as well).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from medcoder.errors import CodeFormatError, ConflictError, EntityNotFoundError, MedcoderError
from medcoder.model.code import normalize_icd10cm
from medcoder.model.suggestion import SYSTEMS
from medcoder.service.auth import Actor
from medcoder.service.context import Service
from medcoder.service.events import record_event
from medcoder.service.process import _encounter as _read_encounter
from medcoder.service.views import encounter_view, query_view, suggestion_view
from medcoder.store import repo
from medcoder.store.tables import CodeSuggestionRow, DocumentationQueryRow, Encounter

DECISIONS = ("accept", "reject", "modify")


def _check_version(kind: str, entity_id: int, current: int, sent: int, who: str | None) -> None:
    if current != sent:
        by = f" by {who}" if who else ""
        raise ConflictError(f"{kind} {entity_id} was changed{by} since you read it (it is at version {current}, "
                            f"you sent {sent})", code="E620", where=f"{kind} {entity_id}",
                            fix="Reload it, review the other change, and apply yours again")


def _commit(session: Session, kind: str, entity_id: int) -> None:
    try:
        session.commit()
    except StaleDataError as e:
        session.rollback()
        raise _stale(kind, entity_id) from e


def _stale(kind: str, entity_id: int) -> ConflictError:
    return ConflictError(f"{kind} {entity_id} was changed by someone else while you saved", code="E620",
                         where=f"{kind} {entity_id}", fix="Reload it and apply your change again")


def _check_code(svc: Service, system: str, code: str) -> tuple[str, str]:
    """The code normalized, and its title; E3xx when it is malformed or unknown."""
    if system not in SYSTEMS:
        raise CodeFormatError(f"unknown code system {system!r}", code="E307", where="system",
                              fix="Use " + ", ".join(SYSTEMS))
    code = code.strip().upper()
    if system == "ICD-10-CM":
        code = normalize_icd10cm(code)
    elif not code.isalnum() or not 4 <= len(code) <= 7:
        raise CodeFormatError(f"{code!r} is not a {system} code", code="E308", where=code,
                              fix="ICD-10-PCS codes have 7 characters, HCPCS and CPT codes 5")
    title = svc.title_of(system, code) if svc.title_of else ""
    if title is None:
        raise MedcoderError(f"{system} code {code} does not exist in the newest release", code="E502", where=code,
                            fix="Check the code with 'medcoder lookup'")
    return code, title


def _touch(encounter: Encounter, actor: Actor) -> None:
    if encounter.status in ("new", "coded", "audited"):
        encounter.status = "in-review"
    encounter.coder = actor.name
    encounter.updated_at = datetime.now(UTC)


def _encounter(session: Session, encounter_id: int) -> Encounter:
    """The encounter, locked for this transaction: concurrent writers queue instead of racing."""
    repo.get_encounter(session, encounter_id=encounter_id, for_update=True)
    return _read_encounter(session, encounter_id)


def _suggestion(session: Session, suggestion_id: int) -> CodeSuggestionRow:
    row = repo.get_suggestion(session, suggestion_id=suggestion_id, for_update=True)
    if row is None:
        raise EntityNotFoundError(f"suggestion {suggestion_id} does not exist", code="E611",
                                  where=f"suggestion {suggestion_id}", fix="Read the encounter's current codes")
    return row


def decide(svc: Service, *, suggestion_id: int, version: int, decision: str, actor: Actor,
           code: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Accept, reject or modify (with ``code``) one suggested code."""
    actor.require("change_codes")
    if decision not in DECISIONS:
        raise MedcoderError(f"unknown decision {decision!r}", code="E621", where="decision",
                            fix="Use accept, reject or modify")
    with svc.db.write() as session:
        row = _suggestion(session, suggestion_id)
        _check_version("suggestion", row.id, row.version, version, row.decided_by)
        if not row.active:
            raise ConflictError(f"suggestion {row.id} belongs to an earlier coding run", code="E622",
                                where=f"suggestion {row.id}", fix="Decide on the encounter's current codes")
        before = suggestion_view(row)
        if decision == "modify":
            if not code:
                raise MedcoderError("modify needs the new code", code="E623", where="code",
                                    fix="Send the code to use instead")
            new_code, title = _check_code(svc, row.system, code)
            row.original_code = row.original_code or row.code
            row.code, row.title, row.status = new_code, title or row.title, "modified"
        else:
            row.status = "accepted" if decision == "accept" else "rejected"
        row.decided_by, row.decided_at, row.note = actor.name, datetime.now(UTC), note
        _touch(_encounter(session, row.encounter_id), actor)
        session.flush()
        after = suggestion_view(row)
        record_event(session, actor=actor.name, action=f"code.{decision}", entity_type="code_suggestion",
                     entity_id=row.id, encounter_id=row.encounter_id, before=before, after=after)
        _commit(session, "suggestion", row.id)
        return after


def add_code(svc: Service, *, encounter_id: int, version: int, system: str, code: str, actor: Actor,
             note: str | None = None, evidence: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A code the engine missed, added by the coder (checked against the knowledge base)."""
    actor.require("change_codes")
    with svc.db.write() as session:
        encounter = _encounter(session, encounter_id)
        _check_version("encounter", encounter.id, encounter.version, version, encounter.coder)
        new_code, title = _check_code(svc, system, code)
        current = repo.suggestions(session, encounter_id=encounter_id)
        if any(r.system == system and r.code == new_code and r.status != "rejected" for r in current):
            raise ConflictError(f"{system} {new_code} is already on encounter {encounter_id}", code="E624",
                                where=new_code, fix="Accept the existing suggestion instead")
        row = repo.add_suggestion(session, encounter_id=encounter_id, run_id=None, system=system, code=new_code,
                                  title=title, sequence=max((r.sequence for r in current), default=0) + 1,
                                  confidence=None, evidence=evidence or [], rationale=[f"added by {actor.name}"],
                                  status="added-by-coder", decided_by=actor.name, decided_at=datetime.now(UTC),
                                  note=note)
        _touch(encounter, actor)
        session.flush()
        after = suggestion_view(row)
        record_event(session, actor=actor.name, action="code.add", entity_type="code_suggestion", entity_id=row.id,
                     encounter_id=encounter_id, after=after)
        _commit(session, "encounter", encounter_id)
        return after


def answer_query(svc: Service, *, query_id: int, version: int, answer: str, actor: Actor) -> dict[str, Any]:
    actor.require("answer_queries")
    with svc.db.write() as session:
        row: DocumentationQueryRow | None = repo.get_query(session, query_id=query_id, for_update=True)
        if row is None:
            raise EntityNotFoundError(f"query {query_id} does not exist", code="E612", where=f"query {query_id}",
                                      fix="Read the encounter's open queries")
        _check_version("query", row.id, row.version, version, row.answered_by)
        if row.status != "open" or not row.active:
            raise ConflictError(f"query {row.id} is {row.status if row.active else 'withdrawn'}, not open",
                                code="E625", where=f"query {row.id}", fix="Answer an open query")
        before = query_view(row)
        row.status, row.answer, row.answered_by, row.answered_at = "answered", answer, actor.name, datetime.now(UTC)
        _touch(_encounter(session, row.encounter_id), actor)
        session.flush()
        after = query_view(row)
        record_event(session, actor=actor.name, action="query.answer", entity_type="documentation_query",
                     entity_id=row.id, encounter_id=row.encounter_id, before=before, after=after)
        _commit(session, "query", row.id)
        return after


_TRANSITIONS = {
    # action: (permission, statuses it may start from, status it leads to)
    "complete": ("complete", ("new", "in-review"), "coded"),
    "approve": ("approve_audit", ("coded",), "audited"),
    "return": ("approve_audit", ("coded", "audited"), "in-review"),
}


def transition(svc: Service, *, encounter_id: int, version: int, action: str, actor: Actor,
               note: str | None = None) -> dict[str, Any]:
    """``complete`` (coder: the code set is final), ``approve`` or ``return`` (auditor: audit outcome)."""
    if action not in _TRANSITIONS:
        raise MedcoderError(f"unknown action {action!r}", code="E621", where="action",
                            fix="Use complete, approve or return")
    permission, sources, target = _TRANSITIONS[action]
    actor.require(permission)
    with svc.db.write() as session:
        encounter = _encounter(session, encounter_id)
        _check_version("encounter", encounter.id, encounter.version, version, encounter.coder)
        if encounter.status not in sources:
            raise ConflictError(f"encounter {encounter_id} is {encounter.status!r}; {action} needs "
                                + " or ".join(repr(s) for s in sources), code="E626",
                                where=f"encounter {encounter_id}", fix="Reload the encounter and check its status")
        if action == "complete" and any(r.status == "suggested" for r in
                                        repo.suggestions(session, encounter_id=encounter_id)):
            raise ConflictError(f"encounter {encounter_id} still has undecided suggestions", code="E627",
                                where=f"encounter {encounter_id}", fix="Accept, reject or modify every code first")
        before = {"status": encounter.status}
        encounter.status = target
        if action == "complete":
            encounter.coder = actor.name
        encounter.updated_at = datetime.now(UTC)
        session.flush()
        record_event(session, actor=actor.name, action=f"encounter.{action}", entity_type="encounter",
                     entity_id=encounter_id, encounter_id=encounter_id, before=before,
                     after={"status": target, "note": note})
        _commit(session, "encounter", encounter_id)
        return encounter_view(encounter)
