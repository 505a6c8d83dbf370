"""SQLAlchemy 2 models of the working database (portable types only: SQLite and PostgreSQL).

Why these columns: a claim must be re-derivable and defensible years later, so the original document bytes,
the releases and pipeline version of every coding run, every suggestion with its evidence, and every coder
decision are kept; nothing is overwritten by re-coding. ``version`` columns give optimistic locking: two
coders editing the same encounter cannot silently overwrite each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str | None] = mapped_column(String(200), index=True)
    """The sending system's patient identifier (MRN, FHIR Patient.identifier, HL7 PID-3)."""
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Encounter(Base):
    __tablename__ = "encounter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    """The record's own id (batch ``id``, FHIR Encounter.id, HL7 PV1-19)."""
    setting: Mapped[str] = mapped_column(String(20), default="outpatient")
    date_of_service: Mapped[date | None] = mapped_column(Date, index=True)
    discharge_date: Mapped[date | None] = mapped_column(Date)
    facility: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(200))
    age: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    """``new`` -> ``in-review`` -> ``coded`` -> ``audited`` (an auditor may send it back to ``in-review``)."""
    coder: Mapped[str | None] = mapped_column(String(200), index=True)
    """The last coder who made a decision on this encounter."""
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    patient: Mapped[Patient | None] = relationship()
    __mapper_args__ = {"version_id_col": version}


class Document(Base):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounter.id"), index=True)
    format: Mapped[str] = mapped_column(String(20))
    """``text``, ``jsonl``, ``fhir`` or ``hl7v2``: how ``content`` is to be read."""
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The record exactly as received."""
    text: Mapped[str] = mapped_column(Text)
    """The note text extracted from ``content``; evidence offsets point into it."""
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CodingRun(Base):
    __tablename__ = "coding_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounter.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    pipeline_version: Mapped[str] = mapped_column(String(100))
    releases: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))


class CodeSuggestionRow(Base):
    __tablename__ = "code_suggestion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounter.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("coding_run.id"), index=True)
    """The run that suggested it; empty for a code added by a coder."""
    system: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    rationale: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="suggested")
    original_code: Mapped[str | None] = mapped_column(String(20))
    """For ``modified``: the code the engine suggested before the coder changed it."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    """False once a later run replaced an undecided suggestion (kept for history)."""
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_code_suggestion_encounter_active", "encounter_id", "active"),)


class DocumentationQueryRow(Base):
    __tablename__ = "documentation_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounter.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("coding_run.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    missing: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(JSON)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open")
    """``open``, ``answered`` or ``withdrawn``."""
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class AuditEvent(Base):
    """Append-only: rows are inserted, never updated or deleted; each carries the previous row's hash."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    encounter_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Unique: two writers that read the same chain head cannot both append (the chain cannot fork)."""
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    """The public part of the key, used to find the row; the secret part is only stored hashed."""
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    salt: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
