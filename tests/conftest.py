"""One global conftest: where the official files are, and a knowledge base built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medcoder.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path:
    env = os.environ.get("MEDCODER_MIRROR")
    return Path(env) if env else (REPO.parent / "shared" / "cms")


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The local mirror of official CMS/CDC files (``../shared/cms``); tests need the real files."""
    path = _mirror()
    if not (path / "README.md").exists():
        pytest.fail(f"official-file mirror not found at {path}; set MEDCODER_MIRROR")
    return path


@pytest.fixture(scope="session")
def tabular_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official FY2026 April ICD-10-CM Tabular XML as shipped by the pinned PyPI package."""
    import importlib.util

    # Locate the package without importing it: its import emits a DeprecationWarning.
    spec = importlib.util.find_spec("simple_icd_10_cm")
    assert spec is not None and spec.origin is not None, "simple-icd-10-cm==1.5.0 is not installed"
    path = Path(spec.origin).parent / "data" / "icd10c-tabular-April-1-2026.xml"
    assert path.exists(), path
    return path


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory, mirror_dir: Path) -> Settings:
    """Every release built from the mirror into a fresh MEDCODER_HOME, once per test session (worker)."""
    from medcoder.codesets.build import build_all

    home = tmp_path_factory.mktemp("medcoder-home")
    settings = Settings(home=home, mirror=mirror_dir, base_url=None)
    build_all(settings, progress=lambda message: None)
    return settings
