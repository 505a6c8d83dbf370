"""Revenue impact of suggested codes and documentation queries on real codes (FY2026 DRGs, V28 HCCs)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.errors import ClaimError
from medcoder.model.drg import DrgCase
from medcoder.model.risk import Beneficiary, CodeChange
from medcoder.pricing.drg import DrgGrouper, price_case, rate_on
from medcoder.pricing.hcc import score_risk
from medcoder.pricing.impact import apply_change, apply_to_codes, drg_impacts, risk_impacts, sort_impacts
from medcoder.settings import Settings

DAY = date(2026, 3, 1)
BASE = Decimal("6752.61")


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


@pytest.fixture(scope="module")
def grouper(codesets: Codesets) -> DrgGrouper:
    return DrgGrouper(codesets)


def _stay(principal: str, *secondary: str, procedures: tuple[str, ...] = ()) -> DrgCase:
    return DrgCase(principal_dx=principal, secondary_dx=secondary, procedures=procedures, discharge_date=DAY, sex="F")


def _pay(weight: str) -> Decimal:
    return (Decimal(weight) * BASE).quantize(Decimal("0.01"))


@pytest.mark.parametrize(("stay", "change", "drgs", "weights"), [
    # suggestion: an MCC secondary raises simple pneumonia 195 -> 193 (Table 5 weights 0.6285 -> 1.3144)
    (_stay("J18.9", "E11.9"), CodeChange(source="suggestion", add=("J96.01",)), ("195", "193"), ("0.6285", "1.3144")),
    # query: unspecified heart failure (no CC) documented as acute on chronic diastolic (MCC)
    (_stay("J18.9", "I50.9"), CodeChange(source="query", remove=("I50.9",), add=("I50.23",)), ("195", "193"),
     ("0.6285", "1.3144")),
    # query on the principal: unspecified pneumonia -> MRSA pneumonia moves the stay to 177-179
    (_stay("J18.9"), CodeChange(source="query", remove=("J18.9",), add=("J15.212",)), ("195", "179"),
     ("0.6285", "0.755")),
    # a procedure: mechanical ventilation > 96 hours moves sepsis 872 -> 870
    (_stay("A41.9"), CodeChange(source="suggestion", add=("5A1955Z",), system="icd10pcs"), ("872", "870"),
     ("1.0233", None)),
])
def test_impact_drg_before_after_and_payment_delta(grouper: DrgGrouper, stay: DrgCase, change: CodeChange,
                                                   drgs: tuple[str, str], weights: tuple[str, str | None]) -> None:
    (impact,) = drg_impacts(stay, [change], grouper=grouper)
    assert impact.kind == "inpatient-drg" and impact.change is change
    assert impact.before.startswith(f"DRG {drgs[0]} ") and impact.after.startswith(f"DRG {drgs[1]} ")
    assert impact.before_amount == _pay(weights[0])
    if weights[1] is not None:
        assert impact.after_amount == _pay(weights[1])
    assert impact.delta == impact.after_amount - impact.before_amount > 0
    assert f"DRG {drgs[0]} -> DRG {drgs[1]}" in impact.explanation


@pytest.mark.parametrize(("stay", "code", "why"), [
    (_stay("J18.9"), "J18.1", "Table 6K Part 1"),            # MCC excluded with this principal
    (_stay("J18.9", "J96.01"), "E87.1", "CC on Table 6J"),    # a CC adds nothing beside an MCC
    (_stay("J18.9"), "I10", "neither CC nor MCC"),
])
def test_impact_drg_zero_when_the_code_does_not_move_the_drg(grouper: DrgGrouper, stay: DrgCase, code: str,
                                                            why: str) -> None:
    (impact,) = drg_impacts(stay, [CodeChange(source="suggestion", add=(code,))], grouper=grouper)
    assert impact.delta == 0 and impact.before == impact.after
    assert "DRG stays" in impact.explanation and why in impact.explanation


@pytest.mark.parametrize("base_rate", [Decimal("10000")])
def test_impact_drg_list_is_sorted_and_rate_is_configurable(grouper: DrgGrouper, base_rate: Decimal) -> None:
    changes = [CodeChange(source="suggestion", add=("I10",), id="s1"),
               CodeChange(source="suggestion", add=("E87.1",), id="s2"),
               CodeChange(source="suggestion", add=("J96.01",), id="s3")]
    impacts = drg_impacts(_stay("J18.9"), changes, grouper=grouper, base_rate=base_rate)
    assert [i.change.id for i in impacts] == ["s3", "s2", "s1"]
    assert [i.delta for i in impacts] == [Decimal("6859.00"), Decimal("1774.00"), Decimal("0.00")]
    assert impacts == sort_impacts(reversed(impacts))


@pytest.mark.parametrize(("change", "code"), [
    (CodeChange(source="suggestion", add=("J96.0",)), "E842"),                   # a category, not billable
    (CodeChange(source="query", remove=("I50.9",), add=("I50.23",)), "E848"),    # I50.9 is not on the stay
    (CodeChange(source="query", remove=("J18.9",)), "E848"),                     # principal removed, none added
])
def test_impact_unpriceable_change_is_reported_not_dropped(grouper: DrgGrouper, change: CodeChange,
                                                          code: str) -> None:
    (impact,) = drg_impacts(_stay("J18.9"), [change], grouper=grouper)
    assert impact.after == "not priced" and impact.delta == 0 and f"[{code}]" in impact.explanation


@pytest.mark.parametrize(("codes", "change", "hccs_added", "hccs_removed"), [
    # query: diabetes without complication -> with diabetic CKD stage 3a adds HCC 329 (+ HF x kidney)
    (("E11.9", "I50.9"), CodeChange(source="query", remove=("E11.9",), add=("E11.22", "N18.31")), ["37", "329"],
     ["38"]),
    (("E11.9",), CodeChange(source="suggestion", add=("J44.9",)), ["280"], []),
])
def test_impact_risk_raf_delta_times_annual_base(codesets: Codesets, codes: tuple[str, ...], change: CodeChange,
                                                 hccs_added: list[str], hccs_removed: list[str]) -> None:
    member = Beneficiary(age=72, sex="F")
    (impact,) = risk_impacts(codes, member, [change], codesets=codesets)
    before = score_risk(codes, member, codesets=codesets)
    after = score_risk(apply_to_codes(codes, change), member, codesets=codesets)
    base = rate_on("risk_adjustment", DAY).amount
    assert base == Decimal("12000.00")
    assert impact.kind == "risk-adjustment" and after.score > before.score
    assert impact.delta == (Decimal(str(round(after.score, 3))) - Decimal(str(round(before.score, 3)))) * base
    for hcc in hccs_added:
        assert f"adds HCC {hcc} " in impact.explanation
    for hcc in hccs_removed:
        assert f"removes HCC {hcc} " in impact.explanation


@pytest.mark.parametrize("annual_base", [Decimal("1000")])
def test_impact_risk_specificity_with_equal_factors_is_worth_nothing(codesets: Codesets,
                                                                     annual_base: Decimal) -> None:
    # V28 gives HCC 224 (acute on chronic HF) and HCC 226 (other HF) the same CNA factor: I50.9 -> I50.23 is 0
    change = CodeChange(source="query", remove=("I50.9",), add=("I50.23",))
    (impact,) = risk_impacts(["I50.9"], Beneficiary(age=70, sex="M"), [change], codesets=codesets,
                             annual_base=annual_base)
    assert impact.delta == 0 and "adds HCC 224" in impact.explanation and "removes HCC 226" in impact.explanation
    assert "annual base given by the caller" in impact.explanation


@pytest.mark.parametrize("change", [CodeChange(source="suggestion", add=("0BH17EZ",), system="icd10pcs")])
def test_impact_risk_refuses_procedure_changes(codesets: Codesets, change: CodeChange) -> None:
    (impact,) = risk_impacts(["E11.9"], Beneficiary(age=70, sex="M"), [change], codesets=codesets)
    assert impact.after == "not priced" and "[E848]" in impact.explanation


@pytest.mark.parametrize(("change", "principal", "secondary"), [
    (CodeChange(source="query", remove=("J18.9",), add=("J15.212", "B95.62")), "J15.212", ("I10", "B95.62")),
    (CodeChange(source="query", remove=("I10",), add=("I11.0",)), "J18.9", ("I11.0",)),
])
def test_impact_apply_change_keeps_the_principal_first(change: CodeChange, principal: str,
                                                       secondary: tuple[str, ...]) -> None:
    applied = apply_change(_stay("J18.9", "I10"), change)
    assert (applied.principal_dx, applied.secondary_dx) == (principal, secondary)


@pytest.mark.parametrize("missing", ["E78.5"])
def test_impact_apply_change_refuses_to_remove_an_absent_code(missing: str) -> None:
    with pytest.raises(ClaimError) as e:
        apply_change(_stay("J18.9"), CodeChange(source="query", remove=(missing,), add=("E78.00",)))
    assert e.value.code == "E848"


@pytest.mark.parametrize("weight", ["0.6285"])
def test_impact_matches_price_case(codesets: Codesets, grouper: DrgGrouper, weight: str) -> None:
    (impact,) = drg_impacts(_stay("J18.9"), [CodeChange(source="suggestion", add=("J96.01",))], grouper=grouper)
    assert impact.before_amount == price_case(_stay("J18.9"), codesets=codesets).payment == _pay(weight)
