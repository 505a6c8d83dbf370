"""Submitting records and reading encounters."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from medcoder.api.deps import ActorDep, ServiceDep
from medcoder.api.errors import ERROR_RESPONSES
from medcoder.api.schemas import MAX_ID, EncounterDetailOut, RecordIn, RunOut, SubmittedOut, WorklistOut
from medcoder.errors import RecordError
from medcoder.ingest.detect import read_record
from medcoder.ingest.record import PatientInfo
from medcoder.service import export, process

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)
EncounterId = Annotated[int, PathParam(ge=1, le=MAX_ID)]

MEDIA = {"text": "text/plain; charset=utf-8", "jsonl": "application/json", "fhir": "application/fhir+json",
         "hl7v2": "x-application/hl7-v2+er7"}


@router.post("/records", response_model=SubmittedOut, status_code=201,
             responses={200: {"model": SubmittedOut, "description": "The same record was already stored"}})
def submit(body: RecordIn, service: ServiceDep, actor: ActorDep, response: Response) -> dict[str, Any]:
    """Store a record exactly as sent, code it, and return the encounter (idempotent by content hash)."""
    if (body.content is None) == (body.content_base64 is None):
        raise RecordError("send exactly one of content and content_base64", code="E602", where="content",
                          fix="Put the record in content (text) or content_base64 (bytes)")
    if body.content is not None:
        content = body.content.encode("utf-8", "surrogatepass")
    else:
        try:
            content = base64.b64decode(body.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as e:
            raise RecordError("content_base64 is not valid base64", code="E602", where="content_base64",
                              fix="Encode the record bytes as standard base64") from e
    p = body.patient
    record = read_record(content, format=body.format, record_id=body.id, setting=body.setting,
                         date_of_service=body.date_of_service,
                         patient=PatientInfo(identifier=p.identifier, age=p.age, sex=p.sex, birth_date=p.birth_date)
                         if p else None)
    submitted = process.submit_record(service, record=record, actor=actor)
    if not submitted.created:
        response.status_code = 200
    return submitted.to_dict()


@router.get("/encounters", response_model=WorklistOut)
def worklist(service: ServiceDep, actor: ActorDep,
             status: Literal["new", "in-review", "coded", "audited"] | None = None,
             setting: Literal["outpatient", "inpatient", "professional"] | None = None,
             date_from: date | None = None, date_to: date | None = None,
             coder: Annotated[str | None, Query(max_length=200)] = None,
             page: Annotated[int, Query(ge=1, le=100_000)] = 1,
             page_size: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """The worklist: encounters filtered by status, setting, date of service and coder, a page at a time."""
    return export.worklist(service, actor=actor, status=status, setting=setting, date_from=date_from,
                           date_to=date_to, coder=coder, page=page, page_size=page_size)


@router.get("/encounters/{encounter_id}", response_model=EncounterDetailOut)
def encounter(encounter_id: EncounterId, service: ServiceDep, actor: ActorDep,
              history: bool = False) -> dict[str, Any]:
    """The encounter with its suggested codes (evidence, rationale), queries and coding runs;
    ``history=true`` includes suggestions replaced by later runs."""
    return process.encounter_detail(service, encounter_id=encounter_id, actor=actor, history=history)


@router.get("/encounters/{encounter_id}/document", response_class=Response,
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "The record as received"}})
def document(encounter_id: EncounterId, service: ServiceDep, actor: ActorDep) -> Response:
    """The record exactly as it was received (byte for byte)."""
    content, format = process.original_document(service, encounter_id=encounter_id, actor=actor)
    return Response(content=content, media_type=MEDIA.get(format, "application/octet-stream"))


@router.post("/encounters/{encounter_id}/recode", response_model=RunOut, status_code=201)
def recode(encounter_id: EncounterId, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Code the encounter again into a new run; coder decisions stay as they are."""
    return process.recode_encounter(service, encounter_id=encounter_id, actor=actor)
