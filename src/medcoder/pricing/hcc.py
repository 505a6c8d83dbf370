"""CMS-HCC risk score of a beneficiary's diagnoses (V28 by default, V24 for comparison).

Why computed step by step here rather than by a library call: every step is what a coder must be able to
show — diagnosis -> HCC (the payment year's map), the hierarchy that dropped an HCC, the age/sex cell of the
population segment, each HCC's relative factor, the disease interactions and the payment-HCC count factor.
The maps, factors, hierarchies and labels come from the ``hcc`` knowledge base; the interaction definitions
below are the CMS model software's (V28: 2024 CMS-HCC model, V24: 2020 CMS-HCC model) and are looked up by
name, so a factor the file lacks for a segment simply adds nothing. The raw score is returned; CMS's
normalisation and MA coding-intensity adjustment are payment-year policy, applied by the caller if wanted.

Not applied: the CMS age/sex diagnosis edits (e.g. V28's D66 -> HCC 112 for females), which the knowledge
base does not carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING

from medcoder.errors import ClaimError, CodeFormatError, NotFoundError
from medcoder.model.code import undotted
from medcoder.model.memo import remember
from medcoder.model.risk import Beneficiary, FactorKind, HccHit, RiskFactor, RiskScore

if TYPE_CHECKING:
    from medcoder.codesets.codesets import Codesets
    from medcoder.codesets.hcc import Hcc

DEFAULT_MODEL = "CMS-HCC V28"


@dataclass(frozen=True, slots=True)
class _Segment:
    title: str
    aged: bool | None
    """True: 65 and over only; False: under 65 only; None: any age."""
    new_enrollee: bool = False


SEGMENTS: dict[str, _Segment] = {
    "CNA": _Segment("community, non-dual, aged", True),
    "CND": _Segment("community, non-dual, disabled", False),
    "CFA": _Segment("community, full-benefit dual, aged", True),
    "CFD": _Segment("community, full-benefit dual, disabled", False),
    "CPA": _Segment("community, partial-benefit dual, aged", True),
    "CPD": _Segment("community, partial-benefit dual, disabled", False),
    "INS": _Segment("long-term institutional", None),
    "NE": _Segment("new enrollee", None, new_enrollee=True),
    "SNPNE": _Segment("new enrollee in a chronic-condition special needs plan", None, new_enrollee=True),
}

_BANDS = ((34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64"), (69, "65_69"),
          (74, "70_74"), (79, "75_79"), (84, "80_84"), (89, "85_89"), (94, "90_94"))

# Disease groups and interactions of the CMS model software, keyed by the model's file spelling. A term is
# a group name, "HCCnnn", or "DISABLED" (under 65, entitled by disability); an interaction is the product.
_GROUPS: dict[str, dict[str, tuple[int, ...]]] = {
    "CMS-HCC Model V28": {
        "CANCER_V28": (17, 18, 19, 20, 21, 22, 23), "DIABETES_V28": (35, 36, 37, 38),
        "CARD_RESP_FAIL_V28": (211, 212, 213), "HF_V28": (221, 222, 223, 224, 225, 226),
        "CHR_LUNG_V28": (276, 277, 278, 279, 280), "KIDNEY_V28": (326, 327, 328, 329),
        "gSubUseDisorder_V28": (135, 136, 137, 138, 139), "gPsychiatric_V28": (151, 152, 153, 154, 155),
        "NEURO_V28": (180, 181, 182, 190, 191, 192, 195, 196, 198, 199), "ULCER_V28": (379, 380, 381, 382),
    },
    "CMS-HCC Model V24": {
        "CANCER": (8, 9, 10, 11, 12), "DIABETES": (17, 18, 19), "CARD_RESP_FAIL": (82, 83, 84), "CHF": (85,),
        "gCopdCF": (110, 111, 112), "RENAL_V24": (134, 135, 136, 137, 138), "SEPSIS": (2,),
        "gSubstanceUseDisorder_V24": (54, 55, 56), "gPsychiatric_V24": (57, 58, 59, 60),
        "PRESSURE_ULCER": (157, 158, 159),
    },
}
_INTERACTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "CMS-HCC Model V28": {
        "DIABETES_HF_V28": ("DIABETES_V28", "HF_V28"), "HF_CHR_LUNG_V28": ("HF_V28", "CHR_LUNG_V28"),
        "HF_KIDNEY_V28": ("HF_V28", "KIDNEY_V28"),
        "CHR_LUNG_CARD_RESP_FAIL_V28": ("CHR_LUNG_V28", "CARD_RESP_FAIL_V28"), "HF_HCC238_V28": ("HF_V28", "HCC238"),
        "gSubUseDisorder_gPsych_V28": ("gSubUseDisorder_V28", "gPsychiatric_V28"),
        "DISABLED_CANCER_V28": ("DISABLED", "CANCER_V28"), "DISABLED_NEURO_V28": ("DISABLED", "NEURO_V28"),
        "DISABLED_HF_V28": ("DISABLED", "HF_V28"), "DISABLED_CHR_LUNG_V28": ("DISABLED", "CHR_LUNG_V28"),
        "DISABLED_ULCER_V28": ("DISABLED", "ULCER_V28"),
    },
    "CMS-HCC Model V24": {
        "HCC47_gCancer": ("HCC47", "CANCER"), "DIABETES_CHF": ("DIABETES", "CHF"), "CHF_gCopdCF": ("CHF", "gCopdCF"),
        "HCC85_gRenal_V24": ("HCC85", "RENAL_V24"), "gCopdCF_CARD_RESP_FAIL": ("gCopdCF", "CARD_RESP_FAIL"),
        "HCC85_HCC96": ("HCC85", "HCC96"),
        "gSubstanceUseDisorder_gPsych": ("gSubstanceUseDisorder_V24", "gPsychiatric_V24"),
        "SEPSIS_PRESSURE_ULCER": ("SEPSIS", "PRESSURE_ULCER"), "SEPSIS_ARTIF_OPENINGS": ("SEPSIS", "HCC188"),
        "ART_OPENINGS_PRESS_ULCER": ("HCC188", "PRESSURE_ULCER"), "gCopdCF_ASP_SPEC_B_PNEUM": ("gCopdCF", "HCC114"),
        "ASP_SPEC_B_PNEUM_PRES_ULC": ("HCC114", "PRESSURE_ULCER"), "SEPSIS_ASP_SPEC_BACT_PNEUM": ("SEPSIS", "HCC114"),
        "SCHIZOPHRENIA_gCopdCF": ("HCC57", "gCopdCF"), "SCHIZOPHRENIA_CHF": ("HCC57", "CHF"),
        "SCHIZOPHRENIA_SEIZURES": ("HCC57", "HCC79"), "DISABLED_HCC85": ("DISABLED", "HCC85"),
        "DISABLED_PRESSURE_ULCER": ("DISABLED", "PRESSURE_ULCER"), "DISABLED_HCC161": ("DISABLED", "HCC161"),
        "DISABLED_HCC39": ("DISABLED", "HCC39"), "DISABLED_HCC77": ("DISABLED", "HCC77"),
        "DISABLED_HCC6": ("DISABLED", "HCC6"),
    },
}
# V28: HCC 223 (heart assist device / artificial heart) counts only beside another heart-failure HCC, as
# the CMS V28 software (and hccinfhir 0.4.0) impose it before hierarchies.
_NEEDS_ONE_OF: dict[str, dict[str, tuple[str, ...]]] = {
    "CMS-HCC Model V28": {"223": ("221", "222", "224", "225", "226")},
}
NOTE_NO_EDITS = "CMS age/sex diagnosis edits are not applied (the knowledge base does not carry them)"


@lru_cache(maxsize=16)
def _group_sets(name: str) -> dict[str, frozenset[str]]:
    """The payment-HCC groups of a model as sets of HCC numbers written as strings, built once."""
    return {g: frozenset(str(m) for m in members) for g, members in _GROUPS.get(name, {}).items()}


def _band(age: int) -> str:
    return next((label for top, label in _BANDS if age <= top), "95_GT")


def _new_enrollee_band(age: int, originally_disabled: bool) -> str:
    """New-enrollee cells split 65-69 by single year; a 64-year-old entitled by age counts as 65."""
    if 65 <= age <= 69 or (age == 64 and not originally_disabled):
        return str(max(age, 65))
    return _band(age)


def _check(beneficiary: Beneficiary) -> _Segment:
    segment = SEGMENTS.get(beneficiary.segment)
    if segment is None:
        raise ClaimError(f"unknown CMS-HCC population segment {beneficiary.segment!r}", code="E847",
                         where=beneficiary.segment, fix=f"Use one of {', '.join(SEGMENTS)}")
    if beneficiary.sex not in ("F", "M") or beneficiary.age < 0:
        raise ClaimError(f"risk scoring needs sex F or M and an age >= 0, got {beneficiary.sex!r}, "
                         f"{beneficiary.age}", code="E847", where=beneficiary.segment,
                         fix="Give the beneficiary's sex and age on February 1 of the payment year")
    if segment.aged is not None and segment.aged != (beneficiary.age >= 65):
        raise ClaimError(f"segment {beneficiary.segment} ({segment.title}) is for beneficiaries "
                         f"{'65 and over' if segment.aged else 'under 65'}, not age {beneficiary.age}",
                         code="E847", where=beneficiary.segment,
                         fix="Use the aged segment (..A) from 65 and the disabled one (..D) under 65")
    return segment


def _codes(diagnoses: Sequence[str]) -> list[str]:
    """The distinct dotless codes, in order; E842 names the first diagnosis that is not a code. Mapped without a
    Python loop (every claim is scored); only a claim with a bad code is walked again, to say which."""
    try:
        return list(dict.fromkeys(map(undotted, diagnoses)))
    except CodeFormatError:
        for code in diagnoses:
            _code(code)
        raise


def _code(code: str) -> str:
    try:
        return undotted(code)
    except CodeFormatError as e:
        raise ClaimError(f"diagnosis {code!r} is not an ICD-10-CM code: {e.message}", code="E842",
                         where=repr(code), fix=e.fix) from e


@lru_cache(maxsize=4096)
def _label(kb: Hcc, hcc: str, model: str) -> str | None:
    """Memoised: a release without labels answers by raising, and ``Hcc`` keeps no memo of a failed check (two
    queries per HCC of every claim otherwise)."""
    try:
        return kb.label(hcc, model=model)
    except NotFoundError:  # the 2025 release ships no labels
        return None


def _add_factor(factors: list[RiskFactor], kb: Hcc, model: str, name: str, kind: FactorKind,
                detail: str) -> float | None:
    """Append the model's factor ``name`` when the model has it; its value, or None when it has not."""
    value = kb.coefficient(name, model=model)
    if value is not None:
        factors.append(RiskFactor(name=name, kind=kind, value=value, detail=detail))
    return value


# (id(reader), model as asked, age, sex, segment, originally disabled, Medicaid) -> (reader, the beneficiary's
# cell): a batch's beneficiaries fall in a few hundred cells and the answers are immutable. A plain tuple key, not
# the Beneficiary itself, whose generated __hash__ and __eq__ would be two Python calls per claim; the reader kept
# guards its id against reuse.
_CELLS: dict[tuple[int, str, int, str, str, bool, bool], tuple[Hcc, tuple[_Segment, str, tuple[RiskFactor, ...]]]] = {}


def _cell(kb: Hcc, model: str, beneficiary: Beneficiary) -> tuple[_Segment, str, tuple[RiskFactor, ...]]:
    """The beneficiary's population segment (``_check``), the model's file spelling and the demographic factors,
    memoised per (reader, model as asked, every field of the beneficiary): each depends on nothing else, so a
    cell checked once is neither checked nor looked up again (a beneficiary that fails raises every time)."""
    b = beneficiary
    key = (id(kb), model, b.age, b.sex, b.segment, b.originally_disabled, b.medicaid)
    hit = _CELLS.get(key)
    if hit is None or hit[0] is not kb:
        segment = _check(b)
        name = kb.model(model)
        hit = remember(_CELLS, key, (kb, (segment, name, _demographics(kb, name, b))), 4096)
    return hit[1]


def _demographics(kb: Hcc, name: str, beneficiary: Beneficiary) -> tuple[RiskFactor, ...]:
    """The demographic factors of ``beneficiary`` under model ``name``."""
    segment, prefix = SEGMENTS[beneficiary.segment], beneficiary.segment
    aged, female = beneficiary.age >= 65, beneficiary.sex == "F"
    factors: list[RiskFactor] = []

    def add(variable: str, detail: str) -> float | None:
        return _add_factor(factors, kb, name, f"{prefix}_{variable}", "demographic", detail)

    if segment.new_enrollee:
        origdis = aged and beneficiary.originally_disabled
        cell = (f"{'MCAID' if beneficiary.medicaid else 'NMCAID'}_{'ORIGDIS' if origdis else 'NORIGDIS'}_"
                f"NE{beneficiary.sex}{_new_enrollee_band(beneficiary.age, beneficiary.originally_disabled)}")
    else:
        cell = f"{beneficiary.sex}{_band(beneficiary.age)}"
    if add(cell, f"{SEGMENTS[prefix].title}, {beneficiary.sex} age {beneficiary.age}") is None:
        raise ClaimError(f"{name} has no factor {prefix}_{cell}", code="E847", where=f"{prefix}_{cell}",
                         fix="This release's coefficient file lacks the segment; try another model or segment")
    if aged and beneficiary.originally_disabled and not segment.new_enrollee:
        add(f"OriginallyDisabled_{'Female' if female else 'Male'}", "originally disabled")
    if prefix == "INS" and beneficiary.medicaid:
        add("LTIMCAID", "institutional and Medicaid")

    return tuple(factors)


def score_risk(diagnoses: Sequence[str], beneficiary: Beneficiary, *, codesets: Codesets,
               model: str = DEFAULT_MODEL) -> RiskScore:
    """The raw CMS-HCC score of ``beneficiary`` with ``diagnoses`` under ``model`` of the payment year."""
    kb = codesets.hcc
    segment, name, demographic = _cell(kb, model, beneficiary)
    prefix = beneficiary.segment
    factors = list(demographic)
    by_hcc: dict[str, list[str]] = {}
    unmapped = []
    codes = _codes(diagnoses)
    dx_map = kb.dx_map(model=name) if codes else {}  # asked only when there is a code, as hccs() was
    for code in codes:
        hccs = dx_map.get(code, ())
        if not hccs:
            unmapped.append(code)
        for hcc in hccs:
            by_hcc.setdefault(hcc, []).append(code)
    dropped: dict[str, tuple[str, ...]] = {}
    hits = []
    if by_hcc:  # most claims map no diagnosis to an HCC: nothing to drop, keep or add then
        kept = _impose_hierarchies(kb, name, by_hcc, dropped)
        for hcc in kept:
            # new enrollees are scored on demographics alone: their HCCs are shown but add nothing
            value = None if segment.new_enrollee else _add_factor(
                factors, kb, name, f"{prefix}_HCC{hcc}", "hcc", f"HCC {hcc} from {', '.join(by_hcc[hcc])}")
            hits.append(HccHit(hcc=hcc, label=_label(kb, hcc, name), codes=tuple(by_hcc[hcc]), coefficient=value))
        if kept and not segment.new_enrollee:
            factors.extend(_set_factors(kb, name, prefix, beneficiary.age < 65, tuple(kept)))
    lost = [HccHit(hcc=h, label=_label(kb, h, name), codes=tuple(by_hcc[h]), dropped_by=by)
            for h, by in sorted(dropped.items(), key=lambda item: int(item[0]))] if dropped else []
    return RiskScore(model=name, release=f"hcc {codesets.release('hcc').id}", beneficiary=beneficiary,
                     score=sum(map(_VALUE, factors)), factors=tuple(factors), hccs=tuple(hits),
                     dropped=tuple(lost), unmapped=tuple(unmapped),
                     notes=_NEW_ENROLLEE_NOTES if segment.new_enrollee else _NOTES)


def _impose_hierarchies(kb: Hcc, name: str, by_hcc: dict[str, list[str]],
                        dropped: dict[str, tuple[str, ...]]) -> list[str]:
    """The payment HCCs kept, sorted by number; each HCC dropped goes into ``dropped`` with the HCCs that dropped
    it (none for one a model rule removed)."""
    for hcc, needs in _NEEDS_ONE_OF.get(name, {}).items():
        if hcc in by_hcc and not any(n in by_hcc for n in needs):
            dropped[hcc] = ()
    present = [h for h in by_hcc if h not in dropped]
    if len(present) < 2:  # most claims: one HCC, and no hierarchy drops an HCC for itself
        return present
    for hcc in present:
        for child in kb.hierarchy(hcc, model=name):
            if child in present:
                dropped[child] = (*dropped.get(child, ()), hcc)
    return sorted([h for h in present if h not in dropped], key=int)


_VALUE = attrgetter("value")
"""A factor's value: the score sums them without a comprehension's frame per claim."""
_NOTES = (NOTE_NO_EDITS,)
_NEW_ENROLLEE_NOTES = (NOTE_NO_EDITS, "new-enrollee segment: demographic factors only")

# (id(reader), model, segment, disabled, payment HCCs) -> (reader, interaction and count factors): they depend on
# the set of HCCs kept and nothing else of the claim, and a batch's claims keep few distinct sets; the reader
# kept guards its id against reuse.
_SET_FACTORS: dict[tuple[int, str, str, bool, tuple[str, ...]], tuple[Hcc, tuple[RiskFactor, ...]]] = {}


def _set_factors(kb: Hcc, name: str, prefix: str, disabled: bool, kept: tuple[str, ...]) -> tuple[RiskFactor, ...]:
    """The disease-interaction factors and the payment-HCC count factor of ``kept`` (sorted), memoised."""
    key = (id(kb), name, prefix, disabled, kept)
    hit = _SET_FACTORS.get(key)
    if hit is None or hit[0] is not kb:
        flags = {f"HCC{h}" for h in kept}
        kept_set = frozenset(kept)
        flags |= {g for g, members in _group_sets(name).items() if not members.isdisjoint(kept_set)}
        if disabled:
            flags.add("DISABLED")
        factors: list[RiskFactor] = []
        for variable, terms in _INTERACTIONS.get(name, {}).items():
            if flags.issuperset(terms):
                _add_factor(factors, kb, name, f"{prefix}_{variable}", "interaction", " x ".join(terms))
        _add_factor(factors, kb, name, f"{prefix}_{f'D{len(kept)}' if len(kept) < 10 else 'D10P'}", "count",
                    f"{len(kept)} payment HCC(s)")
        hit = remember(_SET_FACTORS, key, (kb, tuple(factors)), 16_384)
    return hit[1]
