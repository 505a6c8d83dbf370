"""The note reader end to end: sections, sentences tagged with them, and the context of any span."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medcoder.nlp.reader import ReadNote, read_note

ACI = Path(__file__).resolve().parents[3] / "shared" / "eval" / "aci_bench_dev.jsonl"

NOTE = """CHIEF COMPLAINT

Right knee pain.

HISTORY OF PRESENT ILLNESS

Mr. Perez is a 62-year-old male. He denies fever or chills. He has a history of gout.

PAST MEDICAL HISTORY:
Hypertension
Kidney stones

FAMILY HISTORY: Mother with breast cancer.

REVIEW OF SYSTEMS
• Constitutional: Denies weight loss.

ALLERGIES: Penicillin.

ASSESSMENT AND PLAN

1. Right knee osteoarthritis.
- Possible gout flare. Return if fever develops.
"""


@pytest.fixture(scope="module")
def note() -> ReadNote:
    return read_note(NOTE)


def span(word: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = NOTE.index(word, start + 1)
    return start, start + len(word)


@pytest.mark.parametrize("expected", [["chief_complaint", "hpi", "past_medical_history", "family_history",
                                       "review_of_systems", "allergies", "assessment_and_plan"]])
def test_reader_sections(note: ReadNote, expected: list[str]) -> None:
    assert [s.name for s in note.sections] == expected


@pytest.mark.parametrize(("word", "section"), [
    ("Right knee pain", "chief_complaint"), ("denies", "hpi"), ("Kidney stones", "past_medical_history"),
    ("Mother", "family_history"), ("weight loss", "review_of_systems"), ("osteoarthritis", "assessment_and_plan"),
])
def test_reader_sentences_carry_section(note: ReadNote, word: str, section: str) -> None:
    sentence = note.sentence_at(NOTE.index(word))
    assert sentence is not None and sentence.section == section


@pytest.mark.parametrize(("word", "categories", "rule"), [
    ("fever", ("negated",), "neg.denies"),
    ("gout", ("historical",), "hist.history_of"),
    ("Hypertension", ("historical",), "sec.past_medical_history"),
    ("breast cancer", ("family",), "sec.family_history"),
    ("weight loss", ("negated",), "neg.colon_no"),
    ("osteoarthritis", (), None),
    ("gout flare", ("uncertain",), "unc.possible"),
])
def test_reader_context_of_span(note: ReadNote, word: str, categories: tuple[str, ...], rule: str | None) -> None:
    start, end = span(word)
    found = note.context_of(start, end)
    assert found.categories == categories
    assert rule is None or rule in found.rules
    section = note.section_at(start)
    assert section is not None and found.section == section.name


@pytest.mark.parametrize("word", ["fever"])
def test_reader_hypothetical_in_plan(note: ReadNote, word: str) -> None:
    found = note.context_of(*span(word, occurrence=1))
    assert found.hypothetical and found.section == "assessment_and_plan"


@pytest.mark.parametrize("word", ["breast cancer"])
def test_reader_section_evidence_points_at_header(note: ReadNote, word: str) -> None:
    found = note.context_of(*span(word))
    header = found.modifiers[0]
    assert NOTE[header.start:header.end] == "FAMILY HISTORY:" and header.rule_id == "sec.family_history"


@pytest.mark.parametrize("limit", [67])
def test_reader_aci_bench_notes(limit: int) -> None:
    if not ACI.exists():
        pytest.fail(f"evaluation data not found at {ACI}")
    records = [json.loads(line) for line in ACI.read_text(encoding="utf-8").splitlines()[:limit]]
    for record in records:
        text = record["text"]
        note = read_note(text)
        names = {s.name for s in note.sections}
        assert "chief_complaint" in names or "hpi" in names, record["id"]
        assert names & {"assessment", "assessment_and_plan", "impression", "plan"}, record["id"]
        for sentence in note.sentences:
            piece = text[sentence.start:sentence.end]
            assert piece == piece.strip() and piece, record["id"]


_PIECES = st.sampled_from(["HPI:", "PMH: diabetes", "FAMILY HISTORY", "ASSESSMENT AND PLAN", "1. ", "- ", "• ",
                           "No fever.", "Dr. Smith", "2.5 mg.", "denies pain", "history of MI", " ", "\n", "\n\n",
                           "Return if worse?", "r/o PE", "e.g.", "doesn't", ":", "(-)", "Allergies: none"])


@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_reader_any_text_gives_ordered_spans(text: str) -> None:
    note = read_note(text)
    previous_end = 0
    for section in note.sections:
        # A resumed section's title is its enclosing section's header, earlier in the text.
        assert 0 <= section.title_start <= section.title_end <= section.start
        assert previous_end <= section.start <= section.end <= len(text)
        previous_end = section.end
    previous_end = 0
    for sentence in note.sentences:
        assert previous_end <= sentence.start < sentence.end <= len(text)
        piece = text[sentence.start:sentence.end]
        assert piece == piece.strip()
        previous_end = sentence.end
        found = note.context_of(sentence.start, sentence.end)
        assert all(sentence.start <= m.start < m.end <= sentence.end for m in found.modifiers
                   if not m.rule_id.startswith("sec."))


@pytest.mark.parametrize("text", ["- \na", "1. \n   b", "* \t\nitem two"])
def test_reader_list_marker_alone_on_its_line_leaves_no_blank_in_the_item(text: str) -> None:
    # Found by the property test above: a bullet whose line ends after the marker.
    for sentence in read_note(text).sentences:
        piece = text[sentence.start:sentence.end]
        assert piece == piece.strip() and piece
