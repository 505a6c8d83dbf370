"""Claims use cases: edit, price and write one claim, choosing the releases by its date of service.

Why here: the stages (``edits/``, ``pricing/``, ``output/``) never import one another; this module composes
them and turns their results into plain JSON-able dicts for the CLI and the API. The code sets are those in
force on the claim's first service date (the discharge date for an inpatient stay, as the MS-DRG grouper and
the IPPS rates are chosen by discharge).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from math import isfinite
from typing import Any, Literal

from medcoder.claim.parse import claim_from_dict
from medcoder.codesets.codesets import Codesets, ReaderPool
from medcoder.edits.run import check_claim
from medcoder.errors import ClaimError, MedcoderError
from medcoder.model.claim import Claim, Diagnosis
from medcoder.model.drg import DrgAssignment, DrgCase, DrgPayment
from medcoder.model.fee import iso_date
from medcoder.model.findings import EditFinding
from medcoder.model.memo import IdentityMemo
from medcoder.model.risk import Beneficiary, RiskScore
from medcoder.output.fhir_claim import claim_to_fhir_json
from medcoder.output.x12 import Interchange, write_837
from medcoder.pricing.drg import BY_SEQUENCE, DrgGrouper, case_from_claim, price_stays
from medcoder.pricing.hcc import DEFAULT_MODEL, score_risk
from medcoder.pricing.pfs import price_claim
from medcoder.service.auth import Actor
from medcoder.service.context import Service
from medcoder.settings import Settings

Format = Literal["837p", "837i", "fhir"]
FORMATS: tuple[str, ...] = ("837p", "837i", "fhir")


def claim_day(claim: Claim) -> date:
    """The date that chooses the releases: the discharge date of an inpatient stay, else the first service date."""
    day = claim.discharge_date if claim.setting == "inpatient" else None
    day = day or claim.first_service_date
    if day is None:
        raise ClaimError(f"claim {claim.claim_id} has no date of service", code="E804", where=claim.claim_id,
                         fix="Give every line a service_date (or the statement/discharge dates)")
    return day


# Opened knowledge bases, shared by every claim of the process: keyed by (home, releases chosen with their
# in-force flag and stand-in note), so the readers' lookup tables and memos are built once per set of releases
# and a claim's findings (which cite those notes) are the same as with a fresh ``Codesets``.
_CODESETS: dict[tuple[str, tuple[tuple[str, str, bool, str | None], ...]], Codesets] = {}
_CODESETS_LOCK = threading.Lock()


# One reader per knowledge-base file for all of them: sets of releases that differ only in an in-force flag or
# a note (or in one kind) read the same Tabular, MCE and fee schedule files.
_POOL = ReaderPool()


def codesets_for(claim: Claim, *, settings: Settings) -> Codesets:
    """The code sets in force on the claim's date, opened once per set of releases and reused."""
    chosen = Codesets.for_date(claim_day(claim), settings=settings)
    key = (str(settings.home), tuple(sorted((kind, c.release.id, c.in_force, c.note)
                                            for kind, c in chosen.choices.items())))
    with _CODESETS_LOCK:
        if key not in _CODESETS:
            _CODESETS[key] = chosen.share(_POOL)
        return _CODESETS[key]


def releases_of(codesets: Codesets) -> dict[str, str]:
    """The release id of each kind, by kind: recorded on every checked and priced claim (a copy each time)."""
    return dict(_RELEASES.get(codesets, _release_ids))


def _release_ids(codesets: Codesets) -> dict[str, str]:
    return {kind: choice.release.id for kind, choice in sorted(codesets.choices.items())}


# A batch prices every claim against a few shared ``Codesets`` whose choices are fixed once built
# (``for_date``/``explicit`` fill them before returning), so the sorted dict is built once per object.
_RELEASES: IdentityMemo[Codesets, dict[str, str]] = IdentityMemo(256)


def check(claim: Claim, *, settings: Settings, codesets: Codesets | None = None) -> list[EditFinding]:
    """Every edit rule set's findings on ``claim``, errors first."""
    return check_claim(claim, codesets or codesets_for(claim, settings=settings))


def findings_dict(claim: Claim, findings: list[EditFinding], codesets: Codesets) -> dict[str, Any]:
    counts = {severity: sum(f.severity == severity for f in findings) for severity in ("error", "warning", "info")}
    return {"claim_id": claim.claim_id, "date": claim_day(claim).isoformat(), "counts": counts,
            "findings": [f.to_dict() for f in findings], "releases": releases_of(codesets)}


def _assignment_dict(a: DrgAssignment) -> dict[str, Any]:
    return {"drg": a.drg, "title": a.title, "mdc": a.mdc, "type": a.drg_type, "tier": a.tier,
            "family": list(a.family), "drivers": list(a.drivers), "weight": a.weight, "gmlos": a.gmlos,
            "alos": a.alos, "explanation": a.explanation, "grouper": a.grouper, "weights_release": a.weights_release,
            "age": a.age, "sex": a.sex, "discharge_status": a.discharge_status,
            "severities": [{"code": s.code, "listed": s.listed, "level": s.level, "reason": s.reason,
                            "grouper_level": s.grouper_level} for s in a.severities],
            "disagreements": list(a.disagreements), "notes": list(a.notes)}


def _drg_dict(payment: DrgPayment) -> dict[str, Any]:
    out = _assignment_dict(payment.assignment)  # extended in place: a fresh dict, no need to copy its 21 keys
    out["base_rate"], out["payment"] = str(payment.base_rate), str(payment.payment)
    out["rate_source"] = payment.rate_source
    return out


def _risk_dict(risk: RiskScore) -> dict[str, Any]:
    b, score = risk.beneficiary, risk.score
    shown = round(score, 3)
    if risk.hccs or not isfinite(score):
        demographic = risk.demographic_score
        demographic_shown, disease = round(demographic, 3), round(score - demographic, 3)
    else:
        # Most claims: no payment HCC, and disease factors come only with one (``score_risk``), so the score is
        # all demographic; neither its factors are summed again nor its rounding redone.
        demographic_shown, disease = shown, 0.0
    return {"model": risk.model, "release": risk.release, "score": shown,
            "demographic_score": demographic_shown, "disease_score": disease,
            "beneficiary": {"age": b.age, "sex": b.sex, "segment": b.segment,
                            "originally_disabled": b.originally_disabled, "medicaid": b.medicaid},
            "factors": [{"name": f.name, "kind": f.kind, "value": f.value, "detail": f.detail} for f in risk.factors],
            # most claims have no HCC: skip building empty comprehensions
            "hccs": [{"hcc": h.hcc, "label": h.label, "codes": list(h.codes), "coefficient": h.coefficient}
                     for h in risk.hccs] if risk.hccs else [],
            "dropped": [{"hcc": h.hcc, "label": h.label, "codes": list(h.codes), "dropped_by": list(h.dropped_by)}
                        for h in risk.dropped] if risk.dropped else [],
            "unmapped": list(risk.unmapped), "notes": list(risk.notes)}


def beneficiary_of(claim: Claim) -> Beneficiary | None:
    """Community non-dual aged (or disabled under 65) beneficiary of the patient's age on the service date;
    None when the birth date or a binary sex is unknown."""
    born, sex = claim.patient.birth_date, claim.patient.sex
    if born is None or sex not in ("F", "M"):
        return None
    day = claim.admission_date or claim.first_service_date or claim_day(claim)
    return _beneficiary(day.year - born.year - ((day.month, day.day) < (born.month, born.day)), sex)


@lru_cache(maxsize=1024)
def _beneficiary(age: int, sex: Literal["F", "M"]) -> Beneficiary:
    """One shared (frozen) beneficiary per age and sex: a batch's patients fall in a few hundred cells."""
    return Beneficiary(age=age, sex=sex, segment="CNA" if age >= 65 else "CND")


def price(claim: Claim, *, settings: Settings, codesets: Codesets | None = None,
          grouper: DrgGrouper | None = None) -> dict[str, Any]:
    """What the claim is worth, each part with its breakdown and releases.

    ``pfs`` for a professional claim (Medicare PFS per line and total), ``drg`` for an institutional inpatient
    claim (MS-DRG and IPPS operating payment), ``risk`` (CMS-HCC V28 raw score) whenever birth date and sex are
    known. A part that cannot be computed carries ``error`` (the coded error as a dict) instead; the other
    parts are still returned. Pass ``grouper`` to reuse one across a batch of the same releases.
    """
    priced = price_many([claim], [codesets or codesets_for(claim, settings=settings)], [grouper])[0]
    if isinstance(priced, MedcoderError):
        raise priced
    return priced


def price_many(claims: Sequence[Claim], codesets: Sequence[Codesets],
               groupers: Sequence[DrgGrouper | None]) -> list[dict[str, Any] | MedcoderError]:
    """``price`` of each claim with the code sets and grouper at its position (a grouper of None: one is made),
    or the error that stopped that claim (no date of service); one claim's error never stops the others.

    Why part by part across the claims rather than claim by claim: the MS-DRG grouper (drgpy's maps and its
    per-MDC functions), the fee schedule and the risk model each work on more data than the processor's caches
    hold. Claim by claim, each stay's grouping finds drgpy's data evicted by the claim before (55 us a stay in
    a batch, 34 us for drgpy alone on the same stays). Each part run over all the claims in turn keeps more of
    its data in cache, ours as well as drgpy's (``claim_batch.CHUNK``). Same results, the same keys in the same
    order."""
    if not len(claims) == len(codesets) == len(groupers):
        raise ValueError(f"{len(claims)} claims, {len(codesets)} code sets and {len(groupers)} groupers: one each")
    out: list[dict[str, Any] | MedcoderError] = []
    for claim in claims:
        try:
            out.append({"claim_id": claim.claim_id, "kind": claim.kind, "setting": claim.setting,
                        "date": iso_date(claim_day(claim)), "total_charge": str(claim.total_charge)})
        except MedcoderError as e:
            out.append(e)
    diagnoses: list[list[Diagnosis] | None] = [None] * len(claims)  # sorted once, for the grouper and risk alike
    heads: list[dict[str, Any]] = []
    stays: list[tuple[DrgGrouper, DrgCase]] = []
    for i, claim in enumerate(claims):  # MS-DRG, every inpatient stay in turn (``price_stays``)
        head = out[i]
        if claim.kind != "professional" and claim.setting == "inpatient" and not isinstance(head, MedcoderError):
            try:
                listed = diagnoses[i] = sorted(claim.diagnoses, key=BY_SEQUENCE)
                stays.append((groupers[i] or DrgGrouper(codesets[i]), case_from_claim(claim, listed)))
                heads.append(head)
            except MedcoderError as e:
                head["drg"] = {"error": e.to_dict()}
    for head, payment in zip(heads, price_stays(stays), strict=True):
        head["drg"] = {"error": payment.to_dict()} if isinstance(payment, MedcoderError) else _drg_dict(payment)
    for i, claim in enumerate(claims):  # the fee schedule, every professional claim in turn
        head = out[i]
        if claim.kind == "professional" and not isinstance(head, MedcoderError):
            try:
                head["pfs"] = price_claim(claim, codesets[i]).to_dict()
            except MedcoderError as e:  # price_claim reports problems; should it raise, only this claim fails
                out[i] = e
    for i, claim in enumerate(claims):  # the risk score, every claim in turn
        head = out[i]
        if isinstance(head, MedcoderError):
            continue
        beneficiary = beneficiary_of(claim)
        if beneficiary is not None:
            listed = diagnoses[i] or sorted(claim.diagnoses, key=BY_SEQUENCE)
            try:
                head["risk"] = _risk_dict(score_risk([d.code for d in listed], beneficiary, codesets=codesets[i],
                                                     model=DEFAULT_MODEL))
            except MedcoderError as e:
                head["risk"] = {"error": e.to_dict()}
        head["releases"] = releases_of(codesets[i])
    return out


def default_interchange(claim: Claim, *, phone: str, contact: str = "Billing Office",
                        production: bool = False) -> Interchange:
    """Envelope from the claim's parties: sender = billing NPI (or tax id), receiver = payer id."""
    sender = claim.billing_provider.npi or claim.billing_provider.tax_id or claim.claim_id
    return Interchange(sender_id=sender[:15], receiver_id=claim.payer.payer_id[:15],
                       submitter_name=claim.billing_provider.name, submitter_contact=contact, submitter_phone=phone,
                       receiver_name=claim.payer.name, usage="P" if production else "T")


def write(claim: Claim, *, fmt: str, interchange: Interchange | None = None, phone: str | None = None) -> str:
    """The claim as an 837P, an 837I or a FHIR R4 Claim (JSON). 837s need ``interchange`` or ``phone``."""
    if fmt not in FORMATS:
        raise ClaimError(f"unknown claim format {fmt!r}", code="E805", where="format",
                         fix=f"Choose one of {', '.join(FORMATS)}")
    if fmt == "fhir":
        return claim_to_fhir_json(claim)
    wanted = "professional" if fmt == "837p" else "institutional"
    if claim.kind != wanted:
        raise ClaimError(f"claim {claim.claim_id} is {claim.kind}: {fmt} carries {wanted} claims", code="E805",
                         where="format", fix=f"Use {'837i' if fmt == '837p' else '837p'} for a {claim.kind} claim")
    if interchange is None:
        if phone is None:
            raise ClaimError("an 837 needs the submitter's telephone number", code="E805", where="phone",
                             fix="Give the billing office's 10-digit phone number (--phone 4105551234)")
        interchange = default_interchange(claim, phone=phone)
    return write_837(claim, interchange=interchange)


def claim_for_encounter(svc: Service, *, encounter_id: int, billing: Mapping[str, Any], actor: Actor,
                        where: str = "billing") -> Claim:
    """A claim from a billing document whose diagnoses are the encounter's final ICD-10-CM codes.

    The final codes are those accepted, modified or added by a coder, in sequence (``export_final``); any
    ``diagnoses`` in ``billing`` are replaced. ClaimError E806 when the encounter has no final ICD-10-CM code.
    """
    from medcoder.service.export import export_final

    final = export_final(svc, encounter_id=encounter_id, actor=actor)
    codes = [c["code"] for c in final["codes"] if c["system"] == "ICD-10-CM"]
    if not codes:
        raise ClaimError(f"encounter {encounter_id} has no accepted ICD-10-CM code", code="E806",
                         where=f"encounter {encounter_id}", fix="Review the encounter's suggestions first")
    return claim_from_dict({**billing, "diagnoses": codes}, where=where)
