"""``check_claim``: every rule set in one sorted list, releases recorded, bad input reported not raised."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from decimal import Decimal

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.edits import run
from medcoder.edits.run import check_claim, rule_set_names
from medcoder.errors import ClaimError, ReleaseError
from medcoder.model.claim import Claim, ServiceLine
from medcoder.model.findings import SEVERITIES, EditFinding
from medcoder.settings import Settings
from tests.edits.test_codes import DAY, inpatient_claim, make_claim


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


def _messy() -> Claim:
    lines = (ServiceLine(number=1, code="99213", service_date=DAY, charge=Decimal("100"), diagnosis_pointers=(1, 2)),
             ServiceLine(number=2, code="C9088", service_date=DAY, charge=Decimal("0"), diagnosis_pointers=(3,)))
    return make_claim(["F02.80", "E11.2", "A33"], lines=lines)


def test_run_sorted_by_severity_then_line(codesets: Codesets) -> None:
    findings = check_claim(_messy(), codesets)
    keys = [(SEVERITIES.index(f.severity), min(f.lines, default=0)) for f in findings]
    assert keys == sorted(keys)
    rules = {f.rule for f in findings}
    assert {"validity.dx-header", "validity.hcpcs-not-in-effect", "tabular.code-first-missing",
            "mce.manifestation-principal", "mce.age-conflict", "completeness.charge"} <= rules


def test_run_every_finding_names_its_release(codesets: Codesets) -> None:
    findings = check_claim(_messy(), codesets)
    releases = {f.rule_set: f.release for f in findings}
    assert releases["mce"] == "mce v33-v44" and releases["tabular"] == "icd10cm-tabular FY2026-APR"
    assert releases["completeness"] == "completeness 2026.1"
    assert all(f.release for f in findings)


@pytest.mark.parametrize(("wanted", "rule_sets"), [
    (["completeness"], {"completeness"}),
    (["mce", "tabular"], {"mce", "tabular"}),
])
def test_run_selected_rule_sets(codesets: Codesets, wanted: list[str], rule_sets: set[str]) -> None:
    assert {f.rule_set for f in check_claim(_messy(), codesets, rule_sets=wanted)} == rule_sets


@pytest.mark.parametrize("name", ["ncci", "Validity"])
def test_run_unknown_rule_set_is_refused(codesets: Codesets, name: str) -> None:
    with pytest.raises(ClaimError) as info:
        check_claim(_messy(), codesets, rule_sets=[name])
    assert info.value.code == "E831" and "validity" in str(info.value)


def test_run_registers_ncci_when_installed() -> None:
    installed = importlib.util.find_spec("medcoder.edits.ncci") is not None
    assert ({"ncci-ptp", "ncci-mue", "ncci-aoc"} <= set(rule_set_names())) is installed
    assert rule_set_names()[:4] == ["validity", "tabular", "mce", "completeness"]


def test_run_rule_set_failure_becomes_a_finding(codesets: Codesets, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(claim: Claim, cs: Codesets) -> list[EditFinding]:
        raise ReleaseError("no ncci-ptp knowledge base is built", code="E403", fix="Run 'medcoder data build'")

    monkeypatch.setattr(run, "RULE_SETS", [("validity", broken), *run.RULE_SETS[1:]])
    findings = check_claim(make_claim(["I10"]), codesets)
    failed = [f for f in findings if f.rule == "validity.not-checked"]
    assert len(failed) == 1 and failed[0].severity == "warning" and failed[0].details["error"]["code"] == "E403"


@pytest.mark.parametrize("claim", [
    make_claim(["???", "e11 .9", ""], lines=(ServiceLine(number=1, code="abc", service_date=DAY, modifiers=("x",),
                                                          diagnosis_pointers=(9,)),)),
    inpatient_claim(["J18.9"], admitted=DAY, discharged=DAY, procedures=("12", "0VTO0ZZ", "")),
], ids=["professional", "inpatient"])
def test_run_malformed_codes_are_findings_not_exceptions(codesets: Codesets, claim: Claim) -> None:
    findings = check_claim(claim, codesets)
    assert any(f.rule.endswith("-format") for f in findings)
    assert all(f.severity in SEVERITIES and f.message for f in findings)


def test_run_without_mce_or_hcpcs_still_edits(kb_settings: Settings) -> None:
    """A knowledge base lacking the MCE and HCPCS releases: the Tabular alone answers validity."""
    full = Codesets.for_date(DAY, settings=kb_settings)
    partial = replace(full, choices={k: v for k, v in full.choices.items() if k not in ("mce", "hcpcs")}, _conns={})
    claim = make_claim(["E11.2", "E11.9"], lines=(ServiceLine(number=1, code="J1100", service_date=DAY,
                                                              charge=Decimal(5), diagnosis_pointers=(1, 2)),))
    findings = check_claim(claim, partial, rule_sets=["validity", "mce"])
    assert [(f.rule, f.release) for f in findings] == [
        ("validity.dx-header", "icd10cm-tabular FY2026-APR"), ("validity.hcpcs-unchecked", "hcpcs (not built)")]


def test_run_many_claims_rule_set_by_rule_set_equals_each_claim_alone(kb_settings: Settings, codesets: Codesets,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``check_claims`` runs each rule set over all the claims in turn: each claim's findings (and their order)
    are what ``check_claim`` gives it alone, with the code sets at its position, and a rule set failing on one
    claim is a finding of that claim only."""
    full = Codesets.for_date(DAY, settings=kb_settings)
    partial = replace(full, choices={k: v for k, v in full.choices.items() if k not in ("mce", "hcpcs")}, _conns={})
    messy, plain = _messy(), make_claim(["I10"])
    stay = inpatient_claim(["J18.9", "E87.1"], admitted=DAY, discharged=DAY, procedures=("12",))
    claims = [messy, plain, stay, messy, replace(messy, claim_id="C-2")]
    sets = [codesets, codesets, codesets, partial, codesets]
    together = run.check_claims(claims, sets)
    assert together == [check_claim(c, s) for c, s in zip(claims, sets, strict=True)]
    assert together[0] == together[4] and together[0] != together[3]  # same claim, other code sets: other findings
    assert run.check_claims(claims, sets, rule_sets=["mce"]) == [check_claim(c, s, rule_sets=["mce"])
                                                                 for c, s in zip(claims, sets, strict=True)]

    real = dict(run.RULE_SETS)["tabular"]

    def fails_on_inpatient(claim: Claim, cs: Codesets) -> list[EditFinding]:
        if claim.setting == "inpatient":
            raise ReleaseError("no icd10cm-tabular knowledge base is built", code="E403", fix="Build it")
        return real(claim, cs)

    monkeypatch.setattr(run, "RULE_SETS", [(n, fails_on_inpatient if n == "tabular" else f) for n, f in run.RULE_SETS])
    failed = [[f.rule for f in found if f.rule.endswith("not-checked")] for found in run.check_claims(claims, sets)]
    assert failed == [[], [], ["tabular.not-checked"], [], []]
