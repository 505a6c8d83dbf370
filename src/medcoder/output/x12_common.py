"""What 837P and 837I share: delimiters, value checks and formats, and the loops both carry the same way.

Why the checks live here and raise at once: X12 has no escape character in 005010 (ISA has no release
character), so a ``*`` in a patient name would silently shift every later element. Every value taken from the
claim goes through ``text`` (or a stricter check) with the claim field it came from, so the error names it.

Error codes (``ClaimError``): E820 required data missing, E821 a delimiter or control character inside data,
E822 a value malformed for X12, E823 more items than the 837 can carry, E824 wrong claim kind or envelope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from medcoder.errors import ClaimError
from medcoder.model.claim import Address, Claim, Patient, Payer, Provider

T = TypeVar("T")

SEGMENT = "~"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
DELIMITERS = frozenset(SEGMENT + ELEMENT + COMPONENT + REPETITION)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
_ICD10PCS = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
# CPT: 5 digits, or 4 digits + F (Category II), T (Category III), U (PLA); HCPCS Level II: letter + 4 digits.
_CPT_HCPCS = re.compile(r"^(?:[0-9]{4}[0-9FTU]|[A-V][0-9]{4})$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_NPI = re.compile(r"^[0-9]{10}$")
_EIN = re.compile(r"^[0-9]{9}$")


class Problems:
    """Collects what is missing so one error lists every gap, not only the first (a coder fixes all at once)."""

    def __init__(self, claim: Claim, form: str) -> None:
        self.claim = claim
        self.form = form
        self.missing: list[str] = []

    def require(self, value: object, name: str) -> None:
        if value is None or (isinstance(value, str | tuple) and not value):
            self.missing.append(name)

    def raise_if_any(self) -> None:
        if self.missing:
            raise ClaimError(f"claim {self.claim.claim_id!r} cannot be written as {self.form}: missing "
                             + ", ".join(self.missing), code="E820", where=f"claim {self.claim.claim_id}",
                             fix="Fill these fields on the claim (the claim editors list them as findings)")


def bad(message: str, where: str, *, fix: str, code: str = "E822") -> ClaimError:
    return ClaimError(message, code=code, where=where, fix=fix)


def text(value: str, where: str, *, max_len: int | None = None) -> str:
    """A free-text value checked for delimiters: there is no escaping in X12, so refusing is the only safe way."""
    value = value.strip()
    found = sorted({c for c in value if c in DELIMITERS})
    if found or _CONTROL.search(value):
        what = " ".join(repr(c) for c in found) if found else "a control character"
        raise ClaimError(f"{where} contains {what}, which X12 uses as a delimiter", code="E821", where=where,
                         fix=f"Remove the characters {' '.join(sorted(DELIMITERS))} and line breaks from {where}")
    if max_len is not None and len(value) > max_len:
        raise bad(f"{where} is {len(value)} characters; the 837 allows {max_len}", where,
                  fix=f"Shorten {where}")
    return value


def diagnosis_code(code: str, where: str) -> str:
    """ICD-10-CM without the dot, as HI carries it (``E11.9`` -> ``E119``)."""
    clean = code.strip().upper().replace(".", "")
    if not _ICD10CM.match(clean):
        raise bad(f"{where} {code!r} is not an ICD-10-CM code", where, fix="Use a code such as E11.9 or S72.001A")
    return clean


def procedure_code(code: str, where: str) -> str:
    clean = code.strip().upper()
    if not _ICD10PCS.match(clean):
        raise bad(f"{where} {code!r} is not an ICD-10-PCS code", where, fix="Use a 7-character code such as 0DTJ4ZZ")
    return clean


def service_code(code: str, where: str) -> str:
    clean = code.strip().upper()
    if not _CPT_HCPCS.match(clean):
        raise bad(f"{where} {code!r} is not a CPT or HCPCS code", where, fix="Use a code such as 99213 or J1745")
    return clean


def modifiers(values: Sequence[str], where: str) -> list[str]:
    if len(values) > 4:
        raise bad(f"{where} has {len(values)} modifiers; the 837 carries 4 per line", where, code="E823",
                  fix="Keep the 4 that affect payment first, or split the line")
    out = [m.strip().upper() for m in values]
    for m in out:
        if not _MODIFIER.match(m):
            raise bad(f"{where} {m!r} is not a 2-character modifier", where, fix="Use modifiers such as 25, 59, LT")
    return out


def npi(value: str | None, where: str) -> str:
    """A 10-digit NPI whose check digit passes (Luhn over ``80840`` + the first 9 digits, per CMS)."""
    clean = (value or "").strip()
    if not _NPI.match(clean) or not _luhn_ok("80840" + clean):
        raise bad(f"{where} {value!r} is not a valid NPI", where,
                  fix="An NPI has 10 digits and a Luhn check digit; look it up in NPPES")
    return clean


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def ein(value: str | None, where: str) -> str:
    clean = (value or "").strip().replace("-", "")
    if not _EIN.match(clean):
        raise bad(f"{where} {value!r} is not a 9-digit EIN", where, fix="Write the tax id as 9 digits, e.g. 123456789")
    return clean


def zip_code(value: str, where: str, *, nine: bool = False) -> str:
    """US ZIP; ``nine`` for billing provider and service facility, where the 005010 TR3 wants ZIP+4."""
    clean = value.strip().replace("-", "")
    ok = len(clean) == 9 if nine else len(clean) in (5, 9)
    if not (clean.isdigit() and ok):
        need = "9 digits (ZIP+4)" if nine else "5 or 9 digits"
        raise bad(f"{where} {value!r} must be {need}", where, fix="Write the ZIP+4 of the address, e.g. 212011234")
    return clean


def code_value(value: str, where: str, pattern: str, example: str) -> str:
    clean = value.strip().upper()
    if not re.fullmatch(pattern, clean):
        raise bad(f"{where} {value!r} is malformed", where, fix=f"Use a code such as {example}")
    return clean


def amount(value: Decimal, where: str) -> str:
    """X12 R type, money: no trailing zeros or exponent (``100.50`` -> ``100.5``), never more than cents."""
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise bad(f"{where} {value} must be a non-negative amount in whole cents", where,
                  fix="Round the charge to cents")
    return decimal_text(value)


def quantity(value: Decimal, where: str) -> str:
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.001")):
        raise bad(f"{where} {value} must be a positive quantity with at most 3 decimals", where,
                  fix="Bill whole units (or up to 3 decimals for time or drug units)")
    return decimal_text(value)


def decimal_text(value: Decimal) -> str:
    text_ = format(value.normalize(), "f")
    return "0" if text_ in ("-0", "0") else text_


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(slots=True)
class Segments:
    """The segments of one transaction set, from ST; trailing empty elements are dropped as X12 requires."""

    items: list[str] = field(default_factory=list)

    def add(self, seg_id: str, *elements: str | Sequence[str]) -> None:
        values = [COMPONENT.join(e).rstrip(COMPONENT) if not isinstance(e, str) else e for e in elements]
        while values and values[-1] == "":
            values.pop()
        for i, v in enumerate(values, 1):
            if SEGMENT in v or ELEMENT in v or REPETITION in v:
                # Defensive: every claim value went through ``text``; this catches a writer bug, not user data.
                raise ClaimError(f"{seg_id}{i:02d} contains a delimiter", code="E821", where=f"{seg_id}{i:02d}",
                                 fix="Report this as a bug in the 837 writer")
        self.items.append(ELEMENT.join([seg_id, *values]))

    def __len__(self) -> int:
        return len(self.items)


def check_common(claim: Claim, form: str) -> Problems:
    """What both 837s need from the claim; returns the collector so each form adds its own before raising."""
    p = Problems(claim, form)
    p.require(claim.claim_id.strip(), "claim_id")
    p.require(claim.diagnoses, "diagnoses")
    p.require(claim.lines, "lines")
    bp = claim.billing_provider
    p.require(bp.npi, "billing_provider.npi")
    p.require(bp.tax_id, "billing_provider.tax_id")
    p.require(bp.address, "billing_provider.address")
    pt = claim.patient
    p.require(pt.member_id, "patient.member_id")
    p.require(pt.birth_date, "patient.birth_date")
    p.require(pt.sex, "patient.sex")
    p.require(pt.address, "patient.address")
    p.require(claim.payer.payer_id.strip(), "payer.payer_id")
    for i, line in enumerate(claim.lines):
        # Each line before the total, so a bad charge is named by its line, not by CLM02.
        amount(line.charge, f"lines[{i}].charge")
        quantity(line.units, f"lines[{i}].units")
    return p


def check_diagnosis_order(claim: Claim) -> None:
    """Line pointers are positions in ``Claim.diagnoses``, so positions and sequences must agree."""
    sequences = [d.sequence for d in claim.diagnoses]
    if sequences != list(range(1, len(sequences) + 1)):
        raise bad(f"diagnosis sequences are {sequences}; expected 1..{len(sequences)} in order",
                  f"claim {claim.claim_id} diagnoses", fix="List diagnoses in sequence order, principal first")
    codes = [diagnosis_code(d.code, f"diagnoses[{d.sequence}].code") for d in claim.diagnoses]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise bad(f"diagnoses repeat {', '.join(dupes)}", f"claim {claim.claim_id} diagnoses",
                  fix="Report each diagnosis code once")


def filing_indicator(payer: Payer, *, institutional: bool) -> str:
    """SBR09: Medicare Part A for institutional, Part B for professional claims."""
    if payer.kind == "self-pay":
        raise bad("a self-pay claim is not sent as an 837: the patient is the payer", "payer.kind",
                  code="E824", fix="Bill the patient directly, or set the payer")
    return {"medicare": "MA" if institutional else "MB", "medicaid": "MC", "commercial": "CI"}.get(payer.kind, "ZZ")


def person_name(provider: Provider, where: str) -> tuple[str, str, str]:
    """(NM102 entity type, NM103 last or organization name, NM104 first name); for a person ``name`` is the last."""
    last = text(provider.name, f"{where}.name", max_len=60)
    if not last:
        raise ClaimError(f"{where}.name is empty", code="E820", where=f"{where}.name", fix="Name the provider")
    if provider.is_person:
        return "1", last, text(provider.first_name or "", f"{where}.first_name", max_len=35)
    return "2", last, ""


def add_address(segments: Segments, address: Address, where: str, *, nine: bool = False) -> None:
    segments.add("N3", text(address.line1, f"{where}.line1", max_len=55),
                 text(address.line2 or "", f"{where}.line2", max_len=55))
    segments.add("N4", text(address.city, f"{where}.city", max_len=30),
                 code_value(address.state, f"{where}.state", r"[A-Z]{2}", "MD"),
                 zip_code(address.postal_code, f"{where}.postal_code", nine=nine))


def add_provider_name(segments: Segments, entity: str, provider: Provider, where: str) -> None:
    """NM1 with the NPI (qualifier XX) for a rendering, attending or service-facility provider."""
    kind, last, first = person_name(provider, where)
    segments.add("NM1", entity, kind, last, first, "", "", "", "XX", npi(provider.npi, f"{where}.npi"))


def add_billing_provider(segments: Segments, provider: Provider, hl: int) -> None:
    """2000A / 2010AA: the billing provider with NPI, address (ZIP+4) and EIN."""
    segments.add("HL", str(hl), "", "20", "1")
    if provider.taxonomy:
        segments.add("PRV", "BI", "PXC", taxonomy(provider.taxonomy, "billing_provider.taxonomy"))
    add_provider_name(segments, "85", provider, "billing_provider")
    if provider.address is None:  # check_common reported it; keeps the type checker honest
        raise ClaimError("billing_provider.address missing", code="E820", where="billing_provider.address")
    add_address(segments, provider.address, "billing_provider.address", nine=True)
    segments.add("REF", "EI", ein(provider.tax_id, "billing_provider.tax_id"))


def taxonomy(value: str, where: str) -> str:
    return code_value(value, where, r"[0-9]{3}[0-9A-Z]{6}X", "207Q00000X")


def add_subscriber(segments: Segments, claim: Claim, hl: int, parent: int, *, institutional: bool) -> None:
    """2000B / 2010BA / 2010BB: the patient is the subscriber (SBR02 18 self), then the payer."""
    segments.add("HL", str(hl), str(parent), "22", "0")
    segments.add("SBR", "P", "18", "", "", "", "", "", "", filing_indicator(claim.payer, institutional=institutional))
    patient: Patient = claim.patient
    segments.add("NM1", "IL", "1", text(patient.last_name, "patient.last_name", max_len=60),
                 text(patient.first_name, "patient.first_name", max_len=35), "", "", "", "MI",
                 text(patient.member_id or "", "patient.member_id", max_len=80))
    if patient.address is None or patient.birth_date is None or patient.sex is None:
        raise ClaimError("patient address, birth date or sex missing", code="E820", where="patient")
    add_address(segments, patient.address, "patient.address")
    segments.add("DMG", "D8", d8(patient.birth_date), patient.sex)
    segments.add("NM1", "PR", "2", text(claim.payer.name, "payer.name", max_len=60), "", "", "", "", "PI",
                 text(claim.payer.payer_id, "payer.payer_id", max_len=80))


def same_provider(a: Provider, b: Provider) -> bool:
    """Rendering equal to billing (same NPI) is not repeated: the TR3 sends 2310B only when different."""
    return a == b or (a.npi is not None and a.npi == b.npi)


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
