"""Pick the reader for a record: by the format named, else by its first bytes."""

from __future__ import annotations

import json
from datetime import date

from medcoder.errors import RecordError
from medcoder.ingest.fhir import read_fhir
from medcoder.ingest.hl7v2 import read_hl7v2
from medcoder.ingest.jsonl import read_jsonl_record
from medcoder.ingest.record import FORMATS, ParsedRecord, PatientInfo
from medcoder.ingest.text import read_text


def detect_format(content: bytes) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if head.startswith(b"MSH"):
        return "hl7v2"
    if head.startswith(b"{"):
        try:
            value = json.loads(content)
        except ValueError:
            return "text"
        if isinstance(value, dict) and "resourceType" in value:
            return "fhir"
        if isinstance(value, dict) and "text" in value:
            return "jsonl"
    return "text"


def read_record(content: bytes, *, format: str | None = None, record_id: str | None = None,
                setting: str = "outpatient", date_of_service: date | None = None,
                patient: PatientInfo | None = None) -> ParsedRecord:
    """Read a record; for plain text the demographics come from the arguments."""
    kind = format or detect_format(content)
    if kind not in FORMATS:
        raise RecordError(f"unknown record format {kind!r}", code="E602", where="format",
                          fix="Use text, jsonl, fhir or hl7v2")
    if kind == "hl7v2":
        return read_hl7v2(content)
    if kind == "fhir":
        return read_fhir(content)
    if kind == "jsonl":
        return read_jsonl_record(content, where="record")
    return read_text(content, record_id=record_id, setting=setting, date_of_service=date_of_service,
                     patient=patient)
