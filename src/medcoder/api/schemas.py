"""Request and response bodies: the OpenAPI schema the hospital's systems and the fuzzer read."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
ShortText = Annotated[str, Field(max_length=2000), AfterValidator(_no_nul)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version you read; a stale one gets E620.")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientIn(Strict):
    identifier: Annotated[str, Field(max_length=200), AfterValidator(_no_nul)] | None = None
    age: Annotated[int, Field(ge=0, le=130)] | None = None
    sex: Literal["F", "M", "U"] | None = None
    birth_date: date | None = None


class RecordIn(Strict):
    """A record to store and code: plain text (with demographics here), a FHIR R4 Bundle, or HL7 v2."""

    format: Literal["text", "fhir", "hl7v2", "jsonl"] | None = Field(
        default=None, description="How to read the content; detected from its first bytes when omitted.")
    content: Text | None = Field(default=None, description="The record as text, kept exactly.")
    content_base64: Annotated[str, Field(max_length=7_000_000)] | None = Field(
        default=None, description="The record as base64 bytes (for non-UTF-8 senders), kept exactly.")
    id: Annotated[str, Field(max_length=200), AfterValidator(_no_nul)] | None = None
    setting: Literal["outpatient", "inpatient", "professional"] = "outpatient"
    date_of_service: date | None = None
    patient: PatientIn | None = None


class SubmittedOut(BaseModel):
    encounter_id: int
    document_id: int
    run_id: int | None
    created: bool
    sha256: str


class EvidenceOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    start: int
    end: int
    text: str


class SuggestionOut(BaseModel):
    id: int
    version: int
    run_id: int | None
    system: str
    code: str
    title: str
    sequence: int
    confidence: float | None
    evidence: list[EvidenceOut]
    rationale: list[str]
    status: str
    original_code: str | None
    active: bool
    decided_by: str | None
    decided_at: str | None
    note: str | None


class QueryOut(BaseModel):
    id: int
    version: int
    run_id: int | None
    code: str
    missing: str
    question: str
    options: list[str]
    evidence: list[EvidenceOut]
    status: str
    answer: str | None
    answered_by: str | None
    answered_at: str | None
    active: bool


class RunOut(BaseModel):
    id: int
    document_id: int
    pipeline_version: str
    releases: dict[str, Any]
    started_at: str | None
    finished_at: str | None
    seconds: float
    actor: str


class PatientOut(BaseModel):
    id: int
    identifier: str | None
    name: str | None
    birth_date: str | None
    sex: str | None


class EncounterOut(BaseModel):
    id: int
    version: int
    external_id: str | None
    setting: str
    date_of_service: str | None
    discharge_date: str | None
    facility: str | None
    provider: str | None
    age: int | None
    status: str
    coder: str | None
    updated_at: str | None
    patient: PatientOut | None


class DocumentOut(BaseModel):
    id: int
    format: str
    sha256: str
    size: int
    text: str


class EncounterDetailOut(EncounterOut):
    document: DocumentOut | None
    suggestions: list[SuggestionOut]
    queries: list[QueryOut]
    runs: list[RunOut]


class WorklistItemOut(EncounterOut):
    codes: dict[str, int] = Field(description="Active codes per status.")


class WorklistOut(BaseModel):
    items: list[WorklistItemOut]
    total: int
    page: int
    page_size: int


class DecisionIn(Strict):
    version: Version
    note: ShortText | None = None


class ModifyIn(DecisionIn):
    code: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_no_nul)]


class EvidenceIn(Strict):
    start: Annotated[int, Field(ge=0, le=MAX_ID)]
    end: Annotated[int, Field(ge=0, le=MAX_ID)]
    text: ShortText


class AddCodeIn(Strict):
    version: Version
    system: Literal["ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT"]
    code: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_no_nul)]
    note: ShortText | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)


class AnswerIn(Strict):
    version: Version
    answer: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_nul)]


class TransitionIn(Strict):
    version: Version
    note: ShortText | None = None


class ExportCodeOut(BaseModel):
    system: str
    code: str
    title: str
    sequence: int
    confidence: float | None
    evidence: list[EvidenceOut]
    rationale: list[str]
    status: str


class ExportOut(BaseModel):
    id: str
    encounter_id: int
    status: str
    final: bool
    codes: list[ExportCodeOut]
    pending: list[ExportCodeOut]
    rejected: list[ExportCodeOut]
    queries: list[QueryOut]
    release: dict[str, Any]
    pipeline_version: str | None


class AuditEventOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    entity_type: str
    entity_id: int | None
    encounter_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class ChainOut(BaseModel):
    ok: bool
    events: int
    head: str
    bad_event: int | None
    reason: str | None


class ApiKeyIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    role: Literal["coder", "auditor", "admin"]


class ApiKeyOut(BaseModel):
    key: str = Field(description="Shown once; only its hash is stored.")
    name: str
    role: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code, e.g. E620 (see the README's table).")
    message: str
    where: str | None
    fix: str | None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    status: str
    version: str
