"""Rule set ``mce`` on the real MCE tables: each case names the attribute row (code, window) that justifies it.

Rows are quoted from ``mce_icd10cm_dx_attributes.csv`` / ``mce_icd10pcs_sg_attributes.csv`` (MCE v33-v44).
Note the FY2025 change the tables show: from 2024-10-01 no code carries the ``female``/``male`` attributes
(CMS deactivated the MCE sex-conflict lists), so sex conflicts fire only on earlier dates.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from typing import Any

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.edits.mce import _CHECKS, CHECK_FIELDS, age_on, check_mce, mce_rules, parse_rules
from medcoder.errors import ClaimError
from medcoder.model.claim import Claim
from tests.edits.test_codes import DAY, inpatient_claim, make_claim

Y2024 = date(2024, 6, 1)


def _rules(claim: Claim, codesets: Codesets) -> list[str]:
    return [f.rule for f in check_mce(claim, codesets)]


def _years(age: int, day: date) -> date:
    """A birth date making the patient ``age`` on ``day`` (born on January 1st)."""
    return date(day.year - age, 1, 1)


@pytest.mark.parametrize(("dx", "day", "age", "expected", "why"), [
    ("A33", DAY, 45, ["mce.age-conflict"], "A33,20151001,20270331,newborn; Newborn 0-0"),
    ("A33", DAY, 0, [], "newborn code on a newborn"),
    ("P05.01", date(2016, 6, 1), 40, ["mce.age-conflict"], "P0501,20151001,20160930,newborn"),
    ("P05.01", DAY, 40, [], "P0501,20161001,20270331,(none): the newborn edit was withdrawn for FY2017"),
    ("R62.0", DAY, 30, ["mce.age-conflict"], "R620,...,pediatric; Pediatric 0-17"),
    ("N40.0", DAY, 10, ["mce.age-conflict"], "N400,20241001,20270331,adult; Adult 15-124"),
    ("O80", date(2019, 6, 1), 60, ["mce.age-conflict"], "age table: Maternity 12-55 until 2019-09-30"),
    ("O80", date(2020, 6, 1), 60, [], "age table: Maternity 9-64 from 2019-10-01"),
    ("O80", DAY, 70, ["mce.age-conflict"], "O80,20241001,20270331,maternity; 70 > 64"),
])
def test_mce_age_conflict(codesets_on: Callable[[date], Codesets], dx: str, day: date, age: int,
                          expected: list[str], why: str) -> None:
    claim = make_claim([dx], day=day, birth=_years(age, day))
    assert _rules(claim, codesets_on(day)) == expected, why


def test_mce_age_conflict_message_cites_table(codesets_on: Callable[[date], Codesets]) -> None:
    finding = check_mce(make_claim(["O80"], day=DAY, birth=date(1955, 1, 1)), codesets_on(DAY))[0]
    assert finding.message == "O80 is a maternity diagnosis (age 9-64) but the patient is 70"
    assert finding.release == "mce v33-v44" and finding.lines == (1,)
    assert "Definitions of Medicare Code Edits" in finding.details["citation"]
    assert "4. Age conflict" in finding.details["citation"] and finding.details["attributes"] == ["maternity"]


@pytest.mark.parametrize(("dx", "procedures", "sex", "day", "expected", "why"), [
    (["O80"], (), "M", Y2024, ["mce.sex-conflict"], "O80,20151001,20240930,female|maternity"),
    (["O80"], (), "M", DAY, [], "O80,20241001,20270331,maternity: no sex attribute from FY2025"),
    (["N40.0"], (), "F", Y2024, ["mce.sex-conflict"], "N400,20151001,20240930,adult|male"),
    (["N40.0"], ("0VT00ZZ",), "F", Y2024, ["mce.sex-conflict", "mce.sex-conflict-procedure"],
     "0VT00ZZ (resection of prostate, open) male until 2024-09-30"),
    (["N40.0"], ("0VT00ZZ",), "M", Y2024, [], "prostate procedure on a male patient"),
    (["N40.0"], ("0VT00ZZ",), "U", Y2024, ["mce.sex-unknown"], "sex U: the edit cannot be checked (edit 15)"),
])
def test_mce_sex_conflict(codesets_on: Callable[[date], Codesets], dx: list[str], procedures: tuple[str, ...],
                          sex: str, day: date, expected: list[str], why: str) -> None:
    claim = inpatient_claim(dx, admitted=day, discharged=day, procedures=procedures, sex=sex)
    assert [r for r in _rules(claim, codesets_on(day)) if "sex" in r] == expected, why


@pytest.mark.parametrize(("dx", "kind", "expected", "why"), [
    (["F02.80", "G30.9"], "professional", ["mce.manifestation-principal"], "F0280,...,manifestation"),
    (["F02.80", "G30.9"], "inpatient", ["mce.manifestation-principal"], "F0280,...,manifestation"),
    (["G30.9", "F02.80"], "inpatient", [], "manifestation as secondary is fine"),
    (["V00.01XA", "S82.101A"], "professional", ["mce.external-cause-principal"], "V0001XA,...,ecodepdx"),
    (["S82.101A", "V00.01XA"], "professional", [], "external cause as secondary"),
    (["J18.9", "J18.9"], "professional", ["mce.duplicate-of-pdx"], "edit 3: secondary same as PDX"),
    (["I10"], "inpatient", ["mce.questionable-admission"], "I10,20151001,20270331,qadm"),
    (["I10"], "professional", [], "questionable admission is an inpatient edit"),
    (["B95.0"], "inpatient", ["mce.unacceptable-principal"], "B950,20171001,20270331,unacceptable"),
    (["Z51.89"], "inpatient", ["mce.requires-secondary"], "Z5189,...,reqsdx|unacceptable"),
    (["Z51.89", "C50.911"], "inpatient", [], "reqsdx: acceptable with a secondary diagnosis"),
    (["G81.90"], "inpatient", ["mce.unspecified-principal"], "G8190,20220401,20270331,unspecified"),
    (["J18.9", "Y65.51"], "inpatient", ["mce.wrong-procedure"], "Y6551,...,ecodepdx|wrngproc"),
])
def test_mce_principal_diagnosis_edits(codesets_on: Callable[[date], Codesets], dx: list[str], kind: str,
                                       expected: list[str], why: str) -> None:
    claim = make_claim(dx) if kind == "professional" else inpatient_claim(dx, admitted=DAY, discharged=DAY)
    assert _rules(claim, codesets_on(DAY)) == expected, why


@pytest.mark.parametrize(("day", "expected"), [
    (date(2022, 3, 1), []), (date(2022, 5, 1), ["mce.unspecified-principal"])])
def test_mce_unspecified_follows_its_window(codesets_on: Callable[[date], Codesets], day: date,
                                            expected: list[str]) -> None:
    """G8190,20151001,20220331,(none) then G8190,20220401,20270331,unspecified."""
    assert _rules(inpatient_claim(["G81.90"], admitted=day, discharged=day), codesets_on(day)) == expected


@pytest.mark.parametrize(("dx", "procedures", "age", "los", "expected", "why"), [
    (["K80.20"], ("0DF5XZZ",), 50, 2, ["mce.noncovered-procedure"], "0DF5XZZ,...,noncovered"),
    (["N18.6"], ("0TY00Z0",), 50, 5, ["mce.limited-coverage"], "0TY00Z0,...,kidneyxp|lcov (kidney transplant)"),
    (["C91.00"], ("30233G0",), 50, 20, ["mce.noncovered-with-diagnosis"],
     "30233G0,...,ncov6 with C9100,...,ncov6 (ALL not in remission)"),
    (["C91.01"], ("30233G0",), 50, 20, [], "C91.01 (in remission) has no ncov6"),
    (["Z30.2"], ("0U570ZZ",), 40, 1, ["mce.noncovered-sterilization"],
     "0U570ZZ,20241001,20270331,ncov_z302 with principal Z302,...,ncov_z302"),
    (["N83.201", "Z30.2"], ("0U570ZZ",), 40, 1, [], "Z30.2 is not the principal diagnosis"),
    (["E11.9"], ("0FYG0Z0",), 50, 10, ["mce.questionable-admission", "mce.noncovered-pancreas-transplant",
                                       "mce.limited-coverage"], "0FYG0Z0,...,lcov|ncov45; E119 is not diabtypeI"),
    (["E10.9"], ("0FYG0Z0",), 50, 10, ["mce.limited-coverage"], "E109,...,diabtypeI"),
    (["M51.36"], ("0SR20JZ",), 74, 3, ["mce.noncovered-over-age"], "0SR20JZ,...,ncov12agele60; 74 > 60"),
    (["M51.36"], ("0SR20JZ",), 50, 3, [], "lumbar artificial disc under 60"),
    (["J96.00"], ("5A1955Z",), 50, 2, ["mce.procedure-length-of-stay"], "5A1955Z,...,los; 2-day stay"),
    (["J96.00"], ("5A1955Z",), 50, 5, [], "96+ hours of ventilation in a 5-day stay"),
    (["O80"], ("10E0XZZ",), 30, 2, ["mce.delivery-outcome"], "10E0XZZ,20241001,...,vagdel; no Z37 (delout)"),
    (["O80", "Z37.0"], ("10E0XZZ",), 30, 2, [], "Z370,20241001,...,delout|maternity|unacceptable"),
])
def test_mce_procedure_edits(codesets_on: Callable[[date], Codesets], dx: list[str], procedures: tuple[str, ...],
                             age: int, los: int, expected: list[str], why: str) -> None:
    admitted = DAY - timedelta(days=los)
    claim = inpatient_claim(dx, admitted=admitted, discharged=DAY, procedures=procedures, birth=_years(age, DAY))
    assert _rules(claim, codesets_on(DAY)) == expected, why


@pytest.mark.parametrize(("status", "expected", "why"), [
    ("01", [], "01,19801001,20270331"),
    ("99", ["mce.invalid-discharge-status"], "no 99 row"),
    ("08", ["mce.invalid-discharge-status"], "08,19941001,20050930: withdrawn"),
])
def test_mce_discharge_status(codesets_on: Callable[[date], Codesets], status: str, expected: list[str],
                              why: str) -> None:
    claim = inpatient_claim(["J18.9"], admitted=DAY, discharged=DAY, discharge_status=status)
    assert _rules(claim, codesets_on(DAY)) == expected, why


@pytest.mark.parametrize(("dx", "birth", "expected"), [
    (["A33"], None, ["mce.age-unknown"]),
    (["I10"], None, []),
    (["I10"], date(1890, 1, 1), ["mce.invalid-age"]),
])
def test_mce_age_unknown_or_invalid(codesets_on: Callable[[date], Codesets], dx: list[str], birth: date | None,
                                    expected: list[str]) -> None:
    findings = check_mce(make_claim(dx, birth=birth), codesets_on(DAY))
    assert [f.rule for f in findings] == expected
    assert all(f.severity == ("info" if "unknown" in f.rule else "error") for f in findings)


@pytest.mark.parametrize(("birth", "day", "age"), [
    (date(2000, 6, 2), date(2025, 6, 1), 24), (date(2000, 6, 1), date(2025, 6, 1), 25), (None, DAY, None)])
def test_mce_age_on(birth: date | None, day: date, age: int | None) -> None:
    assert age_on(birth, day) == age


# -- the rules document ----------------------------------------------------------------------------------------

def test_mce_rules_load_and_match_the_checks(codesets_on: Callable[[date], Codesets]) -> None:
    rules = mce_rules()
    assert set(CHECK_FIELDS) == set(_CHECKS)
    assert all(r.id.startswith("mce.") and r.citation for r in rules.rules)
    # Every attribute a rule names exists in the MCE tables (a typo would silently never fire).
    conn = codesets_on(DAY).connection("mce")
    known = {a for (text,) in conn.execute("SELECT DISTINCT attributes FROM validity") for a in text.split("|")}
    named = {a for r in rules.rules for a in (*r.attributes, *r.except_attributes, r.dx_attribute) if a}
    assert named <= known, named - known
    ages = {c for (c,) in conn.execute("SELECT DISTINCT category FROM age_range")}
    assert set(rules.age_categories.values()) == ages


def _raw() -> dict[str, Any]:
    text = resources.files("medcoder.edits").joinpath("data/mce_rules.json").read_text("utf-8")
    return dict(json.loads(text))


@pytest.mark.parametrize(("change", "problem"), [
    ({"check": "dx-colour"}, "unknown check"),
    ({"colour": "red"}, "unknown key"),
    ({"citation": ""}, "lacks 'citation'"),
    ({"severity": "fatal"}, "bad severity"),
    ({"message": "{code} at {nowhere}"}, "nowhere"),
    ({"attributes": []}, "needs 'attributes'"),
])
def test_mce_rules_refuse_bad_data(change: dict[str, Any], problem: str) -> None:
    raw = copy.deepcopy(_raw())
    raw["rules"][0].update(change)
    with pytest.raises(ClaimError) as info:
        parse_rules(raw)
    assert info.value.code == "E830" and problem in str(info.value) and "rules[0]" in str(info.value)


def test_mce_window_attribute_set_is_its_attributes(codesets_on: Callable[[date], Codesets]) -> None:
    """Every window the reader hands out carries its attributes as the set the rule set matches rules with."""
    mce = codesets_on(DAY).mce
    flagged = 0
    for system in ("cm", "pcs"):
        for code in mce.valid_codes(DAY, system=system):
            for window in mce.windows_of(code, system=system):
                assert window.attribute_set == frozenset(window.attributes), (system, code)
                flagged += bool(window.attributes)
    assert flagged > 10_000
