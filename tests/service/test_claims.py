"""Claims use cases on the real knowledge base: edits, prices checked by hand, and the written formats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from medcoder.claim import load_claim, sample_path
from medcoder.errors import ClaimError
from medcoder.ingest.detect import read_record
from medcoder.model.claim import Claim, Patient
from medcoder.service import claims, process, review
from medcoder.service.auth import Actor
from medcoder.settings import Settings

CODER = Actor(name="ann", role="coder")


def _claim(name: str) -> Claim:
    return load_claim(sample_path(name))


@pytest.mark.parametrize(("name", "day"), [("office_visit", date(2026, 2, 10)),
                                           ("inpatient_pneumonia", date(2026, 1, 9))])
def test_claims_day_is_service_or_discharge(name: str, day: date) -> None:
    assert claims.claim_day(_claim(name)) == day


@pytest.mark.parametrize("name", ["office_visit", "inpatient_pneumonia"])
def test_claims_check_samples_have_no_error(kb_settings: Settings, name: str) -> None:
    findings = claims.check(_claim(name), settings=kb_settings)
    assert [f for f in findings if f.severity == "error"] == []
    assert all(f.release for f in findings if f.rule_set in ("tabular", "validity"))


@pytest.mark.parametrize(("code", "rule"), [("E11.", "validity.dx-format"), ("E11", "validity.dx-not-billable")])
def test_claims_check_reports_bad_code(kb_settings: Settings, code: str, rule: str) -> None:
    claim = _claim("office_visit")
    claim = replace(claim, diagnoses=(replace(claim.diagnoses[0], code=code), *claim.diagnoses[1:]))
    findings = claims.check(claim, settings=kb_settings)
    errors = [f for f in findings if f.severity == "error"]
    assert errors and errors[0].codes == (code,), [f.rule for f in findings]


@pytest.mark.parametrize(("amounts", "total"), [
    # CY2026 national non-facility, CF 33.4009: 99214 (1.92 + 2.00 + 0.14) = 4.06 x CF = 135.6077 -> 135.61;
    # 93000 (0.17 + 0.27 + 0.02) = 0.46 x CF = 15.3644 -> 15.36
    ({"99214": "135.61", "93000": "15.36"}, "150.97"),
])
def test_claims_price_professional_pfs(kb_settings: Settings, amounts: dict[str, str], total: str) -> None:
    result = claims.price(_claim("office_visit"), settings=kb_settings)
    pfs = result["pfs"]
    assert {line["code"]: line["allowed"] for line in pfs["lines"]} == amounts
    assert pfs["total"] == total and pfs["complete"] and "drg" not in result
    assert pfs["lines"][0]["breakdown"]["conversion_factor"] == "33.4009"
    assert result["releases"]["pfs"] == "CY2026"
    json.dumps(result)  # plain JSON


@pytest.mark.parametrize(("drg", "weight", "payment"), [
    # J18.9 with E87.1 (a CC on Table 6J) -> 194; FY2026 weight 0.8059 x IPPS 6752.61 = 5441.928 -> 5441.93
    ("194", 0.8059, "5441.93"),
])
def test_claims_price_inpatient_drg(kb_settings: Settings, drg: str, weight: float, payment: str) -> None:
    result = claims.price(_claim("inpatient_pneumonia"), settings=kb_settings)
    assert "pfs" not in result
    got = result["drg"]
    assert (got["drg"], got["weight"], got["payment"], got["drivers"]) == (drg, weight, payment, ["E871"])
    assert got["base_rate"] == "6752.61" and result["releases"]["msdrg"] == "FY2026"
    json.dumps(result)


@pytest.mark.parametrize(("name", "age", "hccs"), [("office_visit", 74, ["38"]), ("inpatient_pneumonia", 79, ["38"])])
def test_claims_price_risk_of_known_patient(kb_settings: Settings, name: str, age: int, hccs: list[str]) -> None:
    risk = claims.price(_claim(name), settings=kb_settings)["risk"]
    assert risk["beneficiary"] == {"age": age, "sex": risk["beneficiary"]["sex"], "segment": "CNA",
                                   "originally_disabled": False, "medicaid": False}
    assert [h["hcc"] for h in risk["hccs"]] == hccs and "V28" in risk["model"]
    assert risk["score"] == pytest.approx(sum(f["value"] for f in risk["factors"]), abs=1e-3)


@pytest.mark.parametrize("sex", [None, "U"])
def test_claims_price_no_risk_without_sex(kb_settings: Settings, sex: Any) -> None:
    claim = _claim("office_visit")
    claim = replace(claim, patient=replace(claim.patient, sex=sex))
    assert "risk" not in claims.price(claim, settings=kb_settings)


@pytest.mark.parametrize("discharge_status", ["01"])
def test_claims_price_inpatient_error_kept_in_part(kb_settings: Settings, discharge_status: str) -> None:
    claim = _claim("inpatient_pneumonia")
    bad = replace(claim, diagnoses=(replace(claim.diagnoses[0], code="J18"), *claim.diagnoses[1:]),
                  discharge_status=discharge_status)
    result = claims.price(bad, settings=kb_settings)
    assert result["drg"]["error"]["code"].startswith("E84")


@pytest.mark.parametrize(("name", "fmt", "starts"), [
    ("office_visit", "837p", "ISA*"), ("inpatient_pneumonia", "837i", "ISA*"), ("office_visit", "fhir", "{"),
    ("inpatient_pneumonia", "fhir", "{"),
])
def test_claims_write_formats(name: str, fmt: str, starts: str) -> None:
    text = claims.write(_claim(name), fmt=fmt, phone="410-555-0134")
    assert text.startswith(starts)
    if fmt == "fhir":
        assert json.loads(text)["resourceType"] == "Claim"
    else:
        assert ("005010X222A1" if fmt == "837p" else "005010X223A2") in text and "*T*" in text


@pytest.mark.parametrize(("name", "fmt", "phone"), [("office_visit", "837i", "4105550134"),
                                                    ("office_visit", "x12", "4105550134"),
                                                    ("office_visit", "837p", None)])
def test_claims_write_refuses(name: str, fmt: str, phone: str | None) -> None:
    with pytest.raises(ClaimError) as info:
        claims.write(_claim(name), fmt=fmt, phone=phone)
    assert info.value.code == "E805" and info.value.fix


@pytest.mark.parametrize("added", ["E78.5"])
def test_claims_for_encounter_takes_final_codes(service: Any, added: str) -> None:
    note = b"ASSESSMENT AND PLAN\nEssential hypertension.\nLateral epicondylitis, right elbow.\n"
    sub = process.submit_record(service, record=read_record(note, record_id="C1"), actor=CODER)
    detail = process.encounter_detail(service, encounter_id=sub.encounter_id, actor=CODER)
    by_code = {s["code"]: s for s in detail["suggestions"]}
    review.decide(service, suggestion_id=by_code["I10"]["id"], version=by_code["I10"]["version"],
                  decision="accept", actor=CODER)
    review.decide(service, suggestion_id=by_code["M77.11"]["id"], version=by_code["M77.11"]["version"],
                  decision="reject", actor=CODER)
    version = process.encounter_detail(service, encounter_id=sub.encounter_id, actor=CODER)["version"]
    review.add_code(service, encounter_id=sub.encounter_id, version=version, system="ICD-10-CM", code=added,
                    actor=CODER)
    billing = json.loads(sample_path("office_visit").read_text(encoding="utf-8"))
    billing["diagnoses"] = ["Z00.00"]  # replaced by the encounter's final codes
    billing["lines"][0]["diagnosis_pointers"] = [1, 2]
    claim = claims.claim_for_encounter(service, encounter_id=sub.encounter_id, billing=billing, actor=CODER)
    assert [(d.code, d.sequence) for d in claim.diagnoses] == [("I10", 1), (added, 2)]
    assert isinstance(claim.patient, Patient) and claim.lines[0].code == "99214"


@pytest.mark.parametrize("record_id", ["C2"])
def test_claims_for_encounter_without_final_codes(service: Any, record_id: str) -> None:
    sub = process.submit_record(service, record=read_record(b"Essential hypertension.\n", record_id=record_id),
                                actor=CODER)
    billing = json.loads(sample_path("office_visit").read_text(encoding="utf-8"))
    with pytest.raises(ClaimError) as info:
        claims.claim_for_encounter(service, encounter_id=sub.encounter_id, billing=billing, actor=CODER)
    assert info.value.code == "E806"
