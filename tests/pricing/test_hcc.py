"""CMS-HCC risk scores (V28 default, V24) from the payment-year-2026 knowledge base, cross-checked against
hccinfhir 0.4.0's own calculator (``hccinfhir.calculate_raf``) on the same beneficiaries to 3 decimals."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.errors import ClaimError
from medcoder.model.risk import Beneficiary
from medcoder.pricing.hcc import NOTE_NO_EDITS, score_risk
from medcoder.settings import Settings

V28, V24 = "CMS-HCC Model V28", "CMS-HCC Model V24"


@pytest.fixture(scope="module")
def hccinfhir() -> tuple[Callable[..., Any], dict[tuple[str, str], Any]]:
    """hccinfhir's ``calculate_raf`` and its age/sex edit table; its import warns (importlib.resources.path),
    which the suite's ``filterwarnings = error`` would turn into a failure, so only that import is quieted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from hccinfhir import calculate_raf
        from hccinfhir.defaults import edits_default
    return calculate_raf, edits_default


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(date(2026, 3, 1), settings=kb_settings)


PATIENTS = [
    ("diabetes-hf-copd-ckd", ("E11.9", "I50.22", "J44.9", "N18.31"), Beneficiary(age=72, sex="F")),
    ("diabetes-ckd", ("E11.22", "N18.31"), Beneficiary(age=70, sex="M")),
    ("diabetes-only", ("E11.9",), Beneficiary(age=70, sex="M")),
    ("hierarchy-diabetes", ("E11.9", "E11.22", "E11.65"), Beneficiary(age=85, sex="F")),
    ("no-hcc", ("I10", "Z00.00"), Beneficiary(age=66, sex="M")),
    ("many-hccs", ("I50.23", "I25.5", "F32.9", "F11.20", "C34.11", "C79.51", "E11.51", "J44.9", "N18.4",
                   "I48.91", "G30.9", "L89.154"), Beneficiary(age=80, sex="M", segment="CFA")),
    ("institutional-disabled", ("I50.23", "J44.9", "J96.11", "C50.911"),
     Beneficiary(age=55, sex="F", segment="INS", medicaid=True)),
    ("institutional-aged", ("I50.9", "F20.9", "G40.909"), Beneficiary(age=78, sex="M", segment="INS")),
    ("community-disabled", ("F20.0", "J44.9", "I50.9", "F10.20"), Beneficiary(age=45, sex="M", segment="CND")),
    ("partial-dual-disabled", ("E11.9", "I50.9", "I48.0"), Beneficiary(age=60, sex="F", segment="CPD")),
    ("partial-dual-aged", ("N18.5", "I50.9", "E11.22"), Beneficiary(age=68, sex="M", segment="CPA")),
    ("full-dual-disabled", ("F31.9", "F11.20"), Beneficiary(age=40, sex="F", segment="CFD")),
    ("heart-assist", ("Z95.811", "I11.0"), Beneficiary(age=67, sex="F", originally_disabled=True)),
    ("sepsis-ulcer", ("A41.9", "L89.154", "Z93.3", "J15.211"), Beneficiary(age=88, sex="F")),
    ("new-enrollee", ("E11.9",), Beneficiary(age=66, sex="F", segment="NE")),
    ("new-enrollee-64-by-age", (), Beneficiary(age=64, sex="M", segment="NE", medicaid=True)),
    ("new-enrollee-64-disabled", (), Beneficiary(age=64, sex="M", segment="NE", originally_disabled=True)),
    ("snp-new-enrollee", ("I50.9",), Beneficiary(age=72, sex="F", segment="SNPNE", originally_disabled=True)),
]


def _theirs(calculate_raf: Callable[..., Any], codes: tuple[str, ...], b: Beneficiary, model: str) -> float:
    """hccinfhir's inputs for the same segment: dual code, original reason for entitlement, LTI, new enrollee."""
    dual = {"CFA": "02", "CFD": "02", "CPA": "01", "CPD": "01"}.get(b.segment, "00")
    if b.segment in ("INS", "NE", "SNPNE") and b.medicaid:
        dual = "02"
    # under 65 means entitled by disability (OREC 1), except a new enrollee of 64 entitled by age (OREC 0)
    orec = "1" if b.originally_disabled or (b.age < 65 and b.segment not in ("NE", "SNPNE")) else "0"
    result = calculate_raf(list(codes), model_name=model, age=b.age, sex=b.sex, dual_elgbl_cd=dual, orec=orec,
                           lti=b.segment == "INS", new_enrollee=b.segment in ("NE", "SNPNE"),
                           snp=b.segment == "SNPNE")
    return float(result.risk_score)


def _edit_fires(rule: Any, b: Beneficiary) -> bool:
    """Whether one of hccinfhir's CMS age/sex edits (``EditRule``) changes this beneficiary's code."""
    if rule is None:
        return False
    if rule.edit_type == "sex":
        return bool(rule.sex == {"M": "1", "F": "2"}[b.sex])
    return (rule.age_max is not None and b.age <= rule.age_max) or (rule.age_min is not None and b.age >= rule.age_min)


@pytest.mark.parametrize("model", [V28, V24])
@pytest.mark.parametrize(("name", "codes", "beneficiary"), PATIENTS, ids=[p[0] for p in PATIENTS])
def test_hcc_score_agrees_with_hccinfhir(codesets: Codesets, hccinfhir: tuple[Callable[..., Any], Any], model: str,
                                         name: str, codes: tuple[str, ...], beneficiary: Beneficiary) -> None:
    calculate_raf, edits = hccinfhir
    # the agreement is meaningful only where hccinfhir applies no age/sex edit, which medcoder lacks
    assert not [c for c in codes if _edit_fires(edits.get((c.replace(".", ""), model)), beneficiary)]
    ours = score_risk(codes, beneficiary, codesets=codesets, model=model)
    assert round(ours.score, 3) == round(_theirs(calculate_raf, codes, beneficiary, model), 3)
    assert ours.score == pytest.approx(sum(f.value for f in ours.factors))
    assert ours.release == "hcc 2026" and ours.model == model


@pytest.mark.parametrize("model", [V28, V24])
@pytest.mark.parametrize(("name", "codes", "beneficiary"), PATIENTS, ids=[p[0] for p in PATIENTS])
def test_hcc_disease_factors_come_only_with_payment_hccs(codesets: Codesets, model: str, name: str,
                                                         codes: tuple[str, ...], beneficiary: Beneficiary) -> None:
    """The claims service shows a score without HCCs as its own demographic score (no second sum): that holds
    only while every factor of such a score is demographic."""
    ours = score_risk(codes, beneficiary, codesets=codesets, model=model)
    if any(f.kind != "demographic" for f in ours.factors):
        assert ours.hccs
    else:
        assert ours.demographic_score == ours.score and ours.disease_score == 0


@pytest.mark.parametrize(("codes", "beneficiary", "model"), [(("D66",), Beneficiary(age=70, sex="F"), V28)])
def test_hcc_known_gap_age_sex_edits_are_not_applied(codesets: Codesets, hccinfhir: tuple[Callable[..., Any], Any],
                                                     codes: tuple[str, ...], beneficiary: Beneficiary,
                                                     model: str) -> None:
    # V28 edit: D66 (hemophilia) in a female maps to HCC 112, not HCC 111; medcoder's KB lacks the edits
    ours = score_risk(codes, beneficiary, codesets=codesets, model=model)
    assert [h.hcc for h in ours.hccs] == ["111"] and NOTE_NO_EDITS in ours.notes
    assert round(ours.score, 3) != round(_theirs(hccinfhir[0], codes, beneficiary, model), 3)


@pytest.mark.parametrize("model", [V28])
def test_hcc_hierarchy_keeps_the_drop_and_its_reason(codesets: Codesets, model: str) -> None:
    score = score_risk(["E11.9", "E11.22", "N18.31"], Beneficiary(age=72, sex="F"), codesets=codesets, model=model)
    assert [h.hcc for h in score.hccs] == ["37", "329"]
    (dropped,) = score.dropped
    assert dropped.hcc == "38" and dropped.dropped_by == ("37",) and dropped.codes == ("E119",)
    assert score.hccs[0].codes == ("E1122",) and score.hccs[0].label == "Diabetes with Chronic Complications"
    names = [f.name for f in score.factors]
    assert names == ["CNA_F70_74", "CNA_HCC37", "CNA_HCC329", "CNA_D2"]
    assert score.demographic_score == pytest.approx(codesets.hcc.coefficient("CNA_F70_74"))


@pytest.mark.parametrize(("codes", "interaction"), [
    (("E11.9", "I50.9"), "CNA_DIABETES_HF_V28"),
    (("I50.9", "N18.4"), "CNA_HF_KIDNEY_V28"),
    (("J44.9", "J96.11"), "CNA_CHR_LUNG_CARD_RESP_FAIL_V28"),
])
def test_hcc_interactions_and_count_factor(codesets: Codesets, codes: tuple[str, ...], interaction: str) -> None:
    score = score_risk(codes, Beneficiary(age=75, sex="M"), codesets=codesets)
    kinds = {f.name: f.kind for f in score.factors}
    assert kinds[interaction] == "interaction" and kinds["CNA_D2"] == "count"


@pytest.mark.parametrize(("code", "v28", "v24"), [("E11.9", "38", "19"), ("I50.23", "224", "85")])
def test_hcc_v24_and_v28_map_the_same_code_differently(codesets: Codesets, code: str, v28: str, v24: str) -> None:
    b = Beneficiary(age=70, sex="F")
    assert [h.hcc for h in score_risk([code], b, codesets=codesets).hccs] == [v28]
    assert [h.hcc for h in score_risk([code], b, codesets=codesets, model="CMS-HCC V24").hccs] == [v24]


@pytest.mark.parametrize("codes", [("I10", "Z00.00")])
def test_hcc_codes_without_hcc_are_listed(codesets: Codesets, codes: tuple[str, ...]) -> None:
    score = score_risk(codes, Beneficiary(age=70, sex="F"), codesets=codesets)
    assert score.hccs == () and score.unmapped == ("I10", "Z0000")
    assert [f.kind for f in score.factors] == ["demographic"]


@pytest.mark.parametrize("segment", ["NE", "SNPNE"])
def test_hcc_new_enrollees_score_on_demographics_only(codesets: Codesets, segment: str) -> None:
    score = score_risk(["E11.9", "I50.9"], Beneficiary(age=66, sex="F", segment=segment), codesets=codesets)
    assert [f.kind for f in score.factors] == ["demographic"]
    assert {h.hcc for h in score.hccs} == {"38", "226"} and all(h.coefficient is None for h in score.hccs)


@pytest.mark.parametrize(("beneficiary", "fragment"), [
    (Beneficiary(age=50, sex="F"), "segment CNA"),
    (Beneficiary(age=70, sex="F", segment="CND"), "under 65"),
    (Beneficiary(age=70, sex="F", segment="XYZ"), "unknown CMS-HCC population segment"),
    (Beneficiary(age=70, sex="U"), "sex F or M"),  # type: ignore[arg-type]
])
def test_hcc_bad_beneficiary_is_e817(codesets: Codesets, beneficiary: Beneficiary, fragment: str) -> None:
    with pytest.raises(ClaimError) as e:
        score_risk(["E11.9"], beneficiary, codesets=codesets)
    assert e.value.code == "E847" and fragment in e.value.message and e.value.fix


@pytest.mark.parametrize("code", ["E11.", "11.9"])
def test_hcc_malformed_code_is_e812(codesets: Codesets, code: str) -> None:
    with pytest.raises(ClaimError) as e:
        score_risk([code], Beneficiary(age=70, sex="F"), codesets=codesets)
    assert e.value.code == "E842"


@pytest.mark.parametrize("age", [70, 50])
def test_hcc_beneficiary_cell_is_remembered_per_model_and_a_refusal_never(codesets: Codesets, age: int) -> None:
    # the cell memo keys on the model as asked: the same beneficiary under V28 then V24 (and back) gets each model's
    # own name and factors; a beneficiary its segment refuses raises again on the second ask, a valid one of the
    # same sex and segment in between
    b = Beneficiary(age=age, sex="F")
    if age < 65:
        for _ in range(2):
            with pytest.raises(ClaimError):
                score_risk([], b, codesets=codesets)
            score_risk([], Beneficiary(age=70, sex="F"), codesets=codesets)
        return
    scores = [score_risk([], b, codesets=codesets, model=m) for m in ("CMS-HCC V28", "CMS-HCC V24", "CMS-HCC V28")]
    assert [s.model for s in scores] == [V28, V24, V28]
    assert [f.value for f in scores[0].factors] == [codesets.hcc.coefficient("CNA_F70_74", model=V28)]
    assert [f.value for f in scores[1].factors] == [codesets.hcc.coefficient("CNA_F70_74", model=V24)]
    assert scores[0].factors != scores[1].factors and scores[2].factors == scores[0].factors


def test_hcc_malformed_code_named_is_the_first_bad_one(codesets: Codesets) -> None:
    with pytest.raises(ClaimError) as e:
        score_risk(["E11.9", "E11.", "11.9"], Beneficiary(age=70, sex="F"), codesets=codesets)
    assert e.value.code == "E842" and e.value.where == "'E11.'"


@pytest.mark.parametrize("model", [V28, V24])
def test_hcc_no_hierarchy_drops_an_hcc_for_itself(codesets: Codesets, model: str) -> None:
    # score_risk keeps a claim's lone HCC without asking the hierarchies: it relies on this of every mapped HCC
    kb = codesets.hcc
    hccs = {h for found in kb.dx_map(model=model).values() for h in found}
    assert len(hccs) > 50 and [h for h in sorted(hccs) if h in kb.hierarchy(h, model=model)] == []
    lone = score_risk(["I50.9"], Beneficiary(age=70, sex="F"), codesets=codesets, model=model)
    assert len(lone.hccs) == 1 and lone.dropped == ()
