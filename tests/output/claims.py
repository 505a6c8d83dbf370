"""Synthetic but realistic claims for the output tests, and a pyx12 harness that returns its errors.

NPIs below pass the CMS Luhn check; names, ids and addresses are invented.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from medcoder.model.claim import (
    Address,
    Claim,
    Diagnosis,
    Patient,
    Payer,
    ProcedureCode,
    Provider,
    ServiceLine,
)
from medcoder.output.x12 import Interchange

INTERCHANGE = Interchange(
    sender_id="MEDCODER01", receiver_id="CLEARHOUSE", submitter_name="Harbor Family Medicine",
    submitter_contact="Billing Office", submitter_phone="410-555-0134", receiver_name="Example Clearinghouse",
    usage="T", created=datetime(2026, 3, 2, 9, 30), interchange_control_number=1001, group_control_number=1001,
    transaction_control_number=1001,
)

CLINIC = Provider(
    name="Harbor Family Medicine", npi="1234567893", taxonomy="207Q00000X", tax_id="521234567",
    address=Address(line1="100 Light St", line2="Suite 400", city="Baltimore", state="MD", postal_code="21202-1234"),
)
HOSPITAL = Provider(
    name="Chesapeake General Hospital", npi="1112223338", taxonomy="282N00000X", tax_id="526543210",
    address=Address(line1="2000 Harbor Blvd", city="Baltimore", state="MD", postal_code="212305678"),
)
DR_LEE = Provider(name="Lee", first_name="Grace", is_person=True, npi="9876543213", taxonomy="207R00000X")
DR_OKAFOR = Provider(name="Okafor", first_name="Daniel", is_person=True, npi="1444444446", taxonomy="208600000X")
PATIENT = Patient(
    member_id="1EG4TE5MK73", last_name="Doe", first_name="Jane", birth_date=date(1951, 6, 14), sex="F",
    address=Address(line1="12 Elm St", city="Towson", state="MD", postal_code="21204"),
)
MEDICARE = Payer(name="Medicare Part B", payer_id="12302", kind="medicare")


def office_visit() -> Claim:
    """Office visit with a same-day procedure (modifier 25), an injection and a drug: 4 lines, 4 diagnoses."""
    day = date(2026, 2, 10)
    dx = ("E11.65", "I10", "M17.11", "Z79.4")
    return Claim(
        claim_id="PCLM-0001", kind="professional", patient=PATIENT, payer=MEDICARE, billing_provider=CLINIC,
        rendering_provider=DR_LEE,
        diagnoses=tuple(Diagnosis(code=c, sequence=i) for i, c in enumerate(dx, 1)),
        lines=(
            ServiceLine(number=1, code="99214", service_date=day, charge=Decimal("185.00"), modifiers=("25",),
                        diagnosis_pointers=(1, 2, 4)),
            ServiceLine(number=2, code="20610", service_date=day, charge=Decimal("142.50"), modifiers=("RT",),
                        diagnosis_pointers=(3,)),
            ServiceLine(number=3, code="J3301", service_date=day, charge=Decimal("24.75"), units=Decimal(4),
                        diagnosis_pointers=(3,)),
            ServiceLine(number=4, code="83036", service_date=day, charge=Decimal("30"), diagnosis_pointers=(1,),
                        modifiers=("QW",)),
        ),
    )


def many_diagnoses(count: int = 12) -> Claim:
    """A professional claim with ``count`` diagnoses (12 is the 837P maximum)."""
    codes = ["E11.65", "I10", "E78.5", "N18.31", "I48.91", "J44.9", "G47.33", "E66.01", "K21.9", "F32.A",
             "M54.50", "Z79.01", "Z68.41", "E55.9"][:count]
    day = date(2026, 2, 11)
    return Claim(
        claim_id="PCLM-0002", kind="professional", patient=PATIENT, payer=MEDICARE, billing_provider=CLINIC,
        rendering_provider=DR_LEE, place_of_service="11",
        diagnoses=tuple(Diagnosis(code=c, sequence=i) for i, c in enumerate(codes, 1)),
        lines=(
            ServiceLine(number=1, code="99215", service_date=day, charge=Decimal("250"), modifiers=("25", "GT"),
                        diagnosis_pointers=(1, 2, 3, 4)),
            ServiceLine(number=2, code="93000", service_date=day, charge=Decimal("60.10"),
                        diagnosis_pointers=(5, 12)),
            ServiceLine(number=3, code="G0439", service_date=day, charge=Decimal("175"), place_of_service="02",
                        diagnosis_pointers=(min(count, 12),)),
        ),
    )


def hospital_visit() -> Claim:
    """Professional inpatient visits by a hospitalist billed from a group, rendered at the hospital (POS 21)."""
    return Claim(
        claim_id="PCLM-0003", kind="professional", patient=PATIENT, payer=Payer(name="Acme Health", payer_id="ACME1",
                                                                                kind="commercial"),
        billing_provider=CLINIC, rendering_provider=DR_OKAFOR, service_facility=HOSPITAL, place_of_service="21",
        diagnoses=(Diagnosis(code="J18.9", sequence=1), Diagnosis(code="J96.01", sequence=2)),
        lines=tuple(ServiceLine(number=i, code=code, service_date=date(2026, 1, 4 + i), charge=Decimal(charge),
                                diagnosis_pointers=(1, 2))
                    for i, (code, charge) in enumerate((("99223", "410"), ("99233", "220"), ("99239", "180")), 1)),
    )


def inpatient_stay() -> Claim:
    """Hip fracture admission with ORIF: POA indicators, admitting dx, external causes, 15 other diagnoses,
    principal + other ICD-10-PCS procedures, room-and-board and ancillary revenue lines."""
    admit, discharge = date(2026, 1, 5), date(2026, 1, 9)
    dx = [("S72.001A", "Y"), ("W01.XXXA", "Y"), ("Y92.009", "1"), ("D62", "N"), ("I10", "Y"), ("E11.9", "Y"),
          ("N18.30", "Y"), ("E78.5", "Y"), ("I25.10", "Y"), ("Z79.84", "1"), ("Z96.651", "1"), ("F32.A", "Y"),
          ("K59.00", "N"), ("E87.1", "N"), ("G47.33", "Y"), ("M81.0", "Y"), ("R26.89", "U"), ("Z91.81", "1"),
          ("E55.9", "Y")]
    return Claim(
        claim_id="ICLM-0001", kind="institutional", setting="inpatient", patient=PATIENT,
        payer=Payer(name="Medicare Part A", payer_id="12202", kind="medicare"), billing_provider=HOSPITAL,
        attending_provider=DR_OKAFOR, rendering_provider=DR_LEE,
        diagnoses=tuple(Diagnosis(code=c, sequence=i, poa=poa) for i, (c, poa) in enumerate(dx, 1)),
        procedures=(
            ProcedureCode(code="0QS704Z", performed_on=date(2026, 1, 6), sequence=1),
            ProcedureCode(code="30233N1", performed_on=date(2026, 1, 7), sequence=2),
            ProcedureCode(code="BQ00ZZZ", performed_on=date(2026, 1, 5), sequence=3),
        ),
        lines=(
            ServiceLine(number=1, code="", revenue_code="0120", service_date=admit, units=Decimal(4),
                        charge=Decimal("9600.00")),
            ServiceLine(number=2, code="", revenue_code="0360", service_date=date(2026, 1, 6),
                        charge=Decimal("18250.40")),
            ServiceLine(number=3, code="73502", revenue_code="0320", service_date=admit, modifiers=("RT",),
                        charge=Decimal("480")),
            ServiceLine(number=4, code="", revenue_code="0250", service_date=admit, units=Decimal(12),
                        charge=Decimal("1325.15")),
        ),
        statement_from=admit, statement_to=discharge, admission_date=admit, discharge_date=discharge,
        discharge_status="03", type_of_bill="0111", admission_type="1", admission_source="7",
        admitting_diagnosis="S72.001A",
    )


def emergency_visit() -> Claim:
    """Hospital outpatient ED visit (type of bill 0131) with HCPCS on every revenue line."""
    day = date(2026, 2, 20)
    return Claim(
        claim_id="ICLM-0002", kind="institutional", setting="outpatient", patient=PATIENT,
        payer=Payer(name="State Medicaid", payer_id="MDMCD", kind="medicaid"), billing_provider=HOSPITAL,
        attending_provider=DR_LEE, type_of_bill="0131",
        diagnoses=(Diagnosis(code="S52.501A", sequence=1), Diagnosis(code="W18.30XA", sequence=2),
                   Diagnosis(code="R52", sequence=3)),
        lines=(
            ServiceLine(number=1, code="99284", revenue_code="0450", service_date=day, modifiers=("25",),
                        charge=Decimal("1250")),
            ServiceLine(number=2, code="73110", revenue_code="0320", service_date=day, modifiers=("LT",),
                        charge=Decimal("315.5")),
            ServiceLine(number=3, code="J1885", revenue_code="0636", service_date=day, units=Decimal(2),
                        charge=Decimal("42.00")),
        ),
    )


def with_diagnoses(claim: Claim, codes: list[str]) -> Claim:
    return replace(claim, diagnoses=tuple(Diagnosis(code=c, sequence=i) for i, c in enumerate(codes, 1)))


# -- pyx12 harness ---------------------------------------------------------------------------------


def pyx12_errors(x12: str) -> list[str]:
    """Validate with pyx12 against its 005010 maps: every error it reports (segment, element, code list, loop,
    counts), each as pyx12 logs it, e.g. ``Line:22 ELE:7 - (XX) is not a valid code ... (SV103)``.

    Why the log and not pyx12's JSON report: the JSON leaves out element errors in the ISA/GS envelope, while
    every error pyx12 finds goes through ``logging`` once. A crash inside pyx12 counts as an error too.
    """
    import pyx12.params
    import pyx12.x12n_document

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("pyx12")
    handler = Collect(level=logging.ERROR)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        valid = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=io.StringIO(x12),
                                                  fd_997=None, fd_html=None)
    except Exception as e:  # a file that crashes the validator is not a valid file
        records.append(f"pyx12 raised {type(e).__name__}: {e}")
        valid = False
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    if not valid and not records:
        records.append("pyx12 marked the file invalid without logging an error")
    return records
