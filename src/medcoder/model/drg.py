"""An inpatient stay as the MS-DRG grouper sees it, and what grouping and pricing it found.

Why plain frozen data: a coder asks "why DRG 193 and not 195?", a billing manager asks "what is this stay
worth?", and an auditor asks the same a year later. The answer keeps the grouper version, the weights release,
every secondary diagnosis's severity with the Table 6K reason it counts or not, and where the grouper's own
tables disagree with the published CMS lists, so it can be stored, diffed and re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from medcoder.model.frozen import quick_init

Severity = Literal["MCC", "CC"]
Sex = Literal["F", "M", "U"]
Tier = Literal["with MCC", "with CC", "with CC/MCC", "without MCC", "without CC/MCC"]
"""The severity split a DRG's title names (``None`` on a result: the DRG has no split)."""

EXPIRED_STATUSES: frozenset[str] = frozenset({"20", "40", "41", "42"})
"""UB-04 patient discharge status codes meaning the patient died (expired; expired at home, in a medical
facility, place unknown — the last three for hospice claims)."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DrgCase:
    """The facts MS-DRG grouping reads: diagnoses, procedures, sex, discharge status and date.

    Codes may be written dotted or not (``J18.9``/``J189``); the grouper normalises them. ``poa`` pairs a
    diagnosis code with its present-on-admission indicator (Y, N, U, W, 1); a missing code counts as ``Y``.
    """

    principal_dx: str
    discharge_date: date
    secondary_dx: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    """ICD-10-PCS codes; their order does not change the DRG."""
    sex: Sex | None = None
    age: int | None = None
    """Age in years at admission; carried into the result (drgpy 0.2.1 takes no age, see ``notes``)."""
    discharge_status: str = "01"
    poa: tuple[tuple[str, str], ...] = ()

    @property
    def discharged_alive(self) -> bool:
        return self.discharge_status not in EXPIRED_STATUSES


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SecondarySeverity:
    """One secondary diagnosis and whether it counts as a CC or MCC for this stay, and why."""

    code: str
    """Dotless ICD-10-CM code."""
    listed: Severity | None
    """Its level on Table 6I (MCC) / 6J (CC), before any exclusion."""
    level: Severity | None
    """The level it keeps for this stay after Table 6K Parts 1-3 (medcoder's FY2026 tables)."""
    reason: str
    grouper_level: Severity | None
    """The level drgpy's grouper tables give it for this stay (HAC/POA rule included)."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DrgAssignment:
    """The MS-DRG a stay groups to, with its Table 5 weight and the evidence for its severity tier."""

    drg: str
    title: str
    mdc: str | None
    """``'01'``..``'25'``, ``'PRE'`` for pre-MDC DRGs, ``None`` for 981-989."""
    drg_type: str | None
    """``'SURG'`` or ``'MED'`` (Table 5)."""
    tier: Tier | None
    family: tuple[str, ...]
    """The DRGs that differ from this one only by severity (e.g. ``('193', '194', '195')``)."""
    drivers: tuple[str, ...]
    """Secondary diagnoses (dotless) that make the tier, e.g. the MCC of a 'with MCC' DRG."""
    severities: tuple[SecondarySeverity, ...]
    weight: float | None
    gmlos: float | None
    alos: float | None
    grouper: str
    """Grouper and logic version, e.g. ``drgpy 0.2.1 MS-DRG v43.1``."""
    weights_release: str
    """The knowledge-base release of Table 5/6I/6J/6K used, e.g. ``msdrg FY2026``."""
    age: int | None = None
    sex: Sex | None = None
    discharge_status: str = "01"
    disagreements: tuple[str, ...] = ()
    """Where drgpy's CC/MCC tables and medcoder's Tables 6I/6J/6K differ for this stay."""
    notes: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        head = _explanation_head(self.drg, self.title, self.mdc, self.drg_type, self.family)
        if self.drivers:
            by_code = {s.code: s for s in self.severities}
            return f"{head}; " + "; ".join(f"{by_code[c].level} {c}: {by_code[c].reason}" for c in self.drivers)
        if self.tier and self.tier.startswith("without"):
            return f"{head}; no secondary diagnosis counts as " + self.tier.removeprefix("without ")
        return head


@lru_cache(maxsize=4096)
def _explanation_head(drg: str, title: str, mdc: str | None, drg_type: str | None, family: tuple[str, ...]) -> str:
    """``'DRG 193 SIMPLE PNEUMONIA ... (MDC 04, MED); family 193/194/195'``: the part of an explanation that
    depends on the DRG alone, built once per DRG (every stay grouped to it repeats it)."""
    head = f"DRG {drg} {title}"
    where = ", ".join(p for p in (f"MDC {mdc}" if mdc else None, drg_type) if p)
    if where:
        head += f" ({where})"
    return f"{head}; family {'/'.join(family)}" if len(family) > 1 else head


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DrgPayment:
    """A stay's national IPPS operating payment: relative weight x base rate (no wage index, outliers,
    add-ons, transfer or teaching adjustments)."""

    assignment: DrgAssignment
    base_rate: Decimal
    payment: Decimal
    """Rounded to cents."""
    rate_source: str
