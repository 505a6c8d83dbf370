"""837P / 837I writers: pyx12 validates every generated file against the 005010 maps, a broken file is caught,
a known-good published sample passes the same harness, and our own output parses back to the claim."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medcoder.errors import ClaimError
from medcoder.model.claim import Address, Claim, Diagnosis, Payer, ProcedureCode, Provider
from medcoder.output.x12 import Interchange, read_segments, write_837, write_837i, write_837p
from medcoder.output.x12_common import amount
from tests.output.claims import (
    CLINIC,
    HOSPITAL,
    INTERCHANGE,
    emergency_visit,
    hospital_visit,
    inpatient_stay,
    many_diagnoses,
    office_visit,
    pyx12_errors,
    with_diagnoses,
)


def _second_hospital_claim() -> Claim:
    other = replace(HOSPITAL, name="Bayview Medical Center", npi="1555555550", tax_id="520000001")
    return replace(emergency_visit(), claim_id="ICLM-0003", billing_provider=other)


BATCHES: dict[str, Callable[[], list[Claim]]] = {
    "837P office visit, modifiers, 4 lines": lambda: [office_visit()],
    "837P 12 diagnoses, telehealth line POS": lambda: [many_diagnoses(12)],
    "837P hospitalist at a service facility": lambda: [hospital_visit()],
    "837P two claims, one billing provider": lambda: [office_visit(), hospital_visit()],
    "837I inpatient, POA, 18 secondary dx, PCS": lambda: [inpatient_stay()],
    "837I outpatient ED": lambda: [emergency_visit()],
    "837I two billing providers": lambda: [inpatient_stay(), _second_hospital_claim()],
}


def _segments(x12: str, seg_id: str) -> list[list[str]]:
    return [s for s in read_segments(x12) if s[0] == seg_id]


@pytest.mark.parametrize("name", list(BATCHES))
def test_x12_generated_claims_validate_with_pyx12(name: str) -> None:
    x12 = write_837(BATCHES[name](), interchange=INTERCHANGE)
    assert pyx12_errors(x12) == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("*UN*", "*XX*", "SV103"),                            # unit code outside the code list
    ("DTP*472*D8*20260210", "DTP*472*D8*20261310", "invalid date"),
    ("HI*ABK:E1165*ABF:I10", "HI*ABK:E1165*ABX:I10", "HI02-01"),
    ("~LX*2~", "~", "SE count"),                          # a dropped segment breaks the count
    ("*0930*1001*X*", "*930*1001*X*", "GS05"),            # element too short in the envelope
])
def test_x12_pyx12_reports_a_broken_file(old: str, new: str, expected: str) -> None:
    """The harness is live: each deliberate defect in an otherwise valid 837P is reported."""
    x12 = write_837p(office_visit(), interchange=INTERCHANGE)
    assert old in x12
    errors = pyx12_errors(x12.replace(old, new, 1))
    assert errors and any(expected in e for e in errors), errors


def _hccinfhir_sample(name: str) -> Path:
    spec = importlib.util.find_spec("hccinfhir")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "sample_files" / name


def _renumber_hl(x12: str) -> str:
    """HL ids restart at 1 in each transaction set (TR3 2000A); the de-identified sample kept its source ids."""
    out: list[str] = []
    mapping: dict[str, str] = {}
    count = 0
    for segment in x12.split("~"):
        elements = segment.split("*")
        if elements[0] == "ST":
            mapping, count = {}, 0
        if elements[0] == "HL":
            count += 1
            mapping[elements[1]] = str(count)
            elements[1] = str(count)
            elements[2] = mapping.get(elements[2], "")
        out.append("*".join(elements))
    return "~".join(out)


@pytest.mark.parametrize("sample", ["sample_837_0.txt"])
def test_x12_pyx12_harness_accepts_a_published_sample(sample: str) -> None:
    """hccinfhir's 837P sample (5 transactions) passes once its HL ids restart per transaction set; as shipped
    pyx12 reports exactly those HL ids and nothing else. (Its 837I samples declare ISA12 00401 with 005010
    content, so they cannot serve as known-good files.)"""
    x12 = _hccinfhir_sample(sample).read_text()
    as_shipped = pyx12_errors(x12)
    assert as_shipped and all("HL" in e for e in as_shipped), as_shipped
    assert pyx12_errors(_renumber_hl(x12)) == []


@pytest.mark.parametrize("name", list(BATCHES))
def test_x12_round_trip_counts_and_control_numbers(name: str) -> None:
    claims = BATCHES[name]()
    segments = read_segments(write_837(claims, interchange=INTERCHANGE))
    ids = [s[0] for s in segments]
    assert ids[:3] == ["ISA", "GS", "ST"] and ids[-3:] == ["SE", "GE", "IEA"]
    isa, gs, st, se, ge, iea = (segments[ids.index(x)] for x in ("ISA", "GS", "ST", "SE", "GE", "IEA"))
    assert int(se[1]) == len(segments) - 4  # ST..SE inclusive
    assert se[2] == st[2] and ge[2] == gs[6] and iea[2] == isa[13] and len(isa[13]) == 9
    assert ge[1] == "1" and iea[1] == "1"
    assert [s[1] for s in segments if s[0] == "CLM"] == [c.claim_id for c in claims]
    hl = [s for s in segments if s[0] == "HL"]
    assert [int(s[1]) for s in hl] == list(range(1, len(hl) + 1))


@pytest.mark.parametrize("claim", [office_visit(), many_diagnoses(12), hospital_visit()], ids=lambda c: c.claim_id)
def test_x12_837p_round_trip_codes_totals_pointers(claim: Claim) -> None:
    x12 = write_837p(claim, interchange=INTERCHANGE)
    (hi,) = _segments(x12, "HI")
    assert [c.split(":") for c in hi[1:]] == [
        ["ABK" if d.sequence == 1 else "ABF", d.code.replace(".", "")] for d in claim.diagnoses]
    (clm,) = _segments(x12, "CLM")
    lines = _segments(x12, "SV1")
    assert Decimal(clm[2]) == claim.total_charge == sum(Decimal(s[2]) for s in lines)
    assert clm[5] == f"{claim.place_of_service}:B:1"
    for line, sv1 in zip(claim.lines, lines, strict=True):
        assert sv1[1].split(":") == ["HC", line.code, *line.modifiers]
        assert Decimal(sv1[4]) == line.units
        assert tuple(int(p) for p in sv1[7].split(":")) == line.diagnosis_pointers
        expected_pos = line.place_of_service if line.place_of_service != claim.place_of_service else None
        assert (sv1[5] if len(sv1) > 5 and sv1[5] else None) == expected_pos
    assert [s[3] for s in _segments(x12, "DTP") if s[1] == "472"] == [
        line.service_date.strftime("%Y%m%d") for line in claim.lines]


def test_x12_837i_round_trip_hi_split_poa_and_procedures() -> None:
    claim = inpatient_stay()
    x12 = write_837i(claim, interchange=INTERCHANGE)
    his = [[c.split(":") for c in s[1:]] for s in _segments(x12, "HI")]
    assert [h[0][0] for h in his] == ["ABK", "ABJ", "ABN", "ABF", "ABF", "BBR", "BBQ"]
    assert his[0] == [["ABK", "S72001A", "", "", "", "", "", "", "Y"]]
    assert [c[1] for c in his[2]] == ["W01XXXA", "Y92009"]
    others = [c for h in his[3:5] for c in h]
    assert len(his[3]) == 12 and len(his[4]) == 4
    assert [c[1] for c in others] == [d.code.replace(".", "") for d in claim.diagnoses[3:]]
    # POA "1" (exempt) is sent blank in 005010; the others ride in component 9.
    assert [c[8] if len(c) > 8 else "" for c in others] == [
        "" if d.poa == "1" else d.poa for d in claim.diagnoses[3:]]
    assert his[5] == [["BBR", "0QS704Z", "D8", "20260106"]]
    assert his[6] == [["BBQ", "30233N1", "D8", "20260107"], ["BBQ", "BQ00ZZZ", "D8", "20260105"]]
    (clm,) = _segments(x12, "CLM")
    assert clm[5] == "11:A:1" and Decimal(clm[2]) == claim.total_charge
    assert Decimal(clm[2]) == sum(Decimal(s[3]) for s in _segments(x12, "SV2"))
    dtp = {s[1]: s[2:] for s in _segments(x12, "DTP") if s[1] in ("434", "435")}
    assert dtp == {"434": ["RD8", "20260105-20260109"], "435": ["D8", "20260105"]}
    assert _segments(x12, "CL1") == [["CL1", "1", "7", "03"]]
    assert [s[1] for s in _segments(x12, "NM1")][-2:] == ["71", "82"]  # attending, then a distinct rendering


@pytest.mark.parametrize("count", [13, 20])
def test_x12_837i_many_diagnoses_split_in_12s_and_validate(count: int) -> None:
    codes = ["S72.001A", "D62", "I10", "E11.9", "N18.30", "E78.5", "I25.10", "Z79.84", "Z96.651", "F32.A",
             "K59.00", "E87.1", "G47.33", "M81.0", "R26.89", "Z91.81", "E55.9", "J44.9", "I48.91", "E66.01"][:count]
    claim = replace(inpatient_stay(), diagnoses=tuple(Diagnosis(code=c, sequence=i, poa="Y")
                                                      for i, c in enumerate(codes, 1)))
    x12 = write_837i(claim, interchange=INTERCHANGE)
    abf = [len(s) - 1 for s in _segments(x12, "HI") if s[1].startswith("ABF")]
    assert abf == [12, count - 13] if count > 13 else abf == [12]
    assert pyx12_errors(x12) == []


@pytest.mark.parametrize("count", [13])
def test_x12_837p_refuses_more_than_12_diagnoses(count: int) -> None:
    with pytest.raises(ClaimError) as e:
        write_837p(many_diagnoses(count), interchange=INTERCHANGE)
    assert e.value.code == "E823" and "12" in e.value.message


@pytest.mark.parametrize(("change", "missing"), [
    (lambda c: replace(c, billing_provider=replace(CLINIC, npi=None)), ["billing_provider.npi"]),
    (lambda c: replace(c, patient=replace(c.patient, birth_date=None, sex=None)),
     ["patient.birth_date", "patient.sex"]),
    (lambda c: replace(c, diagnoses=(), lines=tuple(replace(x, diagnosis_pointers=()) for x in c.lines)),
     ["diagnoses", "lines[0].diagnosis_pointers"]),
    (lambda c: replace(c, patient=replace(c.patient, member_id=None, address=None)),
     ["patient.member_id", "patient.address"]),
    (lambda c: replace(c, billing_provider=replace(CLINIC, tax_id=None)), ["billing_provider.tax_id"]),
])
def test_x12_837p_refuses_missing_data_naming_every_field(change: Callable[[Claim], Claim],
                                                           missing: list[str]) -> None:
    with pytest.raises(ClaimError) as e:
        write_837p(change(office_visit()), interchange=INTERCHANGE)
    assert e.value.code == "E820"
    for field in missing:
        assert field in e.value.message


@pytest.mark.parametrize(("change", "missing"), [
    (lambda c: replace(c, admission_date=None, discharge_status=None), ["admission_date", "discharge_status"]),
    (lambda c: replace(c, attending_provider=None, rendering_provider=None), ["attending_provider"]),
    (lambda c: replace(c, lines=(replace(c.lines[0], revenue_code=None),)), ["lines[0].revenue_code"]),
])
def test_x12_837i_refuses_missing_data(change: Callable[[Claim], Claim], missing: list[str]) -> None:
    with pytest.raises(ClaimError) as e:
        write_837i(change(inpatient_stay()), interchange=INTERCHANGE)
    assert e.value.code == "E820"
    for field in missing:
        assert field in e.value.message


@pytest.mark.parametrize("char", ["*", "~", ":", "^", "\n"])
def test_x12_rejects_delimiters_inside_data_naming_the_field(char: str) -> None:
    claim = office_visit()
    claim = replace(claim, patient=replace(claim.patient, last_name=f"O{char}Brien"))
    with pytest.raises(ClaimError) as e:
        write_837p(claim, interchange=INTERCHANGE)
    assert e.value.code == "E821" and e.value.where == "patient.last_name"


@pytest.mark.parametrize(("change", "where"), [
    (lambda c: replace(c, billing_provider=replace(CLINIC, npi="1234567890")), "billing_provider.npi"),
    (lambda c: replace(c, billing_provider=replace(CLINIC, address=replace(CLINIC.address, postal_code="21202"))),
     "billing_provider.address.postal_code"),
    (lambda c: replace(c, lines=(replace(c.lines[0], charge=Decimal("10.005")),)), "lines[0].charge"),
    (lambda c: replace(c, lines=(replace(c.lines[0], diagnosis_pointers=(5,)),)), "lines[0].diagnosis_pointers"),
    (lambda c: replace(c, lines=(replace(c.lines[0], code="9921"),)), "lines[0].code"),
    (lambda c: with_diagnoses(c, ["E11.65", "I10", "E11.65", "Z79.4"]), "claim PCLM-0001 diagnoses"),
    (lambda c: replace(c, diagnoses=tuple(reversed(c.diagnoses))), "claim PCLM-0001 diagnoses"),
    (lambda c: replace(c, diagnoses=(Diagnosis(code="E1", sequence=1), *c.diagnoses[1:])),
     "diagnoses[1].code"),
])
def test_x12_rejects_malformed_values(change: Callable[[Claim], Claim], where: str) -> None:
    with pytest.raises(ClaimError) as e:
        write_837p(change(office_visit()), interchange=INTERCHANGE)
    assert e.value.code == "E822" and e.value.where == where


@pytest.mark.parametrize(("claims", "code"), [
    (lambda: [office_visit(), inpatient_stay()], "E824"),
    (lambda: [replace(office_visit(), payer=Payer(name="Self", payer_id="SELF", kind="self-pay"))], "E824"),
    (lambda: [replace(emergency_visit(), procedures=(ProcedureCode(code="0QS704Z", performed_on=datetime(
        2026, 2, 20).date(), sequence=1),))], "E824"),
    (lambda: [], "E824"),
])
def test_x12_refuses_claims_the_837_cannot_carry(claims: Callable[[], list[Claim]], code: str) -> None:
    with pytest.raises(ClaimError) as e:
        write_837(claims(), interchange=INTERCHANGE)
    assert e.value.code == code


@pytest.mark.parametrize("writer", [write_837p, write_837i])
def test_x12_writers_refuse_the_other_kind(writer: Callable[..., str]) -> None:
    claim = inpatient_stay() if writer is write_837p else office_visit()
    with pytest.raises(ClaimError) as e:
        writer(claim, interchange=INTERCHANGE)
    assert e.value.code == "E824"


@pytest.mark.parametrize(("value", "text"), [
    ("100.00", "100"), ("100.50", "100.5"), ("0.10", "0.1"), ("1E+2", "100"), ("0", "0"), ("0.00", "0"),
    ("29655.55", "29655.55"), ("1234567.8", "1234567.8"),
])
def test_x12_amount_is_r_type_without_trailing_zeros(value: str, text: str) -> None:
    assert amount(Decimal(value), "charge") == text


@pytest.mark.parametrize("value", ["-1", "0.001", "NaN"])
def test_x12_amount_refuses_negative_or_fractional_cents(value: str) -> None:
    with pytest.raises(ClaimError):
        amount(Decimal(value), "charge")


@pytest.mark.parametrize("newline", [False, True])
def test_x12_control_numbers_are_deterministic_without_caller_numbers(newline: bool) -> None:
    envelope = replace(INTERCHANGE, interchange_control_number=None, group_control_number=None,
                       transaction_control_number=None)
    first = write_837p(office_visit(), interchange=envelope, newline=newline)
    assert first == write_837p(office_visit(), interchange=envelope, newline=newline)
    other = write_837p(replace(office_visit(), claim_id="PCLM-9999"), interchange=envelope, newline=newline)
    isa13 = read_segments(first)[0][13]
    assert isa13 != read_segments(other)[0][13] and 1 <= int(isa13) <= 999_999_999
    assert pyx12_errors(first) == []


@pytest.mark.parametrize("sender_id", ["THIS-ID-IS-TOO-LONG", "A*B"])
def test_x12_envelope_refuses_bad_trading_partner_ids(sender_id: str) -> None:
    with pytest.raises(ClaimError):
        write_837p(office_visit(), interchange=replace(INTERCHANGE, sender_id=sender_id))


@pytest.mark.parametrize("kind", ["837P"])
def test_x12_read_segments_refuses_non_x12(kind: str) -> None:
    with pytest.raises(ClaimError):
        read_segments(f"not an {kind}")


_NAME = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="*:~^"),
                min_size=1, max_size=35).filter(lambda s: s.strip() == s and s != "")
_CENTS = st.integers(min_value=0, max_value=10_000_000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=60, deadline=None)
@given(last=_NAME, first=_NAME, charges=st.lists(_CENTS, min_size=1, max_size=4),
       units=st.integers(min_value=1, max_value=999))
def test_x12_round_trip_names_charges_units(last: str, first: str, charges: list[Decimal], units: int) -> None:
    base = office_visit()
    lines = tuple(replace(base.lines[i], charge=c, units=Decimal(units)) for i, c in enumerate(charges))
    claim = replace(base, patient=replace(base.patient, last_name=last, first_name=first), lines=lines)
    x12 = write_837p(claim, interchange=INTERCHANGE)
    subscriber = next(s for s in _segments(x12, "NM1") if s[1] == "IL")
    assert subscriber[3:5] == [last, first]
    (clm,) = _segments(x12, "CLM")
    assert Decimal(clm[2]) == sum(charges)
    assert [(Decimal(s[2]), Decimal(s[4])) for s in _segments(x12, "SV1")] == [(c, Decimal(units)) for c in charges]


@pytest.mark.parametrize("address", [Address(line1="1 Main St", city="Towson", state="MD", postal_code="21204-5678")])
def test_x12_patient_zip_plus_four_loses_its_dash(address: Address) -> None:
    claim = office_visit()
    x12 = write_837p(replace(claim, patient=replace(claim.patient, address=address)), interchange=INTERCHANGE)
    assert ["N4", "Towson", "MD", "212045678"] in read_segments(x12)


@pytest.mark.parametrize("interchange", [INTERCHANGE])
def test_x12_envelope_has_fixed_width_isa(interchange: Interchange) -> None:
    x12 = write_837p(office_visit(), interchange=interchange)
    isa = x12.split("~")[0]
    assert len(isa) == 105 and isa[-1] == ":" and isa.split("*")[11] == "^"


@pytest.mark.parametrize("rendering", [CLINIC, replace(CLINIC, name="Harbor FM (same NPI)")])
def test_x12_837p_rendering_same_as_billing_is_not_repeated(rendering: Provider) -> None:
    claim = replace(office_visit(), rendering_provider=rendering)
    x12 = write_837p(claim, interchange=INTERCHANGE)
    assert [s[1] for s in _segments(x12, "NM1")] == ["41", "40", "85", "IL", "PR"]
    assert pyx12_errors(x12) == []


@pytest.mark.parametrize(("setting", "expected"), [("inpatient", "11:A:1"), ("outpatient", "13:A:1")])
def test_x12_837i_type_of_bill_defaults_from_setting(setting: str, expected: str) -> None:
    base = inpatient_stay() if setting == "inpatient" else emergency_visit()
    x12 = write_837i(replace(base, type_of_bill=None), interchange=INTERCHANGE)
    assert _segments(x12, "CLM")[0][5] == expected


@pytest.mark.parametrize("tob", ["0117", "117"])
def test_x12_837i_type_of_bill_sets_facility_and_frequency(tob: str) -> None:
    x12 = write_837i(replace(inpatient_stay(), type_of_bill=tob), interchange=INTERCHANGE)
    assert _segments(x12, "CLM")[0][5] == "11:A:7"
    assert pyx12_errors(x12) == []


@pytest.mark.parametrize("claim", [emergency_visit()], ids=["ED"])
def test_x12_837i_outpatient_sends_no_poa_and_no_admission(claim: Claim) -> None:
    claim = replace(claim, diagnoses=tuple(replace(d, poa="Y") for d in claim.diagnoses))
    x12 = write_837i(claim, interchange=INTERCHANGE)
    his = _segments(x12, "HI")
    assert [s[1] for s in his] == ["ABK:S52501A", "ABN:W1830XA", "ABF:R52"]
    assert not [s for s in _segments(x12, "DTP") if s[1] == "435"]
    assert _segments(x12, "CL1") == [["CL1", "", "", "01"]]
