"""The first note reader: assessment statements coded by the encoder, with offsets into the original note."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.coding.pipeline import code_text
from medcoder.settings import Settings

NOTE = """CHIEF COMPLAINT
Follow-up.

REVIEW OF SYSTEMS
Denies chest pain.

ASSESSMENT AND PLAN
1. Type 2 diabetes mellitus with stage 3a chronic kidney disease.
2. Essential hypertension.
3. No evidence of pneumonia.
"""


@pytest.mark.parametrize(("note", "expected", "absent"), [
    (NOTE, {"E11.22", "N18.31", "I12.9"}, {"J18.9", "R07.9"}),
])
def test_pipeline_codes_assessment_with_offsets(kb_settings: Settings, note: str, expected: set[str],
                                                absent: set[str]) -> None:
    result = code_text(note, date_of_service=date(2026, 5, 1), settings=kb_settings)
    codes = {s.code for s in result.suggestions}
    assert expected <= codes and not codes & absent, codes
    for suggestion in result.suggestions:
        for span in suggestion.evidence:
            assert note[span.start:span.end] == span.text and span.start >= note.index("ASSESSMENT")
    assert [s.sequence for s in result.suggestions] == list(range(1, len(result.suggestions) + 1))
    assert result.releases["icd10cm-tabular"] == "FY2026-APR"


CASE_REPORT = """A 58-year-old woman with type 2 diabetes mellitus presented with acute appendicitis.
Her mother had breast cancer. She denied chest pain.
On physical examination the abdomen was tender.
Appendectomy was performed under general anesthesia.
Coagulation studies on admission were normal.
The electrocardiogram showed sinus rhythm.
She was discharged in good general condition.
Given the patient's age, analgesia was provided with fentanyl.
Funduscopy showed a normal optic nerve.
CT showed a retroperitoneal mass and a lesion of the liver.
Arterial blood gas was normal; she had decreased sensitivity in the left leg and persisting symptoms.
She was told to return if fever develops."""


@pytest.mark.parametrize(("note", "expected", "absent", "why"), [
    # Narrative notes are coded from every diagnostic sentence (no assessment section).
    (CASE_REPORT, {"E11.9", "K35.80"}, set(), "conditions named inside narrative sentences"),
    # ConText: family (mother), negated (denied), hypothetical (return if) mentions are not the patient's.
    (CASE_REPORT, set(), {"C50.919", "C50.911", "R07.9", "R50.9"}, "family, negated and hypothetical"),
    # Guideline I.C.21.c.13: Z00 encounter codes state a reason for the visit, not "on physical examination".
    (CASE_REPORT, set(), {"Z00.00", "Z00.01"}, "encounter reason not stated"),
    # "on admission" dates a finding: Admission - see also Encounter (for) -> Z76.89 states no reason either.
    (CASE_REPORT, set(), {"Z76.89"}, "admission is no encounter reason"),
    # Normal findings and the overall state name no condition (lexicon procedure_phrases).
    (CASE_REPORT, set(), {"J32.9", "D83.8"}, "sinus rhythm, good general condition"),
    # The patient's age is not R54 (Old age, named by 'age' once stop words go); analgesia given is not R20.0
    # (Analgesia - see Anesthesia); a nerve is not Nerves (nervousness, R45.0): the plural names the condition.
    (CASE_REPORT, set(), {"R54", "R20.0", "R45.0"}, "age, analgesia given, optic nerve"),
    # Index: Mass and Lesion are main terms of their own (Mass > kidney N28.89, Lesion > liver K76.9), not "see
    # Neoplasm": a mass is not a neoplasm of unspecified behavior (D49.-) until the record says tumor or neoplasm.
    (CASE_REPORT, set(), {"D49.0", "D49.89", "D49.9"}, "mass and lesion are not neoplasms"),
    # A laboratory test, a sensation and symptoms in general name no condition (R14.3, T78.40XA, R68.89).
    (CASE_REPORT, set(), {"R14.3", "T78.40XA", "R68.89"}, "blood gas, sensitivity, symptoms"),
    # "under general anesthesia" names how the operation was done, not R20.0 anesthesia of skin.
    (CASE_REPORT, set(), {"R20.0"}, "procedure phrase masked"),
])
def test_pipeline_reads_narrative_context(kb_settings: Settings, note: str, expected: set[str], absent: set[str],
                                          why: str) -> None:
    result = code_text(note, setting="inpatient", date_of_service=date(2026, 5, 1), settings=kb_settings)
    codes = {s.code for s in result.suggestions}
    assert expected <= codes and not codes & absent, (why, codes)


@pytest.mark.parametrize(("line", "plan", "expected", "absent"), [
    # Plan sections are instructions, not diagnoses: "return if chest pain" is not coded (Section IV).
    ("1. Right knee pain.", "Return if fever or chest pain. Follow up in 2 weeks.", {"M25.561"},
     {"R50.9", "R07.9", "Z09"}),
])
def test_pipeline_codes_conclusions_not_plans(kb_settings: Settings, line: str, plan: str, expected: set[str],
                                              absent: set[str]) -> None:
    note = f"ASSESSMENT\n{line}\n\nPLAN\n{plan}\n"
    codes = {s.code for s in code_text(note, settings=kb_settings).suggestions}
    assert expected <= codes and not codes & absent, codes


@pytest.mark.parametrize(("codes", "loser", "winner"), [
    # Tabular N39.0 Excludes1 "cystitis (N30.-)": of the two, the unspecified site (N39.0) is dropped.
    ((("N39.0", "Urinary tract infection, site not specified", 0.9), ("N30.00", "Acute cystitis without hematuria",
                                                                      0.9)), "N39.0", "N30.00"),
])
def test_rules_excludes1_losers_over_an_encounter(kb_settings: Settings, codes: tuple[tuple[str, str, float], ...],
                                                  loser: str, winner: str) -> None:
    from medcoder.codesets.codesets import Codesets
    from medcoder.coding.guidelines import Rules
    from medcoder.model.suggestion import CodeSuggestion

    rules = Rules(Codesets.newest(settings=kb_settings))
    suggestions = [CodeSuggestion(system="ICD-10-CM", code=c, title=t, sequence=n, confidence=p)
                   for n, (c, t, p) in enumerate(codes, 1)]
    assert rules.excludes1_losers(suggestions) == {loser: winner}
