"""Section headers: variants, inline headers, what is not a header, and what each section implies."""

from __future__ import annotations

import pytest

from medcoder.model.note import SECTION_NAMES
from medcoder.nlp.sections import find_sections, section_context


def names(text: str) -> list[str]:
    return [s.name for s in find_sections(text)]


@pytest.mark.parametrize(("header", "name"), [
    ("CHIEF COMPLAINT", "chief_complaint"),
    ("HISTORY OF PRESENT ILLNESS", "hpi"),
    ("HPI:", "hpi"),
    ("Past Medical History:", "past_medical_history"),
    ("PMH", "past_medical_history"),
    ("PAST SURGICAL HISTORY:", "past_surgical_history"),
    ("FAMILY HISTORY", "family_history"),
    ("SOCIAL HISTORY", "social_history"),
    ("CURRENT MEDICATIONS:", "medications"),
    ("ALLERGIES", "allergies"),
    ("ROS", "review_of_systems"),
    ("REVIEW OF SYSTEMS", "review_of_systems"),
    ("Physical Examination", "physical_exam"),
    ("PE:", "physical_exam"),
    ("VITALS", "physical_exam"),
    ("RESULTS", "results"),
    ("Labs", "results"),
    ("Imaging:", "results"),
    ("ASSESSMENT", "assessment"),
    ("PLAN", "plan"),
    ("ASSESSMENT AND PLAN", "assessment_and_plan"),
    ("A/P:", "assessment_and_plan"),
    ("Impression and plan:", "assessment_and_plan"),
    ("## Assessment & Plan", "assessment_and_plan"),
    ("**Impression**", "impression"),
    ("Procedure(s) performed:", "procedure"),
    ("Operative findings:", "procedure"),
    ("Hospital Course:", "hospital_course"),
    ("Discharge Diagnoses:", "discharge_diagnoses"),
    ("Final diagnosis:", "discharge_diagnoses"),
    ("Admission diagnosis:", "admission_diagnoses"),
])
def test_sections_header_variants(header: str, name: str) -> None:
    text = f"Seen today.\n\n{header}\n\nSome text here.\n"
    sections = find_sections(text)
    assert [s.name for s in sections] == ["other", name]
    found = sections[1]
    assert text[found.title_start:found.title_end] == header
    assert text[found.start:found.end].strip() == "Some text here."
    assert found.rule_id is not None and found.rule_id.startswith("hdr.")


@pytest.mark.parametrize("text", [
    "ASSESSMENT AND PLAN\n\nAllergies.\n• Medical Reasoning: seasonal.\n",   # a numbered problem, not a header
    "ASSESSMENT AND PLAN\n\nCOPD.\n• Medical Reasoning: stable.\n",
    "ASSESSMENT AND PLAN\n\nDEPRESSION WITH ANXIETY\nContinue sertraline.\n",  # unknown capitals
    "ASSESSMENT AND PLAN\n\n• Medical Reasoning: the plan is set.\n",
])
def test_sections_prose_is_not_a_header(text: str) -> None:
    assert names(text) == ["assessment_and_plan"]


@pytest.mark.parametrize("text", [
    "Male, 40 years old\nFamily history: uncle with ALS.\nNeurological examination revealed hypophonia.\n",
])
def test_sections_inline_header_covers_its_line(text: str) -> None:
    sections = find_sections(text)
    assert [s.name for s in sections] == ["other", "family_history", "other"]
    family = sections[1]
    assert text[family.title_start:family.title_end] == "Family history:"
    assert text[family.start:family.end] == "uncle with ALS.\n"
    assert sections[2].rule_id is None and text[sections[2].start:].startswith("Neurological")


@pytest.mark.parametrize("text", [
    "HISTORY OF PRESENT ILLNESS\nKnee pain.\nLabs: normal.\nStill sore.\nPMH: diabetes\n- hypertension\n- gout\n"
    "He walks daily.\n",
])
def test_sections_text_after_inline_header_resumes_enclosing(text: str) -> None:
    sections = find_sections(text)
    assert [s.name for s in sections] == ["hpi", "results", "hpi", "past_medical_history", "hpi"]
    resumed = sections[2]
    assert text[resumed.title_start:resumed.title_end] == "HISTORY OF PRESENT ILLNESS"
    assert text[sections[3].start:sections[3].end] == "diabetes\n- hypertension\n- gout\n"


@pytest.mark.parametrize("text", ["", "No headers at all. Just a case report.\nSecond line."])
def test_sections_note_without_headers(text: str) -> None:
    sections = find_sections(text)
    assert [(s.name, s.start, s.end) for s in sections] == ([("other", 0, len(text))] if text else [])


@pytest.mark.parametrize(("name", "implies", "role", "diagnostic"), [
    ("family_history", ("family",), "family", True),
    ("past_medical_history", ("historical",), "history", True),
    ("past_surgical_history", ("historical",), "history", True),
    ("allergies", (), "listing", False),
    ("medications", (), "listing", False),
    ("review_of_systems", (), "review", False),
    ("assessment_and_plan", (), "conclusion", True),
    ("social_history", (), "history", True),
])
def test_sections_context_implied(name: str, implies: tuple[str, ...], role: str, diagnostic: bool) -> None:
    found = section_context(name)
    assert (found.implies, found.role, found.diagnostic) == (implies, role, diagnostic)
    assert found.rule_id == f"sec.{name}" and found.why


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_sections_every_canonical_name_is_described(name: str) -> None:
    assert section_context(name).name == name
