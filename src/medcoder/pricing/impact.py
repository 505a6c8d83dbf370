"""Revenue impact of changes a coder has not accepted yet: suggested codes and documentation queries.

Why "before and after" on the real grouper and risk model rather than a per-code price list: a code's worth
depends on the rest of the stay. J96.01 moves a pneumonia stay from DRG 195 to 193 but adds nothing to a
stay that already has an MCC, and is worth nothing when Table 6K excludes it with the principal; N18.31 adds
HCC 329 and, beside heart failure, the HF x kidney interaction. So each change is priced by grouping (or
scoring) the accepted codes with and without it, and the explanation says what moved.

Amounts: inpatient = the stay's IPPS operating payment (``pricing.drg``); risk adjustment = risk-score delta
x an annual per-member base (``data/drg_rates.json``, an illustrative default; pass your plan's own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from medcoder.errors import ClaimError, MedcoderError
from medcoder.model.code import undotted
from medcoder.model.drg import DrgCase
from medcoder.model.risk import Beneficiary, CodeChange, ImpactKind, RevenueImpact, RiskScore
from medcoder.pricing.drg import DrgGrouper, load_rates, price_assignment, rate_on
from medcoder.pricing.hcc import DEFAULT_MODEL, score_risk

if TYPE_CHECKING:
    from medcoder.codesets.codesets import Codesets

_CENT = Decimal("0.01")


def _key(code: str, system: str) -> str:
    return undotted(code) if system == "icd10cm" else code.strip().upper()


def _remove(codes: list[str], change: CodeChange) -> list[str]:
    keys = [_key(c, change.system) for c in codes]
    for code in change.remove:
        if _key(code, change.system) not in keys:
            raise ClaimError(f"the change removes {code}, which is not among the accepted codes", code="E848",
                             where=change.id or code, fix="Price changes against the encounter's accepted codes")
    gone = {_key(c, change.system) for c in change.remove}
    return [c for c, k in zip(codes, keys, strict=True) if k not in gone]


def apply_change(case: DrgCase, change: CodeChange) -> DrgCase:
    """``case`` with ``change`` accepted; a removed principal diagnosis is replaced by the first added code."""
    if change.system == "icd10pcs":
        kept = _remove(list(case.procedures), change)
        return replace(case, procedures=tuple(dict.fromkeys([*kept, *change.add])))
    diagnoses = _remove([case.principal_dx, *case.secondary_dx], change)
    principal_gone = _key(case.principal_dx, "icd10cm") in {_key(c, "icd10cm") for c in change.remove}
    if principal_gone:
        if not change.add:
            raise ClaimError(f"the change removes the principal diagnosis {case.principal_dx} and adds none",
                             code="E848", where=change.id or case.principal_dx,
                             fix="A query replacing the principal diagnosis must add its replacement first")
        diagnoses = [change.add[0], *diagnoses, *change.add[1:]]
    else:
        diagnoses = [*diagnoses, *change.add]
    unique = list(dict.fromkeys(diagnoses))
    return replace(case, principal_dx=unique[0], secondary_dx=tuple(unique[1:]))


def apply_to_codes(codes: Sequence[str], change: CodeChange) -> list[str]:
    """A diagnosis list with ``change`` accepted (order kept, added codes last)."""
    return list(dict.fromkeys([*_remove(list(codes), change), *change.add]))


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _codes(change: CodeChange) -> str:
    parts = [f"+{c}" for c in change.add] + [f"-{c}" for c in change.remove]
    return " ".join(parts) or "(no codes)"


def _unpriced(kind: ImpactKind, change: CodeChange, before: str, amount: Decimal,
              error: MedcoderError) -> RevenueImpact:
    """A change that cannot be priced is reported with a zero delta and the reason, never dropped."""
    return RevenueImpact(kind=kind, change=change, before=before, after="not priced",
                         before_amount=amount, after_amount=amount, delta=Decimal("0.00"),
                         explanation=f"{_codes(change)}: not priced: {error}")


def sort_impacts(impacts: Iterable[RevenueImpact]) -> list[RevenueImpact]:
    """Largest gain first; ties by kind and the change's codes, so the order is stable."""
    return sorted(impacts, key=lambda i: (-i.delta, i.kind, _codes(i.change)))


def drg_impacts(case: DrgCase, changes: Iterable[CodeChange], *, grouper: DrgGrouper,
                base_rate: Decimal | None = None) -> list[RevenueImpact]:
    """Payment change of each change to an inpatient stay, largest first (DRG before/after, weight x rate)."""
    before = price_assignment(grouper.group(case), day=case.discharge_date, base_rate=base_rate)
    a = before.assignment
    label = f"DRG {a.drg} (weight {a.weight})"
    out = []
    for change in changes:
        try:
            after = price_assignment(grouper.group(apply_change(case, change)), day=case.discharge_date,
                                     base_rate=base_rate)
        except MedcoderError as e:
            out.append(_unpriced("inpatient-drg", change, label, before.payment, e))
            continue
        b = after.assignment
        if b.drg == a.drg:
            why = f"DRG stays {a.drg} ({a.tier or 'no severity split'})"
            added = [s for s in b.severities if s.code in {_key(c, "icd10cm") for c in change.add}]
            if added:
                why += "; " + "; ".join(f"{s.code}: {s.reason}" for s in added)
        else:
            why = f"DRG {a.drg} -> {b.explanation}"
        out.append(RevenueImpact(
            kind="inpatient-drg", change=change, before=label, after=f"DRG {b.drg} (weight {b.weight})",
            before_amount=before.payment, after_amount=after.payment, delta=after.payment - before.payment,
            explanation=f"{_codes(change)}: {why}; payment {_money(before.payment)} -> {_money(after.payment)} "
                        f"at base rate {_money(after.base_rate)}"))
    return sort_impacts(out)


def _hcc_words(before: RiskScore, after: RiskScore) -> str:
    old = {h.hcc: h for h in before.hccs}
    new = {h.hcc: h for h in after.hccs}
    words = [f"adds HCC {h} ({new[h].label or 'no label'}) from {', '.join(new[h].codes)}"
             for h in sorted(set(new) - set(old), key=int)]
    words += [f"removes HCC {h} ({old[h].label or 'no label'})" for h in sorted(set(old) - set(new), key=int)]
    was = {f.name: f.value for f in before.factors}
    now = {f.name: f.value for f in after.factors}
    moved = [f"{n} {was.get(n, 0.0):+.3f}->{now.get(n, 0.0):+.3f}" for n in sorted(set(was) | set(now))
             if was.get(n, 0.0) != now.get(n, 0.0) and not n.split("_", 1)[1].startswith("HCC")]
    if moved:
        words.append("factors " + ", ".join(moved))
    return "; ".join(words) or "no HCC or factor changes"


def risk_impacts(diagnoses: Sequence[str], beneficiary: Beneficiary, changes: Iterable[CodeChange], *,
                 codesets: Codesets, model: str = DEFAULT_MODEL, annual_base: Decimal | None = None,
                 on: date | None = None) -> list[RevenueImpact]:
    """Annual payment change of each change to a member's risk score: RAF delta x annual base, largest first."""
    if annual_base is None:
        day = on or codesets.day
        rate = rate_on("risk_adjustment", day) if day else load_rates()["risk_adjustment"][-1]
        annual_base, source = rate.amount, f"risk-adjustment base {rate.id}"
    else:
        source = "annual base given by the caller"
    before = score_risk(diagnoses, beneficiary, codesets=codesets, model=model)
    label = f"RAF {before.score:.3f}"

    def amount(score: float) -> Decimal:
        return (Decimal(str(round(score, 3))) * annual_base).quantize(_CENT, rounding=ROUND_HALF_UP)

    out = []
    for change in changes:
        try:
            if change.system != "icd10cm":
                raise ClaimError("risk adjustment reads diagnoses only", code="E848", where=change.id,
                                 fix="Price ICD-10-PCS changes with drg_impacts")
            after = score_risk(apply_to_codes(diagnoses, change), beneficiary, codesets=codesets, model=model)
        except MedcoderError as e:
            out.append(_unpriced("risk-adjustment", change, label, amount(before.score), e))
            continue
        old, new = amount(before.score), amount(after.score)
        out.append(RevenueImpact(
            kind="risk-adjustment", change=change, before=label, after=f"RAF {after.score:.3f}",
            before_amount=old, after_amount=new, delta=new - old,
            explanation=f"{_codes(change)}: {before.model} {beneficiary.segment} RAF {before.score:.3f} -> "
                        f"{after.score:.3f} ({after.score - before.score:+.3f}): {_hcc_words(before, after)}; "
                        f"x {_money(annual_base)} per member per year ({source})"))
    return sort_impacts(out)
