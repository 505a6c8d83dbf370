"""The Table of Neoplasms, the Table of Drugs and Chemicals, and External Cause Index walks.

Expected rows come from the official XML read here with ElementTree, independently of the builder.
"""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from medcoder.codesets import kbfile
from medcoder.codesets.icd10cm_index import AlphabeticIndex, build
from medcoder.codesets.icd10cm_index_model import DRUG_COLUMNS, NEOPLASM_COLUMNS
from medcoder.codesets.tables import Tables
from medcoder.errors import NotFoundError

FY2025 = ("icd10cm", "fy2025_april")


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def tables_kb(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    root = mirror_dir.joinpath(*FY2025)
    path = tmp_path_factory.mktemp("tables_kb") / "icd10cm_index.sqlite"
    conn = kbfile.create_kb(path)
    build(conn, {
        "index_csv": root / "derived_csv" / "ICD10CM_2025_Index.csv",
        "eindex_xml": root / "icd-10-cm-eindex-2025.xml",
        "neoplasm_xml": root / "icd-10-cm-neoplasm-2025.xml",
        "drug_xml": root / "icd-10-cm-drug-2025.xml",
    }, progress=_quiet)
    conn.close()
    reader = kbfile.open_kb(path)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def tables(tables_kb: sqlite3.Connection) -> Tables:
    return Tables(tables_kb, index=AlphabeticIndex(tables_kb))


def _xml_rows(path: Path) -> list[tuple[tuple[str, ...], tuple[str | None, ...]]]:
    """(printed path, six cells) for every term with cells, read with ElementTree."""
    rows: list[tuple[tuple[str, ...], tuple[str | None, ...]]] = []

    def printed(element: ET.Element) -> str:
        title = element.find("title")
        assert title is not None
        text = "".join(title.itertext())
        nemod = title.find("nemod")
        if nemod is not None and nemod.text and (title.text or "").strip():
            text = text.replace(nemod.text, " " + nemod.text, 1)
        return re.sub(r"\s+", " ", text).strip()

    def walk(element: ET.Element, trail: tuple[str, ...]) -> None:
        here = (*trail, printed(element))
        cells = {int(c.get("col", "0")): (c.text or "").strip() for c in element.findall("cell")}
        if any(v not in ("-", "--", "") for v in cells.values()):
            rows.append((here, tuple(None if cells.get(col, "-") in ("-", "--", "") else cells[col]
                                     for col in range(2, 8))))
        for child in element.findall("term"):
            walk(child, here)

    for main in ET.parse(path).getroot().iter("mainTerm"):
        walk(main, ())
    return rows


# --- Table of Neoplasms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("site", "path", "cells"), [
    (["colon"], ("Neoplasm, neoplastic", "colon"), ("C18.9", "C78.5", None, None, None, None)),
    (["intestine", "large", "colon"], ("Neoplasm, neoplastic", "intestine, intestinal", "large", "colon"),
     ("C18.9", "C78.5", "D01.0", "D12.6", "D37.4", "D49.0")),
    (["liver"], ("Neoplasm, neoplastic", "liver"), ("C22.9", "C78.7", "D01.5", "D13.4", "D37.6", "D49.0")),
    ("liver", ("Neoplasm, neoplastic", "liver"), ("C22.9", "C78.7", "D01.5", "D13.4", "D37.6", "D49.0")),
    (["Neoplasm", "liver", "primary"], ("Neoplasm, neoplastic", "liver", "primary"),
     ("C22.8", "C78.7", "D01.5", "D13.4", "D37.6", "D49.0")),
    ([], ("Neoplasm, neoplastic",), ("C80.1", "C79.9", "D09.9", "D36.9", "D48.9", "D49.9")),
    (["intestine, large, colon"], ("Neoplasm, neoplastic", "intestine, intestinal", "large", "colon"),
     ("C18.9", "C78.5", "D01.0", "D12.6", "D37.4", "D49.0")),
])
def test_tables_neoplasm_known_sites(tables: Tables, site: list[str] | str, path: tuple[str, ...],
                                     cells: tuple[str | None, ...]) -> None:
    row = tables.neoplasm(site)
    assert (row.path, tuple(row.columns.values()), row.matched, row.inherited) == (path, cells, True, False)
    assert tuple(row.columns) == NEOPLASM_COLUMNS


@pytest.mark.parametrize(("site", "see", "path"), [
    (["accessory sinus"], "Neoplasm, sinus", ("Neoplasm, neoplastic", "sinus")),
    (["bowel"], "Neoplasm, intestine", ("Neoplasm, neoplastic", "intestine, intestinal")),
])
def test_tables_neoplasm_follows_see(tables: Tables, site: list[str], see: str, path: tuple[str, ...]) -> None:
    row = tables.neoplasm(site)
    assert (row.walk.see, row.path, row.matched) == (see, path, True)
    assert row.malignant_primary is not None


@pytest.mark.parametrize(("site", "unmatched"), [(["no such organ"], ("no such organ",))])
def test_tables_neoplasm_unknown_site_keeps_main_row(tables: Tables, site: list[str],
                                                     unmatched: tuple[str, ...]) -> None:
    row = tables.neoplasm(site)
    assert (row.matched, row.walk.unmatched, row.malignant_primary) == (False, unmatched, "C80.1")


@pytest.mark.parametrize("book", ["neoplasm"])
def test_tables_neoplasm_every_row_matches_xml(tables: Tables, mirror_dir: Path, book: str) -> None:
    rows = _xml_rows(mirror_dir.joinpath(*FY2025, f"icd-10-cm-{book}-2025.xml"))
    assert len(rows) == 1_821
    wrong = [(path, cells) for path, cells in rows if tuple(tables.neoplasm(path).columns.values()) != cells]
    assert wrong == []


# --- Table of Drugs and Chemicals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("substance", "path", "cells"), [
    ("Oxycodone", ("Oxycodone",), ("T40.2X1", "T40.2X2", "T40.2X3", "T40.2X4", "T40.2X5", "T40.2X6")),
    ("Aspirin", ("Aspirin",), ("T39.011", "T39.012", "T39.013", "T39.014", "T39.015", "T39.016")),
    ("aspirin (soluble)", ("Aspirin",), ("T39.011", "T39.012", "T39.013", "T39.014", "T39.015", "T39.016")),
    ("Adrenalin", ("Adrenaline",), ("T44.5X1", "T44.5X2", "T44.5X3", "T44.5X4", "T44.5X5", "T44.5X6")),
    (["Acetic", "acid"], ("Acetic", "acid"), ("T54.2X1", "T54.2X2", "T54.2X3", "T54.2X4", None, None)),
    ("acetic acid", ("Acetic", "acid"), ("T54.2X1", "T54.2X2", "T54.2X3", "T54.2X4", None, None)),
])
def test_tables_drug_known_substances(tables: Tables, substance: str | list[str], path: tuple[str, ...],
                                      cells: tuple[str | None, ...]) -> None:
    row = tables.drug(substance)
    assert (row.path, tuple(row.columns.values()), row.matched) == (path, cells, True)
    assert tuple(row.columns) == DRUG_COLUMNS


@pytest.mark.parametrize("substance", ["Unobtainium", ""])
def test_tables_drug_unknown_substance(tables: Tables, substance: str) -> None:
    with pytest.raises(NotFoundError) as e:
        tables.drug(substance)
    assert e.value.code == "E514"


@pytest.mark.parametrize("book", ["drug"])
def test_tables_drug_every_row_matches_xml(tables: Tables, mirror_dir: Path, book: str) -> None:
    rows = _xml_rows(mirror_dir.joinpath(*FY2025, f"icd-10-cm-{book}-2025.xml"))
    assert len(rows) == 7_202
    wrong = [(path, cells) for path, cells in rows if tuple(tables.drug(path).columns.values()) != cells]
    assert wrong == []


# --- External Cause Index --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "code", "field", "value"), [
    (["Accident", "boat, boating", "striking swimmer", "powered"], "V94.11", None, None),
    (["Accident", "bare foot water skiier"], "V94.4", None, None),
    (["Lightning"], None, "subcat", "T75.0"),
    (["Strangulation"], None, "seecat", "T71"),
    (["Abandonment"], "X58", None, None),
])
def test_tables_eindex_walks(tables: Tables, path: list[str], code: str | None, field: str | None,
                             value: str | None) -> None:
    result = tables.index.walk(path, book="eindex")
    assert (result.code, result.matched) == (code, True)
    if field:
        assert getattr(result, field) == value


@pytest.mark.parametrize(("path", "see", "followed"), [
    (["Accident", "aircraft", "due to, caused by cataclysm"], "Forces of nature, by type", ("Forces of nature",)),
])
def test_tables_eindex_follows_see(tables: Tables, path: list[str], see: str,
                                   followed: tuple[str, ...]) -> None:
    result = tables.index.walk(path, book="eindex", follow_see=True)
    assert result.see == see
    assert result.followed is not None and result.followed.titles == followed
    assert result.code is not None and result.code.startswith("X")
