"""HL7 v2 messages carrying notes (MDM^T02, ORU^R01): PID and PV1 for demographics, OBX/NTE text for the note.

Minimal by design: segments split on CR (or LF), fields on the separator MSH declares, HL7 escapes undone.
"""

from __future__ import annotations

import re

from medcoder.errors import RecordError
from medcoder.ingest.record import ParsedRecord, PatientInfo, check_sex, check_size, decode, parse_date, require_text

_SEGMENT = re.compile(r"\r\n|\r|\n")
_TEXT_TYPES = {"TX", "FT", "ST", "CF", ""}


def _unescape(value: str, field_sep: str, comp: str, rep: str, esc: str, sub: str) -> str:
    if esc not in value:
        return value
    table = {"F": field_sep, "S": comp, "R": rep, "E": esc, "T": sub, ".br": "\n"}
    return re.sub(re.escape(esc) + r"(\.br|[FSRET])" + re.escape(esc), lambda m: table[m.group(1)], value)


def read_hl7v2(content: bytes) -> ParsedRecord:
    check_size(content, "HL7 v2")
    message = decode(content, "HL7 v2").strip()
    if not message.startswith("MSH") or len(message) < 8:
        raise RecordError("not an HL7 v2 message (it must start with an MSH segment)", code="E604", where="MSH",
                          fix="Send the message with segments separated by carriage returns")
    field_sep = message[3]
    comp, rep, esc, sub = (list(message[4:8]) + ["^", "~", "\\", "&"])[:4]
    segments: dict[str, list[list[str]]] = {}
    for line in _SEGMENT.split(message):
        if len(line) >= 3:
            segments.setdefault(line[:3], []).append(line.split(field_sep))

    def field(name: str, index: int, component: int = 0) -> str | None:
        for seg in segments.get(name, []):
            # MSH counts its own separator as field 1, so its indexes are one off from every other segment's.
            i = index - 1 if name == "MSH" else index
            if i < len(seg) and seg[i]:
                parts = seg[i].split(rep)[0].split(comp)
                if component < len(parts) and parts[component]:
                    return _unescape(parts[component], field_sep, comp, rep, esc, sub)
        return None

    lines: list[str] = []
    for obx in segments.get("OBX", []):
        kind = obx[2] if len(obx) > 2 else ""
        if kind in _TEXT_TYPES and len(obx) > 5:
            lines.extend(_unescape(v, field_sep, comp, rep, esc, sub) for v in obx[5].split(rep))
    for nte in segments.get("NTE", []):
        if len(nte) > 3:
            lines.append(_unescape(nte[3], field_sep, comp, rep, esc, sub))
    text = require_text("\n".join(lines), "OBX-5/NTE-3")
    patient_class = (field("PV1", 2) or "").upper()
    name_parts = [field("PID", 5, 1), field("PID", 5, 0)]
    return ParsedRecord(
        format="hl7v2", content=content, text=text, record_id=field("PV1", 19) or field("MSH", 10),
        setting="inpatient" if patient_class == "I" else "outpatient",
        date_of_service=parse_date(field("PV1", 44) or field("TXA", 4) or field("OBR", 7), "PV1-44"),
        discharge_date=parse_date(field("PV1", 45), "PV1-45"),
        facility=field("PV1", 3) or field("MSH", 4), provider=_provider(field("PV1", 7, 1), field("PV1", 7, 2)),
        patient=PatientInfo(identifier=field("PID", 3), name=" ".join(p for p in name_parts if p) or None,
                            birth_date=parse_date(field("PID", 7), "PID-7"), sex=check_sex(field("PID", 8), "PID-8")),
    )


def _provider(family: str | None, given: str | None) -> str | None:
    return " ".join(p for p in (given, family) if p) or None
