"""NCCI PTP (2024-Q3), MUE and AOC (2026-Q2) knowledge bases: counts equal the source files, malformed
sources stop the build with a coded error naming the file and line.
"""

from __future__ import annotations

import lzma
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from medcoder.codesets import ncci_aoc, ncci_mue, ncci_ptp
from medcoder.codesets.build import build_release, existing_meta, kb_path
from medcoder.codesets.kbfile import create_kb
from medcoder.codesets.status import release_status
from medcoder.errors import BuildError, SourceError
from medcoder.settings import Settings
from tests.edits.ncci_sources import AOC, MUE, PTP, aoc_rows, mirror_file, mue_rows, ptp_scan, quiet

# -- builds: counts equal the source files ------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "key"), [("practitioner", "practitioner_csv"), ("outpatient", "outpatient_csv")])
def test_ncci_ptp_build_counts_match_source(kb_settings: Settings, mirror_dir: Path, setting: str, key: str) -> None:
    scan = ptp_scan(mirror_file(mirror_dir, PTP, key))
    meta = existing_meta(kb_path(PTP, kb_settings)) or {}
    assert meta["counts"][f"{setting}_rows"] == scan["rows"]
    assert meta["counts"][f"{setting}_not_deleted"] == scan["not_deleted"]
    assert meta["counts"]["rationales"] == 12
    assert (scan["rows"], scan["not_deleted"]) in ((2_546_017, 1_669_820), (1_775_818, 1_335_857))  # SOURCE.md


@pytest.mark.parametrize("key", ["practitioner_csv"])
def test_ncci_mue_build_counts_match_source(kb_settings: Settings, mirror_dir: Path, key: str) -> None:
    rows = mue_rows(mirror_file(mirror_dir, MUE, key))
    counts = (existing_meta(kb_path(MUE, kb_settings)) or {})["counts"]
    by_mai = Counter(mai for _, mai, _ in rows.values())
    assert counts == {"practitioner_codes": len(rows), "mai_1": by_mai[1], "mai_2": by_mai[2], "mai_3": by_mai[3]}
    assert len(rows) == 15_095


@pytest.mark.parametrize("key", ["aoc_xlsx"])
def test_ncci_aoc_build_counts_match_source(kb_settings: Settings, mirror_dir: Path, key: str) -> None:
    rows = aoc_rows(mirror_file(mirror_dir, AOC, key))
    counts = (existing_meta(kb_path(AOC, kb_settings)) or {})["counts"]
    types = Counter(r[0] for r in rows)
    assert counts == {"rows": len(rows), "addon_codes": len({r[1] for r in rows}), "type_1_rows": types["1"],
                      "type_2_rows": types["2"], "type_3_rows": types["3"]}


@pytest.mark.parametrize("name", ["ncci-ptp/2024-Q3", "ncci-mue/2026-Q2", "ncci-aoc/2026-Q2"])
def test_ncci_releases_listed_by_data_status(kb_settings: Settings, name: str) -> None:
    row = next(r for r in release_status(kb_settings) if r["name"] == name)
    assert row["built"] and row["counts"] and row["lacks"]
    assert all(s["pinned"] and s["origin"] in ("mirror", "cache (mirror)") for s in row["sources"])


@pytest.mark.parametrize("max_bytes_per_row", [30])
def test_ncci_ptp_kb_is_small(kb_settings: Settings, max_bytes_per_row: int) -> None:
    path = kb_path(PTP, kb_settings)
    counts = (existing_meta(path) or {})["counts"]
    rows = counts["practitioner_rows"] + counts["outpatient_rows"]
    # Codes and rationales are stored as small integers: about 22 bytes a row (95 MB for 4.3 M rows).
    assert path.stat().st_size < max_bytes_per_row * rows


@pytest.mark.parametrize("rows", [300_000])
def test_ncci_ptp_build_partial_table(tmp_path: Path, mirror_dir: Path, rows: int) -> None:
    # Speed is measured by bench/bench_build.py, never asserted here.
    p_path, p_text = _small_ptp(tmp_path, mirror_dir, "practitioner_csv", rows + 1)
    o_path, o_text = _small_ptp(tmp_path, mirror_dir, "outpatient_csv", 2)
    files = {"practitioner_csv": _write_xz(p_path, p_text), "outpatient_csv": _write_xz(o_path, o_text)}
    conn = create_kb(tmp_path / "kb.sqlite")
    counts = ncci_ptp.build(conn, files, progress=quiet)
    conn.commit()
    conn.close()
    assert counts["practitioner_rows"] == rows


# -- malformed sources: a clear BuildError naming the file and line ------------------------------------------

def _small_ptp(tmp_path: Path, mirror_dir: Path, key: str, lines: int = 2000) -> tuple[Path, list[str]]:
    """The header and first rows of a real PTP table, as text lines (re-compressed by ``_write_xz``)."""
    with lzma.open(mirror_file(mirror_dir, PTP, key), "rt", encoding="ascii", newline="") as handle:
        text = [next(handle) for _ in range(lines)]
    return tmp_path / f"{key}.csv.xz", text


def _write_xz(path: Path, text: list[str]) -> Path:
    with lzma.open(path, "wt", encoding="ascii", newline="") as handle:
        handle.write("".join(text))
    return path


def _build_ptp(tmp_path: Path, mirror_dir: Path, edit: Callable[[list[str]], list[str]]) -> BuildError:
    p_path, p_text = _small_ptp(tmp_path, mirror_dir, "practitioner_csv")
    o_path, o_text = _small_ptp(tmp_path, mirror_dir, "outpatient_csv")
    files = {"practitioner_csv": _write_xz(p_path, p_text), "outpatient_csv": _write_xz(o_path, edit(o_text))}
    conn = create_kb(tmp_path / "kb.sqlite")
    try:
        with pytest.raises(BuildError) as info:
            ncci_ptp.build(conn, files, progress=quiet)
    finally:
        conn.close()
    return info.value


@pytest.mark.parametrize("lines", [2000])
def test_ncci_ptp_small_tables_build_and_count(tmp_path: Path, mirror_dir: Path, lines: int) -> None:
    p_path, p_text = _small_ptp(tmp_path, mirror_dir, "practitioner_csv", lines)
    o_path, o_text = _small_ptp(tmp_path, mirror_dir, "outpatient_csv", lines)
    conn = create_kb(tmp_path / "kb.sqlite")
    counts = ncci_ptp.build(conn, {"practitioner_csv": _write_xz(p_path, p_text),
                                   "outpatient_csv": _write_xz(o_path, o_text)}, progress=quiet)
    conn.close()
    assert counts["practitioner_rows"] == counts["outpatient_rows"] == lines - 1
    assert counts["practitioner_not_deleted"] == sum(1 for t in p_text[1:] if ",99991231," in t)


def _replace_line(number: int, new: str) -> Callable[[list[str]], list[str]]:
    return lambda text: [*text[:number - 1], new, *text[number:]]


@pytest.mark.parametrize(("edit", "error", "line", "fragment"), [
    (_replace_line(5, "0001A,0591T,20231231,7,CPT Manual or CMS manual coding instruction\n"), "E202", 5, "row"),
    (_replace_line(6, "0001A,0591T,20231332,1,CPT Manual or CMS manual coding instruction\n"), "E202", 6,
     "not a date"),
    (_replace_line(7, "0001A,0591T,20231231,1\n"), "E202", 7, "row"),
    (_replace_line(1, "col1,col2,deleted,modifier,rationale\n"), "E201", 1, "header"),
    (lambda text: [*text[:9], text[8], *text[9:]], "E243", 10, "listed twice"),
    (lambda text: [], "E201", 1, "empty"),
    (lambda text: text[:1], "E201", 2, "no edit"),
])
def test_ncci_ptp_build_names_file_and_line_of_malformed_input(tmp_path: Path, mirror_dir: Path,
                                                               edit: Callable[[list[str]], list[str]], error: str,
                                                               line: int, fragment: str) -> None:
    failure = _build_ptp(tmp_path, mirror_dir, edit)
    assert failure.code == error and fragment in failure.message
    assert failure.where == f"{tmp_path / 'outpatient_csv.csv.xz'}:{line}"


@pytest.mark.parametrize("keep", [0.5])
def test_ncci_ptp_build_refuses_truncated_stream(tmp_path: Path, mirror_dir: Path, keep: float) -> None:
    data = mirror_file(mirror_dir, PTP, "outpatient_csv").read_bytes()
    cut = tmp_path / "outpatient_csv.csv.xz"
    cut.write_bytes(data[:int(len(data) * keep)])
    p_path, p_text = _small_ptp(tmp_path, mirror_dir, "practitioner_csv")
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        ncci_ptp.build(conn, {"practitioner_csv": _write_xz(p_path, p_text), "outpatient_csv": cut},
                       progress=quiet)
    conn.close()
    assert info.value.code == "E202" and "unreadable xz stream" in info.value.message
    assert str(info.value.where).startswith(f"{cut}:")


def _mue_variant(tmp_path: Path, mirror_dir: Path, old: str, new: str) -> tuple[Path, int]:
    """The MUE CSV with ``old`` (at a line start) replaced; returns the copy and that physical line."""
    text = mirror_file(mirror_dir, MUE, "practitioner_csv").read_bytes().decode("cp1252")
    lines = text.split("\n")
    number = next(i for i, t in enumerate(lines, start=1) if t.startswith(old))
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path = tmp_path / "mue.csv"
    path.write_bytes("\n".join(lines).encode("cp1252"))
    return path, number


@pytest.mark.parametrize(("old", "new", "error", "fragment"), [
    ("0001U,1,2 Date", "0001U,x,2 Date", "E202", "whole number"),
    ("0002M,1,3 Date", "0002M,1,4 Date", "E202", "1, 2 or 3"),
    ("0002U,1,2 Date", "0001U,1,2 Date", "E243", "listed twice"),
    ("0003M,1,3 Date of Service Edit: Clinical,Nature of Analyte", "0003M,1", "E202", "fields"),
    ("0003U,1,2", "03U,1,2", "E202", "not a HCPCS/CPT code"),
])
def test_ncci_mue_build_names_file_and_line_of_malformed_input(tmp_path: Path, mirror_dir: Path, old: str,
                                                               new: str, error: str, fragment: str) -> None:
    path, line = _mue_variant(tmp_path, mirror_dir, old, new)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        ncci_mue.build(conn, {"practitioner_csv": path}, progress=quiet)
    conn.close()
    assert info.value.code == error and fragment in info.value.message
    assert info.value.where == f"{path}:{line}"


@pytest.mark.parametrize(("old", "new"), [('"HCPCS/', '"HCPCS'),
                                          ('CPT Code",Practitioner Services MUE Values', 'CPT Code",Values')])
def test_ncci_mue_build_needs_its_header_row(tmp_path: Path, mirror_dir: Path, old: str, new: str) -> None:
    path, _ = _mue_variant(tmp_path, mirror_dir, old, new)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        ncci_mue.build(conn, {"practitioner_csv": path}, progress=quiet)
    conn.close()
    assert info.value.code == "E201" and "header" in info.value.message


def _aoc_variant(tmp_path: Path, mirror_dir: Path, cell: str, value: Any) -> Path:
    book = openpyxl.load_workbook(mirror_file(mirror_dir, AOC, "aoc_xlsx"))
    book.worksheets[0][cell] = value
    path = tmp_path / "aoc.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize(("cell", "value", "error", "row", "fragment"), [
    ("F5", "2013400", "E202", 5, "Julian"),
    ("A6", "4", "E202", 6, "1, 2 or 3"),
    ("D7", "CCCCC", "E202", 7, "type 1"),
    ("G8", "2000001", "E202", 8, "ends before it starts"),
    ("B2", "Addon", "E201", 2, "header"),
])
def test_ncci_aoc_build_names_file_and_row_of_malformed_input(tmp_path: Path, mirror_dir: Path, cell: str,
                                                              value: Any, error: str, row: int,
                                                              fragment: str) -> None:
    rows = aoc_rows(mirror_file(mirror_dir, AOC, "aoc_xlsx"))
    assert rows[row - 3][0] == "1" or row == 2           # rows 5-8 are type 1 edits in the real file
    path = _aoc_variant(tmp_path, mirror_dir, cell, value)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        ncci_aoc.build(conn, {"aoc_xlsx": path}, progress=quiet)
    conn.close()
    assert info.value.code == error and fragment in info.value.message
    assert info.value.where == f"{path}:{row}"


@pytest.mark.parametrize("key", ["practitioner_csv"])
def test_ncci_mue_build_refuses_tampered_mirror_file(tmp_path: Path, mirror_dir: Path, key: str) -> None:
    source = mirror_file(mirror_dir, MUE, key)
    mirror = tmp_path / "mirror"
    tampered = mirror / next(f.relpath for f in MUE.files if f.key == key)
    tampered.parent.mkdir(parents=True)
    shutil.copyfile(source, tampered)
    data = tampered.read_bytes()
    tampered.write_bytes(data.replace(b"99486,4,", b"99486,9,", 1))
    settings = Settings(home=tmp_path / "home", mirror=mirror, base_url=None)
    with pytest.raises(SourceError) as info:
        build_release(MUE, settings, progress=quiet)
    assert info.value.code == "E103"
    assert not kb_path(MUE, settings).exists()


