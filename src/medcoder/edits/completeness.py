"""Rule set ``completeness``: what a payer's front end rejects before anyone reads a code.

Why its own rule set: clearinghouses and Medicare contractors reject an 837 for missing or malformed
parties, dates, pointers, charges and units (X12 5010 837P/837I implementation guides; CMS claims
processing manual) before any coding edit runs, and these rejections cost a resubmission each. None of
these rules needs a code set, so the release recorded is this rule set's own version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from medcoder.codesets.codesets import Codesets
from medcoder.model.claim import Claim, Diagnosis, Provider
from medcoder.model.findings import EditFinding, Severity

RULE_SET = "completeness"
VERSION = "2026.1"
RELEASE = f"{RULE_SET} {VERSION}"
MAX_POINTERS = 4
"""837P SV107 (CMS-1500 box 24E): at most four diagnosis pointers per line."""
MAX_DX = {"professional": 12, "institutional": 25}
"""837P HI segments carry 12 diagnoses (CMS-1500 box 21 A-L); 837I a principal and 24 others."""

_ZERO = Decimal(0)
"""What a line's charge and units are compared with: a Decimal compared with the int 0 converts it to a new
Decimal on every comparison (two per line)."""
_TAXONOMY = re.compile(r"\d{3}[0-9A-Z]{6}X")
_TYPE_OF_BILL = re.compile(r"0?\d{3}")
_NPI_PREFIX = "80840"
"""ISO 7812 card-issuer prefix for US health: the NPI check digit is the Luhn digit of 80840 + 9 digits."""


@lru_cache(maxsize=65_536)
def npi_is_valid(npi: str | None) -> bool:
    """10 digits whose last is the Luhn check digit computed with the 80840 prefix (CMS NPI standard).
    Memoised: a batch bills from a few providers' NPIs over and over."""
    if npi is None or not re.fullmatch(r"\d{10}", npi):
        return False
    total = 0
    for position, char in enumerate(reversed(_NPI_PREFIX + npi)):
        digit = int(char)
        if position % 2 == 1:  # every second digit from the right, the check digit being position 0
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_completeness(claim: Claim, codesets: Codesets | None = None) -> list[EditFinding]:
    """Parties, dates, diagnoses, pointers, charges and units; ``codesets`` is accepted for a uniform
    signature with the other rule sets and not used."""
    out: list[EditFinding] = []

    def add(rule: str, severity: Severity, message: str, fix: str, *, lines: tuple[int, ...] = (),
            codes: tuple[str, ...] = ()) -> None:
        out.append(EditFinding(rule_set=RULE_SET, rule=rule, severity=severity, message=message, codes=codes,
                               lines=lines, release=RELEASE, fix=fix))

    for check in _CHECKS:
        check(claim, add)
    return out


Add = Callable[..., None]


def _diagnoses(claim: Claim, add: Add) -> None:
    if not claim.diagnoses:
        add("completeness.no-diagnosis", "error", "the claim has no diagnosis",
            "Report at least the principal / first-listed diagnosis")
        return
    if not _numbered_in_order(claim.diagnoses):
        sequences = sorted(d.sequence for d in claim.diagnoses)
        if sequences != list(range(1, len(sequences) + 1)):
            add("completeness.dx-sequence", "error",
                f"diagnosis sequence numbers are {sequences}, not 1..{len(sequences)}",
                "Number the diagnoses 1 (principal / first-listed), 2, 3 ... without gaps or repeats")
    limit = MAX_DX[claim.kind]
    if len(claim.diagnoses) > limit:
        form = "837P" if claim.kind == "professional" else "837I"
        add("completeness.dx-count", "info", f"{len(claim.diagnoses)} diagnoses; an {form} carries {limit}",
            "Split the claim, keeping on each part the diagnoses its lines point to")


def _numbered_in_order(diagnoses: tuple[Diagnosis, ...]) -> bool:
    """Whether the diagnoses are listed with sequence numbers 1, 2, 3 ... (nearly every claim): then they need not
    be sorted to be found without gaps or repeats."""
    for expected, dx in enumerate(diagnoses, 1):
        if dx.sequence != expected:
            return False
    return True


def _inpatient(claim: Claim, add: Add) -> None:
    if claim.kind != "institutional":
        return
    if claim.type_of_bill is None:
        add("completeness.type-of-bill", "error", "institutional claim without a type of bill",
            "Give the UB-04 type of bill, e.g. 0111 (hospital inpatient, admit through discharge)")
    elif not _TYPE_OF_BILL.fullmatch(claim.type_of_bill.strip()):
        add("completeness.type-of-bill", "error", f"type of bill {claim.type_of_bill!r} is not 3 digits "
            "(facility, classification, frequency) with an optional leading 0", "Write it like 0111 or 0131")
    for line in claim.lines:
        if not line.revenue_code:
            add("completeness.revenue-code", "error", f"line {line.number} has no revenue code",
                "Give the UB-04 revenue code of each institutional line (e.g. 0450)", lines=(line.number,))
    if claim.setting != "inpatient":
        return
    diagnoses = claim.diagnoses  # nearly always listed principal first: then no generator is built to look
    if diagnoses and diagnoses[0].sequence != 1 and not any(d.sequence == 1 for d in diagnoses):
        add("completeness.no-principal", "error", "inpatient claim without a principal diagnosis (sequence 1)",
            "Mark the condition that occasioned the admission as diagnosis 1")
    missing = (("discharge-status", claim.discharge_status, "patient discharge status",
                "patient discharge status (01 home, 20 expired, ...)"),
               ("admission-date", claim.admission_date, "admission date", "the inpatient admission date"),
               ("discharge-date", claim.discharge_date or claim.statement_to, "discharge date or statement end",
                "the discharge date (or the statement period's end for an interim bill)"))
    for rule, value, what, fix in missing:
        if value is None:
            add(f"completeness.{rule}", "error", f"inpatient claim without a {what}", f"Give the {fix}")
    # 837I CL101/CL102 and HI*ABJ: required on inpatient claims; point of origin and admitting diagnosis are
    # warnings because some payers fill them in for bill types and admissions where they do not apply.
    if claim.admission_type is None:
        add("completeness.admission-type", "error", "inpatient claim without a type of admission (UB-04 FL14)",
            "Give the priority of admission (1 emergency, 2 urgent, 3 elective, 4 newborn, 5 trauma)")
    if claim.admission_source is None:
        add("completeness.admission-source", "warning", "inpatient claim without a point of origin (UB-04 FL15)",
            "Give the point of origin (1 non-health care facility, 2 clinic, 4 hospital transfer, ...)")
    if claim.admitting_diagnosis is None:
        add("completeness.admitting-diagnosis", "warning", "inpatient claim without an admitting diagnosis "
            "(UB-04 FL69)", "Give the ICD-10-CM code of the condition identified at admission")


def _parties(claim: Claim, add: Add) -> None:
    if not claim.payer.payer_id.strip():
        add("completeness.payer-id", "error", "the payer has no payer id", "Give the payer id of the clearinghouse")
    patient = claim.patient
    if not (patient.member_id or "").strip():
        add("completeness.member-id", "error", "the patient has no member (subscriber) id",
            "Copy the id from the insurance card (Medicare: the MBI)")
    if patient.birth_date is None:
        add("completeness.birth-date", "error", "the patient's birth date is missing", "Give the birth date")
    if patient.sex is None:
        add("completeness.sex", "error", "the patient's sex is missing", "Give F, M or U (unknown)")
    roles: tuple[tuple[str, Provider | None, bool, Severity], ...] = (
        ("billing", claim.billing_provider, True, "warning"),
        ("rendering", claim.rendering_provider, False, "info"),
        ("attending", claim.attending_provider, claim.kind == "institutional", "info"),
        ("service facility", claim.service_facility, False, "info"),
    )
    for role, provider, required, taxonomy_severity in roles:
        if provider is None:
            problems = _missing_provider(role) if required else ()
        else:
            problems = _provider_problems(role, provider.name, provider.npi, provider.taxonomy, taxonomy_severity)
        for rule, severity, message, fix in problems:
            add(rule, severity, message, fix)


_Problems = tuple[tuple[str, Severity, str, str], ...]
"""(rule, severity, message, fix) of each problem found."""


@lru_cache(maxsize=16)
def _missing_provider(role: str) -> _Problems:
    """The finding for a required provider the claim lacks, in ``role``."""
    return ((f"completeness.{role.replace(' ', '-')}-provider", "error", f"the claim has no {role} provider",
             f"Give the {role} provider's name and NPI"),)


@lru_cache(maxsize=4096)
def _provider_problems(role: str, name: str, npi: str | None, taxonomy: str | None,
                       taxonomy_severity: Severity) -> _Problems:
    """The problems of a provider named ``name`` in one role, from the NPI and taxonomy it gives. Memoised: a
    batch bills from a few providers over and over, and a provider's problems depend on nothing else (keyed by
    these strings, not by the Provider, whose hash is a Python call over every field and its address's)."""
    rule = f"completeness.{role.replace(' ', '-')}"
    out: list[tuple[str, Severity, str, str]] = []
    if npi is None or not npi.strip():
        out.append((f"{rule}-npi", "error", f"the {role} provider {name!r} has no NPI",
                    "Give the 10-digit NPI (look it up in NPPES)"))
    elif not npi_is_valid(npi.strip()):
        out.append((f"{rule}-npi", "error", f"the {role} provider's NPI {npi!r} is not valid (10 digits "
                    "with a Luhn check digit over the prefix 80840)", "Retype the NPI from NPPES"))
    if taxonomy is None or not taxonomy.strip():
        if role != "service facility":
            out.append((f"{rule}-taxonomy", taxonomy_severity, f"the {role} provider {name!r} has no "
                        "taxonomy", "Give the NUCC taxonomy code (e.g. 207Q00000X); many payers require it"))
    elif not _TAXONOMY.fullmatch(taxonomy.strip().upper()):
        out.append((f"{rule}-taxonomy", "error", f"the {role} provider's taxonomy {taxonomy!r} is not a "
                    "NUCC code (10 characters ending in X)", "Write it like 207Q00000X"))
    return tuple(out)


def _dates(claim: Claim, add: Add) -> None:
    start, end = claim.statement_from, claim.statement_to
    if start is not None and end is not None and start > end:
        add("completeness.statement-period", "error",
            f"the statement period runs backwards ({start.isoformat()} to {end.isoformat()})",
            "Swap or correct the statement dates")
    admitted, discharged = claim.admission_date, claim.discharge_date
    if admitted is not None and discharged is not None and discharged < admitted:
        add("completeness.discharge-before-admission", "error",
            f"discharge {discharged.isoformat()} is before admission {admitted.isoformat()}",
            "Correct the admission or discharge date")
    birth = claim.patient.birth_date
    first = claim.first_service_date
    if birth is not None and first is not None and birth > first:
        add("completeness.birth-after-service", "error",
            f"the patient's birth date {birth.isoformat()} is after the first date of service {first.isoformat()}",
            "Correct the birth date or the dates of service")
    # Without a statement period (most professional claims) no line is outside it: no call per line to say so.
    for line in claim.lines if start is not None or end is not None else ():
        if _outside(line.service_date, start, end):
            add("completeness.line-date", "error",
                f"line {line.number} date {line.service_date.isoformat()} is outside the statement period "
                f"{_period(start, end)}", "Correct the line date or the statement period", lines=(line.number,))
    for proc in claim.procedures:
        if _outside(proc.performed_on, admitted, discharged):
            add("completeness.procedure-date", "warning",
                f"procedure {proc.code} date {proc.performed_on.isoformat()} is outside the stay "
                f"{_period(admitted, discharged)}", "Correct the procedure date", codes=(proc.code,))


def _outside(day: date, start: date | None, end: date | None) -> bool:
    return (start is not None and day < start) or (end is not None and day > end)


def _period(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else '?'} to {end.isoformat() if end else '?'}"


def _modifier_key(modifiers: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(m.strip().upper() for m in modifiers)) if modifiers else ()


def _lines(claim: Claim, add: Add) -> None:
    professional = claim.kind == "professional"
    lines = claim.lines
    if professional and not lines:
        add("completeness.no-lines", "error", "professional claim without service lines",
            "Add the CPT/HCPCS service lines")
    n_dx = len(claim.diagnoses)
    many = len(lines) > 1
    seen: dict[tuple[str, tuple[str, ...], date], int] = {}
    for line in lines:
        at = (line.number,)
        if professional:
            pointers = line.diagnosis_pointers
            if not pointers:
                add("completeness.pointer-missing", "error", f"line {line.number} ({line.code}) points to no "
                    "diagnosis", "Point the line to the diagnosis that supports it (box 24E)", lines=at)
            if len(pointers) > MAX_POINTERS:
                add("completeness.pointer-count", "error", f"line {line.number} has {len(pointers)} diagnosis "
                    f"pointers; at most {MAX_POINTERS}", "Keep the four most relevant, the primary first", lines=at)
            if pointers and not (1 <= min(pointers) and max(pointers) <= n_dx):  # the list only when one is bad
                bad = [p for p in pointers if not 1 <= p <= n_dx]
                add("completeness.pointer-range", "error", f"line {line.number} points to diagnosis "
                    f"{', '.join(map(str, bad))}, but the claim has {n_dx}", "Point to an existing diagnosis",
                    lines=at)
            if len(set(pointers)) != len(pointers):
                add("completeness.pointer-repeated", "warning", f"line {line.number} repeats a diagnosis pointer",
                    "List each pointer once", lines=at)
        if line.charge <= _ZERO:
            add("completeness.charge", "error", f"line {line.number} ({line.code}) has charge {line.charge}",
                "Bill the provider's usual charge (for a CPT Category II code, $0.01)", lines=at)
        if line.units <= _ZERO:
            add("completeness.units", "error", f"line {line.number} ({line.code}) has {line.units} units",
                "Units must be positive", lines=at)
        if many and ((code := line.code.strip()) or not line.revenue_code):
            # A repeated line needs two lines; revenue-only lines (room and board ...) may repeat.
            # Most lines carry no modifier: their key needs no call.
            key = (code.upper(), _modifier_key(line.modifiers) if line.modifiers else (), line.service_date)
            seen[key] = seen.get(key, 0) + 1
    for (code, modifiers, day), count in seen.items():
        if count > 1:
            numbers = tuple(line.number for line in lines if line.code.strip().upper() == code
                            and _modifier_key(line.modifiers) == modifiers and line.service_date == day)
            add("completeness.duplicate-line", "warning",
                f"{count} lines bill {code}{'-' + '-'.join(modifiers) if modifiers else ''} on {day.isoformat()}",
                "Combine them into one line with the total units, or add the repeat-service modifier "
                "(76/77 repeat procedure, 91 repeat lab test) the record supports", lines=numbers, codes=(code,))


_CHECKS: tuple[Callable[[Claim, Add], None], ...] = (_diagnoses, _inpatient, _parties, _dates, _lines)
