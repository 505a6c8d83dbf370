"""The plain record every reader produces: original bytes, note text and demographics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from medcoder.errors import RecordError

SETTINGS = ("outpatient", "inpatient", "professional")
SEXES = ("F", "M", "U")
FORMATS = ("text", "jsonl", "fhir", "hl7v2")
MAX_BYTES = 5_000_000
"""A record larger than this is refused (E606): no clinical note is that long; a dump by mistake is."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientInfo:
    identifier: str | None = None
    name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    age: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedRecord:
    format: str
    content: bytes
    """Exactly as received."""
    text: str
    record_id: str | None = None
    setting: str = "outpatient"
    date_of_service: date | None = None
    discharge_date: date | None = None
    facility: str | None = None
    provider: str | None = None
    patient: PatientInfo = field(default_factory=PatientInfo)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def age(self) -> int | None:
        """Age in years on the date of service (given, or computed from the birth date)."""
        if self.patient.age is not None:
            return self.patient.age
        born, on = self.patient.birth_date, self.date_of_service
        if born is None or on is None:
            return None
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def check_size(content: bytes, where: str) -> None:
    if len(content) > MAX_BYTES:
        raise RecordError(f"record is {len(content):,} bytes, more than the {MAX_BYTES:,} allowed", code="E606",
                          where=where, fix="Send one encounter's notes per record")


def decode(content: bytes, where: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RecordError(f"record is not UTF-8 text: {e.reason} at byte {e.start}", code="E609", where=where,
                          fix="Send the record encoded as UTF-8") from e


def require_text(text: str, where: str) -> str:
    if not text.strip():
        raise RecordError("the record has no note text to code", code="E605", where=where,
                          fix="Include the clinical note text")
    if "\x00" in text:
        raise RecordError("the note text contains NUL characters", code="E605", where=where,
                          fix="Send the note as text, not binary data")
    return text


def parse_date(value: Any, where: str) -> date | None:
    """ISO dates (``2026-03-14``, also with a time part) and HL7 dates (``20260314``, ``202603141230``)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError(f"date {value!r} is not a string", code="E607", where=where, fix="Write it as YYYY-MM-DD")
    text = value.strip()
    try:
        if len(text) >= 8 and text[:8].isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        return date.fromisoformat(text[:10])
    except ValueError as e:
        raise RecordError(f"not a date: {value!r}", code="E607", where=where, fix="Write it as YYYY-MM-DD") from e


def check_setting(value: Any, where: str) -> str:
    if value in (None, ""):
        return "outpatient"
    if value not in SETTINGS:
        raise RecordError(f"unknown setting {value!r}", code="E608", where=where,
                          fix="Use outpatient, inpatient or professional")
    return str(value)


def check_sex(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().upper()[:1]
    if text not in SEXES:
        raise RecordError(f"unknown sex {value!r}", code="E608", where=where, fix="Use F, M or U")
    return text


def check_age(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 130:
        raise RecordError(f"age {value!r} is not a number of years from 0 to 130", code="E608", where=where,
                          fix="Give the age in whole years")
    return int(value)
