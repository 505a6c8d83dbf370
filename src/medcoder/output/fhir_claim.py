"""A claim as a FHIR R4 ``Claim`` resource (plain dict / JSON), with its parties as contained resources.

Why contained resources: the claim travels alone (a review screen, an API response, an exchange with a payer
that accepts FHIR), so the patient, billing organization, practitioners, payer and coverage ride inside it and
are referenced as ``#id``. Code systems are the HL7 Terminology (THO) URIs, so any FHIR server recognises them.

Unlike the 837 writers this one does not refuse a claim with missing demographics: FHIR makes them optional
and a draft under review is still worth exchanging. It refuses only what would make the resource wrong
(pointers to diagnoses that do not exist, negative or fractional-cent charges), with the same E82x codes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from medcoder.errors import ClaimError
from medcoder.model.claim import Address, Claim, Diagnosis, Patient, Provider, ServiceLine

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
NPI = "http://hl7.org/fhir/sid/us-npi"
EIN = "urn:oid:2.16.840.1.113883.4.4"
NUCC = "http://nucc.org/provider-taxonomy"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
TYPE_OF_BILL = "https://www.nubc.org/CodeSystem/TypeOfBill"
DISCHARGE_STATUS = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
ADMISSION_TYPE = "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit"
POINT_OF_ORIGIN = "https://www.nubc.org/CodeSystem/PointOfOrigin"
_THO = "http://terminology.hl7.org/CodeSystem/"
_GENDER = {"F": "female", "M": "male", "U": "unknown"}
_POA = {"Y": "y", "N": "n", "U": "u", "W": "w"}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_CPT_CODE = re.compile(r"^[0-9]{4}[0-9FTU]$")


def claim_to_fhir(claim: Claim, *, created: date | datetime | None = None) -> dict[str, Any]:
    """The FHIR R4 Claim for ``claim``; ``created`` defaults to today (UTC)."""
    _check(claim)
    institutional = claim.kind == "institutional"
    contained: list[dict[str, Any]] = [_patient(claim.patient), _organization("billing", claim.billing_provider),
                                       _payer(claim), _coverage(claim)]
    resource: dict[str, Any] = {"resourceType": "Claim"}
    if _FHIR_ID.match(claim.claim_id):
        resource["id"] = claim.claim_id
    resource["contained"] = contained
    resource["identifier"] = [{"value": claim.claim_id}]
    resource["status"] = "active"
    resource["type"] = _concept(_THO + "claim-type", claim.kind)
    resource["use"] = "claim"
    resource["patient"] = {"reference": "#patient"}
    dates = claim.service_dates
    start = claim.statement_from or claim.admission_date or (dates[0] if dates else None)
    end = claim.statement_to or claim.discharge_date or (dates[-1] if dates else None)
    if start is not None and end is not None:
        resource["billablePeriod"] = {"start": start.isoformat(), "end": end.isoformat()}
    resource["created"] = (created or datetime.now(UTC).date()).isoformat()
    resource["provider"] = {"reference": "#billing"}
    resource["priority"] = _concept(_THO + "processpriority", "normal")
    if claim.service_facility is not None:
        contained.append(_location(claim.service_facility))
        resource["facility"] = {"reference": "#facility"}
    care_team = _care_team(claim, contained)
    if care_team:
        resource["careTeam"] = care_team
    if institutional:
        info = _supporting_info(claim)
        if info:
            resource["supportingInfo"] = info
    if claim.diagnoses:
        resource["diagnosis"] = _diagnoses(claim)
    if claim.procedures:
        resource["procedure"] = [
            {"sequence": p.sequence,
             "type": [_concept(_THO + "ex-procedure-type", "primary" if p.sequence == 1 else "secondary")],
             "date": p.performed_on.isoformat(), "procedureCodeableConcept": _concept(ICD10PCS, p.code.strip().upper())}
            for p in sorted(claim.procedures, key=lambda p: p.sequence)]
    resource["insurance"] = [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}]
    if claim.lines:
        resource["item"] = [_item(claim, i, line, care_team) for i, line in enumerate(claim.lines, 1)]
    resource["total"] = _money(claim.total_charge)
    return resource


def claim_to_fhir_json(claim: Claim, *, created: date | datetime | None = None, indent: int | None = 2) -> str:
    return json.dumps(claim_to_fhir(claim, created=created), indent=indent)


def _check(claim: Claim) -> None:
    count = len(claim.diagnoses)
    for i, line in enumerate(claim.lines):
        where = f"lines[{i}]"
        if any(not 1 <= p <= count for p in line.diagnosis_pointers):
            raise ClaimError(f"{where}.diagnosis_pointers {line.diagnosis_pointers} point past the {count} diagnoses",
                             code="E822", where=f"{where}.diagnosis_pointers",
                             fix="Point only at diagnoses on the claim (1-based)")
        if line.charge < 0 or line.charge != line.charge.quantize(Decimal("0.01")):
            raise ClaimError(f"{where}.charge {line.charge} must be a non-negative amount in whole cents",
                             code="E822", where=f"{where}.charge", fix="Round the charge to cents")


def _number(value: Decimal) -> int | float:
    """FHIR decimals as JSON numbers: integers stay integers, cents keep their shortest exact repr."""
    return int(value) if value == value.to_integral_value() else float(value)


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": _number(value), "currency": "USD"}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _address(address: Address | None) -> list[dict[str, Any]]:
    if address is None:
        return []
    return [{"line": [x for x in (address.line1, address.line2) if x], "city": address.city,
             "state": address.state, "postalCode": address.postal_code, "country": "US"}]


def _patient(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": "patient"}
    if patient.member_id:
        resource["identifier"] = [{"type": _concept(_THO + "v2-0203", "MB", "Member Number"),
                                   "value": patient.member_id}]
    resource["name"] = [{"family": patient.last_name, "given": [patient.first_name]}]
    if patient.sex:
        resource["gender"] = _GENDER[patient.sex]
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    if patient.address:
        resource["address"] = _address(patient.address)
    return resource


def _identifiers(provider: Provider) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if provider.npi:
        out.append({"system": NPI, "value": provider.npi})
    if provider.tax_id:
        out.append({"system": EIN, "value": provider.tax_id.replace("-", "")})
    return out


def _organization(ident: str, provider: Provider) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": ident}
    identifiers = _identifiers(provider)
    if identifiers:
        resource["identifier"] = identifiers
    resource["active"] = True
    resource["name"] = _full_name(provider)
    if provider.address:
        resource["address"] = _address(provider.address)
    return resource


def _full_name(provider: Provider) -> str:
    return f"{provider.first_name} {provider.name}" if provider.is_person and provider.first_name else provider.name


def _practitioner(ident: str, provider: Provider) -> dict[str, Any]:
    """A person as Practitioner (``name`` is the family name), an organization as Organization."""
    if not provider.is_person:
        return _organization(ident, provider)
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": ident}
    identifiers = _identifiers(provider)
    if identifiers:
        resource["identifier"] = identifiers
    name: dict[str, Any] = {"family": provider.name}
    if provider.first_name:
        name["given"] = [provider.first_name]
    resource["name"] = [name]
    if provider.address:
        resource["address"] = _address(provider.address)
    return resource


def _location(provider: Provider) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Location", "id": "facility", "status": "active",
                                "name": provider.name}
    if provider.npi:
        resource["identifier"] = [{"system": NPI, "value": provider.npi}]
    if provider.address:
        resource["address"] = _address(provider.address)[0]
    return resource


def _payer(claim: Claim) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": "payer",
            "identifier": [{"type": {"text": "Payer ID"}, "value": claim.payer.payer_id}],
            "active": True, "name": claim.payer.name}


def _coverage(claim: Claim) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Coverage", "id": "coverage", "status": "active"}
    if claim.patient.member_id:
        resource["subscriberId"] = claim.patient.member_id
    resource["beneficiary"] = {"reference": "#patient"}
    resource["relationship"] = _concept(_THO + "subscriber-relationship", "self")
    resource["payor"] = [{"reference": "#payer"}]
    return resource


def _care_team(claim: Claim, contained: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attending (institutional) then rendering, each once; the first is the primary provider."""
    team: list[dict[str, Any]] = []
    seen: list[Provider] = []
    for ident, provider in (("attending", claim.attending_provider), ("rendering", claim.rendering_provider)):
        if provider is None or provider in seen:
            continue
        seen.append(provider)
        contained.append(_practitioner(ident, provider))
        member: dict[str, Any] = {"sequence": len(team) + 1, "provider": {"reference": f"#{ident}"},
                                  "role": _concept(_THO + "claimcareteamrole", "primary" if not team else "other")}
        if provider.taxonomy:
            member["qualification"] = _concept(NUCC, provider.taxonomy)
        team.append(member)
    return team


def _supporting_info(claim: Claim) -> list[dict[str, Any]]:
    category = _THO + "claiminformationcategory"
    info: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        info.append({"sequence": len(info) + 1, "category": _concept(category, kind), **fields})

    if claim.type_of_bill:
        add("info", code=_concept(TYPE_OF_BILL, claim.type_of_bill))
    if claim.admission_date:
        period = {"start": claim.admission_date.isoformat()}
        if claim.discharge_date:
            period["end"] = claim.discharge_date.isoformat()
        add("hospitalized", timingPeriod=period)
    if claim.admission_type:
        add("info", code=_concept(ADMISSION_TYPE, claim.admission_type))
    if claim.admission_source:
        add("info", code=_concept(POINT_OF_ORIGIN, claim.admission_source))
    if claim.discharge_status:
        add("discharge", code=_concept(DISCHARGE_STATUS, claim.discharge_status))
    return info


def _icd10cm(code: str) -> str:
    """FHIR writes ICD-10-CM with its dot (``E1165`` -> ``E11.65``)."""
    clean = code.strip().upper().replace(".", "")
    return f"{clean[:3]}.{clean[3:]}" if len(clean) > 3 else clean


def _diagnoses(claim: Claim) -> list[dict[str, Any]]:
    inpatient = claim.kind == "institutional" and claim.setting == "inpatient"
    out: list[dict[str, Any]] = []
    admitting = _icd10cm(claim.admitting_diagnosis) if claim.admitting_diagnosis and inpatient else None
    for d in claim.diagnoses:
        out.append(_diagnosis(d, d.sequence, inpatient=inpatient))
        types = (["principal"] if d.sequence == 1 else []) + (["admitting"] if admitting == _icd10cm(d.code) else [])
        if types:
            out[-1]["type"] = [_concept(_THO + "ex-diagnosistype", t) for t in types]
    if admitting and all(_icd10cm(d.code) != admitting for d in claim.diagnoses):
        extra = _diagnosis(Diagnosis(code=admitting, sequence=len(claim.diagnoses) + 1), len(out) + 1,
                           inpatient=False)
        extra["type"] = [_concept(_THO + "ex-diagnosistype", "admitting")]
        out.append(extra)
    return out


def _diagnosis(d: Diagnosis, sequence: int, *, inpatient: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"sequence": sequence, "diagnosisCodeableConcept": _concept(ICD10CM, _icd10cm(d.code))}
    poa = _POA.get((d.poa or "").strip().upper())
    if inpatient and poa:
        entry["onAdmission"] = _concept(_THO + "ex-diagnosis-on-admission", poa)
    return entry


def _item(claim: Claim, sequence: int, line: ServiceLine, care_team: list[dict[str, Any]]) -> dict[str, Any]:
    item: dict[str, Any] = {"sequence": sequence}
    if care_team and claim.kind == "professional":
        item["careTeamSequence"] = [care_team[-1]["sequence"]]
    if line.diagnosis_pointers:
        item["diagnosisSequence"] = [claim.diagnoses[p - 1].sequence for p in line.diagnosis_pointers]
    if line.revenue_code:
        item["revenue"] = _concept(REVENUE, line.revenue_code.zfill(4))
    code = line.code.strip().upper()
    if code:
        item["productOrService"] = _concept(CPT if _CPT_CODE.match(code) else HCPCS, code)
    else:
        # Room-and-board and other revenue-code-only lines have no CPT/HCPCS; productOrService is 1..1.
        item["productOrService"] = _concept(_THO + "data-absent-reason", "not-applicable")
    if line.modifiers:
        # CPT modifiers are two digits (25, 59); HCPCS Level II modifiers have a letter (LT, XS, GT).
        item["modifier"] = [_concept(CPT if m.isdigit() else HCPCS, m.strip().upper()) for m in line.modifiers]
    item["servicedDate"] = line.service_date.isoformat()
    if claim.kind == "professional":
        item["locationCodeableConcept"] = _concept(POS, line.place_of_service or claim.place_of_service)
    item["quantity"] = {"value": _number(line.units)}
    if line.units > 0:
        unit_price = line.charge / line.units
        # Only when exact: FHIR net = quantity x unitPrice, and a rounded unit price would break that sum.
        if unit_price == unit_price.quantize(Decimal("0.01")) and unit_price * line.units == line.charge:
            item["unitPrice"] = _money(unit_price)
    item["net"] = _money(line.charge)
    return item
