"""A claim as payers see it: parties, diagnoses, procedure and service lines, units, modifiers, charges.

Why plain frozen data shared by every money-side stage: the claim builder fills it from an encounter's final
codes, and then the editors (``edits/``), the pricers (``pricing/``) and the writers (``output/``) each read the
same object without importing one another. Amounts are ``Decimal`` (cents must add up on an 837).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from medcoder.model.frozen import quick_init

ClaimKind = Literal["professional", "institutional"]
"""Professional = CMS-1500 / 837P; institutional = UB-04 / 837I."""
Sex = Literal["F", "M", "U"]
PayerKind = Literal["medicare", "medicaid", "commercial", "self-pay", "other"]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """A billing, rendering, attending or referring provider, or a service facility."""

    name: str
    npi: str | None = None
    """10-digit National Provider Identifier (Luhn check digit with prefix 80840)."""
    taxonomy: str | None = None
    """NUCC health-care provider taxonomy code (10 characters), e.g. ``207Q00000X``."""
    tax_id: str | None = None
    """EIN (9 digits) of the billing provider."""
    address: Address | None = None
    is_person: bool = False
    first_name: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    member_id: str | None
    last_name: str
    first_name: str
    birth_date: date | None
    sex: Sex | None
    address: Address | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Payer:
    name: str
    payer_id: str
    kind: PayerKind = "medicare"


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    """An ICD-10-CM code on the claim; ``sequence`` 1 is the principal / first-listed diagnosis."""

    code: str
    sequence: int
    poa: str | None = None
    """Present-on-admission indicator (Y, N, U, W, 1) for inpatient claims."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLine:
    """One CPT/HCPCS service line (837P SV1 / 837I SV2)."""

    number: int
    code: str
    service_date: date
    units: Decimal = Decimal(1)
    charge: Decimal = Decimal(0)
    modifiers: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = ()
    """1-based positions into ``Claim.diagnoses`` (837P allows up to 4 per line)."""
    place_of_service: str | None = None
    """CMS place-of-service code (two digits) when it differs from the claim's."""
    revenue_code: str | None = None
    """UB-04 revenue code, institutional claims only."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ProcedureCode:
    """An ICD-10-PCS procedure on an institutional (inpatient) claim."""

    code: str
    performed_on: date
    sequence: int


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    claim_id: str
    kind: ClaimKind
    patient: Patient
    payer: Payer
    billing_provider: Provider
    diagnoses: tuple[Diagnosis, ...]
    lines: tuple[ServiceLine, ...] = ()
    procedures: tuple[ProcedureCode, ...] = ()
    rendering_provider: Provider | None = None
    attending_provider: Provider | None = None
    service_facility: Provider | None = None
    setting: Literal["outpatient", "inpatient"] = "outpatient"
    place_of_service: str = "11"
    """Professional claims: CMS place of service (11 office, 21 inpatient hospital, 22/19 outpatient, 23 ER)."""
    statement_from: date | None = None
    statement_to: date | None = None
    admission_date: date | None = None
    discharge_date: date | None = None
    discharge_status: str | None = None
    """UB-04 patient discharge status (01 home, 02 short-term hospital, 20 expired, ...)."""
    type_of_bill: str | None = None
    """Institutional: facility type + classification + frequency, e.g. ``0111`` inpatient admit-through-discharge."""
    locality: str | None = None
    """Medicare PFS payment locality as ``MAC-locality`` (e.g. ``01112-05``); None = national amounts."""
    admission_type: str | None = None
    """Institutional inpatient: UB-04 priority (type) of admission, FL14 (1 emergency, 2 urgent, 3 elective,
    4 newborn, 5 trauma, 9 information not available); the 837I CL101."""
    admission_source: str | None = None
    """Institutional: UB-04 point of origin (source) of admission, FL15 (1 non-facility, 2 clinic, 4 hospital
    transfer, 7 emergency room, 9 information not available, ...); the 837I CL102."""
    admitting_diagnosis: str | None = None
    """Institutional inpatient: ICD-10-CM code of the condition identified at admission, UB-04 FL69; 837I HI ABJ."""

    _dates: tuple[date, ...] = field(init=False, repr=False, compare=False)
    """``service_dates``, computed once: every edit and pricer asks for them (the claim is immutable)."""

    def __post_init__(self) -> None:
        dates = {line.service_date for line in self.lines} | {p.performed_on for p in self.procedures}
        for day in (self.statement_from, self.statement_to, self.admission_date, self.discharge_date):
            if day is not None:
                dates.add(day)
        object.__setattr__(self, "_dates", tuple(sorted(dates)))

    @property
    def service_dates(self) -> tuple[date, ...]:
        """Every date on the claim (lines, procedures, statement, stay), in order."""
        return self._dates

    @property
    def first_service_date(self) -> date | None:
        dates = self.service_dates
        return dates[0] if dates else None

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal(0))
