"""X12 837I (005010X223A2), the institutional claim (UB-04): CLM with type of bill, statement and admission
dates, CL1, HI with POA and ICD-10-PCS procedures, attending provider, SV2 revenue-code lines.

Why HI is split the way it is: the TR3 gives each kind of code its own HI segment in a fixed order (principal,
admitting, external cause, other diagnoses in up to two segments of 12, principal procedure, other procedures
in up to two of 12). External-cause codes (chapter 20, V00-Y99) go in ABN as UB-04 FL72 does, not in ABF.
"""

from __future__ import annotations

from collections.abc import Sequence

from medcoder.model.claim import Claim, Diagnosis, Provider
from medcoder.output.x12_common import (
    Segments,
    add_address,
    add_provider_name,
    amount,
    bad,
    check_common,
    check_diagnosis_order,
    chunks,
    code_value,
    d8,
    diagnosis_code,
    modifiers,
    procedure_code,
    quantity,
    same_provider,
    service_code,
    taxonomy,
    text,
)
from medcoder.output.x12_envelope import Interchange, write_transaction

VERSION = "005010X223A2"
MAX_OTHER_DIAGNOSES = 24
MAX_EXTERNAL_CAUSES = 12
MAX_OTHER_PROCEDURES = 24
_EXTERNAL_CAUSE = ("V", "W", "X", "Y")
_POA = frozenset("YNUW")
# Type of bill when the claim has none: 011x hospital inpatient, 013x hospital outpatient; frequency 1 (admit
# through discharge / original).
_DEFAULT_TYPE_OF_BILL = {"inpatient": "0111", "outpatient": "0131"}


def write_837i(claims: Claim | Sequence[Claim], *, interchange: Interchange, newline: bool = False) -> str:
    """One interchange with one 837I transaction; claims from the same billing provider share its HL."""
    return write_transaction(claims, interchange=interchange, newline=newline, version=VERSION,
                             check=check_institutional, add_claim=_add_claim, institutional=True)


def attending(claim: Claim) -> Provider | None:
    """The attending physician; an institutional claim naming only a rendering physician uses that one."""
    return claim.attending_provider or claim.rendering_provider


def check_institutional(claim: Claim) -> None:
    """Refuse a claim the 837I cannot carry; every missing field is named in one E820 error."""
    if claim.kind != "institutional":
        raise bad(f"claim {claim.claim_id!r} is {claim.kind}; the 837I carries institutional claims", "claim.kind",
                  code="E824", fix="Write professional claims with write_837p")
    problems = check_common(claim, "837I")
    problems.require(attending(claim), "attending_provider")
    for i, line in enumerate(claim.lines):
        problems.require(line.revenue_code, f"lines[{i}].revenue_code")
    if claim.setting == "inpatient":
        problems.require(claim.admission_date, "admission_date")
        problems.require(claim.discharge_status, "discharge_status")
    problems.raise_if_any()
    check_diagnosis_order(claim)
    externals, others = _split_diagnoses(claim.diagnoses[1:])
    if len(others) > MAX_OTHER_DIAGNOSES or len(externals) > MAX_EXTERNAL_CAUSES:
        raise bad(f"{len(others)} other diagnoses and {len(externals)} external causes; the 837I carries "
                  f"{MAX_OTHER_DIAGNOSES} and {MAX_EXTERNAL_CAUSES}", "diagnoses", code="E823",
                  fix="Keep the diagnoses that affect care and payment (UB-04 FL67A-Q holds 18)")
    if claim.procedures and claim.setting != "inpatient":
        raise bad("ICD-10-PCS procedures are reported on inpatient claims only", "procedures", code="E824",
                  fix="Report outpatient procedures as CPT/HCPCS on the revenue-code lines")
    if len(claim.procedures) > 1 + MAX_OTHER_PROCEDURES:
        raise bad(f"{len(claim.procedures)} procedures; the 837I carries 25", "procedures", code="E823",
                  fix="Keep the procedures that affect the DRG and care")
    sequences = sorted(p.sequence for p in claim.procedures)
    if sequences != list(range(1, len(sequences) + 1)):
        raise bad(f"procedure sequences are {sequences}; expected 1..{len(sequences)}", "procedures",
                  fix="Number procedures from 1, the principal procedure first")


def _split_diagnoses(diagnoses: Sequence[Diagnosis]) -> tuple[list[Diagnosis], list[Diagnosis]]:
    externals = [d for d in diagnoses if d.code.strip().upper().startswith(_EXTERNAL_CAUSE)]
    return externals, [d for d in diagnoses if d not in externals]


def _type_of_bill(claim: Claim) -> tuple[str, str]:
    """(CLM05-1 facility type + classification, CLM05-3 frequency) from a 4-digit (or 3-digit) type of bill."""
    raw = claim.type_of_bill or _DEFAULT_TYPE_OF_BILL[claim.setting]
    tob = code_value(raw, "type_of_bill", r"0?[1-9][0-9][0-9A-Z]", "0111")
    tob = tob.zfill(4)
    return tob[1:3], tob[3]


def _dx(diagnosis: Diagnosis, qualifier: str, *, poa: bool) -> tuple[str, ...]:
    code = diagnosis_code(diagnosis.code, f"diagnoses[{diagnosis.sequence}].code")
    indicator = (diagnosis.poa or "").strip().upper()
    # POA goes in HI0x-9 on inpatient claims only; exempt codes (UB-04 "1") are sent blank in 005010.
    if poa and indicator in _POA:
        return (qualifier, code, "", "", "", "", "", "", indicator)
    if poa and indicator not in ("", "1"):
        where = f"diagnoses[{diagnosis.sequence}].poa"
        raise bad(f"{where} {diagnosis.poa!r} is not a POA indicator", where, fix="Use Y, N, U, W or 1 (exempt)")
    return (qualifier, code)


def _add_claim(body: Segments, claim: Claim) -> None:
    """2300 claim (dates, CL1, HI), 2310A attending, 2310D rendering, 2310E service facility, 2400 lines."""
    facility_type, frequency = _type_of_bill(claim)
    body.add("CLM", text(claim.claim_id, "claim_id", max_len=38), amount(claim.total_charge, "total_charge"), "", "",
             (facility_type, "A", frequency), "", "A", "Y", "Y")
    dates = claim.service_dates
    start = claim.statement_from or claim.admission_date or dates[0]
    end = claim.statement_to or claim.discharge_date or dates[-1]
    if end < start:
        raise bad(f"statement period {start} to {end} ends before it starts", "statement_to",
                  fix="Set statement_from on or before statement_to")
    body.add("DTP", "434", "RD8", f"{d8(start)}-{d8(end)}")
    inpatient = claim.setting == "inpatient"
    if inpatient and claim.admission_date is not None:
        body.add("DTP", "435", "D8", d8(claim.admission_date))
    admission_type = admission_source = ""
    if inpatient:
        # CL101 is required for inpatient admissions; 9 = information not available when the claim lacks it.
        admission_type = code_value(claim.admission_type or "9", "admission_type", r"[1-59]", "1")
    if claim.admission_source or inpatient:
        admission_source = code_value(claim.admission_source or "9", "admission_source", r"[0-9A-Z]", "1")
    # Patient status is required on every UB-04; an outpatient visit without one ended at home (01).
    status = code_value(claim.discharge_status or "01", "discharge_status", r"[0-9]{2}", "01")
    body.add("CL1", admission_type, admission_source, status)
    _add_hi(body, claim, inpatient=inpatient)
    doctor = attending(claim)
    if doctor is not None:
        add_provider_name(body, "71", doctor, "attending_provider")
        if doctor.taxonomy:
            body.add("PRV", "AT", "PXC", taxonomy(doctor.taxonomy, "attending_provider.taxonomy"))
    rendering = claim.rendering_provider
    if rendering is not None and doctor is not None and not same_provider(rendering, doctor):
        add_provider_name(body, "82", rendering, "rendering_provider")
    facility = claim.service_facility
    if facility is not None and not same_provider(facility, claim.billing_provider):
        if facility.address is None:
            raise bad("service_facility has no address", "service_facility.address", code="E820",
                      fix="Give the address where the service was rendered, or leave service_facility unset")
        add_provider_name(body, "77", facility, "service_facility")
        add_address(body, facility.address, "service_facility.address", nine=True)
    for number, line in enumerate(claim.lines, 1):
        where = f"lines[{number - 1}]"
        revenue = code_value((line.revenue_code or "").zfill(4), f"{where}.revenue_code", r"0[0-9]{3}|[1-9][0-9]{3}",
                             "0450")
        procedure: tuple[str, ...] = ()
        if line.code.strip():
            procedure = ("HC", service_code(line.code, f"{where}.code"),
                         *modifiers(line.modifiers, f"{where}.modifiers"))
        elif line.modifiers:
            raise bad(f"{where} has modifiers but no HCPCS code", f"{where}.modifiers",
                      fix="Give the HCPCS code the modifiers apply to, or drop them")
        body.add("LX", str(number))
        body.add("SV2", revenue, procedure, amount(line.charge, f"{where}.charge"), "UN",
                 quantity(line.units, f"{where}.units"))
        body.add("DTP", "472", "D8", d8(line.service_date))


def _add_hi(body: Segments, claim: Claim, *, inpatient: bool) -> None:
    body.add("HI", _dx(claim.diagnoses[0], "ABK", poa=inpatient))
    if inpatient and claim.admitting_diagnosis:
        body.add("HI", ("ABJ", diagnosis_code(claim.admitting_diagnosis, "admitting_diagnosis")))
    externals, others = _split_diagnoses(claim.diagnoses[1:])
    if externals:
        body.add("HI", *[_dx(d, "ABN", poa=inpatient) for d in externals])
    for dx_group in chunks(others, 12):
        body.add("HI", *[_dx(d, "ABF", poa=inpatient) for d in dx_group])
    procedures = sorted(claim.procedures, key=lambda p: p.sequence)
    if procedures:
        first = procedures[0]
        body.add("HI", ("BBR", procedure_code(first.code, "procedures[1].code"), "D8", d8(first.performed_on)))
    for pcs_group in chunks(procedures[1:], 12):
        body.add("HI", *[("BBQ", procedure_code(p.code, f"procedures[{p.sequence}].code"), "D8", d8(p.performed_on))
                         for p in pcs_group])
