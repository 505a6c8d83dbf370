"""A plain-text note, with demographics given alongside (API fields or command-line options)."""

from __future__ import annotations

from datetime import date

from medcoder.ingest.record import ParsedRecord, PatientInfo, check_size, decode, require_text


def read_text(content: bytes, *, record_id: str | None = None, setting: str = "outpatient",
              date_of_service: date | None = None, patient: PatientInfo | None = None) -> ParsedRecord:
    check_size(content, "text")
    text = require_text(decode(content, "text"), "text")
    return ParsedRecord(format="text", content=content, text=text, record_id=record_id, setting=setting,
                        date_of_service=date_of_service, patient=patient or PatientInfo())
