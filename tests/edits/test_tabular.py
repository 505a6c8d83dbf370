"""Rule set ``tabular`` on real Tabular notes (FY2026 April release); each case quotes the note it relies on."""

from __future__ import annotations

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.edits.tabular import check_tabular
from medcoder.model.findings import EditFinding
from medcoder.settings import Settings
from tests.edits.test_codes import DAY, make_claim


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


def _check(codesets: Codesets, dx: list[str], rule_prefix: str) -> list[EditFinding]:
    return [f for f in check_tabular(make_claim(dx), codesets) if f.rule.startswith(rule_prefix)]


@pytest.mark.parametrize(("dx", "under", "note", "why"), [
    (["E11.9", "E10.9"], "category E11 (Type 2 diabetes mellitus)", "type 1 diabetes mellitus (E10.-)",
     "E11 Excludes1: type 1 diabetes mellitus (E10.-); E10 Excludes1 E11.- the other way"),
    (["J45.909", "R06.2"], "category J45 (Asthma)", "wheezing NOS (R06.2)", "J45 Excludes1: wheezing NOS (R06.2)"),
    (["N40.0", "D29.1"], "category N40 (Benign prostatic hyperplasia)", "(D29.1)",
     "N40 Excludes1: benign neoplasms of prostate (D29.1)"),
    (["K21.9", "P78.83"], "category K21", "newborn esophageal reflux (P78.83)",
     "K21 Excludes1: newborn esophageal reflux (P78.83)"),
    (["E11.9", "E11.A"], "code E11.9", "in remission (E11.A)",
     "E11.9 Excludes1: type 2 diabetes mellitus, without complications in remission (E11.A)"),
])
def test_tabular_excludes1_pair(codesets: Codesets, dx: list[str], under: str, note: str, why: str) -> None:
    findings = _check(codesets, dx, "tabular.excludes1")
    assert len(findings) == 1, why
    finding = findings[0]
    assert finding.severity == "error" and finding.codes == tuple(dx) and finding.lines == (1,)
    assert under in finding.message and note in finding.message and "I.A.12.a" in finding.message
    assert "exception" in (finding.fix or "") and finding.release == "icd10cm-tabular FY2026-APR"


def test_tabular_excludes1_both_ways_reported_once(codesets: Codesets) -> None:
    """E10 and E11 exclude each other: one finding, both notes in the details."""
    finding = _check(codesets, ["E10.9", "E11.9"], "tabular.excludes1")[0]
    assert [n["code"] for n in finding.details["notes"]] == ["E10.9", "E11.9"]


@pytest.mark.parametrize(("dx", "why"), [
    (["E11.9", "I10"], "no Excludes1 between diabetes and hypertension"),
    (["J44.9", "J45.909"], "J44 'code also type of asthma (J45.-)': COPD and asthma are coded together"),
    (["E11.9", "E11.9"], "a repeated code is the MCE duplicate-of-PDX edit, not an Excludes1 pair"),
    (["E11.", "E10.9"], "a malformed code is the validity rule set's business"),
])
def test_tabular_excludes1_absent(codesets: Codesets, dx: list[str], why: str) -> None:
    assert _check(codesets, dx, "tabular.excludes1") == [], why


@pytest.mark.parametrize(("dx", "rule", "severity", "codes", "why"), [
    (["F02.80", "G30.9"], "tabular.code-first-order", "error", ("F02.80", "G30.9"),
     "F02 code first: Alzheimer's (G30.-); F02.80 is an MCE manifestation code"),
    (["F02.80"], "tabular.code-first-missing", "error", ("F02.80",),
     "F02 code first the underlying physiological condition; a manifestation is never coded alone (I.A.13)"),
    (["E08.9", "E84.0"], "tabular.code-first-order", "error", ("E08.9", "E84.0"),
     "E08 code first the underlying condition, such as cystic fibrosis (E84.-); E08.9 carries the MCE "
     "manifestation attribute"),
    (["T36.0X5A", "K29.70"], "tabular.code-first-order", "warning", ("T36.0X5A", "K29.70"),
     "T36-T50 block: code first, for adverse effects, the nature of the adverse effect, such as gastritis "
     "(K29.-); T36.0X5A is not a manifestation, so only a warning"),
    (["T36.0X5A"], "tabular.code-first-missing", "info", ("T36.0X5A",),
     "T36-T50 'code first ... such as': examples only, so advice"),
])
def test_tabular_code_first(codesets: Codesets, dx: list[str], rule: str, severity: str,
                            codes: tuple[str, ...], why: str) -> None:
    findings = _check(codesets, dx, "tabular.code-first")
    assert [(f.rule, f.severity, f.codes) for f in findings] == [(rule, severity, codes)], why
    assert "code first" in findings[0].message


@pytest.mark.parametrize(("dx", "why"), [
    (["G30.9", "F02.80"], "etiology first, manifestation second (I.A.13)"),
    (["K29.70", "T36.0X5A"], "nature of the adverse effect first, then the T code (I.C.19.e.5.a)"),
])
def test_tabular_code_first_in_order(codesets: Codesets, dx: list[str], why: str) -> None:
    assert _check(codesets, dx, "tabular.code-first") == [], why


@pytest.mark.parametrize(("dx", "code", "expected", "why"), [
    (["E11.9"], "E11.9", True, "E11 use additional code to identify control using insulin (Z79.4) ..."),
    (["E11.9", "Z79.4"], "E11.9", False, "the control code Z79.4 is on the claim"),
    (["I13.0", "I50.9", "N18.30"], "I13.0", True, "only the chapter's tobacco note is left unmatched"),
])
def test_tabular_use_additional(codesets: Codesets, dx: list[str], code: str, expected: bool, why: str) -> None:
    findings = [f for f in _check(codesets, dx, "tabular.use-additional") if f.codes == (code,)]
    assert bool(findings) is expected, why
    for finding in findings:
        assert finding.severity == "info" and "use additional" in finding.message


def test_tabular_use_additional_satisfied_group_not_repeated(codesets: Codesets) -> None:
    """I13.0 'use additional code to identify type of heart failure (I50.-)' is met by I50.9."""
    finding = _check(codesets, ["I13.0", "I50.9", "N18.30"], "tabular.use-additional")[0]
    assert "I50.-" not in finding.message and "N18.1-N18.4" not in finding.message


def test_tabular_stand_in_release_noted(codesets: Codesets) -> None:
    """On 2025-12-01 the FY2026 October Tabular is not in the mirror: the April release stands in, and says so."""
    finding = check_tabular(make_claim(["E11.9", "E10.9"]), codesets)[0]
    assert "FY2026-APR" in finding.details["release_note"]


def test_tabular_refs_span_agrees_with_intervals(codesets: Codesets) -> None:
    """``_Refs.low``/``high`` only skip the binary search: on the real notes' references, ``cover``, ``cover_any``
    and ``covered`` answer as a plain scan of the intervals does, for codes at and next to every interval end."""
    from medcoder.edits.tabular import _memo, _Refs

    tabular = codesets.tabular
    memo = _memo(tabular)
    at: dict[int, str] = {}
    refs: dict[int, _Refs] = {}
    for code, (position, notes) in memo.known.items():
        if position is not None:
            at.setdefault(position, code)
        for r in (notes.excluded, notes.first_match, *(group for group, _ in notes.additional)):
            refs.setdefault(id(r), r)
    checked = 0
    for r in refs.values():
        assert (r.low, r.high) == ((r.starts[0], r.ends[-1]) if r.starts else (0, -1))
        edges = {p + d for p in (*r.starts, *r.ends) for d in (-1, 0, 1)}
        coded = [(p, at[p]) for p in sorted(edges) if p in at]
        for position, code in coded:
            inside = any(lo <= position <= hi for lo, hi in zip(r.starts, r.ends, strict=True))
            assert r.cover(tabular, position, code) is (inside or r._cover_other(tabular, code))
            assert r.cover_any(tabular, [(position, code)]) is r.cover(tabular, position, code)
        assert r.covered(tabular, coded) == {c for p, c in coded if r.cover(tabular, p, c)}
        checked += len(coded)
    assert len(refs) > 1000 and checked > 10_000
