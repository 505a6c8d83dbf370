"""Rule set ``validity`` on real codes: each case cites the MCE window, Tabular entry or HCPCS row behind it.

``make_claim`` (a valid professional claim built by hand) is shared with the other edits tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.edits.codes import check_validity, dx_days, edit_day, valid_below
from medcoder.model.claim import Claim, Diagnosis, Patient, Payer, ProcedureCode, Provider, ServiceLine
from medcoder.model.findings import EditFinding

DAY = date(2025, 12, 1)
NPI = "1234567893"  # the CMS NPI standard's own worked example of a valid check digit


def make_claim(dx: list[str] | tuple[str, ...] = ("I10",), *, day: date = DAY, sex: Any = "F",
               birth: date | None = date(1980, 1, 1), lines: tuple[ServiceLine, ...] | None = None,
               procedures: tuple[str, ...] = (), **changes: Any) -> Claim:
    """A complete professional claim (passes every completeness rule) with the diagnoses given."""
    if lines is None:
        pointers = tuple(range(1, min(4, len(dx)) + 1))
        lines = (ServiceLine(number=1, code="99213", service_date=day, charge=Decimal("120.00"),
                             diagnosis_pointers=pointers),)
    fields: dict[str, Any] = {
        "claim_id": "C-1", "kind": "professional",
        "patient": Patient(member_id="1EG4TE5MK73", last_name="Doe", first_name="Jane", birth_date=birth, sex=sex),
        "payer": Payer(name="Medicare Part B", payer_id="01112"),
        "billing_provider": Provider(name="Main Street Clinic", npi=NPI, taxonomy="207Q00000X"),
        "diagnoses": tuple(Diagnosis(code=code, sequence=i + 1) for i, code in enumerate(dx)),
        "lines": lines,
        "procedures": tuple(ProcedureCode(code=code, performed_on=day, sequence=i + 1)
                            for i, code in enumerate(procedures)),
    }
    fields.update(changes)
    return Claim(**fields)


def inpatient_claim(dx: list[str] | tuple[str, ...], *, admitted: date, discharged: date,
                    procedures: tuple[str, ...] = (), **changes: Any) -> Claim:
    """A complete inpatient (837I, type of bill 0111) claim; procedures are performed on the admission day."""
    for key, value in (("discharge_status", "01"), ("admission_type", "3"), ("admission_source", "1"),
                       ("admitting_diagnosis", dx[0] if dx else None)):
        changes.setdefault(key, value)
    base = make_claim(dx, day=admitted, lines=(), procedures=procedures, kind="institutional", setting="inpatient",
                      admission_date=admitted, discharge_date=discharged, statement_from=admitted,
                      statement_to=discharged, type_of_bill="0111",
                      attending_provider=Provider(name="Dr Attending", npi=NPI, taxonomy="207R00000X"), **changes)
    return base


def _rules(findings: list[EditFinding]) -> list[str]:
    return [f.rule for f in findings]


@pytest.mark.parametrize(("dx", "day", "rule", "in_message", "in_fix", "why"), [
    ("E11.2", DAY, "validity.dx-header", "subcategory", "E11.21, E11.22, E11.29",
     "Tabular: E11.2 is a subcategory whose codes are E11.21/E11.22/E11.29 (no MCE row for E112)"),
    ("S52.501", DAY, "validity.dx-seventh-missing", "7th character", "S52.501A",
     "Tabular S52: 7th characters A-S (sevenChrDef) apply; S52501 has no MCE row"),
    ("S52.501Z", DAY, "validity.dx-seventh-invalid", "7th character Z is not valid", "A (initial encounter",
     "Tabular S52 sevenChrDef has no Z"),
    ("T40.21A", DAY, "validity.dx-placeholder", "placeholder X", "T40.2X1A",
     "Tabular T40.2X1: 'placeholder X' convention for 7th-character codes shorter than 6 characters"),
    ("G35", DAY, "validity.dx-header", "billable until 2025-09-30", "G35.A, G35.B0",
     "MCE: G35 valid 2015-10-01..2025-09-30, expanded in FY2026 into G35.A-G35.D"),
    ("S30.1XXA", DAY, "validity.dx-not-in-effect", "valid 2015-10-01 to 2025-09-30", "S30.11XA, S30.12XA, S30.13XA",
     "MCE: S301XXA valid 2015-10-01..2025-09-30; S3011XA.. valid from 2025-10-01"),
    ("E11.A", date(2025, 6, 1), "validity.dx-not-in-effect", "valid from 2025-10-01", "code set in force",
     "MCE: E11A valid from 2025-10-01 (FY2026 new code)"),
    ("T78.1XXA", DAY, "validity.dx-not-in-effect", "valid 2015-10-01 to 2025-09-30", "T78.110A",
     "MCE: T781XXA ended 2025-09-30; FY2026 expanded T78.1 (T78110A ... valid from 2025-10-01)"),
    ("Q99.8", DAY, "validity.dx-header", "billable until 2025-09-30", "Q99.811",
     "MCE: Q998 ended 2025-09-30; the FY2026 Tabular makes Q99.8 a subcategory (Q99.811 ...)"),
    ("E11.", DAY, "validity.dx-format", "ends with a dot", "E11.0", "code syntax (model/code.py E304)"),
    ("1234", DAY, "validity.dx-format", "start with a letter", "ICD-9", "code syntax (E305)"),
    ("E11.99", DAY, "validity.dx-unknown", "not a code", "E11.9", "E11.9 is a leaf: no E11.99 in the Tabular"),
])
def test_validity_dx_problem(codesets_on: Callable[[date], Codesets], dx: str, day: date, rule: str,
                             in_message: str, in_fix: str, why: str) -> None:
    findings = check_validity(make_claim([dx], day=day), codesets_on(day))
    assert _rules(findings) == [rule], why
    finding = findings[0]
    assert in_message in finding.message and in_fix in (finding.fix or ""), (finding.message, finding.fix)
    assert finding.severity == "error" and finding.codes == (dx,) and finding.lines == (1,)
    assert finding.release == "mce v33-v44, icd10cm-tabular FY2026-APR"


@pytest.mark.parametrize(("dx", "day", "why"), [
    ("E11.22", DAY, "MCE E1122 valid 2015-10-01..2027-03-31"),
    ("E1122", DAY, "undotted spelling accepted"),
    ("G35", date(2025, 9, 30), "MCE: G35 billable through 2025-09-30 although a header in the FY2026 Tabular"),
    ("S52.501A", DAY, "7th-character code valid (MCE S52501A)"),
    ("T40.2X1A", DAY, "placeholder code valid (MCE T402X1A)"),
    ("G35.A", DAY, "FY2026 code valid from 2025-10-01"),
])
def test_validity_dx_valid(codesets_on: Callable[[date], Codesets], dx: str, day: date, why: str) -> None:
    assert check_validity(make_claim([dx], day=day), codesets_on(day)) == [], why


@pytest.mark.parametrize(("code", "day", "rule", "in_message", "why"), [
    ("0VT00ZZ", DAY, None, "", "MCE pcs 0VT00ZZ valid (resection of prostate, open)"),
    ("0VT00ZQ", DAY, "validity.pcs-invalid", "qualifier Q does not exist in table 0VT",
     "ICD-10-PCS table 0VT allows qualifier Z only"),
    ("0VT00Z", DAY, "validity.pcs-format", "7", "PCS codes have 7 characters"),
    ("0VTO0ZZ", DAY, "validity.pcs-format", "did you mean 0", "PCS uses no letter O"),
    ("30233AZ", date(2026, 5, 1), "validity.pcs-not-in-effect", "2015-10-01 to 2026-03-31",
     "MCE pcs 30233AZ valid 2015-10-01..2026-03-31"),
])
def test_validity_pcs(codesets_on: Callable[[date], Codesets], code: str, day: date, rule: str | None,
                      in_message: str, why: str) -> None:
    claim = inpatient_claim(["I10"], admitted=day, discharged=day, procedures=(code,))
    findings = [f for f in check_validity(claim, codesets_on(day)) if f.rule.startswith("validity.pcs")]
    assert _rules(findings) == ([rule] if rule else []), why
    if rule:
        assert in_message in findings[0].message and findings[0].codes == (code,)


def _line(code: str, *, day: date = DAY, modifiers: tuple[str, ...] = ()) -> ServiceLine:
    return ServiceLine(number=1, code=code, service_date=day, charge=Decimal("10"), diagnosis_pointers=(1,),
                       modifiers=modifiers)


@pytest.mark.parametrize(("code", "modifiers", "day", "expected", "why"), [
    ("J1100", (), DAY, [], "HCPCS 2025-Q4: J1100 added 1982, not terminated"),
    ("99213", ("25",), DAY, [], "CPT format (5 digits), numeric CPT modifier: format only (no CPT file loaded)"),
    ("0591T", (), DAY, [], "CPT Category III format (4 digits + T)"),
    ("C9088", (), DAY, [("validity.hcpcs-not-in-effect", "error")], "HCPCS 2025-Q4: C9088 TERM DT 20250930"),
    ("J0000", (), DAY, [("validity.hcpcs-unknown", "error")], "no J0000 row in HCPCS 2025-Q4"),
    ("J1100", (), date(2026, 2, 1), [], "2025-Q4 stands in for 2026-Q1 and has J1100"),
    ("J0000", (), date(2026, 2, 1), [("validity.hcpcs-unknown", "warning")],
     "2025-Q4 is a stand-in for 2026-02-01 (not in force): a miss is only a warning"),
    ("9921", (), DAY, [("validity.line-code-format", "error")], "4 characters: neither CPT nor HCPCS"),
    ("J1100", ("LT", "RT"), DAY, [], "HCPCS modifiers LT/RT in the 2025-Q4 file"),
    ("J1100", ("ZZ",), DAY, [("validity.modifier-unknown", "error")], "no modifier ZZ in the 2025-Q4 file"),
    ("J1100", ("L",), DAY, [("validity.modifier-format", "error")], "modifiers have 2 characters"),
    ("J1100", ("LT", "LT"), DAY, [("validity.modifier-duplicate", "warning")], "repeated modifier"),
    ("J1100", ("LT", "RT", "59", "76", "77"), DAY, [("validity.modifier-count", "error")],
     "837P SV101 has four modifier slots"),
    ("J1100", ("ZZ",), date(2026, 8, 1), [], "2026-Q3 is a codes-only release without modifiers: format only"),
])
def test_validity_line_codes(codesets_on: Callable[[date], Codesets], code: str, modifiers: tuple[str, ...],
                             day: date, expected: list[tuple[str, str]], why: str) -> None:
    claim = make_claim(["I10"], day=day, lines=(_line(code, day=day, modifiers=modifiers),))
    findings = check_validity(claim, codesets_on(day))
    assert [(f.rule, f.severity) for f in findings] == expected, why
    for finding in findings:
        assert finding.lines == (1,) and finding.release and finding.release.startswith("hcpcs")


def test_validity_release_note_for_stand_in(codesets_on: Callable[[date], Codesets]) -> None:
    day = date(2026, 2, 1)
    claim = make_claim(["I10"], day=day, lines=(_line("J0000", day=day),))
    finding = check_validity(claim, codesets_on(day))[0]
    assert "not available" in finding.details["release_note"] and "2025-Q4" in finding.message


@pytest.mark.parametrize(("revenue", "rule"), [("0450", None), ("450", "validity.revenue-code-format")])
def test_validity_revenue_code_format(codesets_on: Callable[[date], Codesets], revenue: str,
                                      rule: str | None) -> None:
    line = ServiceLine(number=1, code="99283", service_date=DAY, charge=Decimal("300"), revenue_code=revenue)
    claim = make_claim(["I10"], lines=(line,), kind="institutional")
    assert _rules(check_validity(claim, codesets_on(DAY))) == ([rule] if rule else [])


@pytest.mark.parametrize(("claim", "days"), [
    (make_claim(["I10"], day=date(2025, 9, 30)), [date(2025, 9, 30)]),
    (inpatient_claim(["I10"], admitted=date(2025, 9, 28), discharged=date(2025, 10, 2)), [date(2025, 10, 2)]),
])
def test_validity_days_follow_lines_or_discharge(claim: Claim, days: list[date]) -> None:
    """Inpatient stays are coded with the code set of the discharge date (MCE selects rows by it)."""
    assert dx_days(claim, 0) == days and edit_day(claim) == days[-1]


@pytest.mark.parametrize(("day", "rule"), [(date(2025, 9, 30), None), (date(2025, 10, 1), "validity.dx-header")])
def test_validity_stay_across_october_uses_discharge(codesets_on: Callable[[date], Codesets], day: date,
                                                     rule: str | None) -> None:
    """G35 is billable through 2025-09-30: a stay discharged on Oct 1 is coded with FY2026 (G35.A ...)."""
    claim = inpatient_claim(["G35"], admitted=date(2025, 9, 25), discharged=day)
    findings = [f for f in check_validity(claim, codesets_on(day)) if f.rule.startswith("validity.dx")]
    # The admitting diagnosis (UB-04 FL69, also G35 here) is checked on the same date, as the MCE does.
    assert _rules(findings) == ([rule, rule] if rule else [])
    assert [f.message.startswith("admitting diagnosis: ") for f in findings] == ([False, True] if rule else [])


def test_validity_valid_below_lists_billable_descendants(codesets_on: Callable[[date], Codesets]) -> None:
    assert valid_below(codesets_on(DAY), "E112", DAY) == ["E1121", "E1122", "E1129"]


def test_validity_no_date_is_reported(codesets_on: Callable[[date], Codesets]) -> None:
    claim = make_claim(["I10"], lines=(), kind="institutional")
    assert _rules(check_validity(claim, codesets_on(DAY))) == ["validity.no-date"]
