"""The CPT loader on synthetic files only: CPT text is AMA-licensed and never enters this repository.

Every descriptor here is made up ("Synthetic descriptor for tests N").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medcoder.codesets import cpt
from medcoder.codesets.cpt import Cpt
from medcoder.codesets.kbfile import create_kb, open_kb
from medcoder.errors import CodeFormatError, SourceError

D = "Synthetic descriptor for tests"


def _quiet(message: str) -> None:
    pass


def _load(tmp_path: Path, content: str | bytes, name: str = "cpt.txt") -> Cpt:
    source = tmp_path / name
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content, encoding="utf-8")
    kb = tmp_path / "cpt.sqlite"
    conn = create_kb(kb)
    cpt.build(conn, {"cpt_file": source}, progress=_quiet)
    conn.close()
    return Cpt(open_kb(kb))


def _fails(tmp_path: Path, content: str, name: str = "cpt.txt") -> SourceError:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    conn = create_kb(tmp_path / "cpt.sqlite")
    with pytest.raises(SourceError) as info:
        cpt.build(conn, {"cpt_file": source}, progress=_quiet)
    conn.close()
    return info.value


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(f"CPT Code,Short Descriptor,Long Descriptor\n99990,Short 1,\"{D} 1, with a comma\"\n"
                 f"0001F,Short 2,{D} 2\n0002T,Short 3,{D} 3\n",
                 {"99990": f"{D} 1, with a comma", "0001F": f"{D} 2", "0002T": f"{D} 3"}, id="csv-header"),
    pytest.param(f"99990\t{D} 1\n0003U\t{D} 2\n", {"99990": f"{D} 1", "0003U": f"{D} 2"}, id="tsv-no-header"),
    pytest.param(f"code|descriptor\n99990|{D} 1\n0004M|{D} 2\n", {"99990": f"{D} 1", "0004M": f"{D} 2"},
                 id="pipe-header"),
    pytest.param(f"99990 {D} 1\n0001F   {D}, 2\n00100  {D} 3   \n",
                 {"99990": f"{D} 1", "0001F": f"{D}, 2", "00100": f"{D} 3"}, id="longult-fixed-width"),
    pytest.param(f"HCPCS  LONG DESCRIPTION\n99990 {D} 1\n99991 {D} 2\n",
                 {"99990": f"{D} 1", "99991": f"{D} 2"}, id="fixed-width-header"),
    pytest.param(f"99990,{D}, unquoted 1\n99991,{D} 2\n99992,{D} 3\n",
                 {"99990": f"{D}, unquoted 1", "99991": f"{D} 2", "99992": f"{D} 3"},
                 id="csv-unquoted-commas"),
    pytest.param(f"id;cpt;text\n1;99990;{D} 1\n2;99991;{D} 2\n", {"99990": f"{D} 1", "99991": f"{D} 2"},
                 id="semicolon-code-in-second-column"),
    pytest.param(f"\ufeffcode,descriptor\n99990,{D} 1\n99990,{D} 1\n", {"99990": f"{D} 1"},
                 id="bom-and-identical-duplicate"),
    pytest.param(f"99990\t{D} caf\u00e9\n".encode("cp1252"), {"99990": f"{D} caf\u00e9"}, id="cp1252"),
])
def test_cpt_formats_detected(tmp_path: Path, content: str | bytes, expected: dict[str, str]) -> None:
    reader = _load(tmp_path, content)
    assert reader.count() == len(expected)
    for code, descriptor in expected.items():
        entry = reader.get(code.lower())
        assert entry is not None and (entry.code, entry.descriptor) == (code, descriptor)


@pytest.mark.parametrize(("code", "category"), [("99990", "I"), ("0001F", "II"), ("0002T", "III"),
                                                ("0003U", "PLA"), ("0004M", "MAAA"), ("0005A", "I")])
def test_cpt_category(tmp_path: Path, code: str, category: str) -> None:
    entry = _load(tmp_path, f"{code}\t{D} 1\n").get(code)
    assert entry is not None and entry.category == category and entry.line == 1


@pytest.mark.parametrize(("code", "present"), [("99990", True), ("99999", False)])
def test_cpt_get(tmp_path: Path, code: str, present: bool) -> None:
    assert (_load(tmp_path, f"99990,{D} 1\n99991,{D} 2\n").get(code) is not None) is present


@pytest.mark.parametrize(("query", "code"), [("synthetic descriptor 2", "99991")])
def test_cpt_search_fts(tmp_path: Path, query: str, code: str) -> None:
    reader = _load(tmp_path, f"99990,{D} 1\n99991,{D} 2\n")
    hits = reader.conn.execute(
        "SELECT code, kind FROM search_fts WHERE search_fts MATCH ? ORDER BY rank", (query,)).fetchall()
    assert (code, "cpt") in hits


@pytest.mark.parametrize(("content", "error", "line"), [
    pytest.param("name,value\nfoo,bar\nbaz,qux\n", "E331", 1, id="no-code-column"),
    pytest.param("just some prose\nwith no codes at all\n", "E331", 1, id="prose"),
    pytest.param("code,other\n99990,\n99991,\n", "E332", 1, id="no-descriptor-column"),
    pytest.param("".join(f"9999{i},{D} {i}\n" for i in range(10)) + f"ABCDE,{D} x\n", "E333", 11,
                 id="malformed-code-line"),
    pytest.param(f"code,descriptor\n99990,{D} 1\n99990,{D} 9\n", "E334", 3, id="duplicate-different-text"),
    pytest.param(f"code\tdescriptor\n99990\t{D} 1\n99991\t   \n", "E335", 3, id="empty-descriptor"),
    pytest.param(f"99990 {D} 1\n99991\n", "E335", 2, id="fixed-width-missing-descriptor"),
    pytest.param("\n  \n", "E330", None, id="empty-file"),
])
def test_cpt_bad_file_raises(tmp_path: Path, content: str, error: str, line: int | None) -> None:
    failure = _fails(tmp_path, content)
    assert failure.code == error
    path = str(tmp_path / "cpt.txt")
    assert failure.where == (path if line is None else f"{path}:{line}")


@pytest.mark.parametrize(("files", "error"), [({}, "E337"), ({"cpt_file": "missing.csv"}, "E330")])
def test_cpt_build_needs_a_readable_file(tmp_path: Path, files: dict[str, str], error: str) -> None:
    conn = create_kb(tmp_path / "cpt.sqlite")
    with pytest.raises(SourceError) as info:
        cpt.build(conn, {k: tmp_path / v for k, v in files.items()}, progress=_quiet)
    conn.close()
    assert info.value.code == error


@pytest.mark.parametrize(("code", "hint"), [("J1100", "HCPCS Level II"), ("9999", "5 digits"),
                                            ("99990X", "5 digits"), ("0001Z", "5 digits")])
def test_cpt_malformed_code_raises(tmp_path: Path, code: str, hint: str) -> None:
    reader = _load(tmp_path, f"99990,{D} 1\n")
    with pytest.raises(CodeFormatError) as info:
        reader.get(code)
    assert info.value.code == "E336" and hint in str(info.value) and repr(code) in str(info.value)
