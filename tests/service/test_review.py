"""Submitting, coding, reviewing and re-coding on SQLite and PostgreSQL with the real knowledge base."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from medcoder.errors import AuthError, CodeFormatError, ConflictError, EntityNotFoundError, MedcoderError
from medcoder.ingest.detect import read_record
from medcoder.model.suggestion import DocumentationQuery, Evidence
from medcoder.service import export, process, review
from medcoder.service.auth import Actor
from medcoder.service.coder import CodingRequest, CodingResult, search_coder
from medcoder.settings import Settings

NOTE = (b"CHIEF COMPLAINT\nElbow pain.\n\nASSESSMENT AND PLAN\nEssential hypertension.\n"
        b"Lateral epicondylitis, right elbow.\n")
CODER = Actor(name="ann", role="coder")
AUDITOR = Actor(name="bob", role="auditor")


def _submit(service: Any, content: bytes = NOTE) -> process.Submitted:
    return process.submit_record(service, record=read_record(content, record_id="R1"), actor=CODER)


def _detail(service: Any, encounter_id: int) -> dict[str, Any]:
    return process.encounter_detail(service, encounter_id=encounter_id, actor=CODER)


@pytest.mark.parametrize("expected", [{"I10", "M77.11"}])
def test_search_coder_codes_with_evidence(kb_settings: Settings, expected: set[str]) -> None:
    text = NOTE.decode()
    result = search_coder(kb_settings)(CodingRequest(text=text))
    assert {s.code for s in result.suggestions} == expected
    for s in result.suggestions:
        assert [text[e.start:e.end] for e in s.evidence] == [e.text for e in s.evidence]
        assert s.rationale and result.releases["icd10cm-tabular"] == "FY2026-APR"


@pytest.mark.parametrize("times", [2])
def test_process_submit_is_idempotent_and_keeps_bytes(service: Any, times: int) -> None:
    first = _submit(service)
    for _ in range(times):
        again = _submit(service)
        assert (again.created, again.encounter_id, again.run_id) == (False, first.encounter_id, first.run_id)
    content, fmt = process.original_document(service, encounter_id=first.encounter_id, actor=CODER)
    assert (content, fmt) == (NOTE, "text")
    detail = _detail(service, first.encounter_id)
    assert {s["code"] for s in detail["suggestions"]} == {"I10", "M77.11"}
    assert detail["external_id"] == "R1" and len(detail["runs"]) == 1 and detail["status"] == "new"


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_review_stale_version_is_a_conflict(service: Any, decision: str) -> None:
    sub = _submit(service)
    first = _detail(service, sub.encounter_id)["suggestions"][0]
    review.decide(service, suggestion_id=first["id"], version=first["version"], decision="accept", actor=CODER)
    other = Actor(name="carl", role="coder")
    with pytest.raises(ConflictError) as info:  # carl saves on the version he read before ann's change
        review.decide(service, suggestion_id=first["id"], version=first["version"], decision=decision, actor=other)
    assert info.value.code == "E620" and "ann" in info.value.message
    now = _detail(service, sub.encounter_id)["suggestions"][0]
    assert (now["status"], now["decided_by"]) == ("accepted", "ann")


@pytest.mark.parametrize("writers", [4])
def test_review_concurrent_writers_one_wins(service: Any, writers: int) -> None:
    """Coders racing on the same version: exactly one succeeds, the others get E620; nothing is lost."""
    sub = _submit(service)
    target = _detail(service, sub.encounter_id)["suggestions"][1]
    outcomes: list[str] = []
    barrier = threading.Barrier(writers)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            review.decide(service, suggestion_id=target["id"], version=target["version"], decision="reject",
                          actor=Actor(name=f"coder{n}", role="coder"), note=str(n))
            outcomes.append("ok")
        except ConflictError as e:
            outcomes.append(e.code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["E620"] * (writers - 1) + ["ok"]
    events = export.audit_history(service, encounter_id=sub.encounter_id, actor=CODER)
    assert [e["action"] for e in events].count("code.reject") == 1


@pytest.mark.parametrize("new_code", ["m7712"])
def test_review_modify_add_complete_approve_export(service: Any, new_code: str) -> None:
    sub = _submit(service)
    i10, m77 = sorted(_detail(service, sub.encounter_id)["suggestions"], key=lambda s: s["code"])
    review.decide(service, suggestion_id=i10["id"], version=i10["version"], decision="accept", actor=CODER)
    modified = review.decide(service, suggestion_id=m77["id"], version=m77["version"], decision="modify",
                             code=new_code, actor=CODER, note="left per op note")
    assert (modified["code"], modified["original_code"], modified["status"]) == ("M77.12", "M77.11", "modified")
    assert modified["title"] == "Lateral epicondylitis, left elbow"
    enc = _detail(service, sub.encounter_id)
    added = review.add_code(service, encounter_id=sub.encounter_id, version=enc["version"], system="ICD-10-CM",
                            code="Z79.899", actor=CODER)
    assert added["status"] == "added-by-coder" and added["title"].startswith("Other long term")
    with pytest.raises(ConflictError):  # the encounter moved on since `enc` was read
        review.add_code(service, encounter_id=sub.encounter_id, version=enc["version"], system="ICD-10-CM",
                        code="E78.5", actor=CODER)
    enc = _detail(service, sub.encounter_id)
    with pytest.raises(AuthError) as info:
        review.transition(service, encounter_id=sub.encounter_id, version=enc["version"], action="approve",
                          actor=CODER)
    assert info.value.code == "E632"
    with pytest.raises(ConflictError) as conflict:  # not coded yet
        review.transition(service, encounter_id=sub.encounter_id, version=enc["version"], action="approve",
                          actor=AUDITOR)
    assert conflict.value.code == "E626"
    done = review.transition(service, encounter_id=sub.encounter_id, version=enc["version"], action="complete",
                             actor=CODER)
    assert done["status"] == "coded"
    with pytest.raises(AuthError):
        review.decide(service, suggestion_id=i10["id"], version=2, decision="reject", actor=AUDITOR)
    audited = review.transition(service, encounter_id=sub.encounter_id, version=done["version"], action="approve",
                                actor=AUDITOR)
    assert audited["status"] == "audited"
    final = export.export_final(service, encounter_id=sub.encounter_id, actor=AUDITOR)
    assert [(c["code"], c["sequence"], c["status"]) for c in final["codes"]] == [
        ("I10", 1, "accepted"), ("M77.12", 2, "modified"), ("Z79.899", 3, "added-by-coder")]
    assert final["final"] and final["release"]["icd10cm"] == "FY2026-APR" and final["id"] == "R1"
    actions = [e["action"] for e in export.audit_history(service, encounter_id=sub.encounter_id, actor=AUDITOR)]
    assert actions == ["record.submit", "coding.run", "code.accept", "code.modify", "code.add", "encounter.complete",
                       "encounter.approve"]


@pytest.mark.parametrize(("system", "code", "error"), [
    ("ICD-10-CM", "E11.", CodeFormatError), ("ICD-10-CM", "Q99.99", MedcoderError), ("X", "I10", CodeFormatError),
    ("ICD-10-PCS", "0D-", CodeFormatError)])
def test_review_add_refuses_bad_codes(service: Any, system: str, code: str, error: type[Exception]) -> None:
    sub = _submit(service)
    version = _detail(service, sub.encounter_id)["version"]
    with pytest.raises(error):
        review.add_code(service, encounter_id=sub.encounter_id, version=version, system=system, code=code,
                        actor=CODER)


class _QueryingCoder:
    """The baseline coder plus one documentation query (the baseline asks none), to exercise queries."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, request: CodingRequest, /) -> CodingResult:
        result = self.inner(request)
        query = DocumentationQuery(code="M77.10", missing="laterality", question="Which elbow?",
                                   options=("right", "left"),
                                   evidence=(Evidence(start=0, end=5, text=request.text[:5]),))
        return replace(result, queries=(query,))


@pytest.mark.parametrize("answer", ["right"])
def test_review_recode_keeps_decisions_and_answers(service: Any, answer: str) -> None:
    service.coder = _QueryingCoder(service.coder)
    sub = _submit(service)
    detail = _detail(service, sub.encounter_id)
    i10 = next(s for s in detail["suggestions"] if s["code"] == "I10")
    review.decide(service, suggestion_id=i10["id"], version=i10["version"], decision="reject", actor=CODER,
                  note="documented as history only")
    query = detail["queries"][0]
    answered = review.answer_query(service, query_id=query["id"], version=query["version"], answer=answer, actor=CODER)
    assert (answered["status"], answered["answer"]) == ("answered", answer)
    with pytest.raises(ConflictError):
        review.answer_query(service, query_id=query["id"], version=answered["version"], answer="left", actor=CODER)
    run = process.recode_encounter(service, encounter_id=sub.encounter_id, actor=CODER)
    after = _detail(service, sub.encounter_id)
    assert len(after["runs"]) == 2 and run["id"] == after["runs"][-1]["id"]
    by_code = {s["code"]: s for s in after["suggestions"]}
    assert by_code["I10"]["status"] == "rejected" and by_code["I10"]["run_id"] == detail["runs"][0]["id"]
    assert by_code["M77.11"]["run_id"] == run["id"] and by_code["M77.11"]["status"] == "suggested"
    assert [q["status"] for q in after["queries"]] == ["answered", "open"]
    history = process.encounter_detail(service, encounter_id=sub.encounter_id, actor=CODER, history=True)
    assert len(history["suggestions"]) == 4  # both runs kept: the old M77.11 retired, the new I10 inactive


@pytest.mark.parametrize(("call", "code"), [
    (lambda s: process.encounter_detail(s, encounter_id=999, actor=CODER), "E610"),
    (lambda s: review.decide(s, suggestion_id=999, version=1, decision="accept", actor=CODER), "E611"),
    (lambda s: review.answer_query(s, query_id=999, version=1, answer="x", actor=CODER), "E612"),
    (lambda s: process.recode_encounter(s, encounter_id=999, actor=CODER), "E610"),
    (lambda s: export.export_final(s, encounter_id=999, actor=CODER), "E610")])
def test_review_missing_entities(service: Any, call: Any, code: str) -> None:
    with pytest.raises(EntityNotFoundError) as info:
        call(service)
    assert info.value.code == code
