"""MS-DRG grouping (drgpy 0.2.1) and pricing (FY2026 Table 5 x the IPPS base rate) on real codes.

Every expected DRG names its source:
* GOLD  = drgpy's own tests, github.com/yubin-park/drgpy tests/test_gold_cases.py (commit 101b2a9d, v43.1)
* VERS  = drgpy tests/test_versions.py (commit 65e4a1a7; the v43.1 cases and the date-to-version table)
* MDC04 / MDC18 = drgpy tests/test_mdc04.py (commit d98c85b0) / tests/test_mdc18.py (commit 1b9bac38)
* README = drgpy 0.2.1's README (PyPI long description): ``get_drg(["N400"], [], gender="M")`` -> 726
* TL212 = github.com/tl212/drg tests/test_engine.py (commit bd8d809e): I21.09 -> 282, + J96.01 -> 280,
  J18.9 in 193-195, I50.21 in 291-293
* T5/6I/6J = the FY2026 Final Rule tables in the knowledge base: a DRG family's titles name its severity
  split (193 "...WITH MCC", 194 "...WITH CC", 195 "...WITHOUT CC/MCC") and Tables 6I/6J say whether a
  secondary diagnosis is an MCC or a CC; used where a case combines a source's principal with a secondary.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.errors import ClaimError
from medcoder.model.claim import Claim, Diagnosis, Patient, Payer, ProcedureCode, Provider
from medcoder.model.drg import DrgCase
from medcoder.pricing.drg import DrgGrouper, case_from_claim, grouper_version, price_case, price_stays, rate_on
from medcoder.settings import Settings

DAY = date(2026, 3, 1)  # FY2026, MS-DRG v43
APRIL = date(2026, 5, 1)  # FY2026 April update, MS-DRG v43.1


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


@pytest.fixture(scope="module")
def grouper(codesets: Codesets) -> DrgGrouper:
    return DrgGrouper(codesets)


def _case(principal: str, *secondary: str, procedures: tuple[str, ...] = (), day: date = DAY, sex: str = "F",
          **kw: object) -> DrgCase:
    return DrgCase(principal_dx=principal, secondary_dx=secondary, procedures=procedures, discharge_date=day,
                   sex=sex, **kw)  # type: ignore[arg-type]


KNOWN = [
    # (principal, secondaries, procedures, sex, expected DRG, source)
    ("J18.9", (), (), "F", "195", "TL212 J18.9 in 193-195; T5: no secondary -> 'without CC/MCC'"),
    ("J18.9", ("J96.01",), (), "F", "193", "TL212 J96.01 as the MCC of 280; 6I: J96.01 MCC -> 193 'with MCC'"),
    ("J18.9", ("E87.1",), (), "F", "194", "6J: E87.1 CC (test_msdrg) -> 194 'with CC'"),
    ("J18.9", ("I50.23",), (), "F", "193", "6I: I50.23 MCC -> 193"),
    ("B33.0", (), (), "F", "195", "MDC04 B330 -> 195"),
    ("B33.0", ("E08.00",), (), "F", "193", "MDC04 B330 + E0800 -> 193"),
    ("J93.0", (), (), "F", "201", "MDC04 J930 -> 201"),
    ("J93.0", ("E08.00",), (), "F", "199", "MDC04 J930 + E0800 -> 199"),
    ("A02.1", ("E08.00",), (), "F", "871", "MDC18 A021 + E0800 -> 871"),
    ("A02.1", (), ("5A1955Z",), "F", "870", "MDC18 A021 + 5A1955Z (ventilation >96 h) -> 870"),
    ("A41.9", (), (), "F", "872", "MDC18 septicemia family 870-872; T5: no MCC -> 872"),
    ("A41.9", ("J96.01",), (), "F", "871", "MDC18 septicemia family; 6I: J96.01 MCC -> 871"),
    ("A41.9", ("N17.9",), (), "F", "872", "6J: N17.9 is a CC, and 871/872 split on MCC only (T5) -> 872"),
    ("I50.23", (), (), "F", "293", "TL212 heart failure in 291-293; T5: none -> 293"),
    ("I50.23", ("N17.9",), (), "F", "292", "6J: N17.9 CC -> 292 'with CC'"),
    ("I50.23", ("J96.01",), (), "F", "291", "6I: J96.01 MCC -> 291 'with MCC'"),
    ("I21.09", (), (), "M", "282", "TL212 test_ami_no_cc"),
    ("I21.09", ("J96.01",), (), "M", "280", "TL212 test_ami_with_mcc"),
    ("N40.0", (), (), "M", "726", "README get_drg(['N400'], [], gender='M')"),
    ("S72.001A", ("J95.821",), ("0SRR019",), "F", "521", "GOLD hip_replacement_mcc"),
    ("M17.11", (), ("0SRC0J9",), "F", "470", "GOLD major_joint_replacement"),
    ("M17.11", ("A02.1",), ("0SRC0J9",), "F", "469", "GOLD severity families M1711 + A021"),
    ("K80.00", ("J98.11",), ("0FT44ZZ",), "F", "418", "GOLD cholecystectomy"),
    ("K40.90", ("I25.810",), ("0YU50JZ",), "F", "351", "GOLD inguinal_hernia_cc"),
    ("K40.90", (), ("0YU50JZ",), "F", "352", "GOLD severity families K4090"),
    ("K83.09", ("K83.1",), (), "F", "444", "GOLD biliary_disorder_mcc"),
    ("K83.09", ("D62",), (), "F", "445", "GOLD severity families K8309 + D62"),
    ("T83.518A", ("A41.9",), (), "F", "698", "GOLD urinary_disorder_mcc"),
    ("T83.518A", (), (), "F", "700", "GOLD severity families T83518A"),
    ("I46.9", (), ("B2151ZZ",), "F", "287", "GOLD cardiac_catheterization"),
    ("S06.5X0A", ("S06.A0XA",), ("009430Z",), "F", "025", "GOLD craniotomy_mcc"),
    ("S06.5X0A", ("D62",), ("009430Z",), "F", "026", "GOLD craniotomy severity split"),
    ("J95.821", (), ("5A1935Z",), "F", "208", "GOLD ventilation"),
    ("I26.01", (), ("02FP3Z0",), "F", "173", "VERS v43 rule changes"),
    ("I21.A1", (), ("02C03Z6",), "F", "318", "VERS v43 rule changes"),
]


@pytest.mark.parametrize(("principal", "secondary", "procedures", "sex", "expected", "source"), KNOWN,
                         ids=[f"{k[0]}-{k[4]}" for k in KNOWN])
def test_drg_known_assignments(grouper: DrgGrouper, principal: str, secondary: tuple[str, ...],
                               procedures: tuple[str, ...], sex: str, expected: str, source: str) -> None:
    assignment = grouper.group(_case(principal, *secondary, procedures=procedures, day=APRIL, sex=sex))
    assert assignment.drg == expected, source
    assert assignment.disagreements == (), "drgpy's CC/MCC tables and Tables 6I/6J/6K differ"
    assert assignment.weight is not None and assignment.weight > 0
    assert assignment.grouper == "drgpy 0.2.1 MS-DRG v43.1"
    assert assignment.weights_release == "msdrg FY2026"


@pytest.mark.parametrize(("day", "version"), [(date(2018, 10, 1), "v36"), (date(2025, 9, 30), "v42.1"),
                                              (date(2025, 10, 1), "v43"), (date(2026, 3, 31), "v43"),
                                              (date(2026, 4, 1), "v43.1"), (date(2026, 9, 30), "v43.1")])
def test_drg_version_by_discharge_date(day: date, version: str) -> None:
    assert grouper_version(day) == version  # VERS test_effective_date_routing


@pytest.mark.parametrize("day", [date(2018, 9, 30), date(2026, 10, 1)])
def test_drg_discharge_date_outside_grouper_versions_is_e811(grouper: DrgGrouper, day: date) -> None:
    with pytest.raises(ClaimError) as e:
        grouper.group(_case("J18.9", day=day))
    assert e.value.code == "E841" and "v36..v43.1" in e.value.message


@pytest.mark.parametrize(("principal", "secondary", "family", "tier"), [
    ("J18.9", "J96.01", ("193", "194", "195"), "with MCC"),
    ("I50.23", "N17.9", ("291", "292", "293"), "with CC"),
    ("A41.9", "J96.01", ("871", "872"), "with MCC"),
])
def test_drg_explains_which_secondary_makes_the_tier(grouper: DrgGrouper, principal: str, secondary: str,
                                                     family: tuple[str, ...], tier: str) -> None:
    a = grouper.group(_case(principal, secondary, "I10"))
    code = secondary.replace(".", "")
    assert a.tier == tier and a.family == family and a.drivers == (code,)
    assert a.mdc == {"J18.9": "04", "I50.23": "05", "A41.9": "18"}[principal]
    by_code = {s.code: s for s in a.severities}
    assert by_code["I10"].level is None and by_code["I10"].listed is None
    assert f"{by_code[code].level} {code}" in a.explanation and "Table 6K" in a.explanation


@pytest.mark.parametrize(("principal", "secondary", "expected"), [
    ("J18.9", "J18.1", "195"),    # J18.1 is an MCC (6I) but 6K Part 1 excludes it with principal J18.9
    ("I50.23", "I50.33", "293"),  # I50.33 is an MCC excluded with principal I50.23
])
def test_drg_cc_exclusion_by_principal_does_not_raise_the_drg(grouper: DrgGrouper, codesets: Codesets,
                                                              principal: str, secondary: str, expected: str) -> None:
    a = grouper.group(_case(principal, secondary))
    code = secondary.replace(".", "")
    assert codesets.msdrg.severity(code) == "MCC"
    assert a.drg == expected and a.drivers == ()
    (severity,) = a.severities
    assert severity.listed == "MCC" and severity.level is None and severity.grouper_level is None
    assert "Table 6K Part 1" in severity.reason


@pytest.mark.parametrize(("status", "expected", "alive"), [("01", "282", True), ("20", "285", False)])
def test_drg_discharge_status_routes_expired_patients(grouper: DrgGrouper, status: str, expected: str,
                                                      alive: bool) -> None:
    # T5: 280-282 AMI discharged alive, 283-285 AMI expired; R57.0 counts only when alive (6K Part 2)
    a = grouper.group(_case("I21.09", discharge_status=status, sex="M"))
    assert a.drg == expected and a.discharge_status == status
    shock = grouper.group(_case("I21.09", "R57.0", discharge_status=status, sex="M"))
    assert shock.drg == ("280" if alive else "285")
    if not alive:
        assert "Table 6K Part 2" in shock.severities[0].reason


@pytest.mark.parametrize(("sex", "expected"), [("M", "726"), ("U", "E844"), (None, "E844"), ("F", "E843")])
def test_drg_sex_is_passed_and_required_when_it_matters(grouper: DrgGrouper, sex: str | None,
                                                        expected: str) -> None:
    case = _case("N40.0", sex=sex)  # type: ignore[arg-type]
    if expected.startswith("E"):
        with pytest.raises(ClaimError) as e:
            grouper.group(case)
        assert e.value.code == expected
    else:
        assert grouper.group(case).drg == expected


@pytest.mark.parametrize("sex", ["U", None])
def test_drg_unknown_sex_is_fine_when_both_group_alike(grouper: DrgGrouper, sex: str | None) -> None:
    a = grouper.group(_case("J18.9", sex=sex))  # type: ignore[arg-type]
    assert a.drg == "195" and any("sex unknown" in n for n in a.notes)


@pytest.mark.parametrize("age", [0, 67])
def test_drg_age_is_carried_with_a_note(grouper: DrgGrouper, age: int) -> None:
    a = grouper.group(_case("J18.9", age=age))
    assert a.age == age and any("drgpy 0.2.1 takes no age" in n for n in a.notes)


@pytest.mark.parametrize(("poa", "expected"), [("Y", "280"), ("N", "282")])
def test_drg_hac_not_present_on_admission_loses_its_mcc_from_april_2026(grouper: DrgGrouper, poa: str,
                                                                        expected: str) -> None:
    # VERS test_v43_appendix_c_and_hac: I21A1 + E0800 with POA N has no MCC (drgpy carries HACs in v43.1 only)
    a = grouper.group(_case("I21.A1", "E08.00", day=APRIL, poa=(("E08.00", poa),)))
    assert a.drg == expected and a.disagreements == ()
    if poa == "N":
        assert "hospital-acquired condition with POA N" in a.severities[0].reason


@pytest.mark.parametrize(("principal", "fixed", "drgpy_drg"), [("S33.4XXA", "537", "538"), ("Z48.812", "949", "950")])
def test_drg_cc_in_a_with_cc_mcc_family_is_corrected(grouper: DrgGrouper, principal: str, fixed: str,
                                                    drgpy_drg: str) -> None:
    # drgpy 0.2.1 tests only the MCC flag in these "WITH CC/MCC" families (T5 titles); E87.1 is a CC (6J)
    a = grouper.group(_case(principal, "E87.1"))
    assert a.drg == fixed and a.tier == "with CC/MCC" and a.drivers == ("E871",)
    assert any(f"drgpy chose DRG {drgpy_drg}" in d for d in a.disagreements)
    assert grouper.group(_case(principal)).drg == drgpy_drg


@pytest.mark.parametrize(("secondary", "level"), [("Z59.00", "CC"), ("K77", "CC"), ("J12.82", "MCC")])
def test_drg_no_excl_cc_mcc_that_drgpy_omits_still_counts(grouper: DrgGrouper, codesets: Codesets, secondary: str,
                                                         level: str) -> None:
    # 6J/6I + 6K Part 1 "No Excl": 41 CC/MCCs with no PDX collection, absent from drgpy 0.2.1's CC table
    code = secondary.replace(".", "")
    assert codesets.msdrg.severity(code) == level and codesets.msdrg.pdx_exclusions(code) == ()
    a = grouper.group(_case("J18.9", secondary, day=APRIL))
    assert a.drg == ("193" if level == "MCC" else "194") and a.drivers == (code,)
    assert a.severities[0].grouper_level is None and len(a.disagreements) == 2
    assert any("replaces drgpy's DRG 195" in n for n in a.notes)


@pytest.mark.parametrize(("case", "fragment"), [
    (_case("J18.X"), "J18X is not a valid ICD-10-CM code"),
    (_case("J18"), "J18 is not a valid ICD-10-CM code"),
    (_case("18.9"), "principal diagnosis '18.9' is not an ICD-10-CM code"),
    (_case("J18.9", "E11.9", "1234"), "secondary diagnosis '1234'"),
    (_case("J18.9", "E11.9", "E11.", "1234"), "secondary diagnosis 'E11.'"),  # the first bad one is named
    (_case("J18.9", procedures=("0SRC0J",)), "procedure '0SRC0J' is not an ICD-10-PCS code"),
    (_case("J18.9", procedures=("0000000",)), "0000000 is not a valid ICD-10-PCS code"),
    (_case("J18.9", discharge_status="99"), "discharge status '99'"),
    (_case("U07.1", day=date(2019, 6, 1)), "U071 is not a valid ICD-10-CM code on 2019-06-01"),
])
def test_drg_invalid_input_is_a_coded_error(grouper: DrgGrouper, case: DrgCase, fragment: str) -> None:
    with pytest.raises(ClaimError) as e:
        grouper.group(case)
    assert e.value.code == "E842" and fragment in str(e.value) and e.value.fix


@pytest.mark.parametrize(("principal", "weight"), [("J18.9", "0.6285"), ("I50.23", "0.566")])
def test_drg_payment_is_weight_times_base_rate(codesets: Codesets, principal: str, weight: str) -> None:
    rate = rate_on("ipps", DAY)
    assert rate.amount == Decimal("6752.61") and "Table 1A" in rate.source
    paid = price_case(_case(principal), codesets=codesets)
    assert paid.base_rate == rate.amount and str(paid.assignment.weight) == weight
    assert paid.payment == (Decimal(weight) * rate.amount).quantize(Decimal("0.01"))
    custom = price_case(_case(principal), codesets=codesets, base_rate=Decimal("10000"))
    assert custom.payment == Decimal(weight) * 10000 and custom.rate_source == "base rate given by the caller"


@pytest.mark.parametrize("principal", ["O09.00"])
def test_drg_998_groups_but_is_not_payable(grouper: DrgGrouper, codesets: Codesets, principal: str) -> None:
    # drgpy's v43 table: O09.00 (supervision of pregnancy) -> "998|PDX"; T5: 998 has no weight
    a = grouper.group(_case(principal))
    assert a.drg == "998" and a.weight is None and a.title == "PRINCIPAL DIAGNOSIS INVALID AS DISCHARGE DIAGNOSIS"
    with pytest.raises(ClaimError) as e:
        price_case(_case(principal), codesets=codesets)
    assert e.value.code == "E845"


@pytest.mark.parametrize("day", [date(2025, 6, 1)])
def test_drg_other_fiscal_year_says_which_weights_it_used(grouper: DrgGrouper, day: date) -> None:
    a = grouper.group(_case("J18.9", day=day))
    assert a.grouper.endswith("v42.1") and any("msdrg/FY2026" in n for n in a.notes)


@pytest.mark.parametrize("status", ["01"])
def test_drg_case_from_claim_reads_an_inpatient_claim(grouper: DrgGrouper, status: str) -> None:
    claim = Claim(
        claim_id="c1", kind="institutional", setting="inpatient",
        patient=Patient(member_id="m", last_name="Doe", first_name="Ann", birth_date=date(1950, 6, 2), sex="F"),
        payer=Payer(name="Medicare", payer_id="00000"), billing_provider=Provider(name="General Hospital"),
        diagnoses=(Diagnosis(code="J96.01", sequence=2, poa="Y"), Diagnosis(code="J18.9", sequence=1, poa="Y")),
        procedures=(ProcedureCode(code="0BH17EZ", performed_on=date(2026, 2, 25), sequence=1),),
        admission_date=date(2026, 2, 24), discharge_date=date(2026, 3, 1), discharge_status=status)
    case = case_from_claim(claim)
    assert (case.principal_dx, case.secondary_dx, case.procedures) == ("J18.9", ("J96.01",), ("0BH17EZ",))
    assert case.age == 75 and case.sex == "F" and case.poa == (("J18.9", "Y"), ("J96.01", "Y"))
    assert grouper.group(case).drg == "193"


@pytest.mark.parametrize("field", ["discharge_date"])
def test_drg_case_from_claim_needs_a_discharge_date(field: str) -> None:
    claim = Claim(claim_id="c2", kind="institutional", diagnoses=(Diagnosis(code="J18.9", sequence=1),),
                  patient=Patient(member_id=None, last_name="X", first_name="Y", birth_date=None, sex=None),
                  payer=Payer(name="Medicare", payer_id="0"), billing_provider=Provider(name="H"))
    with pytest.raises(ClaimError) as e:
        case_from_claim(claim)
    assert e.value.code == "E840" and field.replace("_", " ") in e.value.message


def test_drg_stays_priced_step_by_step_equal_each_stay_priced_alone(grouper: DrgGrouper) -> None:
    """``price_stays`` runs the code checks of every stay, then drgpy on each, then the rest: each stay's payment
    or error is the one it gets alone, whichever step stops it (E842 before drgpy, E844 from drgpy's two answers,
    E845 after it), and the stays after a failed one are still priced."""
    stays = [
        _case("J18.9", "J96.01", day=APRIL),  # KNOWN: 193
        _case("J18.X"),  # E842: not a valid code (the check before drgpy)
        _case("N40.0", sex="U"),  # type: ignore[arg-type]  # E844: 726 if male, none if female
        _case("O09.00"),  # groups to 998, which Table 5 gives no weight: E845 when priced
        _case("J18.9", sex=None, age=67),  # type: ignore[arg-type]  # both sexes group alike: a note each
        _case("S72.001A", "J95.821", procedures=("0SRR019",), day=APRIL),  # KNOWN: 521
    ]
    together = price_stays([(grouper, case) for case in stays])
    codes = []
    for case, paid in zip(stays, together, strict=True):
        if isinstance(paid, ClaimError):
            with pytest.raises(ClaimError) as alone:
                grouper.price(case)
            assert (paid.code, str(paid)) == (alone.value.code, str(alone.value))
            codes.append(paid.code)
        else:
            assert paid == grouper.price(case)
            codes.append(paid.assignment.drg)
    assert codes == ["193", "E842", "E844", "E845", "195", "521"]
    unknown_sex = together[4]
    assert not isinstance(unknown_sex, ClaimError)
    assert unknown_sex.assignment.notes == grouper.price(stays[4]).assignment.notes
    assert len(unknown_sex.assignment.notes) == 2  # the age note, then the sex note
