"""What the fee-schedule pricer returns: each line's amount with the arithmetic that produced it.

Why the whole breakdown and not only the amount: a billing manager must be able to redo the sum by hand
(RVU x GPCI per component, the conversion factor, each modifier's percentage and the rule it came from) and an
auditor must see which release priced it, years later. Amounts are ``Decimal`` rounded to cents as CMS rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from medcoder.model.frozen import quick_init

Setting = Literal["facility", "non-facility"]
"""Which practice-expense RVU applies: from the place of service (Pub. 100-04 ch.12 §20.4.2)."""


@lru_cache(maxsize=4096)
def iso_date(day: date) -> str:
    """``day.isoformat()``, memoised per date: every priced line and claim shows its date, a batch's fall on a
    few hundred dates, and ``isoformat`` formats through a printf-style template each time."""
    return day.isoformat()


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PriceProblem:
    """Why a line or claim could not be priced (or not fully): a coded error, never an exception."""

    code: str
    """``E81x`` (see ``errors.ClaimError``), or the code of the underlying error (e.g. ``E403``)."""
    message: str
    line: int | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "line": self.line, "fix": self.fix}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """One payment rule applied to a line: a factor on the fee schedule amount, citing its rule id."""

    rule: str
    """Rule id in ``pricing/data/pfs_rules.json``, e.g. ``bilateral.1`` or ``multiple-procedure.2``."""
    factor: Decimal
    reason: str
    cite: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RvuBreakdown:
    """[(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF, each term kept."""

    work_rvu: Decimal
    pe_rvu: Decimal
    mp_rvu: Decimal
    work_gpci: Decimal
    pe_gpci: Decimal
    mp_gpci: Decimal
    conversion_factor: Decimal
    setting: Setting
    """Which PE RVU was used (the facility one also when the non-facility PE is 'NA')."""
    work_gpci_floor: bool
    """True when the 1.0 work GPCI floor was applied."""
    _shown: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    """``to_dict``'s answer, built on first use: the pricer shares one breakdown among the lines that bill a code
    (a slot of the breakdown itself, not a memo by identity: no look-up and no entry to keep per breakdown)."""

    @property
    def work(self) -> Decimal:
        return self.work_rvu * self.work_gpci

    @property
    def pe(self) -> Decimal:
        return self.pe_rvu * self.pe_gpci

    @property
    def mp(self) -> Decimal:
        return self.mp_rvu * self.mp_gpci

    @property
    def adjusted_rvus(self) -> Decimal:
        """Geographically adjusted RVUs, unrounded (CMS rounds only the final dollar amount)."""
        return self.work + self.pe + self.mp

    def to_dict(self) -> dict[str, Any]:
        shown = self._shown
        if shown is None:
            shown = self._dict()
            object.__setattr__(self, "_shown", shown)  # frozen: set once, never handed out (a copy each time)
        return dict(shown)

    def _dict(self) -> dict[str, Any]:
        # work, pe and mp written out (the properties' products): most breakdowns a batch prints are new ones
        return {"work_rvu": str(self.work_rvu), "pe_rvu": str(self.pe_rvu), "mp_rvu": str(self.mp_rvu),
                "work_gpci": str(self.work_gpci), "pe_gpci": str(self.pe_gpci), "mp_gpci": str(self.mp_gpci),
                "work": str(self.work_rvu * self.work_gpci), "pe": str(self.pe_rvu * self.pe_gpci),
                "mp": str(self.mp_rvu * self.mp_gpci),
                "conversion_factor": str(self.conversion_factor), "setting": self.setting,
                "work_gpci_floor": self.work_gpci_floor}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class LineFee:
    """The fee schedule price of one service line."""

    line: int
    code: str
    modifiers: tuple[str, ...]
    service_date: date
    units: Decimal
    setting: Setting | None
    locality: str | None
    """``MAC-locality`` priced, or None for national amounts (every GPCI 1.000)."""
    status: str | None = None
    """PFS status code of the code (A, R, T priced; C carrier-priced; B, I, N, X ... not paid)."""
    fee_schedule_amount: Decimal | None = None
    """One unit, before modifiers and multiple-procedure rules: the figure CMS's payment files print."""
    amount: Decimal | None = None
    """All units after every adjustment; 0 when the PFS pays nothing; None when it cannot say (carrier-priced,
    unknown code or locality)."""
    allowed: Decimal | None = None
    """The lower of the line's charge and ``amount`` (Medicare allows the lower); ``amount`` when no charge."""
    breakdown: RvuBreakdown | None = None
    adjustments: tuple[Adjustment, ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[PriceProblem, ...] = ()
    releases: tuple[str, ...] = ()
    """Releases used, e.g. ``('pfs/CY2026', 'pfs-rules/2026.1')``."""

    @property
    def priced(self) -> bool:
        return self.amount is not None

    def to_dict(self) -> dict[str, Any]:
        fee, amount, allowed = self.fee_schedule_amount, self.amount, self.allowed
        # A unit without payment rules is paid its fee, and a line is allowed its amount unless the charge is lower:
        # the pricer passes the same Decimal on, so a figure already formatted is not formatted again.
        shown_fee = None if fee is None else str(fee)
        shown_amount = shown_fee if amount is fee else None if amount is None else str(amount)
        return {"line": self.line, "code": self.code, "modifiers": list(self.modifiers),
                "service_date": iso_date(self.service_date), "units": str(self.units), "setting": self.setting,
                "locality": self.locality, "status": self.status,
                "fee_schedule_amount": shown_fee, "amount": shown_amount,
                "allowed": shown_amount if allowed is amount else None if allowed is None else str(allowed),
                "breakdown": None if self.breakdown is None else self.breakdown.to_dict(),
                # most lines have no adjustment and no problem: skip building an empty comprehension
                "adjustments": [{"rule": a.rule, "factor": str(a.factor), "reason": a.reason, "cite": a.cite}
                                for a in self.adjustments] if self.adjustments else [],
                "notes": list(self.notes),
                "problems": [p.to_dict() for p in self.problems] if self.problems else [],
                "releases": list(self.releases)}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FeeSchedulePrice:
    """A professional claim priced on the Medicare Physician Fee Schedule."""

    claim_id: str
    locality: str | None
    lines: tuple[LineFee, ...]
    problems: tuple[PriceProblem, ...] = ()
    """Claim-level problems (unknown locality, no PFS release ...); line problems sit on their lines."""
    releases: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        """Sum of the priced lines' allowed amounts (unpriced lines count nothing: see ``complete``)."""
        return sum([f.allowed for f in self.lines if f.allowed is not None], Decimal(0))

    @property
    def complete(self) -> bool:
        """Every line priced and no problem anywhere: the total is the claim's whole PFS amount."""
        return not self.problems and all(f.amount is not None and not f.problems for f in self.lines)  # f.priced

    def to_dict(self) -> dict[str, Any]:
        return {"claim_id": self.claim_id, "locality": self.locality, "total": str(self.total),
                "complete": self.complete, "lines": [f.to_dict() for f in self.lines],
                "problems": [p.to_dict() for p in self.problems], "releases": list(self.releases)}
