"""HCPCS Level II KBs from the CMS October 2025 ANWEB workbook and the July 2026 codes-only list.

Expected values are read off the CMS file itself (J1100, G0008, modifier LT, the C9088 termination) and
the mirror's SOURCE.md counts (8,846 records; 8,725 codes in 2026 Q3).
"""

from __future__ import annotations

import gzip
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from medcoder.codesets import hcpcs
from medcoder.codesets.hcpcs import Hcpcs
from medcoder.codesets.kbfile import create_kb, open_kb
from medcoder.errors import CodeFormatError, SourceError

HEADER = ["HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "PRICE1", "MULT_PI", "COV",
          "BETOS", "TOS1", "ADD DT", "ACT EFF DT", "TERM DT", "ACTION CD"]


def _quiet(message: str) -> None:
    pass


def _build(path: Path, files: dict[str, Path]) -> tuple[Hcpcs, dict[str, int], float]:
    started = time.perf_counter()
    conn = create_kb(path)
    counts = hcpcs.build(conn, files, progress=_quiet)
    conn.close()
    return Hcpcs(open_kb(path)), counts, time.perf_counter() - started


@pytest.fixture(scope="module")
def anweb(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Hcpcs, dict[str, int], float]:
    xlsx = mirror_dir / "hcpcs" / "2025_oct" / "HCPC2025_OCT_ANWEB.xlsx"
    return _build(tmp_path_factory.mktemp("hcpcs") / "oct.sqlite", {"anweb_xlsx": xlsx})


@pytest.fixture(scope="module")
def codes_only(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Hcpcs:
    gz = mirror_dir / "hcpcs" / "2026_jul_codes_only" / "hcpcs_level2_2026q3.txt.gz"
    return _build(tmp_path_factory.mktemp("hcpcs") / "q3.sqlite", {"codes_txt_gz": gz})[0]


def _xlsx(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize(("codes", "modifiers"), [(8_463, 383)])
def test_hcpcs_counts(anweb: tuple[Hcpcs, dict[str, int], float], codes: int, modifiers: int) -> None:
    reader, counts, _ = anweb
    assert reader.count() == codes and reader.count(modifiers=True) == modifiers
    assert codes + modifiers == 8_846  # records in the ANWEB sheet (SOURCE.md)
    assert counts == {"hcpcs_codes": codes, "hcpcs_modifiers": modifiers, "hcpcs_search_rows": 8_846}
    assert len(reader.modifiers()) == modifiers


@pytest.mark.parametrize(("code", "long", "short"), [
    ("J1100", "Injection, dexamethasone sodium phosphate, 1 mg", "Dexamethasone sodium phos"),
    ("G0008", "Administration of influenza virus vaccine", "Admin influenza virus vac"),
    ("j1100", "Injection, dexamethasone sodium phosphate, 1 mg", "Dexamethasone sodium phos"),
])
def test_hcpcs_get_descriptions(anweb: tuple[Hcpcs, dict[str, int], float], code: str, long: str,
                                short: str) -> None:
    entry = anweb[0].get(code)
    assert entry is not None and not entry.is_modifier
    assert (entry.code, entry.long_description, entry.short_description) == (code.upper(), long, short)


@pytest.mark.parametrize("field", ["J1100"])
def test_hcpcs_fields(anweb: tuple[Hcpcs, dict[str, int], float], field: str) -> None:
    entry = anweb[0].get(field)
    assert entry is not None
    assert entry.add_date == date(1982, 1, 1) and entry.action_effective_date == date(2001, 1, 1)
    assert entry.termination_date is None and entry.action_code == "N"
    assert (entry.betos, entry.type_of_service, entry.coverage) == ("O1E", ("1", "P"), "D")
    assert (entry.pricing, entry.multiple_pricing) == (("51",), "A")
    assert entry.raw["MCM1"] == "2049"  # a column with no field of its own survives in raw


@pytest.mark.parametrize(("code", "long"), [
    ("LT", "Left side (used to identify procedures performed on the left side of the body)"),
    ("rt", "Right side (used to identify procedures performed on the right side of the body)"),
    ("XE", "Separate encounter, a service that is distinct because it occurred during a separate encounter"),
])
def test_hcpcs_modifier(anweb: tuple[Hcpcs, dict[str, int], float], code: str, long: str) -> None:
    entry = anweb[0].modifier(code)
    assert entry is not None and entry.is_modifier and entry.long_description == long


@pytest.mark.parametrize("code", ["25", "59"])
def test_hcpcs_cpt_modifiers_absent(anweb: tuple[Hcpcs, dict[str, int], float], code: str) -> None:
    """25 and 59 are CPT (Level I) modifiers: the CMS Level II file does not list them."""
    assert anweb[0].modifier(code) is None


@pytest.mark.parametrize(("code", "on", "active"), [
    ("C9088", date(2025, 9, 30), True),   # TERM DT 20250930, action D
    ("C9088", date(2025, 10, 1), False),
    ("A4397", date(2021, 12, 31), True),  # TERM DT 20211231
    ("A4397", date(2022, 1, 1), False),
    ("A2036", date(2025, 9, 30), False),  # ADD DT 20251001
    ("A2036", date(2025, 10, 1), True),
    ("J1100", date(2025, 10, 1), True),
    ("LT", date(2025, 10, 1), True),
    ("Z9999", date(2025, 10, 1), False),
])
def test_hcpcs_is_active(anweb: tuple[Hcpcs, dict[str, int], float], code: str, on: date,
                         active: bool) -> None:
    assert anweb[0].is_active(code, on) is active


@pytest.mark.parametrize(("code", "term", "action"), [("C9088", date(2025, 9, 30), "D")])
def test_hcpcs_termination_date(anweb: tuple[Hcpcs, dict[str, int], float], code: str, term: date,
                                action: str) -> None:
    entry = anweb[0].get(code)
    assert entry is not None and (entry.termination_date, entry.action_code) == (term, action)


@pytest.mark.parametrize(("code", "error", "modifier"), [
    ("J110", "E320", False), ("JJ100", "E320", False), ("", "E320", False), ("99213", "E322", False),
    ("0591T", "E322", False), ("L", "E321", True), ("LTX", "E321", True), ("L-", "E321", True),
])
def test_hcpcs_malformed_raises(anweb: tuple[Hcpcs, dict[str, int], float], code: str, error: str,
                                modifier: bool) -> None:
    with pytest.raises(CodeFormatError) as info:
        anweb[0].modifier(code) if modifier else anweb[0].get(code)
    assert info.value.code == error and repr(code) in str(info.value)


@pytest.mark.parametrize(("count", "code"), [(8_725, "J1100")])
def test_hcpcs_codes_only(codes_only: Hcpcs, count: int, code: str) -> None:
    assert codes_only.count() == count and codes_only.count(modifiers=True) == 0
    entry = codes_only.get(code)
    assert entry is not None and entry.long_description is None and entry.add_date is None
    assert codes_only.is_active(code, date(2026, 7, 1))
    assert codes_only.modifiers() == ()


@pytest.mark.parametrize(("query", "code", "kind"), [
    ("dexamethasone sodium phosphate", "J1100", "hcpcs"),
    ("influenza vaccine administration", "G0008", "hcpcs"),
    ("left side", "LT", "hcpcs-modifier"),
])
def test_hcpcs_search_fts(anweb: tuple[Hcpcs, dict[str, int], float], query: str, code: str,
                          kind: str) -> None:
    hits = anweb[0].conn.execute(
        "SELECT code, kind FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 10",
        (query,)).fetchall()
    assert (code, kind) in hits





@pytest.mark.parametrize(("rows", "code", "long"), [
    ([["Z0001", "0010", "3", "Synthetic first line", "Synthetic", "", "", "C", "", "", "20250101", "20250101",
       "", "N"],
      ["Z0001", "0030", "4", "third line", "", "", "", "", "", "", "", "", "", ""],
      ["Z0001", "0020", "4", "second line", "", "", "", "", "", "", "", "", "", ""],
      ["   Q9", "0010", "7", "Synthetic modifier", "Synth mod", "", "", "C", "", "", "20250101", "20250101",
       "", "N"],
      ["   Q9", "0020", "8", "continued", "", "", "", "", "", "", "", "", "", ""]],
     "Z0001", "Synthetic first line second line third line"),
])
def test_hcpcs_continuation_rows_joined(tmp_path: Path, rows: list[list[str]], code: str, long: str) -> None:
    reader, counts, _ = _build(tmp_path / "kb.sqlite", {"anweb_xlsx": _xlsx(tmp_path / "syn.xlsx", rows)})
    entry = reader.get(code)
    assert entry is not None and entry.long_description == long
    modifier = reader.modifier("Q9")
    assert modifier is not None and modifier.long_description == "Synthetic modifier continued"
    assert counts["hcpcs_codes"] == 1 and counts["hcpcs_modifiers"] == 1


@pytest.mark.parametrize(("rows", "header", "error"), [
    ([["Z0001", "0020", "4", "orphan", "", "", "", "", "", "", "", "", "", ""]], HEADER, "E325"),
    ([["Z0001", "0010", "9", "unknown", "", "", "", "", "", "", "", "", "", ""]], HEADER, "E325"),
    ([["Z0001", "0010", "3", "bad date", "", "", "", "", "", "", "2025-13-45", "", "", ""]], HEADER, "E323"),
    ([["Z0001", "Synthetic"]], ["HCPC", "LONG DESCRIPTION"], "E323"),
    ([["Z001", "0010", "3", "short code", "", "", "", "", "", "", "", "", "", ""]], HEADER, "E320"),
])
def test_hcpcs_bad_workbook_raises(tmp_path: Path, rows: list[list[str]], header: list[str],
                                   error: str) -> None:
    path = _xlsx(tmp_path / "bad.xlsx", rows, header)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises((SourceError, CodeFormatError)) as info:
        hcpcs.build(conn, {"anweb_xlsx": path}, progress=_quiet)
    conn.close()
    assert info.value.code == error and info.value.where is not None and str(path) in info.value.where


@pytest.mark.parametrize(("lines", "where"), [(["J1100", "99213"], ":2"), (["J1100", "J1100"], ":2"),
                                              ([], None)])
def test_hcpcs_bad_code_list_raises(tmp_path: Path, lines: list[str], where: str | None) -> None:
    path = tmp_path / "codes.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    conn = create_kb(tmp_path / "kb.sqlite")
    if where is None:  # an empty list builds an empty KB: nothing wrong with any line
        assert hcpcs.build(conn, {"codes_txt_gz": path}, progress=_quiet)["hcpcs_codes"] == 0
        return
    with pytest.raises(SourceError) as info:
        hcpcs.build(conn, {"codes_txt_gz": path}, progress=_quiet)
    assert info.value.code == "E324" and info.value.where == f"{path}{where}"


@pytest.mark.parametrize("files", [{}])
def test_hcpcs_build_needs_a_file(tmp_path: Path, files: dict[str, Path]) -> None:
    with pytest.raises(SourceError) as info:
        hcpcs.build(create_kb(tmp_path / "kb.sqlite"), files, progress=_quiet)
    assert info.value.code == "E326"
