"""X12 837P (005010X222A1), the professional claim (CMS-1500): CLM, HI, rendering provider, SV1 lines.

Why 12 diagnoses at most: the 837P carries one HI segment of 12 (ABK + 11 ABF) and line pointers 1-12,
matching the CMS-1500's boxes A-L; a claim with more must be split by the biller, so the writer refuses it
rather than dropping codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from medcoder.model.claim import Claim
from medcoder.output.x12_common import (
    Segments,
    add_address,
    add_provider_name,
    amount,
    bad,
    check_common,
    check_diagnosis_order,
    code_value,
    d8,
    diagnosis_code,
    modifiers,
    quantity,
    same_provider,
    service_code,
    taxonomy,
    text,
)
from medcoder.output.x12_envelope import Interchange, write_transaction

VERSION = "005010X222A1"
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
_POS = r"[0-9]{2}"


def write_837p(claims: Claim | Sequence[Claim], *, interchange: Interchange, newline: bool = False) -> str:
    """One interchange with one 837P transaction; claims from the same billing provider share its HL."""
    return write_transaction(claims, interchange=interchange, newline=newline, version=VERSION,
                             check=check_professional, add_claim=_add_claim, institutional=False)


def check_professional(claim: Claim) -> None:
    """Refuse a claim the 837P cannot carry; every missing field is named in one E820 error."""
    if claim.kind != "professional":
        raise bad(f"claim {claim.claim_id!r} is {claim.kind}; the 837P carries professional claims", "claim.kind",
                  code="E824", fix="Write institutional claims with write_837i")
    problems = check_common(claim, "837P")
    for i, line in enumerate(claim.lines):
        problems.require(line.diagnosis_pointers, f"lines[{i}].diagnosis_pointers")
    problems.raise_if_any()
    if claim.procedures:
        raise bad("ICD-10-PCS procedures are not reported on an 837P", "procedures", code="E824",
                  fix="Report the professional service as a CPT/HCPCS line; PCS codes go on the 837I")
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        raise bad(f"{len(claim.diagnoses)} diagnoses; the 837P carries {MAX_DIAGNOSES}", "diagnoses", code="E823",
                  fix="Split the claim so each carries at most 12 diagnoses with its lines")
    check_diagnosis_order(claim)
    for i, line in enumerate(claim.lines):
        where = f"lines[{i}].diagnosis_pointers"
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            raise bad(f"{where} has {len(line.diagnosis_pointers)} pointers; the 837P allows 4", where,
                      code="E823", fix="Keep the 4 diagnoses that best support the service")
        if any(not 1 <= p <= len(claim.diagnoses) for p in line.diagnosis_pointers):
            raise bad(f"{where} {line.diagnosis_pointers} points past the {len(claim.diagnoses)} diagnoses", where,
                      fix="Point only at diagnoses on the claim (1-based)")


def _add_claim(body: Segments, claim: Claim) -> None:
    """2300 claim, its HI, 2310B rendering and 2310C service facility, then the 2400 lines."""
    pos = code_value(claim.place_of_service, "place_of_service", _POS, "11")
    body.add("CLM", text(claim.claim_id, "claim_id", max_len=38), amount(claim.total_charge, "total_charge"), "", "",
             (pos, "B", "1"), "Y", "A", "Y", "Y")
    codes = [diagnosis_code(d.code, f"diagnoses[{d.sequence}].code") for d in claim.diagnoses]
    body.add("HI", *[("ABK" if i == 0 else "ABF", code) for i, code in enumerate(codes)])
    rendering = claim.rendering_provider
    if rendering is not None and not same_provider(rendering, claim.billing_provider):
        add_provider_name(body, "82", rendering, "rendering_provider")
        if rendering.taxonomy:
            body.add("PRV", "PE", "PXC", taxonomy(rendering.taxonomy, "rendering_provider.taxonomy"))
    facility = claim.service_facility
    if facility is not None and not same_provider(facility, claim.billing_provider):
        if facility.address is None:
            raise bad("service_facility has no address", "service_facility.address", code="E820",
                      fix="Give the address where the service was rendered, or leave service_facility unset")
        if facility.npi:
            add_provider_name(body, "77", facility, "service_facility")
        else:
            body.add("NM1", "77", "2", text(facility.name, "service_facility.name", max_len=60))
        add_address(body, facility.address, "service_facility.address", nine=True)
    for number, line in enumerate(claim.lines, 1):
        where = f"lines[{number - 1}]"
        code = service_code(line.code, f"{where}.code")
        line_pos = ""
        if line.place_of_service and line.place_of_service != claim.place_of_service:
            line_pos = code_value(line.place_of_service, f"{where}.place_of_service", _POS, "11")
        body.add("LX", str(number))
        body.add("SV1", ("HC", code, *modifiers(line.modifiers, f"{where}.modifiers")),
                 amount(line.charge, f"{where}.charge"), "UN", quantity(line.units, f"{where}.units"), line_pos, "",
                 tuple(str(p) for p in line.diagnosis_pointers))
        body.add("DTP", "472", "D8", d8(line.service_date))
