"""A coder's decisions on codes and queries, and the encounter's workflow (complete, audit approval)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from medcoder.api.deps import ActorDep, ServiceDep
from medcoder.api.errors import ERROR_RESPONSES
from medcoder.api.schemas import (
    MAX_ID,
    AddCodeIn,
    AnswerIn,
    DecisionIn,
    EncounterOut,
    ModifyIn,
    QueryOut,
    SuggestionOut,
    TransitionIn,
)
from medcoder.service import review

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]


@router.post("/suggestions/{suggestion_id}/accept", response_model=SuggestionOut)
def accept(suggestion_id: Id, body: DecisionIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    return review.decide(service, suggestion_id=suggestion_id, version=body.version, decision="accept",
                         actor=actor, note=body.note)


@router.post("/suggestions/{suggestion_id}/reject", response_model=SuggestionOut)
def reject(suggestion_id: Id, body: DecisionIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    return review.decide(service, suggestion_id=suggestion_id, version=body.version, decision="reject",
                         actor=actor, note=body.note)


@router.post("/suggestions/{suggestion_id}/modify", response_model=SuggestionOut)
def modify(suggestion_id: Id, body: ModifyIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Replace the suggested code by another (the original is kept in ``original_code``)."""
    return review.decide(service, suggestion_id=suggestion_id, version=body.version, decision="modify",
                         actor=actor, code=body.code, note=body.note)


@router.post("/encounters/{encounter_id}/codes", response_model=SuggestionOut, status_code=201)
def add_code(encounter_id: Id, body: AddCodeIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Add a code the engine missed (``version`` is the encounter's)."""
    return review.add_code(service, encounter_id=encounter_id, version=body.version, system=body.system,
                           code=body.code, actor=actor, note=body.note,
                           evidence=[e.model_dump() for e in body.evidence])


@router.post("/queries/{query_id}/answer", response_model=QueryOut)
def answer(query_id: Id, body: AnswerIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Record the physician's answer to a documentation query."""
    return review.answer_query(service, query_id=query_id, version=body.version, answer=body.answer, actor=actor)


@router.post("/encounters/{encounter_id}/complete", response_model=EncounterOut)
def complete(encounter_id: Id, body: TransitionIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """The coder declares the code set final (every suggestion decided)."""
    return review.transition(service, encounter_id=encounter_id, version=body.version, action="complete",
                             actor=actor, note=body.note)


@router.post("/encounters/{encounter_id}/approve", response_model=EncounterOut)
def approve(encounter_id: Id, body: TransitionIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """The auditor approves the coded encounter (auditor or admin only)."""
    return review.transition(service, encounter_id=encounter_id, version=body.version, action="approve",
                             actor=actor, note=body.note)


@router.post("/encounters/{encounter_id}/return", response_model=EncounterOut)
def send_back(encounter_id: Id, body: TransitionIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """The auditor sends the encounter back to review (auditor or admin only)."""
    return review.transition(service, encounter_id=encounter_id, version=body.version, action="return",
                             actor=actor, note=body.note)
