"""``check_claim``: run the claim editors' rule sets over one claim and return one sorted work list.

Why a registry of (name, function): a billing manager asks for "all edits" or for some ("mce", "ncci-ptp"),
and each rule set stays an independent pure function over (claim, code sets). The NCCI rule sets live in
``edits/ncci.py``; they are registered only when that module is installed (imported with this one, so a claim
calls each rule set directly), and the other rule sets run without them. A rule set that cannot run (its
knowledge base is not built) is reported as a finding, so one missing release never hides the other rule
sets' findings.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from medcoder.codesets.codesets import Codesets
from medcoder.edits.codes import check_validity
from medcoder.edits.completeness import check_completeness
from medcoder.edits.editing import editing
from medcoder.edits.mce import check_mce
from medcoder.edits.tabular import check_tabular
from medcoder.errors import ClaimError, MedcoderError
from medcoder.model.claim import Claim
from medcoder.model.findings import SEVERITIES, EditFinding

RuleSet = Callable[[Claim, Codesets], list[EditFinding]]


RULE_SETS: list[tuple[str, RuleSet]] = [
    ("validity", check_validity),
    ("tabular", check_tabular),
    ("mce", check_mce),
    ("completeness", check_completeness),
]
if importlib.util.find_spec("medcoder.edits.ncci") is not None:
    _ncci = importlib.import_module("medcoder.edits.ncci")
    RULE_SETS += [("ncci-ptp", _ncci.check_ptp), ("ncci-mue", _ncci.check_mue), ("ncci-aoc", _ncci.check_aoc)]

# A finding's own rule set may be absent from this map (ncci-* record their releases themselves).
_RELEASE_KINDS: dict[str, tuple[str, ...]] = {
    "validity": ("mce", "icd10cm-tabular"), "tabular": ("icd10cm-tabular",), "mce": ("mce",)}


def rule_set_names() -> list[str]:
    return [name for name, _ in RULE_SETS]


def check_claim(claim: Claim, codesets: Codesets, *, rule_sets: Iterable[str] | None = None) -> list[EditFinding]:
    """Findings of the chosen rule sets (all by default), errors first, then by service line.

    Raises ClaimError (E831) for an unknown rule-set name; never for a bad code or a missing release.
    """
    return check_claims([claim], [codesets], rule_sets=rule_sets)[0]


def check_claims(claims: Sequence[Claim], codesets: Sequence[Codesets], *,
                 rule_sets: Iterable[str] | None = None) -> list[list[EditFinding]]:
    """``check_claim`` of each claim with the code sets at its position.

    Why each rule set over all the claims in turn, not each claim through all the rule sets: a rule set's code
    and tables (the Tabular notes, the MCE lists, the NCCI pairs) stay in the processor's caches from one claim to
    the next (``claim_batch.CHUNK``); what several rule sets work out from a claim (its ``dx_view`` ...) is
    still worked out once (``editing.Shared``)."""
    chosen = RULE_SETS
    if rule_sets is not None:
        names = rule_set_names()
        wanted = list(rule_sets)
        unknown = [name for name in wanted if name not in names]
        if unknown:
            raise ClaimError(f"unknown rule set(s) {unknown}", code="E831", where="rule_sets",
                             fix=f"Choose from {', '.join(names)}")
        chosen = [(name, run) for name, run in chosen if name in wanted]
    if len(codesets) != len(claims):
        raise ValueError(f"{len(claims)} claims but {len(codesets)} code sets")
    if len(claims) == 1:  # the rule sets one after the other on one claim share by their last answer
        return _check(chosen, claims, codesets)
    with editing():  # what the rule sets share about these claims (their ``dx_view`` ...), until this returns
        return _check(chosen, claims, codesets)


def _check(chosen: list[tuple[str, RuleSet]], claims: Sequence[Claim],
           codesets: Sequence[Codesets]) -> list[list[EditFinding]]:
    found: list[list[EditFinding]] = [[] for _ in claims]
    for name, run in chosen:
        for i, claim in enumerate(claims):
            try:
                more = run(claim, codesets[i])
            except MedcoderError as e:
                more = [EditFinding(rule_set=name, rule=f"{name}.not-checked", severity="warning",
                                    message=f"the {name} edits could not run: {e.message}", fix=e.fix,
                                    details={"error": e.to_dict()})]
            for finding in more:  # most rule sets find nothing on most claims: a loop, not a comprehension
                found[i].append(finding if finding.release else _with_release(finding, codesets[i]))
    return [sorted(findings, key=_order) if len(findings) > 1 else findings for findings in found]


_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _order(finding: EditFinding) -> tuple[int, int]:
    lines = finding.lines
    return _RANK[finding.severity], min(lines) if lines else 0  # min(lines, default=0), without its keyword


def _with_release(finding: EditFinding, codesets: Codesets) -> EditFinding:
    if finding.release:
        return finding
    kinds = _RELEASE_KINDS.get(finding.rule_set, ())
    used = [f"{u.kind} {u.release}" for u in codesets.uses() if u.kind in kinds]
    if not used:
        return finding
    return replace(finding, release=", ".join(used))
