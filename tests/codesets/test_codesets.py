"""Release choice by date of service, lookups across systems, and search, on the real built KB."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.lookup import lookup
from medcoder.codesets.search import search
from medcoder.errors import CodeFormatError, MedcoderError, NotFoundError, ReleaseError
from medcoder.settings import Settings


@pytest.mark.parametrize(("day", "kind", "release", "in_force"), [
    ("2026-05-01", "icd10cm-tabular", "FY2026-APR", True),
    ("2026-03-01", "icd10cm-tabular", "FY2026-APR", False),   # FY2026 October tabular not in the mirror
    ("2025-10-01", "icd10pcs", "FY2026", True),
    ("2025-09-30", "icd10pcs", "FY2025", True),
    ("2024-10-01", "icd10pcs", "FY2025", True),
    ("2023-03-01", "icd10pcs", "FY2025", False),               # earliest available stands in
    ("2025-11-15", "hcpcs", "2025-Q4", True),
    ("2026-02-01", "hcpcs", "2025-Q4", False),
    ("2026-08-01", "hcpcs", "2026-Q3", True),
    ("2025-06-01", "icd10cm-index", "FY2025-APR", True),
    ("2026-11-28", "mce", "v33-v44", True),
])
def test_codesets_for_date_picks_release(kb_settings: Settings, day: str, kind: str, release: str,
                                         in_force: bool) -> None:
    cs = Codesets.for_date(date.fromisoformat(day), settings=kb_settings)
    choice = cs.choices[kind]
    assert (choice.release.id, choice.in_force) == (release, in_force)
    assert (choice.note is None) is in_force
    use = next(u for u in cs.uses() if u.kind == kind)
    assert use.release == release and use.in_force is in_force


@pytest.mark.parametrize(("day", "error"), [("2015-09-30", "E401"), ("2027-04-01", "E402")])
def test_codesets_refuses_dates_outside_icd10(kb_settings: Settings, day: str, error: str) -> None:
    with pytest.raises(ReleaseError) as info:
        Codesets.for_date(date.fromisoformat(day), settings=kb_settings)
    assert info.value.code == error and day in str(info.value)


@pytest.mark.parametrize(("kind", "release"), [("icd10pcs", "FY2025"), ("hcpcs", "2025-Q4")])
def test_codesets_explicit_release(kb_settings: Settings, kind: str, release: str) -> None:
    cs = Codesets.explicit(settings=kb_settings, **{kind: release})
    assert cs.release(kind).id == release
    assert cs.meta(kind)["release"] == release


@pytest.mark.parametrize(("code", "day", "valid"), [
    ("E11.22", "2026-05-01", True),
    ("N18.31", "2020-09-30", False),
    ("N18.31", "2020-10-01", True),
    ("S39.012A", "2026-05-01", True),
])
def test_lookup_validity_comes_from_mce(kb_settings: Settings, code: str, day: str, valid: bool) -> None:
    cs = Codesets.for_date(date.fromisoformat(day), settings=kb_settings)
    [result] = lookup(cs, code)
    assert result.system == "ICD-10-CM" and result.billable and result.valid_on is valid


@pytest.mark.parametrize(("code", "kinds", "sources"), [
    ("E11.22", {"useAdditionalCode", "excludes1", "includes"}, {"code E11.22", "category E11", "chapter 4"}),
    ("S39.012A", {"sevenChrDef", "codeAlso", "excludes2"}, {"category S39", "block S30-S39", "chapter 19"}),
    ("I12.9", {"useAdditionalCode", "includes"}, {"code I12.9", "category I12"}),
])
def test_lookup_notes_include_inherited(kb_settings: Settings, code: str, kinds: set[str],
                                        sources: set[str]) -> None:
    [result] = lookup(Codesets.newest(settings=kb_settings), code)
    assert kinds <= {n["kind"] for n in result.notes}
    assert sources <= {n["from"] for n in result.notes}


@pytest.mark.parametrize(("code", "systems"), [
    ("J1100", {"ICD-10-CM", "HCPCS"}),   # J11.00 written without its dot, and a HCPCS drug code
    ("0DTJ4ZZ", {"ICD-10-PCS"}),
    ("LT", {"HCPCS"}),
    ("e1122", {"ICD-10-CM"}),
])
def test_lookup_detects_systems(kb_settings: Settings, code: str, systems: set[str]) -> None:
    results = lookup(Codesets.for_date(date(2025, 11, 1), settings=kb_settings), code)
    assert {r.system for r in results} == systems
    assert all(r.title for r in results)


@pytest.mark.parametrize(("code", "error", "text"), [
    ("E11.", CodeFormatError, "E304"),
    ("E11.2", None, "E502"),          # a header: shown, with the error as a warning
    ("S39.012", None, "E503"),
    ("E11.99", NotFoundError, "E501"),
    ("", CodeFormatError, "E301"),
])
def test_lookup_bad_codes_explain_themselves(kb_settings: Settings, code: str,
                                             error: type[MedcoderError] | None, text: str) -> None:
    cs = Codesets.newest(settings=kb_settings)
    if error is None:
        [result] = lookup(cs, code)
        assert not result.billable and any(text in w for w in result.warnings)
    else:
        with pytest.raises(error, match=text):
            lookup(cs, code)


@pytest.mark.parametrize(("text", "code"), [
    ("lateral epicondylitis right elbow", "M77.11"),
    ("type 2 diabetes mellitus with diabetic chronic kidney disease", "E11.22"),
    ("strain lower back initial", "S39.012"),
    ("laparoscopic appendectomy", None),
])
def test_search_ranks_titles_first(kb_settings: Settings, text: str, code: str | None) -> None:
    hits = search(Codesets.newest(settings=kb_settings), text, limit=10)
    assert hits
    if code is not None:
        assert hits[0].code.startswith(code), [h.code for h in hits[:5]]


@pytest.mark.parametrize("text", ["", "  ", "!!"])
def test_search_rejects_empty_query(kb_settings: Settings, text: str) -> None:
    with pytest.raises(MedcoderError, match="E501"):
        search(Codesets.newest(settings=kb_settings), text)
