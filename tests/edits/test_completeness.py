"""Rule set ``completeness``: front-end rejections (X12 5010 837P/837I), on claims built by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from medcoder.edits.completeness import check_completeness, npi_is_valid
from medcoder.model.claim import Claim, Diagnosis, ProcedureCode, Provider, ServiceLine
from tests.edits.test_codes import DAY, NPI, inpatient_claim, make_claim


def _line(number: int = 1, *, code: str = "99213", day: date = DAY, charge: str = "120", units: str = "1",
          pointers: tuple[int, ...] = (1,), modifiers: tuple[str, ...] = ()) -> ServiceLine:
    return ServiceLine(number=number, code=code, service_date=day, charge=Decimal(charge), units=Decimal(units),
                       diagnosis_pointers=pointers, modifiers=modifiers)


STAY = {"admitted": DAY - timedelta(days=3), "discharged": DAY}


@pytest.mark.parametrize(("npi", "valid", "why"), [
    ("1234567893", True, "the CMS NPI standard's worked example: Luhn over 80840123456789 gives 3"),
    ("1234567890", False, "wrong check digit"),
    ("123456789", False, "9 digits"),
    ("12345678931", False, "11 digits"),
    ("12345678a3", False, "not all digits"),
    (None, False, "missing"),
])
def test_completeness_npi_luhn(npi: str | None, valid: bool, why: str) -> None:
    assert npi_is_valid(npi) is valid, why


@pytest.mark.parametrize("claim", [make_claim(["E11.9", "I10"]), inpatient_claim(["J18.9"], **STAY)],
                         ids=["professional", "inpatient"])
def test_completeness_clean_claims_pass(claim: Claim) -> None:
    assert check_completeness(claim) == []


CASES: list[tuple[str, Callable[[], Claim], set[tuple[str, str]]]] = [
    ("no diagnosis", lambda: make_claim([]), {("completeness.no-diagnosis", "error"),
                                              ("completeness.pointer-missing", "error")}),
    ("sequence gap", lambda: make_claim(["I10"], diagnoses=(Diagnosis(code="I10", sequence=2),)),
     {("completeness.dx-sequence", "error")}),
    ("13 diagnoses on an 837P", lambda: make_claim([f"E11.{n}" for n in range(13)]),
     {("completeness.dx-count", "info")}),
    ("pointer out of range", lambda: make_claim(["I10"], lines=(_line(pointers=(1, 5)),)),
     {("completeness.pointer-range", "error")}),
    ("five pointers", lambda: make_claim(["I10", "E11.9", "E78.5", "J45.909", "K21.9"],
                                         lines=(_line(pointers=(1, 2, 3, 4, 5)),)),
     {("completeness.pointer-count", "error")}),
    ("repeated pointer", lambda: make_claim(["I10"], lines=(_line(pointers=(1, 1)),)),
     {("completeness.pointer-repeated", "warning")}),
    ("no pointer", lambda: make_claim(["I10"], lines=(_line(pointers=()),)),
     {("completeness.pointer-missing", "error")}),
    ("no lines", lambda: make_claim(["I10"], lines=()), {("completeness.no-lines", "error")}),
    ("billing NPI check digit", lambda: make_claim(billing_provider=Provider(name="Clinic", npi="1234567890",
                                                                          taxonomy="207Q00000X")),
     {("completeness.billing-npi", "error")}),
    ("billing NPI missing", lambda: make_claim(billing_provider=Provider(name="Clinic", taxonomy="207Q00000X")),
     {("completeness.billing-npi", "error")}),
    ("billing taxonomy missing", lambda: make_claim(billing_provider=Provider(name="Clinic", npi=NPI)),
     {("completeness.billing-taxonomy", "warning")}),
    ("billing taxonomy malformed", lambda: make_claim(billing_provider=Provider(name="Clinic", npi=NPI,
                                                                             taxonomy="207Q0000")),
     {("completeness.billing-taxonomy", "error")}),
    ("rendering without NPI", lambda: make_claim(rendering_provider=Provider(name="Dr Who", taxonomy="207Q00000X")),
     {("completeness.rendering-npi", "error")}),
    ("payer id blank", lambda: make_claim(payer=replace(make_claim().payer, payer_id=" ")),
     {("completeness.payer-id", "error")}),
    ("member id missing", lambda: make_claim(patient=replace(make_claim().patient, member_id=None)),
     {("completeness.member-id", "error")}),
    ("sex missing", lambda: make_claim(sex=None), {("completeness.sex", "error")}),
    ("birth date missing", lambda: make_claim(birth=None), {("completeness.birth-date", "error")}),
    ("birth after service", lambda: make_claim(birth=DAY + timedelta(days=1)),
     {("completeness.birth-after-service", "error")}),
    ("statement backwards", lambda: make_claim(statement_from=DAY, statement_to=DAY - timedelta(days=1)),
     {("completeness.statement-period", "error"), ("completeness.line-date", "error")}),
    ("line outside statement", lambda: make_claim(statement_from=DAY - timedelta(days=10),
                                                  statement_to=DAY - timedelta(days=5)),
     {("completeness.line-date", "error")}),
    ("zero charge", lambda: make_claim(lines=(_line(charge="0"),)), {("completeness.charge", "error")}),
    ("negative charge", lambda: make_claim(lines=(_line(charge="-5"),)), {("completeness.charge", "error")}),
    ("zero units", lambda: make_claim(lines=(_line(units="0"),)), {("completeness.units", "error")}),
    ("duplicate lines", lambda: make_claim(lines=(_line(1, modifiers=("RT", "59")), _line(2, modifiers=("59", "RT")))),
     {("completeness.duplicate-line", "warning")}),
    ("inpatient without principal", lambda: inpatient_claim(
        ["J18.9"], diagnoses=(Diagnosis(code="J18.9", sequence=2),), **STAY),
     {("completeness.no-principal", "error"), ("completeness.dx-sequence", "error")}),
    ("inpatient without type of bill", lambda: replace(inpatient_claim(["J18.9"], **STAY), type_of_bill=None),
     {("completeness.type-of-bill", "error")}),
    ("type of bill malformed", lambda: replace(inpatient_claim(["J18.9"], **STAY), type_of_bill="11A"),
     {("completeness.type-of-bill", "error")}),
    ("inpatient without discharge status", lambda: inpatient_claim(["J18.9"], discharge_status=None, **STAY),
     {("completeness.discharge-status", "error")}),
    ("inpatient without admission date", lambda: replace(inpatient_claim(["J18.9"], **STAY), admission_date=None),
     {("completeness.admission-date", "error")}),
    ("discharge before admission", lambda: inpatient_claim(["J18.9"], admitted=DAY, discharged=DAY - timedelta(2)),
     {("completeness.discharge-before-admission", "error"), ("completeness.statement-period", "error")}),
    ("procedure outside the stay", lambda: replace(inpatient_claim(["J18.9"], **STAY), procedures=(
        ProcedureCode(code="0BJ08ZZ", performed_on=DAY + timedelta(days=1), sequence=1),)),
     {("completeness.procedure-date", "warning")}),
    ("inpatient without type of admission", lambda: replace(inpatient_claim(["J18.9"], **STAY), admission_type=None),
     {("completeness.admission-type", "error")}),
    ("inpatient without point of origin", lambda: replace(inpatient_claim(["J18.9"], **STAY),
                                                          admission_source=None),
     {("completeness.admission-source", "warning")}),
    ("inpatient without admitting diagnosis", lambda: replace(inpatient_claim(["J18.9"], **STAY),
                                                              admitting_diagnosis=None),
     {("completeness.admitting-diagnosis", "warning")}),
    ("institutional without attending", lambda: replace(inpatient_claim(["J18.9"], **STAY), attending_provider=None),
     {("completeness.attending-provider", "error")}),
    ("institutional line without revenue code", lambda: replace(inpatient_claim(["J18.9"], **STAY),
                                                                lines=(_line(pointers=()),)),
     {("completeness.revenue-code", "error")}),
]


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_completeness_rule(name: str, build: Callable[[], Claim], expected: set[tuple[str, str]]) -> None:
    findings = check_completeness(build())
    assert {(f.rule, f.severity) for f in findings} == expected, [f.message for f in findings]
    assert all(f.release == "completeness 2026.1" and f.fix for f in findings)


def test_completeness_duplicate_line_names_both_lines() -> None:
    claim = make_claim(lines=(_line(1), _line(2, code="J1100"), _line(3)))
    finding = check_completeness(claim)[0]
    assert finding.lines == (1, 3) and finding.codes == ("99213",)


def test_completeness_line_findings_carry_the_line() -> None:
    claim = make_claim(["I10"], lines=(_line(1), _line(2, code="J1100", charge="0", units="0", pointers=(7,))))
    findings = check_completeness(claim)
    assert {f.rule for f in findings} == {"completeness.charge", "completeness.units", "completeness.pointer-range"}
    assert all(f.lines == (2,) for f in findings)
