"""A beneficiary's CMS-HCC risk score with its parts, and the revenue a pending code change would move.

Why every factor is kept: a risk score is a sum of published relative factors (an age/sex cell, one per
payment HCC, interactions, a count of HCCs). A coder reviewing "why did the score rise?" needs which
diagnosis produced which HCC, which HCC a hierarchy dropped and which factor added what, and a finance
reviewer needs the same for "what is this documentation query worth?" (``RevenueImpact``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from medcoder.model.frozen import quick_init

FactorKind = Literal["demographic", "hcc", "interaction", "count"]
ImpactKind = Literal["inpatient-drg", "risk-adjustment"]
ChangeSource = Literal["suggestion", "query"]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Beneficiary:
    """The demographic facts a CMS-HCC model reads.

    ``segment`` is the coefficient prefix of the model's population segment as the coefficients file names
    it: ``CNA`` community non-dual aged (default), ``CND`` non-dual disabled, ``CFA``/``CFD`` full-benefit
    dual aged/disabled, ``CPA``/``CPD`` partial-benefit dual aged/disabled, ``INS`` long-term institutional,
    ``NE``/``SNPNE`` new enrollee (demographic factors only).
    """

    age: int
    sex: Literal["F", "M"]
    segment: str = "CNA"
    originally_disabled: bool = False
    """Entitled to Medicare by disability before turning 65 (OREC 1): adds the originally-disabled factor."""
    medicaid: bool = False
    """Enrolled in Medicaid: the institutional LTIMCAID factor and the new-enrollee Medicaid cells."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class HccHit:
    """One HCC the diagnoses produced, the codes that produced it and, if dropped, the HCCs that dropped it."""

    hcc: str
    label: str | None
    codes: tuple[str, ...]
    """Dotless ICD-10-CM codes mapping to it."""
    coefficient: float | None = None
    """Its relative factor in the segment (None when dropped, or the model gives it none)."""
    dropped_by: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFactor:
    name: str
    """The coefficient's name in the model's file, e.g. ``CNA_HCC37`` or ``CNA_DIABETES_HF_V28``."""
    kind: FactorKind
    value: float
    detail: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskScore:
    """A raw (unnormalised) CMS-HCC risk score: the sum of ``factors``."""

    model: str
    """The model as the file spells it, e.g. ``CMS-HCC Model V28``."""
    release: str
    """The knowledge-base release, e.g. ``hcc 2026``."""
    beneficiary: Beneficiary
    score: float
    factors: tuple[RiskFactor, ...]
    hccs: tuple[HccHit, ...]
    """HCCs that count, after hierarchies."""
    dropped: tuple[HccHit, ...] = ()
    """HCCs a hierarchy (or a model rule) removed."""
    unmapped: tuple[str, ...] = ()
    """Diagnoses that map to no HCC of the model."""
    notes: tuple[str, ...] = ()

    @property
    def demographic_score(self) -> float:
        return sum([f.value for f in self.factors if f.kind == "demographic"])

    @property
    def disease_score(self) -> float:
        return self.score - self.demographic_score


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CodeChange:
    """A change not yet in the accepted code set: a suggested code, or a documentation query's outcome.

    A query that makes a code more specific removes the vague code and adds the specific ones
    (``remove=('E11.9',), add=('E11.22', 'N18.31')``); when the removed code is the principal diagnosis the
    first added code takes its place.
    """

    source: ChangeSource
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    system: Literal["icd10cm", "icd10pcs"] = "icd10cm"
    id: str | None = None
    """The suggestion's or query's id in the working database, when it has one."""
    description: str = ""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RevenueImpact:
    """What accepting one change would do to expected payment; sort a list by ``delta`` (largest first)."""

    kind: ImpactKind
    change: CodeChange
    before: str
    after: str
    """e.g. ``DRG 195 (weight 0.6285)`` or ``RAF 0.561``."""
    before_amount: Decimal
    after_amount: Decimal
    delta: Decimal
    """after - before, in dollars (per stay for a DRG, per member per year for risk adjustment)."""
    explanation: str
