"""NCCI claim editors (``medcoder.edits.ncci``) on the real PTP 2024-Q3, MUE and AOC 2026-Q2 tables.

Known rows (29881/29877 indicator 0, 11042/97597 indicator 1, 99292 needing 99291, 99486's per-line MUE) are
checked against the mirrored CMS files (read independently in ``ncci_sources``) before a test relies on them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.edits.ncci import check_aoc, check_mue, check_ptp, rules
from medcoder.model.claim import Claim, ClaimKind, Diagnosis, Patient, Payer, Provider, ServiceLine
from medcoder.model.findings import EditFinding
from tests.edits.ncci_sources import AOC, DAY, MUE, PTP, aoc_rows, julian, mirror_file, mue_rows, ptp_scan

# -- fixtures -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def on_day(codesets_on: Callable[[date], Codesets]) -> Callable[[date], Codesets]:
    """The code sets in force on a date of service (the shared ``codesets_on``), opened once per date."""
    return codesets_on


@pytest.fixture(scope="module")
def codesets(on_day: Callable[[date], Codesets]) -> Codesets:
    return on_day(DAY)


def _claim(*lines: ServiceLine, kind: ClaimKind = "professional",
           setting: Literal["outpatient", "inpatient"] = "outpatient") -> Claim:
    return Claim(claim_id="ncci-test", kind=kind, setting=setting,
                 patient=Patient(member_id="1EG4TE5MK73", last_name="Doe", first_name="Jane",
                                 birth_date=date(1950, 1, 1), sex="F"),
                 payer=Payer(name="Medicare Part B", payer_id="00000"), billing_provider=Provider(name="Clinic"),
                 diagnoses=(Diagnosis(code="E11.9", sequence=1),), lines=lines)


def _line(number: int, code: str, *, units: Any = 1, modifiers: tuple[str, ...] = (), day: date = DAY) -> ServiceLine:
    return ServiceLine(number=number, code=code, service_date=day,
                       units=units if isinstance(units, Decimal) else Decimal(units), modifiers=modifiers)


def _rules(findings: list[EditFinding]) -> list[tuple[str, tuple[int, ...]]]:
    return [(f.rule, f.lines) for f in findings]


# -- PTP reader and editor -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("col1", "col2", "indicator"), [("29881", "29877", "0"), ("45380", "45378", "0"),
                                                         ("11042", "97597", "1"), ("99214", "99211", "1")])
def test_ncci_ptp_edit_in_force_matches_source(codesets: Codesets, mirror_dir: Path, col1: str, col2: str,
                                               indicator: str) -> None:
    rows = ptp_scan(mirror_file(mirror_dir, PTP, "practitioner_csv"))["watched"][(col1, col2)]
    current = next(r for r in rows if r[2] == "99991231")
    assert current[3] == indicator
    edit = codesets.ncci_ptp.edit(col1, col2, setting="practitioner", on=DAY)
    assert edit is not None and edit.deletion_date is None
    assert (edit.modifier_indicator, edit.rationale) == (int(indicator), current[4])
    assert len(codesets.ncci_ptp.history(col1, col2, setting="practitioner")) == len(rows)
    assert codesets.ncci_ptp.edit(col2, col1, setting="practitioner", on=DAY) is None  # edits are ordered


@pytest.mark.parametrize(("day", "indicator"), [(date(2001, 6, 1), 9), (date(2002, 1, 1), 9), (date(2002, 1, 2), 0)])
def test_ncci_ptp_deleted_row_applies_through_its_deletion_date(codesets: Codesets, mirror_dir: Path, day: date,
                                                                indicator: int) -> None:
    # 29881/29877: a row deleted 2002-01-01 with indicator 9 and the current row with indicator 0.
    rows = ptp_scan(mirror_file(mirror_dir, PTP, "practitioner_csv"))["watched"][("29881", "29877")]
    assert sorted((r[2], r[3]) for r in rows) == [("20020101", "9"), ("99991231", "0")]
    edit = codesets.ncci_ptp.edit("29881", "29877", setting="practitioner", on=day)
    assert edit is not None and edit.modifier_indicator == indicator


@pytest.mark.parametrize(("day", "fires"), [(date(2024, 6, 30), True), (date(2024, 7, 1), False)])
def test_ncci_ptp_pair_not_applied_after_its_deletion_date(on_day: Callable[[date], Codesets], mirror_dir: Path,
                                                           day: date, fires: bool) -> None:
    col1, col2, indicator = ptp_scan(mirror_file(mirror_dir, PTP, "practitioner_csv"))["only_ended"]
    cs = on_day(day)
    assert (cs.ncci_ptp.edit(col1, col2, setting="practitioner", on=day) is not None) is fires
    findings = check_ptp(_claim(_line(1, col1, day=day), _line(2, col2, day=day)), cs)
    assert _rules(findings) == ([(f"ncci-ptp.modifier-{indicator}", (1, 2))] if fires else [])


@pytest.mark.parametrize(("col1", "col2"), [("29881", "29877"), ("45380", "45378")])
def test_ncci_ptp_indicator_0_is_an_error_no_modifier_bypasses(codesets: Codesets, col1: str, col2: str) -> None:
    claim = _claim(_line(1, col1), _line(2, col2, modifiers=("59",)))
    findings = check_ptp(claim, codesets)
    assert _rules(findings) == [("ncci-ptp.modifier-0", (1, 2))]
    finding = findings[0]
    assert finding.severity == "error" and finding.codes == (col1, col2)
    assert finding.details["modifier_indicator"] == 0 and finding.details["rationale"] in finding.message
    assert "no modifier" in finding.message


@pytest.mark.parametrize(("modifiers_1", "modifiers_2", "rule", "bypass"), [
    ((), (), "ncci-ptp.modifier-1", None),
    ((), ("GA",), "ncci-ptp.modifier-1", None),           # not an NCCI-associated modifier
    ((), ("59",), "ncci-ptp.bypassed", ["59"]),
    ((), ("xs",), "ncci-ptp.bypassed", ["XS"]),
    (("RT",), ("LT",), "ncci-ptp.bypassed", ["LT", "RT"]),
    (("XU",), (), "ncci-ptp.bypassed", ["XU"]),          # on the column 1 line
])
def test_ncci_ptp_indicator_1_bypassed_only_by_ncci_modifier(codesets: Codesets, modifiers_1: tuple[str, ...],
                                                             modifiers_2: tuple[str, ...], rule: str,
                                                             bypass: list[str] | None) -> None:
    findings = check_ptp(_claim(_line(1, "11042", modifiers=modifiers_1), _line(2, "97597", modifiers=modifiers_2)),
                         codesets)
    assert _rules(findings) == [(rule, (1, 2))]
    finding = findings[0]
    assert finding.details.get("bypass_modifiers") == bypass
    if bypass is None:
        assert finding.severity == "error" and finding.fix is not None and "59/X{EPSU}" in finding.fix
    else:
        assert finding.severity == "info" and "bypassed" in finding.message


@pytest.mark.parametrize("days", [(DAY, DAY + timedelta(days=1))])
def test_ncci_ptp_only_same_date_of_service(codesets: Codesets, days: tuple[date, date]) -> None:
    assert check_ptp(_claim(_line(1, "29881", day=days[0]), _line(2, "29877", day=days[1])), codesets) == []


@pytest.mark.parametrize(("kind", "setting", "expected"), [
    ("professional", "outpatient", [("ncci-ptp.modifier-0", (1, 2))]),
    ("institutional", "outpatient", []),     # the hospital outpatient table has no such edit in force
    ("institutional", "inpatient", []),      # NCCI does not edit inpatient claims
])
def test_ncci_ptp_setting_picks_the_table(codesets: Codesets, mirror_dir: Path, kind: str, setting: str,
                                          expected: list[tuple[str, tuple[int, ...]]]) -> None:
    practitioner = ptp_scan(mirror_file(mirror_dir, PTP, "practitioner_csv"))["watched"][("10004", "36591")]
    outpatient = ptp_scan(mirror_file(mirror_dir, PTP, "outpatient_csv"))["watched"].get(("10004", "36591"), [])
    assert [r[2:4] for r in practitioner] == [["99991231", "0"]]
    assert not any(r[2] == "99991231" for r in outpatient)
    claim = _claim(_line(1, "10004"), _line(2, "36591"), kind=kind, setting=setting)
    assert _rules(check_ptp(claim, codesets)) == expected


@pytest.mark.parametrize("day", [DAY])
def test_ncci_ptp_finding_says_the_release_is_a_stand_in(codesets: Codesets, day: date) -> None:
    finding = check_ptp(_claim(_line(1, "29881", day=day), _line(2, "29877", day=day)), codesets)[0]
    assert finding.release == f"ncci-ptp 2024-Q3 (stand-in: not in force on {day.isoformat()})"
    assert finding.details["release_in_force"] is False
    assert finding.details["release_window"] == "2024-07-01..2024-09-30"
    assert any("stale" in item for item in finding.details["release_lacks"])


@pytest.mark.parametrize("day", [date(2024, 8, 15)])
def test_ncci_ptp_finding_in_force_release_is_plain(on_day: Callable[[date], Codesets], day: date) -> None:
    finding = check_ptp(_claim(_line(1, "29881", day=day), _line(2, "29877", day=day)), on_day(day))[0]
    assert finding.release == "ncci-ptp 2024-Q3" and "release_in_force" not in finding.details


@pytest.mark.parametrize("codes", [("99213", "ZZZZZ"), ("", "29877"), ("99213-25", "1234567890"), ("29881 ", "29877")])
def test_ncci_ptp_unknown_or_malformed_codes_never_crash(codesets: Codesets, codes: tuple[str, str]) -> None:
    findings = check_ptp(_claim(_line(1, codes[0]), _line(2, codes[1])), codesets)
    expected = [("ncci-ptp.modifier-0", (1, 2))] if codes == ("29881 ", "29877") else []
    assert _rules(findings) == expected


# -- MUE ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["99486", "11042", "99213", "J7175", "0001U"])
def test_ncci_mue_reader_matches_source(codesets: Codesets, mirror_dir: Path, code: str) -> None:
    value, mai, rationale = mue_rows(mirror_file(mirror_dir, MUE, "practitioner_csv"))[code]
    limit = codesets.ncci_mue.mue(code)
    assert limit is not None
    assert (limit.value, limit.adjudication_indicator, limit.rationale) == (value, mai, rationale)
    assert limit.per_day is (mai != 1)


@pytest.mark.parametrize("code", ["99999", "ZZZZZ", ""])
def test_ncci_mue_code_without_mue_is_none(codesets: Codesets, code: str) -> None:
    assert codesets.ncci_mue.mue(code) is None


@pytest.mark.parametrize(("code", "mai"), [("99486", 1)])
def test_ncci_mue_line_edit_counts_each_line_alone(codesets: Codesets, mirror_dir: Path, code: str, mai: int) -> None:
    value, source_mai, _ = mue_rows(mirror_file(mirror_dir, MUE, "practitioner_csv"))[code]
    assert source_mai == mai and value >= 2
    at_limit = _claim(_line(1, code, units=value), _line(2, code, units=value))   # 2 x MUE on the day: fine
    assert check_mue(at_limit, codesets) == []
    over = check_mue(_claim(_line(1, code, units=value + 1), _line(2, code, units=1)), codesets)
    assert _rules(over) == [("ncci-mue.line", (1,))]
    assert over[0].details["adjudication_indicator"] == 1 and over[0].details["mue"] == value
    assert over[0].fix is not None and "separate lines" in over[0].fix and over[0].severity == "error"


@pytest.mark.parametrize(("code", "mai"), [("11042", 2), ("99213", 3)])
def test_ncci_mue_date_of_service_edit_sums_the_day(codesets: Codesets, mirror_dir: Path, code: str,
                                                    mai: int) -> None:
    value, source_mai, rationale = mue_rows(mirror_file(mirror_dir, MUE, "practitioner_csv"))[code]
    assert source_mai == mai
    lines = [_line(n, code, units=1) for n in range(1, value + 2)]                    # MUE + 1 lines of 1 unit
    findings = check_mue(_claim(*lines), codesets)
    assert _rules(findings) == [("ncci-mue.date-of-service", tuple(range(1, value + 2)))]
    finding = findings[0]
    assert finding.details["units"] == value + 1 and finding.details["adjudication_indicator"] == mai
    assert f"MAI {mai}" in finding.message and rationale in finding.message
    assert ("appeal documenting" in finding.message) is (mai == 3)
    spread = [_line(n, code, units=1, day=DAY + timedelta(days=n)) for n in range(1, value + 2)]
    assert check_mue(_claim(*spread), codesets) == []                                 # one per day: fine


@pytest.mark.parametrize("units", [Decimal(0), Decimal(-1), Decimal("1.5"), Decimal("NaN"), Decimal("Infinity"),
                                   "two"])
def test_ncci_mue_malformed_units_are_findings(codesets: Codesets, units: Any) -> None:
    line = ServiceLine(number=1, code="11042", service_date=DAY, units=units)
    claim = _claim(line, _line(2, "11045"))
    findings = check_mue(claim, codesets)
    assert _rules(findings) == [("ncci-mue.invalid-units", (1,))]
    assert findings[0].severity == "error"
    check_ptp(claim, codesets)
    check_aoc(claim, codesets)


@pytest.mark.parametrize(("kind", "setting", "expected"), [
    ("institutional", "outpatient", [("ncci-mue.not-checked", ())]),   # no outpatient MUE table in 2026-Q2
    ("institutional", "inpatient", []),
])
def test_ncci_mue_institutional_claims_say_what_is_missing(codesets: Codesets, kind: str, setting: str,
                                                           expected: list[tuple[str, tuple[int, ...]]]) -> None:
    findings = check_mue(_claim(_line(1, "11042", units=5), kind=kind, setting=setting), codesets)
    assert _rules(findings) == expected
    if findings:
        assert findings[0].severity == "info" and "practitioner" in findings[0].message


# -- AOC ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("addon", "primary"), [("99292", "99291"), ("11045", "11042")])
def test_ncci_aoc_addon_needs_its_primary_on_the_same_date(codesets: Codesets, mirror_dir: Path, addon: str,
                                                           primary: str) -> None:
    rows = [r for r in aoc_rows(mirror_file(mirror_dir, AOC, "aoc_xlsx")) if r[1] == addon]
    assert [(r[0], r[3], r[6]) for r in rows] == [("1", primary, None)]
    assert codesets.ncci_aoc.is_addon(addon, DAY) and not codesets.ncci_aoc.is_addon(primary, DAY)
    rule = codesets.ncci_aoc.primaries(addon, DAY)
    assert rule is not None and (rule.edit_type, rule.primaries) == (1, (primary,))
    assert check_aoc(_claim(_line(1, primary), _line(2, addon)), codesets) == []
    alone = check_aoc(_claim(_line(1, addon)), codesets)
    assert _rules(alone) == [("ncci-aoc.missing-primary", (1,))]
    assert alone[0].severity == "error" and primary in alone[0].message and alone[0].release == "ncci-aoc 2026-Q2"
    next_day = check_aoc(_claim(_line(1, primary), _line(2, addon, day=DAY + timedelta(days=1))), codesets)
    assert _rules(next_day) == [("ncci-aoc.missing-primary", (2,))]


@pytest.mark.parametrize("edit_type", ["2", "3"])
def test_ncci_aoc_payer_defined_types(codesets: Codesets, mirror_dir: Path, edit_type: str) -> None:
    rows = aoc_rows(mirror_file(mirror_dir, AOC, "aoc_xlsx"))
    in_force = [r for r in rows if julian(r[5]) <= DAY <= julian(r[6]) and DAY <= julian(r[2])
                and DAY <= julian(r[4])]
    addon = next(r[1] for r in in_force if r[0] == edit_type and (edit_type == "2" or r[3] != "CCCCC"))
    listed = sorted(r[3] for r in in_force if r[1] == addon and r[3] != "CCCCC")
    assert "A0425" not in listed
    rule = codesets.ncci_aoc.primaries(addon, DAY)
    assert rule is not None and rule.edit_type == int(edit_type) and list(rule.primaries) == listed
    findings = check_aoc(_claim(_line(1, "A0425"), _line(2, addon)), codesets)
    if edit_type == "2":
        assert _rules(findings) == [("ncci-aoc.payer-defined-primary", (2,))] and findings[0].severity == "info"
        assert rule.contractor_defined
    else:
        assert _rules(findings) == [("ncci-aoc.missing-primary", (2,))] and "MAC" in findings[0].message
        assert check_aoc(_claim(_line(1, listed[0]), _line(2, addon)), codesets) == []


@pytest.mark.parametrize(("day", "addon"), [(date(2023, 6, 30), True), (date(2023, 7, 1), False)])
def test_ncci_aoc_julian_deletion_date_is_the_last_day(codesets: Codesets, mirror_dir: Path, day: date,
                                                       addon: bool) -> None:
    rows = [r for r in aoc_rows(mirror_file(mirror_dir, AOC, "aoc_xlsx")) if r[1] == "U0005"]
    assert {r[2] for r in rows} == {"2023181"} and julian("2023181") == date(2023, 6, 30)
    assert codesets.ncci_aoc.is_addon("U0005", day) is addon


@pytest.mark.parametrize("rule_set", ["ncci-ptp", "ncci-mue", "ncci-aoc"])
def test_ncci_rules_are_a_closed_vocabulary_citing_the_policy_manual(rule_set: str) -> None:
    data = rules()
    assert {"59", "XE", "XS", "XP", "XU", "25", "57", "24", "27", "91", "LT", "RT", "E1", "FA", "T9",
            "LC", "LD", "RC", "LM", "RI"} <= data.ptp_modifiers
    assert any(rule.startswith(f"{rule_set}.") for rule in data.severities)
    text = resources.files("medcoder.edits").joinpath("data/ncci.json").read_text("utf-8")
    assert "Chapter I" in text


@pytest.mark.parametrize("ptp_release", ["2024-Q3"])
def test_ncci_through_codesets_facade_records_release_use(codesets: Codesets, ptp_release: str) -> None:
    uses = {u.kind: u for u in codesets.uses()}
    assert uses["ncci-ptp"].release == ptp_release and uses["ncci-ptp"].in_force is False
    assert uses["ncci-mue"].in_force is True and uses["ncci-aoc"].in_force is True


def test_ncci_aoc_rule_on_each_side_of_every_change_matches_the_file(codesets: Codesets, mirror_dir: Path) -> None:
    """The reader answers a date from the code's period (first days of each change); the file's own rows in force
    on the first and last day of every row, and the day either side, must give the same primaries and type."""
    by_addon: dict[str, list[tuple[Any, ...]]] = {}
    for r in aoc_rows(mirror_file(mirror_dir, AOC, "aoc_xlsx")):
        by_addon.setdefault(r[1], []).append(r)
    changing = sorted(a for a, rows in by_addon.items() if len({(r[5], r[6], r[2], r[4]) for r in rows}) > 1)
    assert len(changing) > 50
    checked = 0
    for addon in changing:
        rows = by_addon[addon]
        edges = {julian(r[5]) for r in rows} | {julian(c) for r in rows for c in (r[2], r[4], r[6]) if c}
        for day in {d + timedelta(days=k) for d in edges for k in (-1, 0, 1) if date.min < d < date.max}:
            live = [r for r in rows if julian(r[5]) <= day <= julian(r[6]) and day <= julian(r[2])
                    and day <= julian(r[4])]
            rule = codesets.ncci_aoc.rule_on(addon, day)
            if not live:
                assert rule is None, (addon, day)
                continue
            assert rule is not None, (addon, day)
            assert rule.edit_type in {int(r[0]) for r in live}, (addon, day)
            assert list(rule.primaries) == sorted(r[3] for r in live if r[3] != "CCCCC"), (addon, day)
            checked += 1
    assert checked > 500
