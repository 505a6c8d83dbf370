"""One global conftest: where the official files are, and a knowledge base built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    """Every release built from the mirror into a fresh MEDCODER_HOME, once per test run.

    Under pytest-xdist the workers share one home beside their own temp dirs: the first builds it under a file
    lock, the others find it built (the build skips releases whose sources are unchanged). Tests treat it as
    read-only; a test that writes a knowledge base makes its own home.
    """
    import fcntl

    from medcoder.codesets.build import build_all

    if os.environ.get("PYTEST_XDIST_WORKER"):
        home = tmp_path_factory.getbasetemp().parent / "medcoder-home"
    else:
        home = tmp_path_factory.mktemp("medcoder-home")
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, mirror=mirror_dir, base_url=None)
    with (home.parent / "medcoder-home.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            build_all(settings, progress=lambda message: None)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return settings


@pytest.fixture(scope="module")
def codesets_on(kb_settings: Settings) -> Any:
    """``codesets_on(day)``: the releases in force on a date of service, opened once per module and date."""
    from medcoder.codesets.codesets import Codesets

    made: dict[Any, Codesets] = {}

    def get(day: Any) -> Codesets:
        if day not in made:
            made[day] = Codesets.for_date(day, settings=kb_settings)
        return made[day]

    yield get
    for codesets in made.values():
        codesets.close()


# -- working database (issue 5): every store/service/api test runs on SQLite and on PostgreSQL ----------

PG_URL = os.environ.get("MEDCODER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    import psycopg

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as e:  # any failure to connect means: skip the PostgreSQL half, saying why
        return f"PostgreSQL at {PG_URL} unreachable: {type(e).__name__}: {e}".strip()


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    reason = _pg_unreachable()
    if reason:
        print(f"\n[medcoder tests] {reason}; PostgreSQL cases are skipped")
    return reason


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_available: str | None) -> Iterator[str]:
    """An empty database of each kind: a fresh SQLite file, or a fresh PostgreSQL schema of its own
    (unique per test and per xdist worker; dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'work.sqlite'}"
        return
    if pg_available:
        pytest.skip(pg_available)
    import uuid

    import psycopg

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"t_{worker}_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture()
def service(db_url: str, kb_settings: Settings) -> Iterator[Any]:
    """The service over a migrated empty database and the baseline coder on the real knowledge base."""
    from medcoder.service.coder import search_coder
    from medcoder.service.context import kb_title_of, open_service

    svc = open_service(db_url, coder=search_coder(kb_settings), title_of=kb_title_of(kb_settings),
                       pepper="test-pepper-0123456789")
    yield svc
    svc.close()
