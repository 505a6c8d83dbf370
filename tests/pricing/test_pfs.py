"""Medicare PFS CY2026: the knowledge base built from the official files, and line/claim pricing.

Expected amounts come from outside the pricer: CMS's own PFREV26B payment file (read here with ``zipfile`` and
``csv``, not with the builder) and sums done by hand from the PPRRVU2026_Jul_nonQPP.csv RVUs, the GPCI2026.csv
GPCIs and the 33.4009 conversion factor, written out in each case. The CPT descriptors of the RVU file are never
copied into this repository: tests read them from the mirror at run time.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import zipfile
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from medcoder.codesets import pfs
from medcoder.codesets.codesets import Codesets
from medcoder.codesets.fetch import sha256_of
from medcoder.codesets.kbfile import create_kb
from medcoder.codesets.sources import find_release
from medcoder.errors import BuildError, ClaimError
from medcoder.model.claim import Claim, ClaimKind, Patient, Payer, Provider, ServiceLine
from medcoder.model.fee import LineFee
from medcoder.pricing.pfs import price_claim, price_line, rules
from medcoder.settings import Settings

RELEASE = find_release("pfs", "CY2026")
FILES = {f.key: f for f in RELEASE.files}
DAY = date(2026, 8, 3)
CF = Decimal("33.4009")


def _quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


def _line(code: str, *modifiers: str, number: int = 1, units: str = "1", day: date = DAY,
          pos: str | None = None, charge: str = "0") -> ServiceLine:
    return ServiceLine(number=number, code=code, service_date=day, modifiers=modifiers, units=Decimal(units),
                       place_of_service=pos, charge=Decimal(charge))


def _price(codesets: Codesets, code: str, *modifiers: str, locality: str | None = None,
           facility: bool = False) -> LineFee:
    return price_line(_line(code, *modifiers), codesets=codesets, locality=locality, facility=facility)


def _claim(*lines: ServiceLine, locality: str | None = "01112-05", pos: str = "11",
           kind: ClaimKind = "professional") -> Claim:
    patient = Patient(member_id="1EG4TE5MK73", last_name="Doe", first_name="Jane", birth_date=date(1950, 1, 1),
                      sex="F")
    return Claim(claim_id="C1", kind=kind, patient=patient, payer=Payer(name="Medicare", payer_id="MCR"),
                 billing_provider=Provider(name="Clinic"), diagnoses=(), lines=lines, locality=locality,
                 place_of_service=pos)


def _pfrev_records(mirror: Path) -> list[list[str]]:
    with zipfile.ZipFile(mirror / FILES["pfrev_zip"].relpath) as zf:
        text = zf.read("PFREV26B.txt").decode("ascii")
    return [r for r in csv.reader(io.StringIO(text)) if len(r) == 16]


# -- the knowledge base ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(FILES))
def test_pfs_catalog_pins_the_mirror_files(mirror_dir: Path, key: str) -> None:
    path = mirror_dir / FILES[key].relpath
    assert (sha256_of(path), path.stat().st_size) == (FILES[key].sha256, FILES[key].size)


@pytest.mark.parametrize("release", [RELEASE])
def test_pfs_build_counts_match_the_files(codesets: Codesets, mirror_dir: Path, release: object) -> None:
    with (mirror_dir / FILES["rvu_csv"].relpath).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    data = rows[[r[0] for r in rows].index("HCPCS") + 1:]
    with (mirror_dir / FILES["gpci_csv"].relpath).open(newline="", encoding="utf-8") as handle:
        gpcis = [r for r in csv.reader(handle) if r and r[0].isdigit() and len(r[0]) == 5]
    counts = codesets.meta("pfs")["counts"]
    assert counts["rvu_rows"] == len(data) == 19356
    assert counts["codes"] == len({r[0] for r in data}) == 17096
    assert counts["localities"] == counts["county_localities"] == len(gpcis) == 109
    assert counts["published_amounts"] == len(_pfrev_records(mirror_dir)) == 4033
    assert counts["places_of_service"] == 99


@pytest.mark.parametrize("sample", [400])
def test_pfs_kb_never_stores_cpt_descriptors(codesets: Codesets, mirror_dir: Path, sample: int) -> None:
    with (mirror_dir / FILES["rvu_csv"].relpath).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    descriptors = {r[2] for r in rows[[r[0] for r in rows].index("HCPCS") + 1:] if len(r[2]) >= 10}
    conn = codesets.connection("pfs")
    values: set[str] = set()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in conn.execute(f"SELECT * FROM {table}"):
            values.update(v for v in row if isinstance(v, str))
    assert not descriptors & values
    blob = " ".join(values)
    assert not [d for d in sorted(descriptors)[:sample] if d in blob]


@pytest.mark.parametrize(("code", "modifier", "status", "work", "nonfac_pe", "fac_pe", "mp"), [
    ("99213", "", "A", "1.30", "1.46", "0.33", "0.09"),
    ("71046", "26", "A", "0.21", "0.08", "0.08", "0.01"),
    ("71046", "TC", "A", "0.00", "0.68", "0.68", "0.01"),
])
def test_pfs_rvu_rows(codesets: Codesets, code: str, modifier: str, status: str, work: str, nonfac_pe: str,
                      fac_pe: str, mp: str) -> None:
    rvu = codesets.pfs.rvu(code, modifier)
    assert rvu is not None and rvu.status == status
    assert (rvu.work_rvu, rvu.nonfac_pe_rvu, rvu.fac_pe_rvu, rvu.mp_rvu) == tuple(
        Decimal(v) for v in (work, nonfac_pe, fac_pe, mp))


def test_pfs_every_rvu_field_is_its_own_column(codesets: Codesets) -> None:
    """The reader builds an ``Rvu`` from a row by position: every field of every row must equal its column read by
    name (numbers as Decimals, flags as bools, an empty endoscopic base as None)."""
    conn = codesets.pfs._conn
    conn_rows = conn.execute("SELECT * FROM rvu")
    names = [d[0] for d in conn_rows.description]
    flags = {"not_used_for_medicare", "nonfac_na", "fac_na"}
    checked = 0
    for row in conn_rows:
        by_name = dict(zip(names, row, strict=True))
        rvu = codesets.pfs.rvu(by_name["hcpcs"], by_name["modifier"])
        assert rvu is not None
        for field in dataclasses.fields(rvu):
            value, expected = getattr(rvu, field.name), by_name[field.name]
            if isinstance(value, Decimal):
                expected = Decimal(str(expected))
            elif field.name in flags:
                expected = bool(expected)
            elif field.name == "endo_base":
                expected = expected or None
            assert value == expected, (by_name["hcpcs"], by_name["modifier"], field.name)
        checked += 1
    assert checked > 19_000


@pytest.mark.parametrize(("locality", "state", "work", "floor", "pe", "mp"), [
    ("01112-05", "CA", "1.095", "1.095", "1.410", "0.425"),
    ("10112-00", "AL", "0.988", "1.000", "0.875", "0.566"),
    ("02102-01", "AK", "1.500", "1.500", "1.065", "0.551"),
])
def test_pfs_gpci_rows(codesets: Codesets, locality: str, state: str, work: str, floor: str, pe: str,
                       mp: str) -> None:
    gpci = codesets.pfs.gpci(locality)
    assert gpci is not None and gpci.id == locality and gpci.state == state
    assert (gpci.work_gpci, gpci.work_gpci_floor, gpci.pe_gpci, gpci.mp_gpci) == tuple(
        Decimal(v) for v in (work, floor, pe, mp))


@pytest.mark.parametrize(("code", "setting"), [("11", "non-facility"), ("21", "facility"), ("22", "facility"),
                                               ("10", "non-facility"), ("28", None)])
def test_pfs_place_of_service_setting(codesets: Codesets, code: str, setting: str | None) -> None:
    pos = codesets.pfs.place_of_service(code)
    assert pos is not None and pos.setting == setting


@pytest.mark.parametrize("section", ["status", "pctc", "bilateral", "assistant", "co-surgeon", "team-surgery",
                                     "multiple-procedure"])
def test_pfs_rules_cover_every_indicator_in_the_release(codesets: Codesets, section: str) -> None:
    column = {"status": "status", "pctc": "pctc", "bilateral": "bilateral", "assistant": "assistant",
              "co-surgeon": "co_surgeon", "team-surgery": "team_surgery", "multiple-procedure": "mult_proc"}[section]
    used = {v for (v,) in codesets.connection("pfs").execute(f"SELECT DISTINCT {column} FROM rvu")}
    known = set(rules()[section] if section == "status" else rules()[section]["indicators"])
    assert used <= known


# -- cross-check against CMS's published amounts -----------------------------------------------------------

@pytest.mark.parametrize("setting", ["non-facility", "facility"])
def test_pfs_amounts_match_cms_pfrev26b_to_the_cent(codesets: Codesets, mirror_dir: Path, setting: str) -> None:
    """Every (code, locality) of the April revision file: 37 codes x 109 localities, both settings.

    PFREV26B is the April release and the RVUs are July's; the 37 codes revised in April kept their RVUs in
    July, so all 4,033 records must agree (a disagreement would mean a July revision or a pricing error).
    """
    records = _pfrev_records(mirror_dir)
    column = 5 if setting == "non-facility" else 6
    matched, checked = 0, 0
    for year, mac, loc, code, mod, *amounts in records:
        assert year == "2026"
        fee = _price(codesets, code, *([mod.strip()] if mod.strip() else []), locality=f"{mac}-{loc}",
                     facility=setting == "facility")
        checked += 1
        matched += fee.amount == Decimal(amounts[column - 5])
    print(f"\nPFREV26B {setting}: {matched}/{checked} code x locality amounts match to the cent")
    assert checked == 4033 and len({(r[1], r[2]) for r in records}) == 109 and matched == checked


@pytest.mark.parametrize(("floor", "rounding", "round_terms", "expected_matches"), [
    (True, ROUND_HALF_UP, False, 4033),
    (True, ROUND_HALF_EVEN, False, 4033),  # no half-cent ties in the file: it cannot tell the two modes apart
    (False, ROUND_HALF_UP, False, 3328),   # without the 1.0 work floor 705 amounts differ
    (True, ROUND_HALF_UP, True, 165),      # rounding each RVU x GPCI term first is not what CMS does
])
def test_pfs_work_floor_and_rounding_are_what_cms_applied(codesets: Codesets, mirror_dir: Path, floor: bool,
                                                          rounding: str, round_terms: bool,
                                                          expected_matches: int) -> None:
    """The evidence behind pfs_rules.json: the floored work GPCI, unrounded terms, one rounding at the end."""
    cent, matches = Decimal("0.01"), 0
    for _, mac, loc, code, _, nonfac, *_ in _pfrev_records(mirror_dir):
        rvu, gpci = codesets.pfs.rvu(code), codesets.pfs.gpci(f"{mac}-{loc}")
        assert rvu is not None and gpci is not None
        pe = rvu.fac_pe_rvu if rvu.nonfac_na else rvu.nonfac_pe_rvu
        terms = [rvu.work_rvu * (gpci.work_gpci_floor if floor else gpci.work_gpci), pe * gpci.pe_gpci,
                 rvu.mp_rvu * gpci.mp_gpci]
        if round_terms:
            terms = [t.quantize(cent, rounding=rounding) for t in terms]
        matches += (sum(terms) * CF).quantize(cent, rounding=rounding) == Decimal(nonfac)
    assert matches == expected_matches


# -- amounts by hand ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "facility", "locality", "expected"), [
    # 99213 national non-facility: (1.30 + 1.46 + 0.09) x 33.4009 = 2.85 x 33.4009 = 95.1926 -> 95.19
    ("99213", False, None, "95.19"),
    # 99213 national facility: (1.30 + 0.33 + 0.09) x 33.4009 = 1.72 x 33.4009 = 57.4495 -> 57.45
    ("99213", True, None, "57.45"),
    # 99214 national non-facility: (1.92 + 2.00 + 0.14) x 33.4009 = 4.06 x 33.4009 = 135.6077 -> 135.61
    ("99214", False, None, "135.61"),
    # 99214 national facility: (1.92 + 0.47 + 0.14) x 33.4009 = 2.53 x 33.4009 = 84.5043 -> 84.50
    ("99214", True, None, "84.50"),
    # 99213 San Francisco 01112-05 office: (1.30 x 1.095 + 1.46 x 1.410 + 0.09 x 0.425) x 33.4009
    #   = (1.4235 + 2.0586 + 0.03825) x 33.4009 = 3.52035 x 33.4009 = 117.5829 -> 117.58
    ("99213", False, "01112-05", "117.58"),
    # 99213 Alabama 10112-00 office, work GPCI floored to 1.000: (1.30 + 1.46 x 0.875 + 0.09 x 0.566) x CF
    #   = (1.30 + 1.2775 + 0.05094) x 33.4009 = 2.62844 x 33.4009 = 87.7923 -> 87.79
    ("99213", False, "10112-00", "87.79"),
])
def test_pfs_amount_by_hand(codesets: Codesets, code: str, facility: bool, locality: str | None,
                            expected: str) -> None:
    fee = _price(codesets, code, locality=locality, facility=facility)
    assert fee.amount == fee.allowed == fee.fee_schedule_amount == Decimal(expected)
    assert fee.breakdown is not None and fee.breakdown.conversion_factor == CF
    assert fee.breakdown.setting == ("facility" if facility else "non-facility")
    assert fee.releases == ("pfs/CY2026", "pfs-rules/2026.1") and not fee.problems


# -- payment modifiers -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "modifiers", "facility", "amount", "rules_applied"), [
    ("71046", ("26",), False, "10.02", ()),               # 0.30 x 33.4009 = 10.0203
    ("71046", ("TC",), False, "23.05", ()),               # 0.69 x 33.4009 = 23.0466
    ("71046", (), False, "33.07", ()),                    # 0.99 x 33.4009 = 33.0669
    ("27447", ("50",), True, "1739.03", ("bilateral.1",)),  # 34.71 x CF = 1159.35; x 1.5 = 1739.025
    ("70030", ("50",), False, "65.46", ("bilateral.3",)),   # 0.98 x CF = 32.73; each side 100% = 65.46
    ("11010", ("50",), True, "249.50", ("bilateral.2",)),   # 7.47 x CF = 249.5047: already bilateral
    ("27447", ("80",), True, "185.50", ("assistant.2",)),   # 1159.35 x 0.16 = 185.496
    ("27447", ("AS",), True, "157.67", ("assistant.2", "assistant-nonphysician.AS")),  # x 0.16 x 0.85
    ("20610", ("80",), True, "0.00", ("assistant.1",)),     # statutory restriction: not paid
    ("27447", ("62",), True, "724.59", ("co-surgeon.1",)),  # 1159.35 x 0.625 = 724.59375
    ("11010", ("62",), True, "0.00", ("co-surgeon.0",)),    # co-surgeons not permitted
])
def test_pfs_payment_modifiers(codesets: Codesets, code: str, modifiers: tuple[str, ...], facility: bool,
                               amount: str, rules_applied: tuple[str, ...]) -> None:
    fee = _price(codesets, code, *modifiers, facility=facility)
    assert fee.amount == Decimal(amount)
    assert tuple(a.rule for a in fee.adjustments) == rules_applied
    assert all(a.cite for a in fee.adjustments)


@pytest.mark.parametrize(("code", "modifier", "indicator"), [("99213", "26", "0"), ("99213", "TC", "0"),
                                                             ("93000", "26", "4")])
def test_pfs_component_modifier_not_allowed_by_pctc(codesets: Codesets, code: str, modifier: str,
                                                    indicator: str) -> None:
    fee = _price(codesets, code, modifier)
    assert fee.amount == 0 and [p.code for p in fee.problems] == ["E816"]
    assert f"PC/TC indicator {indicator}" in fee.problems[0].message


@pytest.mark.parametrize("day", [DAY])
def test_pfs_multiple_procedures_ranked_by_fee(codesets: Codesets, day: date) -> None:
    # 27447 facility 1159.35, 27130 facility 34.79 x CF = 1162.02, 20610 x2 facility 1.19 x CF = 39.75
    # Modifier 51 marks the secondary procedure; the ranking (not the modifier) decides who gets 50 percent.
    lines = [_line("27447", "51", number=1), _line("27130", number=2), _line("20610", "51", number=3, units="2")]
    fees = [price_line(line, codesets=codesets, locality=None, facility=True, claim_lines=lines) for line in lines]
    assert [f.amount for f in fees] == [Decimal("579.68"), Decimal("1162.02"), Decimal("39.76")]
    assert [a.factor for a in fees[2].adjustments] == [Decimal("0.5"), Decimal("0.5")]  # each unit is a procedure
    assert fees[0].adjustments[0].rule == "multiple-procedure.2" and "ranked 2 of 4" in fees[0].adjustments[0].reason


@pytest.mark.parametrize("day", [DAY])
def test_pfs_multiple_endoscopy_family(codesets: Codesets, day: date) -> None:
    # Family of base 43235 (facility: 3.31 x CF = 110.56): 43246 (5.34 x CF = 178.36) in full, 43239
    # (3.70 x CF = 123.58) less the base = 13.02, the base itself 0.
    lines = [_line("43239", number=1), _line("43246", number=2), _line("43235", number=3)]
    fees = [price_line(line, codesets=codesets, locality=None, facility=True, claim_lines=lines) for line in lines]
    assert [f.amount for f in fees] == [Decimal("13.02"), Decimal("178.36"), Decimal("0.00")]


@pytest.mark.parametrize(("code", "status", "amount"), [
    ("G0008", "X", "0.00"), ("0001F", "I", "0.00"), ("22526", "N", "0.00"), ("20930", "B", "0.00"),
    ("0054T", "C", None), ("00100", "J", "0.00"),
])
def test_pfs_status_codes(codesets: Codesets, code: str, status: str, amount: str | None) -> None:
    fee = _price(codesets, code)
    assert fee.status == status
    # compared as printed: a line paid nothing shows 0.00, in cents like every amount (not 0)
    assert (None if fee.amount is None else str(fee.amount)) == amount
    assert any(n.startswith(f"status {status}:") for n in fee.notes)


@pytest.mark.parametrize(("others", "amount"), [((), "26.05"), (("99213",), "0.00")])
def test_pfs_status_t_paid_only_alone(codesets: Codesets, others: tuple[str, ...], amount: str) -> None:
    lines = [_line("96523", number=1), *(_line(c, number=i + 2) for i, c in enumerate(others))]
    fee = price_line(lines[0], codesets=codesets, locality=None, facility=False, claim_lines=lines)
    assert fee.status == "T" and str(fee.amount) == amount  # as printed: the bundled line shows 0.00


@pytest.mark.parametrize(("units", "charge", "amount", "allowed"), [("3", "0", "285.57", "285.57"),
                                                                   ("1", "80.00", "95.19", "80.00")])
def test_pfs_units_multiply_and_charge_caps(codesets: Codesets, units: str, charge: str, amount: str,
                                           allowed: str) -> None:
    fee = price_line(_line("99213", units=units, charge=charge), codesets=codesets, locality=None, facility=False)
    assert (str(fee.amount), str(fee.allowed)) == (amount, allowed)  # as printed, in cents


# -- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locality", "error"), [("99999-99", "E811"), ("SF", "E812"), ("0111205", "E812")])
def test_pfs_price_line_refuses_bad_locality(codesets: Codesets, locality: str, error: str) -> None:
    with pytest.raises(ClaimError) as info:
        _price(codesets, "99213", locality=locality)
    assert info.value.code == error


@pytest.mark.parametrize(("claim_kwargs", "error"), [({"locality": "99999-99"}, "E811"),
                                                     ({"kind": "institutional"}, "E815")])
def test_pfs_price_claim_reports_claim_problems(codesets: Codesets, claim_kwargs: dict[str, str],
                                                error: str) -> None:
    priced = price_claim(_claim(_line("99213"), **claim_kwargs), codesets)  # type: ignore[arg-type]
    assert [p.code for p in priced.problems] == [error] and not priced.complete
    assert priced.total == 0 and priced.lines[0].amount is None


@pytest.mark.parametrize("day", [DAY])
def test_pfs_price_claim_prices_good_lines_and_reports_bad_ones(codesets: Codesets, day: date) -> None:
    claim = _claim(_line("99214", number=1), _line("71046", "26", number=2, pos="21"), _line("ZZZZZ", number=3),
                   _line("99213", number=4, pos="28"), _line("99213", number=5, day=date(2025, 12, 31)),
                   _line("99213", number=6, units="0"))
    priced = price_claim(claim, codesets)
    by_line = {f.line: f for f in priced.lines}
    # 99214 in 01112-05 office: (1.92 x 1.095 + 2.00 x 1.410 + 0.14 x 0.425) x CF = 4.9819 x CF = 166.40
    assert by_line[1].amount == Decimal("166.40") and by_line[1].setting == "non-facility"
    assert by_line[2].setting == "facility" and by_line[2].amount is not None
    assert {n: [p.code for p in by_line[n].problems] for n in (3, 4, 5, 6)} == {
        3: ["E810"], 4: ["E813"], 5: ["E814"], 6: ["E817"]}
    assert priced.total == by_line[1].amount + by_line[2].amount and not priced.complete
    assert json.loads(json.dumps(priced.to_dict()))["lines"][0]["breakdown"]["conversion_factor"] == "33.4009"


@pytest.mark.parametrize(("day", "in_force"), [(date(2026, 3, 1), True), (date(2025, 6, 1), False)])
def test_pfs_codesets_picks_the_calendar_year(kb_settings: Settings, day: date, in_force: bool) -> None:
    cs = Codesets.for_date(day, settings=kb_settings)
    assert cs.choices["pfs"].release.id == "CY2026" and cs.choices["pfs"].in_force is in_force
    fee = price_line(_line("99213", day=day), codesets=cs, locality=None, facility=False)
    assert (fee.amount is not None) is in_force
    if in_force:
        assert any("July Release" in n for n in fee.notes)  # priced with the July RVUs before July
    cs.close()


# -- tampered sources --------------------------------------------------------------------------------------

def _files(tmp_path: Path, mirror: Path, key: str, old: str, new: str) -> tuple[dict[str, Path], int]:
    """The release's files with ``old`` replaced by ``new`` once in one of them; and the edited line."""
    files, line = {}, 0
    for k, source in FILES.items():
        files[k] = dest = tmp_path / Path(source.relpath).name
        if k != key:
            dest.symlink_to(mirror / source.relpath)
        elif k == "pfrev_zip":
            text = _zip_text(mirror / source.relpath)
            line = text[:text.index(old)].count("\n") + 1
            with zipfile.ZipFile(dest, "w") as zf:
                zf.writestr("PFREV26B.txt", text.replace(old, new, 1))
        else:
            text = (mirror / source.relpath).read_bytes().decode("utf-8")
            line = text[:text.index(old)].count("\n") + 1
            dest.write_bytes(text.replace(old, new, 1).encode("utf-8"))
    return files, line


def _zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("PFREV26B.txt").decode("ascii")


@pytest.mark.parametrize(("key", "old", "new", "error"), [
    ("rvu_csv", "\n99213,,", "\n99213,,,", "E202"),                # one cell too many
    ("rvu_csv", ",A,,1.30,1.46,,0.33,", ",A,,1.3x,1.46,,0.33,", "E202"),
    ("rvu_csv", ",A,,1.30,1.46,,0.33,", ",A,,1.90,1.46,,0.33,", "E203"),  # RVUs no longer add up to the total
    ("rvu_csv", ",A,,1.30,1.46,,0.33,", ",Q,,1.30,1.46,,0.33,", "E202"),  # unknown status code
    ("rvu_csv", "HCPCS,MOD,DESCRIPTION", "HCPCS,MODIFIER,DESCRIPTION", "E201"),
    ("gpci_csv", "0.988,1.000,0.875,0.566", "0.9x8,1.000,0.875,0.566", "E202"),
    ("locco_csv", "10112,00,ALABAMA", "10112,07,ALABAMA", "E205"),
    ("pos_csv", "11,1,Office", "11,4,Office", "E202"),
    ("pfrev_zip", '"01112","05","21610","  ","0001337.33"', '"01112","05","21610","  ","00013x7.33"', "E202"),
])
def test_pfs_build_names_file_and_line_of_malformed_input(tmp_path: Path, mirror_dir: Path, key: str, old: str,
                                                          new: str, error: str) -> None:
    files, line = _files(tmp_path, mirror_dir, key, old, new)
    line += old.startswith("\n")
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        pfs.build(conn, files, progress=_quiet)
    conn.close()
    assert info.value.code == error
    where = f"{files[key]}!PFREV26B.txt:{line}" if key == "pfrev_zip" else f"{files[key]}:{line}"
    assert info.value.where == where


@pytest.mark.parametrize("key", ["cf_json"])
def test_pfs_build_refuses_a_conversion_factor_the_rvu_file_contradicts(tmp_path: Path, mirror_dir: Path,
                                                                       key: str) -> None:
    files, _ = _files(tmp_path, mirror_dir, key, "33.4009,", "33.5675,")
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        pfs.build(conn, files, progress=_quiet)
    conn.close()
    assert info.value.code == "E203" and "conversion factor" in info.value.message


def test_pfs_shared_breakdown_shows_a_fresh_dict_each_time(codesets: Codesets) -> None:
    """Two lines of a code share one breakdown, whose dict is built once: each result gets its own copy, and the
    kept dict changes neither the breakdown's equality, hash nor repr."""
    priced = price_claim(_claim(_line("99213", number=1), _line("99213", number=2)), codesets)
    first, second = priced.lines
    assert first.breakdown is not None and first.breakdown is second.breakdown
    fresh = dataclasses.replace(first.breakdown)
    shown = priced.to_dict()["lines"]
    assert shown[0]["breakdown"] == shown[1]["breakdown"] == fresh.to_dict()
    assert shown[0]["breakdown"] is not shown[1]["breakdown"]
    shown[0]["breakdown"]["work"] = "changed"
    assert first.breakdown.to_dict()["work"] != "changed" and priced.to_dict()["lines"][1] == shown[1]
    assert fresh == first.breakdown and hash(fresh) == hash(first.breakdown) and repr(fresh) == repr(first.breakdown)
