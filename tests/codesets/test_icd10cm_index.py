"""The Alphabetic Index and its companion books: build from the mirror, walk, round trip, refuse bad input.

Expected figures are computed here from the source files with the csv module and ElementTree, never taken
from the code under test.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from medcoder.codesets import kbfile
from medcoder.codesets.icd10cm_index import AlphabeticIndex, Book, build
from medcoder.errors import BuildError, NotFoundError, SourceError

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic_index_fixtures"
FY2025 = ("icd10cm", "fy2025_april")


def _sources(mirror_dir: Path) -> dict[str, Path]:
    root = mirror_dir.joinpath(*FY2025)
    return {
        "index_csv": root / "derived_csv" / "ICD10CM_2025_Index.csv",
        "eindex_xml": root / "icd-10-cm-eindex-2025.xml",
        "neoplasm_xml": root / "icd-10-cm-neoplasm-2025.xml",
        "drug_xml": root / "icd-10-cm-drug-2025.xml",
    }


def _quiet(_: str) -> None:
    pass


class Built:
    """A KB built once for this module, with what the build returned and how long it took."""

    def __init__(self, conn: sqlite3.Connection, counts: dict[str, int], seconds: float,
                 files: dict[str, Path]) -> None:
        self.conn = conn
        self.counts = counts
        self.seconds = seconds
        self.files = files
        self.index = AlphabeticIndex(conn)


@pytest.fixture(scope="module")
def kb(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    files = _sources(mirror_dir)
    path = tmp_path_factory.mktemp("index_kb") / "icd10cm_index.sqlite"
    conn = kbfile.create_kb(path)
    started = time.perf_counter()
    counts = build(conn, files, progress=_quiet)
    seconds = time.perf_counter() - started
    conn.close()
    reader = kbfile.open_kb(path)
    yield Built(reader, counts, seconds, files)
    reader.close()


@pytest.fixture(scope="module")
def csv_rows(mirror_dir: Path) -> list[dict[str, str]]:
    with _sources(mirror_dir)["index_csv"].open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _build_tmp(tmp_path: Path, files: dict[str, Path]) -> tuple[sqlite3.Connection, dict[str, int]]:
    conn = kbfile.create_kb(tmp_path / "kb.sqlite")
    return conn, build(conn, files, progress=_quiet)


# --- build --------------------------------------------------------------------------------------------------


def test_icd10cm_index_build_counts_csv_rows(kb: Built, csv_rows: list[dict[str, str]]) -> None:
    glued = [r for r in csv_rows if not r["Code"] and re.search(r"[a-z][A-Z]\d\d\.\d+$", r["Term"])]
    assert len(csv_rows) == 81_024
    assert kb.counts["index_terms"] == len(csv_rows)
    assert kb.counts["index_main_terms"] == sum(r["Level"] == "0" for r in csv_rows)
    assert sum(bool(r["Code"]) for r in csv_rows) == 62_721
    assert [r["RowID"] for r in glued] == ["3960", "57407"]
    assert kb.counts["index_coded"] == 62_721 + len(glued)
    assert kb.counts["index_csv_repaired_codes"] == len(glued)


@pytest.mark.parametrize("book", ["eindex", "neoplasm", "drug"])
def test_icd10cm_index_build_counts_xml_terms(kb: Built, book: str) -> None:
    root = ET.parse(kb.files[f"{book}_xml"]).getroot()
    terms = [e for e in root.iter() if e.tag in ("mainTerm", "term")]
    assert kb.counts[f"{book}_terms"] == len(terms)
    assert kb.counts[f"{book}_main_terms"] == len(root.findall("letter/mainTerm"))
    if book == "eindex":
        assert kb.counts["eindex_coded"] == len(root.findall(".//code"))
    else:
        coded = [t for t in terms if any((c.text or "").strip() not in ("-", "--", "") for c in t.findall("cell"))]
        assert kb.counts[f"{book}_coded"] == len(coded)


@pytest.mark.parametrize(("book", "terms"), [("eindex", 314 + 7_750), ("neoplasm", 1 + 1_938)])
def test_icd10cm_index_build_counts_match_source_md(kb: Built, book: str, terms: int) -> None:
    assert kb.counts[f"{book}_terms"] == terms


@pytest.mark.parametrize("key", ["index_from_xml"])
def test_icd10cm_index_build_records_csv_form(kb: Built, key: str) -> None:
    meta = kbfile.read_meta(kb.conn)
    assert kb.counts[key] == 0
    assert meta["icd10cm_index.index_form"] == "csv-derived"
    assert meta["icd10cm_index.files"]["drug"]["version"] == "2025"
    assert meta["icd10cm_index.headings"]["neoplasm"]["2"] == "Malignant Primary"





@pytest.mark.parametrize(("query", "kind", "code"), [
    ('"epicondylitis" AND "lateral"', "index", "M77.1-"),
    ('"oxycodone"', "drug", "T40.2X1"),
    ('"colon"', "neoplasm", "C18.9"),
    ('"bare" AND "foot" AND "water"', "eindex", "V94.4"),
])
def test_icd10cm_index_search_fts_contract(kb: Built, query: str, kind: str, code: str) -> None:
    columns = [row[1] for row in kb.conn.execute("PRAGMA table_info(search_fts)")]
    assert columns == ["code", "kind", "text"]
    rows = kb.conn.execute("SELECT code, kind, text FROM search_fts WHERE search_fts MATCH ? AND kind = ?",
                           (query, kind)).fetchall()
    assert code in {r[0] for r in rows}


@pytest.mark.parametrize("book", ["index", "eindex"])
def test_icd10cm_index_search_fts_one_row_per_code(kb: Built, book: str) -> None:
    (n,) = kb.conn.execute("SELECT count(*) FROM search_fts WHERE kind = ?", (book,)).fetchone()
    (subcats,) = kb.conn.execute("SELECT count(*) FROM index_term WHERE book = ? AND subcat IS NOT NULL",
                                 (book,)).fetchone()
    assert n == kb.counts[f"{book}_coded"] + subcats


# --- walking -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "code", "titles"), [
    (["Strain", "back"], "S39.012", ("Strain", "back")),
    (["Strain", "low back"], "S39.012", ("Strain", "low back")),
    (["Injury", "muscle", "lower back", "strain"], "S39.012", ("Injury", "muscle", "lower back", "strain")),
    (["Epicondylitis", "lateral"], "M77.1-", ("Epicondylitis", "lateral")),
    (["Diabetes", "type 2", "with", "chronic kidney disease"], "E11.22",
     ("Diabetes, diabetic", "type 2", "with", "chronic kidney disease")),
    (["Hypertension", "kidney"], "I12.9", ("Hypertension, hypertensive", "kidney")),
    (["Hypertension", "kidney", "with", "stage 5 chronic kidney disease"], "I12.0",
     ("Hypertension, hypertensive", "kidney", "with", "stage 5 chronic kidney disease")),
    (["Disease", "Alzheimer's"], "G30.9", ("Disease, diseased", "Alzheimer's")),
    (["Disease, Alzheimer's, early onset"], "G30.0", ("Disease, diseased", "Alzheimer's", "early onset")),
    (["abdominal", "acute"], "R10.0", ("Abdomen, abdominal", "acute")),
    (["Aberrant", "artery", "basilar"], "Q28.1", ("Aberrant", "artery", "basilar NEC")),
    (["NURSEMAIDS ELBOW"], "S53.03-", ("Nursemaid's elbow",)),
])
def test_icd10cm_index_walk_known_paths(kb: Built, path: list[str], code: str, titles: tuple[str, ...]) -> None:
    result = kb.index.walk(path)
    assert (result.code, result.titles, result.matched, result.code_is_default) == (code, titles, True, False)
    assert result.incomplete == code.endswith("-")


@pytest.mark.parametrize(("path", "code", "left"), [
    (["Diabetes", "type 2", "with", "no such complication"], "E11.9", ("no such complication",)),
    (["Epicondylitis", "lateral", "left elbow"], "M77.1-", ("left elbow",)),
])
def test_icd10cm_index_walk_falls_back_to_default(kb: Built, path: list[str], code: str,
                                                  left: tuple[str, ...]) -> None:
    result = kb.index.walk(path)
    assert (result.code, result.matched, result.unmatched) == (code, False, left)
    assert result.code_is_default == (len(result.steps) > 0 and result.steps[-1].code is None)


@pytest.mark.parametrize("path", [["Nonexistentitis"], []])
def test_icd10cm_index_walk_unknown_main_term(kb: Built, path: list[str]) -> None:
    result = kb.index.walk(path)
    assert (result.steps, result.code, result.matched) == ((), None, False)


@pytest.mark.parametrize(("path", "see", "code", "followed"), [
    (["Abdominalgia"], "Pain, abdominal", "R10.9", ("Pain", "abdominal")),
    (["Alzheimer's disease or sclerosis"], "Disease, Alzheimer's", "G30.9", ("Disease, diseased", "Alzheimer's")),
])
def test_icd10cm_index_walk_follows_see(kb: Built, path: list[str], see: str, code: str,
                                        followed: tuple[str, ...]) -> None:
    plain = kb.index.walk(path)
    assert (plain.see, plain.code, plain.followed) == (see, None, None)
    assert [(r.kind, r.target) for r in plain.cross_refs] == [("see", see)]
    result = kb.index.walk(path, follow_see=True)
    assert result.followed is not None
    assert (result.code, result.followed.titles, result.followed.matched) == (code, followed, True)
    assert kb.index.term(result.code_term_id or 0).code == code


@pytest.mark.parametrize(("path", "book", "code", "column"), [
    (["Acrospiroma, eccrine"], "neoplasm", "D23.9", "benign"),
    (["Adenocarcinoma", "alveolar"], "neoplasm", "C34.9-", "malignant_primary"),
    (["Acrodynia"], "drug", "T56.1X1", "poisoning_accidental"),
])
def test_icd10cm_index_walk_follows_see_into_tables(kb: Built, path: list[str], book: str, code: str,
                                                    column: str) -> None:
    result = kb.index.walk(path, follow_see=True)
    assert result.followed is not None
    assert (result.followed.book, result.code, result.column) == (book, code, column)


@pytest.mark.parametrize(("text", "first"), [
    ("abdominal", "Abdomen, abdominal"),
    ("Abdomen", "Abdomen, abdominal"),
    ("disease", "Disease, diseased"),
    ("DISEASED", "Disease, diseased"),
    ("essential hypertension", "Hypertension, hypertensive"),
    ("Abasia hysterical", "Abasia"),
])
def test_icd10cm_index_find_main_terms(kb: Built, text: str, first: str) -> None:
    found = kb.index.find_main_terms(text)
    assert found and found[0].title == first and found[0].level == 0


@pytest.mark.parametrize(("prefix", "expected"), [("Abdom", ["Abdomen, abdominal", "Abdominalgia"])])
def test_icd10cm_index_main_terms_by_prefix(kb: Built, prefix: str, expected: list[str]) -> None:
    assert [t.title for t in kb.index.main_terms(prefix)] == expected


@pytest.mark.parametrize("path", [["Abdomen"], ["Aberrant", "artery"], ["Disease", "Alzheimer's"]])
def test_icd10cm_index_children_follow_csv(kb: Built, csv_rows: list[dict[str, str]], path: list[str]) -> None:
    parent = kb.index.term(kb.index.walk(path).steps[-1].term_id)
    level = int(csv_rows[parent.source_row - 1]["Level"])
    expected = []
    for row in csv_rows[parent.source_row:]:
        if int(row["Level"]) <= level:
            break
        if int(row["Level"]) == level + 1:
            expected.append(row["Term"])
    children = kb.index.children(parent.id)
    assert [c.title for c in children] == expected
    assert kb.index.path(children[0].id)[-2] == parent
    assert [t.title for t in kb.index.path(children[0].id)][: len(path)] == list(kb.index.walk(path).titles)


@pytest.mark.parametrize(("term_id", "book"), [(10**9, "index")])
def test_icd10cm_index_unknown_term_and_book(kb: Built, term_id: int, book: str) -> None:
    with pytest.raises(NotFoundError) as e:
        kb.index.term(term_id)
    assert e.value.code == "E512"
    with pytest.raises(NotFoundError) as e:
        kb.index.walk(["x"], book="nope")  # type: ignore[arg-type]
    assert e.value.code == "E511"


# --- round trip ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("book", "use_nemod", "min_ok", "reasons"), [
    ("index", False, 62_704, {"duplicate-entry": 11, "duplicate-title-nemod-differs": 8}),
    ("index", True, 62_712, {"duplicate-entry": 11}),
    ("eindex", False, 6_650, {}),
    ("neoplasm", False, 1_821, {}),
    ("drug", False, 7_200, {"duplicate-title-nemod-differs": 2}),
    ("drug", True, 7_202, {}),
])
def test_icd10cm_index_round_trip(kb: Built, book: Book, use_nemod: bool, min_ok: int,
                                  reasons: dict[str, int]) -> None:
    report = kb.index.round_trip(book=book, use_nemod=use_nemod)
    assert report.total == kb.counts[f"{book}_coded"]
    assert report.ok >= min_ok
    assert {k: len(v) for k, v in report.failures.items()} == reasons
    assert set(report.explanations) == set(reasons)
    assert report.ok + sum(len(v) for v in report.failures.values()) == report.total


@pytest.mark.parametrize("reason", ["duplicate-entry", "duplicate-title-nemod-differs"])
def test_icd10cm_index_round_trip_failures_are_source_duplicates(kb: Built, csv_rows: list[dict[str, str]],
                                                                 reason: str) -> None:
    """Every failure is an entry with an earlier sibling printed with the same title in the CSV itself."""
    failures = kb.index.round_trip(book="index").failures[reason]
    for failure in failures:
        row = csv_rows[failure.source_row - 1]
        level = int(row["Level"])
        i = failure.source_row - 2
        siblings = []
        while i >= 0 and int(csv_rows[i]["Level"]) >= level:
            if int(csv_rows[i]["Level"]) == level:
                siblings.append(csv_rows[i])
            i -= 1
        same = [s for s in siblings if s["Term"].lower() == row["Term"].lower()]
        assert same, failure
        assert any((s["NonEssModif"] == row["NonEssModif"]) == (reason == "duplicate-entry") for s in same)





# --- the official XML form, from hand-written fixtures ------------------------------------------------------


@pytest.fixture()
def fragment(tmp_path: Path) -> AlphabeticIndex:
    conn, counts = _build_tmp(tmp_path, {"index_xml": DATA / "index_fragment.xml"})
    assert counts["index_from_xml"] == 1
    assert kbfile.read_meta(conn)["icd10cm_index.index_form"] == "xml-official"
    return AlphabeticIndex(conn)


@pytest.mark.parametrize(("path", "code", "manif"), [
    (["Disease", "Alzheimer's"], "G30.9", "F02.80"),
    (["Disease", "Alzheimer's", "with behavioral disturbance"], "G30.9", "F02.81-"),
    (["Disease", "Alzheimer's", "late onset"], "G30.1", "F02.80"),
])
def test_icd10cm_index_xml_keeps_manif(fragment: AlphabeticIndex, path: list[str], code: str, manif: str) -> None:
    result = fragment.walk(path)
    assert (result.code, result.manif, result.matched) == (code, manif, True)


@pytest.mark.parametrize(("path", "field", "value"), [
    (["Otitis", "adhesive"], "subcat", "H74.1"),
    (["Asphyxia", "traumatic", "due to", "mechanical threat to breathing"], "seecat", "T71"),
])
def test_icd10cm_index_xml_keeps_subcat_and_seecat(fragment: AlphabeticIndex, path: list[str], field: str,
                                                  value: str) -> None:
    result = fragment.walk(path)
    assert getattr(result, field) == value
    assert (result.code, result.code_is_default) == (None, False)
    assert getattr(fragment.term(result.steps[-1].term_id), field) == value


@pytest.mark.parametrize(("path", "warning"), [(["Dementia", "in"], "Code first the underlying physiological "
                                                                   "condition")])
def test_icd10cm_index_xml_keeps_warning(fragment: AlphabeticIndex, path: list[str], warning: str) -> None:
    result = fragment.walk(path)
    assert fragment.term(result.steps[-1].term_id).warning == warning
    assert (result.code, result.code_is_default) == ("F03.90", True)


@pytest.mark.parametrize("path", [["Dementia", "in", "Alzheimer's disease"]])
def test_icd10cm_index_xml_follows_see_to_manif(fragment: AlphabeticIndex, path: list[str]) -> None:
    result = fragment.walk(path, follow_see=True)
    assert (result.code, result.manif) == ("G30.9", "F02.80")


def _shape(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    ids = {row[0]: i for i, row in enumerate(conn.execute("SELECT id FROM index_term ORDER BY id"))}
    return [(level, ids.get(parent), letter, title, nemod, code, see, see_also)
            for parent, level, letter, title, nemod, code, see, see_also in conn.execute(
                "SELECT parent_id, level, letter, title, nemod, code, see, see_also FROM index_term ORDER BY id")]


@pytest.mark.parametrize("stem", ["index_fragment"])
def test_icd10cm_index_xml_and_csv_build_the_same_tree(tmp_path: Path, stem: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "c").mkdir()
    xml_conn, xml_counts = _build_tmp(tmp_path / "x", {"index_xml": DATA / f"{stem}.xml"})
    csv_conn, csv_counts = _build_tmp(tmp_path / "c", {"index_csv": DATA / f"{stem}.csv"})
    assert _shape(xml_conn) == _shape(csv_conn)
    assert xml_counts["index_terms"] == csv_counts["index_terms"] == 23
    assert (xml_counts["index_from_xml"], csv_counts["index_from_xml"]) == (1, 0)
    lost = csv_conn.execute("SELECT count(*) FROM index_term WHERE manif IS NOT NULL OR subcat IS NOT NULL "
                            "OR seecat IS NOT NULL OR warning IS NOT NULL").fetchone()
    kept = xml_conn.execute("SELECT count(*) FROM index_term WHERE manif IS NOT NULL OR subcat IS NOT NULL "
                            "OR seecat IS NOT NULL OR warning IS NOT NULL").fetchone()
    assert (lost[0], kept[0]) == (0, 7)


@pytest.mark.parametrize(("path", "title", "nemod", "printed", "code"), [
    (["Abandonment"], "Abandonment NEC", "(causing exposure to weather conditions)",
     "Abandonment (causing exposure to weather conditions) NEC", "X58"),
    (["Cancerphobia"], "Cancerphobia", "(o)", "Cancer (o)phobia", "F45.29"),
    (["Infection", "Salmonella", "with", "enteritis"], "enteritis", "(gastro)", "(gastro)enteritis", "A02.0"),
])
def test_icd10cm_index_xml_keeps_title_text_after_nemod(tmp_path: Path, path: list[str], title: str, nemod: str,
                                                        printed: str, code: str) -> None:
    conn, _ = _build_tmp(tmp_path, {"index_xml": DATA / "index_tail_text.xml"})
    result = AlphabeticIndex(conn).walk(path)
    term = AlphabeticIndex(conn).term(result.steps[-1].term_id)
    assert (term.title, term.nemod, term.printed, result.code) == (title, nemod, printed, code)


# --- refusing malformed input -------------------------------------------------------------------------------


def _csv_variant(src: Path, dst: Path, edit: str) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    if edit == "header":
        lines[0] = lines[0].replace(",Level,", ",Depth,")
    elif edit == "jump":
        lines[8] = lines[8].replace(",D,2,", ",D,4,")
    elif edit == "truncated":
        lines = lines[:12] + [lines[12][:9]]
    elif edit == "level":
        lines[3] = lines[3].replace(",A,1,", ",A,one,")
    elif edit == "empty":
        lines = []
    elif edit == "order":
        lines[11], lines[12] = lines[12], lines[11]
    dst.write_text("".join(lines), encoding="utf-8")
    return dst


@pytest.mark.parametrize(("edit", "code", "line"), [
    ("header", "E210", 1), ("jump", "E212", 9), ("truncated", "E215", 13), ("level", "E211", 4),
    ("empty", "E210", 1), ("order", "E213", 13),
])
def test_icd10cm_index_csv_refuses_malformed(tmp_path: Path, edit: str, code: str, line: int) -> None:
    bad = _csv_variant(DATA / "index_fragment.csv", tmp_path / "bad.csv", edit)
    with pytest.raises(BuildError) as e:
        _build_tmp(tmp_path, {"index_csv": bad})
    assert e.value.code == code
    assert e.value.where == f"{bad}:{line}"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_icd10cm_index_csv_refuses_truncated_mirror_copy(kb: Built, tmp_path: Path, cut: float) -> None:
    data = kb.files["index_csv"].read_bytes()
    bad = tmp_path / "truncated.csv"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BuildError) as e:
        _build_tmp(tmp_path, {"index_csv": bad})
    assert e.value.code == "E215" and str(bad) in str(e.value)


_XML_EDITS = {
    "level": ('<term level="2">\n          <title>with behavioral',
              '<term level="3">\n          <title>with behavioral'),
    "element": ("<code>R52</code>", "<code>R52</code><usage>x</usage>"),
    "twice": ("<code>R52</code>", "<code>R52</code><code>R52.0</code>"),
    "root": ("<ICD10CM.index>", "<ICD10PCS.index>"),
    "addenda": ("<ICD10CM.index>", '<ICD10CM.index isAddenda="true">'),
    "cell": ("<code>R52</code>", '<code>R52</code><cell col="8">X</cell>'),
    "diff": ("<title>Abdominalgia</title>", "<diff><new>Abdominalgia</new></diff>"),
}


@pytest.mark.parametrize(("edit", "code"), [
    ("level", "E222"), ("element", "E223"), ("twice", "E224"), ("root", "E221"), ("addenda", "E226"),
    ("cell", "E225"), ("diff", "E226"),
])
def test_icd10cm_index_xml_refuses_malformed(tmp_path: Path, edit: str, code: str) -> None:
    text = (DATA / "index_fragment.xml").read_text(encoding="utf-8")
    old, new = _XML_EDITS[edit]
    assert old in text
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BuildError) as e:
        _build_tmp(tmp_path, {"index_xml": bad})
    assert e.value.code == code
    assert e.value.where is not None and e.value.where.startswith(f"{bad}:")
    line = int(e.value.where.split(":")[1])
    assert new.split("\n")[0].split(">")[0] in bad.read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.mark.parametrize(("book", "cut"), [("eindex", 0.5), ("drug", 0.3), ("neoplasm", 0.99)])
def test_icd10cm_index_xml_refuses_truncated_mirror_copy(kb: Built, tmp_path: Path, book: str,
                                                         cut: float) -> None:
    data = kb.files[f"{book}_xml"].read_bytes()
    bad = tmp_path / f"{book}.xml"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BuildError) as e:
        _build_tmp(tmp_path, {f"{book}_xml": bad})
    assert e.value.code == "E220"
    assert e.value.where is not None and e.value.where.startswith(f"{bad}:")


@pytest.mark.parametrize(("files", "error", "code"), [
    ({"index_xml": Path("/nonexistent/icd10cm_index_2025.xml")}, SourceError, "E101"),
    ({}, BuildError, "E200"),
])
def test_icd10cm_index_build_refuses_missing_files(tmp_path: Path, files: dict[str, Path],
                                                   error: type[Exception], code: str) -> None:
    with pytest.raises(error) as e:
        _build_tmp(tmp_path, files)
    assert getattr(e.value, "code", None) == code
