"""The working database: migrations from empty on SQLite and PostgreSQL, schema = models, portable types."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from medcoder.store import repo
from medcoder.store.db import Database, current_revision, downgrade, head_revision, make_engine, open_database, upgrade
from medcoder.store.tables import Base

TABLES = {"patient", "encounter", "document", "coding_run", "code_suggestion", "documentation_query",
          "audit_event", "api_key"}


@pytest.mark.parametrize("cycles", [2])
def test_db_migrates_from_empty_and_back(db_url: str, cycles: int) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        for _ in range(cycles):
            upgrade(engine)
            assert current_revision(engine) == head_revision() == "0001"
            assert TABLES <= set(inspect(engine).get_table_names())
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff  # the migrations build exactly what the models declare
            downgrade(engine)
            assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(db_url)  # by URL, as the CLI and the server do; and idempotent
        upgrade(db_url)
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()


@pytest.mark.parametrize("pragma,expected", [("journal_mode", "wal"), ("foreign_keys", 1)])
def test_db_sqlite_settings(tmp_path, pragma: str, expected: object) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        with db.read() as session:
            assert session.execute(text(f"PRAGMA {pragma}")).scalar() == expected
    finally:
        db.dispose()


@pytest.mark.parametrize("bad_encounter", [987654])
def test_db_foreign_keys_are_enforced(db_url: str, bad_encounter: int) -> None:
    db = open_database(db_url)
    try:
        with db.write() as session, pytest.raises(IntegrityError):
            repo.add_document(session, encounter_id=bad_encounter, format="text", content=b"x", text="x",
                              sha256="0" * 64)
    finally:
        db.dispose()


@pytest.mark.parametrize("dup", ["a" * 64])
def test_db_document_hash_is_unique(db_url: str, dup: str) -> None:
    db = open_database(db_url)
    try:
        with db.write() as session:
            enc = repo.add_encounter(session, patient_id=None, external_id="E1", setting="outpatient",
                                     date_of_service=date(2026, 3, 14))
            repo.add_document(session, encounter_id=enc.id, format="text", content=b"x", text="x", sha256=dup)
            with pytest.raises(IntegrityError):
                repo.add_document(session, encounter_id=enc.id, format="text", content=b"y", text="y", sha256=dup)
    finally:
        db.dispose()


_evidence = st.fixed_dictionaries({"start": st.integers(0, 10**6), "end": st.integers(0, 10**6),
                                   "text": st.text(st.characters(blacklist_categories=("Cs",),
                                                                 blacklist_characters="\x00"), max_size=40)})


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('rt') / 'rt.sqlite'}")
    yield db
    db.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200), evidence=st.lists(_evidence, max_size=4),
       rationale=st.lists(st.text(max_size=30).filter(lambda s: "\x00" not in s), max_size=4),
       confidence=st.floats(0, 1))
def test_db_row_round_trip(sqlite_db: Database, content: bytes, evidence: list, rationale: list,
                           confidence: float) -> None:
    """Bytes, JSON evidence and rationale come back exactly as stored."""
    import hashlib
    import uuid

    with sqlite_db.write() as session:
        enc = repo.add_encounter(session, patient_id=None, external_id=None, setting="inpatient", date_of_service=None)
        doc = repo.add_document(session, encounter_id=enc.id, format="text", content=content, text="t",
                                sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest())
        row = repo.add_suggestion(session, encounter_id=enc.id, run_id=None, system="ICD-10-CM", code="I10",
                                  title="t", sequence=1, confidence=confidence, evidence=evidence, rationale=rationale)
        session.commit()
        ids = (doc.id, row.id)
    with sqlite_db.read() as session:
        doc2 = repo.document_by_hash(session, sha256=doc.sha256)
        row2 = repo.get_suggestion(session, suggestion_id=ids[1])
        assert doc2 is not None and row2 is not None
        assert doc2.content == content
        assert (row2.evidence, row2.rationale, row2.confidence) == (evidence, rationale, confidence)
