"""One line of the batch contract (``shared/CONTRACTS.md``): ``{"id", "text", "setting", "date_of_service",
"patient": {"age", "sex"}}``; unknown fields are kept and ignored."""

from __future__ import annotations

import json
from typing import Any

from medcoder.errors import RecordError
from medcoder.ingest.record import (
    ParsedRecord,
    PatientInfo,
    check_age,
    check_setting,
    check_sex,
    check_size,
    decode,
    parse_date,
    require_text,
)


def record_id_of(line: bytes) -> str | None:
    """The ``id`` of a line when it can be read at all (to label an error), else None."""
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str | int):
        return str(value["id"])
    return None


def read_jsonl_record(line: bytes, *, where: str = "line") -> ParsedRecord:
    check_size(line, where)
    text = decode(line, where)
    try:
        value = json.loads(text)
    except ValueError as e:
        raise RecordError(f"not valid JSON: {e}", code="E601", where=where,
                          fix="Write one JSON object per line") from e
    return from_mapping(value, content=line, where=where)


def from_mapping(value: Any, *, content: bytes, where: str) -> ParsedRecord:
    if not isinstance(value, dict):
        raise RecordError("a record must be a JSON object", code="E602", where=where,
                          fix='Write {"id": "...", "text": "..."}')
    record_id, text = value.get("id"), value.get("text")
    if not isinstance(record_id, str | int) or isinstance(record_id, bool) or str(record_id) == "":
        raise RecordError("the record has no \"id\" (a non-empty string)", code="E602", where=where,
                          fix='Give every record an "id"')
    if not isinstance(text, str):
        raise RecordError("the record has no \"text\" (a string)", code="E602", where=f"{where} id {record_id}",
                          fix='Put the note in "text"')
    at = f"{where} id {record_id}"
    patient = value.get("patient") or {}
    if not isinstance(patient, dict):
        raise RecordError("\"patient\" must be an object", code="E602", where=at, fix='Write {"age": 57, "sex": "M"}')
    return ParsedRecord(
        format="jsonl", content=content, text=require_text(text, at), record_id=str(record_id),
        setting=check_setting(value.get("setting"), at),
        date_of_service=parse_date(value.get("date_of_service"), at),
        patient=PatientInfo(identifier=_opt_str(patient.get("id")), age=check_age(patient.get("age"), at),
                            sex=check_sex(patient.get("sex"), at),
                            birth_date=parse_date(patient.get("birth_date"), at)),
        extra={k: v for k, v in value.items() if k not in ("id", "text", "setting", "date_of_service", "patient")},
    )


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
