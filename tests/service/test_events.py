"""The audit chain: every change is an event; any edit, removal or insertion is found by verify."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from medcoder.ingest.detect import read_record
from medcoder.service import export, process, review
from medcoder.service.auth import SYSTEM, Actor
from medcoder.service.events import GENESIS, record_event

CODER = Actor(name="ann", role="coder")


def _activity(service: Any) -> int:
    sub = process.submit_record(service, record=read_record(b"ASSESSMENT\nEssential hypertension.\n"), actor=CODER)
    row = process.encounter_detail(service, encounter_id=sub.encounter_id, actor=CODER)["suggestions"][0]
    review.decide(service, suggestion_id=row["id"], version=row["version"], decision="accept", actor=CODER)
    return sub.encounter_id


def _verify(service: Any) -> Any:
    return export.verify_chain(service, actor=SYSTEM)


@pytest.mark.parametrize("events", [3])
def test_events_chain_verifies(service: Any, events: int) -> None:
    assert _verify(service).ok and _verify(service).events == 0 and _verify(service).head == GENESIS
    _activity(service)
    report = _verify(service)
    assert report.ok and report.events == events


@pytest.mark.parametrize(("tamper", "reason"), [
    ("UPDATE audit_event SET actor = 'mallory' WHERE id = 2", "changed"),
    ("UPDATE audit_event SET after = '{\"status\": \"rejected\"}' WHERE id = 3", "changed"),
    ("DELETE FROM audit_event WHERE id = 2", "removed"),
    ("UPDATE audit_event SET at = at WHERE id = 1", None)])
def test_events_tampering_is_detected(service: Any, tamper: str, reason: str | None) -> None:
    _activity(service)
    with service.db.write() as session:
        session.execute(text(tamper))
        session.commit()
    report = _verify(service)
    if reason is None:  # a no-op update changes nothing: still valid
        assert report.ok
        return
    assert not report.ok and reason in (report.reason or "") and report.bad_event in (2, 3)


@pytest.mark.parametrize("threads", [6])
def test_events_concurrent_appends_never_fork(service: Any, threads: int) -> None:
    barrier = threading.Barrier(threads)

    def append(n: int) -> None:
        barrier.wait()
        for i in range(5):
            with service.db.write() as session:
                record_event(session, actor=f"t{n}", action="test.append", entity_type="test", entity_id=i,
                             encounter_id=None, after={"n": n, "i": i})
                session.commit()

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    report = _verify(service)
    assert report.ok and report.events == threads * 5
