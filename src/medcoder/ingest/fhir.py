"""FHIR R4 Bundles: Patient, Encounter, and the note text from Composition sections or DocumentReference
attachments (plain text or base64). Minimal by design: what coding needs, nothing more."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from typing import Any

from medcoder.errors import RecordError
from medcoder.ingest.record import ParsedRecord, PatientInfo, check_sex, check_size, decode, parse_date, require_text

_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6])\b[^>]*>", re.IGNORECASE)
# FHIR Encounter.class codes (v3 ActCode) that mean an inpatient stay.
_INPATIENT = {"IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS"}
_SEX = {"male": "M", "female": "F", "other": "U", "unknown": "U"}


def read_fhir(content: bytes) -> ParsedRecord:
    check_size(content, "FHIR")
    text = decode(content, "FHIR")
    try:
        resource = json.loads(text)
    except ValueError as e:
        raise RecordError(f"FHIR record is not valid JSON: {e}", code="E603", where="FHIR",
                          fix="Send a FHIR R4 Bundle as JSON") from e
    if not isinstance(resource, dict) or "resourceType" not in resource:
        raise RecordError("not a FHIR resource (no resourceType)", code="E603", where="FHIR",
                          fix="Send a FHIR R4 Bundle as JSON")
    if resource["resourceType"] == "Bundle":
        entries = resource.get("entry") or []
        if not isinstance(entries, list):
            raise RecordError("Bundle.entry is not a list", code="E603", where="Bundle.entry",
                              fix="Send a FHIR R4 Bundle")
        resources: list[dict[str, Any]] = [e["resource"] for e in entries
                                           if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    else:
        resources = [resource]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(str(r.get("resourceType")), []).append(r)
    texts = [t for r in by_type.get("Composition", []) for t in _composition_text(r)]
    texts += [t for r in by_type.get("DocumentReference", []) for t in _document_reference_text(r)]
    text = require_text("\n\n".join(t for t in texts if t.strip()), "FHIR Composition/DocumentReference")
    patient = _patient(by_type.get("Patient", [{}])[0])
    encounter = (by_type.get("Encounter") or [{}])[0]
    period = encounter.get("period") or {}
    klass = encounter.get("class") or {}
    code = (klass.get("code") if isinstance(klass, dict) else None) or ""
    return ParsedRecord(
        format="fhir", content=content, text=text, record_id=_str(encounter.get("id")),
        setting="inpatient" if str(code).upper() in _INPATIENT else "outpatient",
        date_of_service=parse_date(period.get("start") if isinstance(period, dict) else None, "Encounter.period"),
        discharge_date=parse_date(period.get("end") if isinstance(period, dict) else None, "Encounter.period"),
        facility=_display(encounter.get("serviceProvider")),
        provider=_participant(encounter),
        patient=patient,
    )


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _display(ref: Any) -> str | None:
    return _str(ref.get("display") or ref.get("reference")) if isinstance(ref, dict) else None


def _participant(encounter: dict[str, Any]) -> str | None:
    for p in encounter.get("participant") or []:
        if isinstance(p, dict):
            name = _display(p.get("individual"))
            if name:
                return name
    return None


def _patient(resource: dict[str, Any]) -> PatientInfo:
    identifiers = resource.get("identifier") or []
    identifier = next((_str(i.get("value")) for i in identifiers if isinstance(i, dict) and i.get("value")), None)
    names = resource.get("name") or []
    name = None
    if names and isinstance(names[0], dict):
        n = names[0]
        name = _str(n.get("text")) or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip() or None
    gender = resource.get("gender")
    return PatientInfo(identifier=identifier or _str(resource.get("id")), name=name,
                       birth_date=parse_date(resource.get("birthDate"), "Patient.birthDate"),
                       sex=check_sex(_SEX.get(str(gender), gender) if gender else None, "Patient.gender"))


def _narrative(div: Any) -> str:
    if not isinstance(div, str):
        return ""
    return html.unescape(_TAG.sub("", _BLOCK.sub("\n", div))).strip()


def _composition_text(resource: dict[str, Any]) -> list[str]:
    out = []
    for section in resource.get("section") or []:
        if not isinstance(section, dict):
            continue
        body = _narrative((section.get("text") or {}).get("div"))
        title = section.get("title")
        out.append(f"{title}:\n{body}" if title and body else body)
    return out


def _document_reference_text(resource: dict[str, Any]) -> list[str]:
    out = []
    for content in resource.get("content") or []:
        attachment = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(attachment, dict) or "data" not in attachment:
            continue
        try:
            raw = base64.b64decode(str(attachment["data"]), validate=True)
        except (binascii.Error, ValueError) as e:
            raise RecordError("DocumentReference attachment is not valid base64", code="E603",
                              where="DocumentReference.content.attachment.data",
                              fix="Encode the attachment as base64") from e
        out.append(decode(raw, "DocumentReference attachment"))
    return out
