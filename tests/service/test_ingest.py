"""Reading records: text, batch JSONL, FHIR Bundles and HL7 v2; every malformed record gets a coded error."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from medcoder.errors import RecordError
from medcoder.ingest.detect import detect_format, read_record
from medcoder.ingest.jsonl import read_jsonl_record

NOTE = "ASSESSMENT AND PLAN\nEssential hypertension.\nLateral epicondylitis, right elbow."

FHIR = {
    "resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "identifier": [{"value": "MRN-77"}],
                      "name": [{"given": ["Ann"], "family": "Lee"}], "gender": "female", "birthDate": "1969-05-02"}},
        {"resource": {"resourceType": "Encounter", "id": "enc-9", "class": {"code": "IMP"},
                      "period": {"start": "2026-03-14T08:00:00Z", "end": "2026-03-17"},
                      "serviceProvider": {"display": "General Hospital"},
                      "participant": [{"individual": {"display": "Dr Smith"}}]}},
        {"resource": {"resourceType": "Composition", "section": [
            {"title": "Assessment", "text": {"div": "<div><p>Essential hypertension.</p></div>"}}]}},
        {"resource": {"resourceType": "DocumentReference", "content": [
            {"attachment": {"contentType": "text/plain",
                            "data": base64.b64encode(b"Lateral epicondylitis, right elbow.").decode()}}]}},
    ]}

HL7 = ("MSH|^~\\&|EHR|GH|MC|GH|202603141200||MDM^T02|MSG0001|P|2.5\r"
       "PID|1||MRN-88^^^GH||Doe^Jane||19700102|F\r"
       + "|".join(["PV1", "1", "O", "CLINIC-1", "", "", "", "1234^House^Greg", *[""] * 11, "V-555", *[""] * 24,
                   "20260314"]) + "\r"
       "TXA|1|PN|TX|20260314\r"
       "OBX|1|TX|NOTE||ASSESSMENT\\.br\\Essential hypertension.||||||F\r"
       "OBX|2|TX|NOTE||Lateral epicondylitis, right elbow.||||||F\r")


@pytest.mark.parametrize(("content", "expected"), [
    (NOTE.encode(), "text"), (json.dumps(FHIR).encode(), "fhir"), (HL7.encode(), "hl7v2"),
    (b'{"id": "A", "text": "x"}', "jsonl"), (b"{not json", "text")])
def test_ingest_detects_format(content: bytes, expected: str) -> None:
    assert detect_format(content) == expected


@pytest.mark.parametrize("sex", ["F"])
def test_ingest_fhir_bundle(sex: str) -> None:
    content = json.dumps(FHIR).encode()
    record = read_record(content)
    assert record.content == content and record.format == "fhir"
    assert "Essential hypertension." in record.text and "Lateral epicondylitis, right elbow." in record.text
    assert (record.record_id, record.setting, record.date_of_service) == ("enc-9", "inpatient", date(2026, 3, 14))
    assert (record.patient.identifier, record.patient.sex, record.age) == ("MRN-77", sex, 56)
    assert (record.facility, record.provider, record.patient.name) == ("General Hospital", "Dr Smith", "Ann Lee")


@pytest.mark.parametrize("record_id", ["V-555"])
def test_ingest_hl7v2_message(record_id: str) -> None:
    record = read_record(HL7.encode())
    assert record.text == "ASSESSMENT\nEssential hypertension.\nLateral epicondylitis, right elbow."
    assert (record.record_id, record.setting, record.date_of_service) == (record_id, "outpatient", date(2026, 3, 14))
    assert (record.patient.identifier, record.patient.sex, record.patient.birth_date) == ("MRN-88", "F",
                                                                                         date(1970, 1, 2))
    assert record.provider == "Greg House" and record.age == 56


@pytest.mark.parametrize(("line", "code"), [
    (b"{not json", "E601"), (b"[1, 2]", "E602"), (b'{"text": "x"}', "E602"), (b'{"id": "A"}', "E602"),
    (b'{"id": "A", "text": "  "}', "E605"), (b'{"id": "A", "text": "x", "date_of_service": "14/03/2026"}', "E607"),
    (b'{"id": "A", "text": "x", "setting": "ward"}', "E608"), (b'{"id": "A", "text": "x", "patient": {"sex": "Q"}}',
                                                               "E608"),
    (b'{"id": "A", "text": "x", "patient": {"age": -3}}', "E608"), (b'{"id": "A", "text": "\xff\xfe"}', "E609"),
    (b'{"id": "A", "text": "a\\u0000b"}', "E605")])
def test_ingest_jsonl_errors_are_coded(line: bytes, code: str) -> None:
    with pytest.raises(RecordError) as info:
        read_jsonl_record(line, where="line 3")
    assert info.value.code == code and "line 3" in str(info.value)


@pytest.mark.parametrize(("content", "fmt", "code"), [
    (b'{"resourceType": "Bundle", "entry": []}', "fhir", "E605"), (b"{", "fhir", "E603"),
    (b'{"a": 1}', "fhir", "E603"), (b"PID|1", "hl7v2", "E604"), (b"MSH|^~\\&|X\rPID|1", "hl7v2", "E605"),
    (b"", "text", "E605"), (b"x" * 5_000_001, "text", "E606"), (b"abc", "rtf", "E602")])
def test_ingest_bad_records_are_coded(content: bytes, fmt: str, code: str) -> None:
    with pytest.raises(RecordError) as info:
        read_record(content, format=fmt)
    assert info.value.code == code


@pytest.mark.parametrize("extra", [{"source": "aci-bench", "gold": {"icd10cm": ["I10"]}}])
def test_ingest_jsonl_keeps_unknown_fields(extra: dict) -> None:
    line = json.dumps({"id": 7, "text": NOTE, "setting": "inpatient", "date_of_service": "2026-03-14",
                       "patient": {"age": 57, "sex": "m"}, **extra}).encode()
    record = read_jsonl_record(line)
    assert (record.record_id, record.setting, record.age, record.patient.sex) == ("7", "inpatient", 57, "M")
    assert record.extra == extra and record.content == line
