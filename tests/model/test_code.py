"""ICD-10-CM code syntax: normalisation, coded errors, and code references read from note text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcoder.errors import CodeFormatError
from medcoder.model.code import CodeRef, find_code_refs, is_icd10cm, normalize_icd10cm, undotted

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DIGITS = "0123456789"


@st.composite
def codes(draw: st.DrawFn) -> str:
    """A well-formed code in the dotted upper-case form (E11.22, C4A.1, QA0.0, S39.012A)."""
    first = draw(st.sampled_from(ALNUM[:26]))
    pair = draw(st.one_of(
        st.tuples(st.sampled_from(DIGITS), st.sampled_from(ALNUM)),
        st.tuples(st.sampled_from(ALNUM[:26]), st.sampled_from(DIGITS))))
    rest = draw(st.text(alphabet=ALNUM, min_size=0, max_size=4))
    category = first + "".join(pair)
    return f"{category}.{rest}" if rest else category


@pytest.mark.parametrize(("text", "expected"), [
    ("e1122", "E11.22"),
    ("E11.22", "E11.22"),
    ("S39012A", "S39.012A"),
    ("t402x1a", "T40.2X1A"),
    ("E11", "E11"),
    ("  i10 ", "I10"),
    ("C4A.1", "C4A.1"),
    ("qa00", "QA0.0"),
    ("O9A.11", "O9A.11"),
])
def test_code_normalize_accepts_common_spellings(text: str, expected: str) -> None:
    assert normalize_icd10cm(text) == expected
    assert is_icd10cm(text)


@pytest.mark.parametrize(("text", "code", "words"), [
    ("E11.", "E304", "ends with a dot"),
    ("ZZZ", "E305", "cannot both be letters"),
    ("", "E301", "empty"),
    ("   ", "E301", "empty"),
    ("E1.12", "E304", "after character 2"),
    ("E11..2", "E304", "more than one dot"),
    ("E11 22", "E302", "characters not allowed"),
    ("E11#", "E302", "characters not allowed"),
    ("E1", "E303", "2 characters"),
    ("E11.22222", "E303", "8 characters"),
    ("250.00", "E305", "starts with '2'"),
    ("E08-E13", "E306", "range"),
    ("E11.-", "E306", "range"),
])
def test_code_normalize_rejects_with_coded_error(text: str, code: str, words: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        normalize_icd10cm(text)
    assert info.value.code == code
    assert words in str(info.value)
    assert repr(text) in str(info.value), "the message names the input"
    assert info.value.fix, "every error says how to fix it"
    assert not is_icd10cm(text)


@pytest.mark.parametrize("value", [None, 1122])
def test_code_normalize_rejects_non_text(value: object) -> None:
    with pytest.raises(CodeFormatError) as info:
        normalize_icd10cm(value)  # type: ignore[arg-type]
    assert info.value.code == "E301"


@pytest.mark.parametrize(("text", "expected"), [("S39.012A", "S39012A"), ("e11.9", "E119"), ("I10", "I10")])
def test_code_undotted(text: str, expected: str) -> None:
    assert undotted(text) == expected


@given(code=codes(), dotted=st.booleans(), lower=st.booleans())
def test_code_normalize_undotted_round_trip(code: str, dotted: bool, lower: bool) -> None:
    written = code if dotted else code.replace(".", "")
    written = written.lower() if lower else written
    assert normalize_icd10cm(written) == code
    assert undotted(written) == code.replace(".", "")
    assert normalize_icd10cm(undotted(code)) == code
    assert normalize_icd10cm(normalize_icd10cm(written)) == code


@given(text=st.text(max_size=10))
def test_code_normalize_never_crashes(text: str) -> None:
    try:
        result = normalize_icd10cm(text)
    except CodeFormatError as e:
        assert e.code.startswith("E30")
    else:
        assert is_icd10cm(result) and result == result.upper()


@pytest.mark.parametrize(("text", "expected"), [
    ("code to identify stage of chronic kidney disease (N18.1-N18.6)", ["N18.1-N18.6"]),
    ("the stage of chronic kidney disease (N18.1-N18.4, N18.9)", ["N18.1-N18.4", "N18.9"]),
    ("type 1 diabetes mellitus (E10.-)", ["E10.-"]),
    ("diabetes (E08-E13)", ["E08-E13"]),
    ("gestational diabetes (O24.4-)", ["O24.4-"]),
    ("psychoactive substance use (F10.- -F19.-)", ["F10-F19"]),
    ("psychoactive substance use (F10.-F19.-)", ["F10-F19"]),
    ("psychoactive substance use (F10.--F19.-)", ["F10-F19"]),
    ("head injury (S00 - S09)", ["S00-S09"]),
    ("any condition in N18 and N26 - due to hypertension", ["N18", "N26"]),
    ("complications of pregnancy (O00-O9A)", ["O00-O9A"]),
    ("Infection due to Salmonella NOS, HIV disease, ABO isoimmunization", []),
    ("type t2 and lower-case e11.9 are not references", []),
    ("twice (I10) and (I10)", ["I10"]),
])
def test_code_find_code_refs(text: str, expected: list[str]) -> None:
    assert [str(r) for r in find_code_refs(text)] == expected


@pytest.mark.parametrize(("text", "first", "last", "subdivisions"), [
    ("E11.22", "E11.22", "E11.22", False),
    ("e11.-", "E11", "E11", True),
    ("I70.21-", "I70.21", "I70.21", True),
    ("I10-I16", "I10", "I16", True),
])
def test_code_ref_parse(text: str, first: str, last: str, subdivisions: bool) -> None:
    ref = CodeRef.parse(text)
    assert (ref.first, ref.last, ref.subdivisions) == (first, last, subdivisions)


@pytest.mark.parametrize("text", ["", "E11 and E13", "see E11.-", "NOS"])
def test_code_ref_parse_rejects(text: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        CodeRef.parse(text)
    assert info.value.code == "E307"


@given(first=codes(), last=codes(), kind=st.sampled_from(["single", "whole", "range"]))
def test_code_ref_round_trip(first: str, last: str, kind: str) -> None:
    ref = CodeRef(first=first, last=first if kind != "range" else last, subdivisions=kind != "single")
    if kind == "range" and first == last:
        ref = CodeRef(first=first, last=first, subdivisions=True)
    assert CodeRef.parse(str(ref)) == ref
