"""Atomic, skip-when-unchanged builds, tested on the real MCE release files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from medcoder.codesets import build as build_mod
from medcoder.codesets.build import build_release, existing_meta, kb_path
from medcoder.codesets.kbfile import open_kb
from medcoder.codesets.mce import Mce
from medcoder.codesets.sources import find_release
from medcoder.settings import Settings
from tests.codesets import failing_builder

MCE = find_release("mce")


def _quiet(message: str) -> None:
    pass


@pytest.fixture()
def settings(tmp_path: Path, mirror_dir: Path) -> Settings:
    return Settings(home=tmp_path / "home", mirror=mirror_dir, base_url=None)


@pytest.mark.parametrize("release", [MCE])
def test_build_records_sources_and_skips_when_unchanged(settings: Settings, release: object) -> None:
    first = build_release(MCE, settings, progress=_quiet)
    assert not first.skipped and first.counts["cm_codes"] == 75909
    meta = existing_meta(first.path)
    assert meta is not None
    assert {s["key"]: s["sha256"] for s in meta["sources"]} == {f.key: f.sha256 for f in MCE.files}
    assert meta["effective_to"] == "2027-03-31"
    second = build_release(MCE, settings, progress=_quiet)
    assert second.skipped and second.path == first.path
    forced = build_release(MCE, settings, force=True, progress=_quiet)
    assert not forced.skipped


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_build_failure_keeps_previous_kb(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                         exc: type[BaseException]) -> None:
    good = build_release(MCE, settings, progress=_quiet)
    before = good.path.read_bytes()
    monkeypatch.setattr(failing_builder, "RAISE", exc)
    broken = replace(MCE, builder="tests.codesets.failing_builder")
    with pytest.raises(Exception if exc is RuntimeError else KeyboardInterrupt):
        build_release(broken, settings, progress=_quiet)
    assert good.path.read_bytes() == before, "the previous knowledge base is untouched"
    leftovers = [p.name for p in good.path.parent.iterdir() if p != good.path]
    assert leftovers == [], f"nothing half-built is left behind: {leftovers}"


@pytest.mark.parametrize("release", [MCE])
def test_build_rejects_corrupted_source_before_building(tmp_path: Path, mirror_dir: Path,
                                                        release: object) -> None:
    bad = tmp_path / "mirror"
    for f in MCE.files:
        (bad / f.relpath).parent.mkdir(parents=True, exist_ok=True)
        (bad / f.relpath).write_bytes((mirror_dir / f.relpath).read_bytes())
    target = bad / MCE.files[0].relpath
    data = bytearray(target.read_bytes())
    data[500] = ord("9") if data[500] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    settings = Settings(home=tmp_path / "home", mirror=bad, base_url=None)
    with pytest.raises(Exception, match="E103"):
        build_release(MCE, settings, progress=_quiet)
    assert not kb_path(MCE, settings).exists()


@pytest.mark.parametrize(("code", "day", "valid"), [
    ("E1122", "2025-10-01", True),
    ("E11.22", "2015-10-01", True),
    ("U07.1", "2019-12-31", False),   # COVID-19 code effective 2020-04-01
    ("U07.1", "2020-04-01", True),
    ("N18.31", "2020-09-30", False),  # CKD stage 3a/3b split effective FY2021
    ("N18.31", "2020-10-01", True),
    ("N18.3", "2020-10-01", False),   # became a header when N18.30-N18.32 were added
])
def test_mce_validity_by_date(settings: Settings, code: str, day: str, valid: bool) -> None:
    from datetime import date

    path = build_release(MCE, settings, progress=_quiet).path
    mce = Mce(open_kb(path))
    assert mce.is_valid(code, date.fromisoformat(day)) is valid


@pytest.mark.parametrize(("day", "system", "expected"), [
    ("2025-10-01", "cm", 74719), ("2026-10-01", "cm", 74879),
    ("2025-10-01", "pcs", 79115), ("2026-10-01", "pcs", 79256),
])
def test_mce_valid_code_counts_match_published_sizes(settings: Settings, day: str, system: str,
                                                     expected: int) -> None:
    from datetime import date

    mce = Mce(open_kb(build_release(MCE, settings, progress=_quiet).path))
    assert len(mce.valid_codes(date.fromisoformat(day), system=system)) == expected


def test_build_module_exposes_select() -> None:
    assert {r.kind for r in build_mod.select(["mce"])} == {"mce"}
