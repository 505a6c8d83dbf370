"""FHIR R4 Claim writer: every claim validates with fhir.resources (R4B models; Claim is unchanged from R4) and
survives its round trip unchanged; codes carry the right systems; the validator is shown to be live.

fhir.resources checks structure, cardinality, data types and choice types, not value-set bindings, so the
code systems and codes are asserted here directly."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from pydantic import ValidationError

from medcoder.errors import ClaimError
from medcoder.model.claim import Claim, Patient
from medcoder.output.fhir_claim import CPT, HCPCS, ICD10CM, ICD10PCS, POS, claim_to_fhir, claim_to_fhir_json
from tests.output.claims import emergency_visit, hospital_visit, inpatient_stay, many_diagnoses, office_visit

CREATED = date(2026, 3, 2)
CLAIMS: dict[str, Callable[[], Claim]] = {
    "office visit": office_visit, "12 diagnoses": many_diagnoses, "hospitalist": hospital_visit,
    "inpatient stay": inpatient_stay, "outpatient ED": emergency_visit,
    "draft without demographics": lambda: replace(office_visit(), patient=Patient(
        member_id=None, last_name="Doe", first_name="Jane", birth_date=None, sex=None)),
}


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    return json.loads(FhirClaim.model_validate(resource).model_dump_json())  # type: ignore[no-any-return]


def _codes(concept: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept["coding"]]


@pytest.mark.parametrize("name", list(CLAIMS))
def test_fhir_claim_validates_and_round_trips_with_fhir_resources(name: str) -> None:
    resource = claim_to_fhir(CLAIMS[name](), created=CREATED)
    assert _validated(resource) == resource
    assert json.loads(claim_to_fhir_json(CLAIMS[name](), created=CREATED)) == resource


@pytest.mark.parametrize(("path", "value"), [
    (("status",), ""),                                # required element left empty
    (("item", 0, "sequence"), "first"),               # positiveInt
    (("item", 0, "productOrSevice"), {"text": "x"}),  # unknown element (a typo) is refused
    (("total", "value"), "lots"),                     # decimal
    (("contained", 0, "birthDate"), "14/06/1951"),    # FHIR date format, inside a contained resource
    (("diagnosis", 0, "diagnosisReference"), {"reference": "#x"}),  # choice type given twice
])
def test_fhir_claim_validator_is_live(path: tuple[Any, ...], value: Any) -> None:
    resource = claim_to_fhir(office_visit(), created=CREATED)
    target = resource
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        FhirClaim.model_validate(resource)


@pytest.mark.parametrize("missing", ["patient", "provider", "priority", "insurance", "created"])
def test_fhir_claim_validator_requires_what_r4_requires(missing: str) -> None:
    resource = claim_to_fhir(office_visit(), created=CREATED)
    del resource[missing]
    with pytest.raises(ValidationError):
        FhirClaim.model_validate(resource)


@pytest.mark.parametrize("claim", [office_visit()], ids=["office"])
def test_fhir_claim_professional_content(claim: Claim) -> None:
    resource = claim_to_fhir(claim, created=CREATED)
    assert _codes(resource["type"]) == [("http://terminology.hl7.org/CodeSystem/claim-type", "professional")]
    assert (resource["use"], resource["status"], resource["created"]) == ("claim", "active", "2026-03-02")
    assert [(d["sequence"], _codes(d["diagnosisCodeableConcept"])) for d in resource["diagnosis"]] == [
        (d.sequence, [(ICD10CM, d.code)]) for d in claim.diagnoses]
    items = resource["item"]
    assert [_codes(i["productOrService"]) for i in items] == [
        [(CPT, "99214")], [(CPT, "20610")], [(HCPCS, "J3301")], [(CPT, "83036")]]
    assert [[m for i2 in i.get("modifier", []) for m in _codes(i2)] for i in items] == [
        [(CPT, "25")], [(HCPCS, "RT")], [], [(HCPCS, "QW")]]
    assert [i["diagnosisSequence"] for i in items] == [list(line.diagnosis_pointers) for line in claim.lines]
    assert [i["quantity"]["value"] for i in items] == [1, 1, 4, 1]
    assert "unitPrice" not in items[2]  # 24.75 for 4 units is not a whole-cent unit price
    assert [Decimal(str(i["net"]["value"])) for i in items] == [line.charge for line in claim.lines]
    assert all(_codes(i["locationCodeableConcept"]) == [(POS, "11")] for i in items)
    assert all(i["servicedDate"] == "2026-02-10" and i["careTeamSequence"] == [1] for i in items)
    assert Decimal(str(resource["total"]["value"])) == claim.total_charge
    kinds = {r["id"]: r["resourceType"] for r in resource["contained"]}
    assert kinds == {"patient": "Patient", "billing": "Organization", "payer": "Organization",
                     "coverage": "Coverage", "rendering": "Practitioner"}


@pytest.mark.parametrize(("charge", "units", "unit_price"), [("24.75", 4, None), ("100", 4, 25), ("9.99", 1, 9.99)])
def test_fhir_claim_unit_price_only_when_exact(charge: str, units: int, unit_price: float | None) -> None:
    claim = office_visit()
    line = replace(claim.lines[0], charge=Decimal(charge), units=Decimal(units))
    item = claim_to_fhir(replace(claim, lines=(line,)), created=CREATED)["item"][0]
    assert item.get("unitPrice", {}).get("value") == unit_price


def test_fhir_claim_institutional_content() -> None:
    claim = inpatient_stay()
    resource = _validated(claim_to_fhir(claim, created=CREATED))
    assert _codes(resource["type"])[0][1] == "institutional"
    assert resource["billablePeriod"] == {"start": "2026-01-05", "end": "2026-01-09"}
    principal = resource["diagnosis"][0]
    assert [c["coding"][0]["code"] for c in principal["type"]] == ["principal", "admitting"]
    assert principal["onAdmission"]["coding"][0]["code"] == "y"
    exempt = next(d for d in resource["diagnosis"] if d["diagnosisCodeableConcept"]["coding"][0]["code"] == "Z79.84")
    assert "onAdmission" not in exempt
    assert [(p["sequence"], _codes(p["procedureCodeableConcept"]), p["date"]) for p in resource["procedure"]] == [
        (1, [(ICD10PCS, "0QS704Z")], "2026-01-06"), (2, [(ICD10PCS, "30233N1")], "2026-01-07"),
        (3, [(ICD10PCS, "BQ00ZZZ")], "2026-01-05")]
    items = resource["item"]
    assert [i["revenue"]["coding"][0]["code"] for i in items] == ["0120", "0360", "0320", "0250"]
    assert items[0]["productOrService"]["coding"][0]["code"] == "not-applicable"
    assert all("locationCodeableConcept" not in i for i in items)
    info = {i["category"]["coding"][0]["code"]: i for i in resource["supportingInfo"]}
    assert info["hospitalized"]["timingPeriod"] == {"start": "2026-01-05", "end": "2026-01-09"}
    assert info["discharge"]["code"]["coding"][0]["code"] == "03"
    roles = [(m["provider"]["reference"], m["role"]["coding"][0]["code"]) for m in resource["careTeam"]]
    assert roles == [("#attending", "primary"), ("#rendering", "other")]


@pytest.mark.parametrize("admitting", ["R26.89", "M25.551"])
def test_fhir_claim_admitting_diagnosis_typed_once(admitting: str) -> None:
    claim = replace(inpatient_stay(), admitting_diagnosis=admitting)
    diagnoses = _validated(claim_to_fhir(claim, created=CREATED))["diagnosis"]
    typed = [d for d in diagnoses if any(t["coding"][0]["code"] == "admitting" for t in d.get("type", []))]
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in typed] == [admitting]
    assert [d["sequence"] for d in diagnoses] == list(range(1, len(diagnoses) + 1))


@pytest.mark.parametrize(("change", "where"), [
    (lambda c: replace(c, lines=(replace(c.lines[0], diagnosis_pointers=(9,)),)), "lines[0].diagnosis_pointers"),
    (lambda c: replace(c, lines=(replace(c.lines[0], charge=Decimal("-5")),)), "lines[0].charge"),
])
def test_fhir_claim_refuses_impossible_claims(change: Callable[[Claim], Claim], where: str) -> None:
    with pytest.raises(ClaimError) as e:
        claim_to_fhir(change(office_visit()), created=CREATED)
    assert e.value.code == "E822" and e.value.where == where


@pytest.mark.parametrize("claim_id", ["CLM 0001/2026"])
def test_fhir_claim_id_not_a_fhir_id_stays_an_identifier(claim_id: str) -> None:
    resource = _validated(claim_to_fhir(replace(office_visit(), claim_id=claim_id), created=CREATED))
    assert "id" not in resource and resource["identifier"] == [{"value": claim_id}]
