"""The encoder on the issue's own examples and on each mechanism, with the guideline or index entry cited."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncounterContext
from medcoder.coding.terms import split_statement
from medcoder.settings import Settings

DAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def encoder(kb_settings: Settings) -> Encoder:
    return Encoder(Codesets.for_date(DAY, settings=kb_settings))


@pytest.mark.parametrize(("statement", "setting", "sex", "expected", "why"), [
    ("type 2 DM with stage 3a CKD and HTN", "outpatient", None, ["E11.22", "I12.9", "N18.31"],
     "index Diabetes > type 2 > with > CKD; I.C.9.a.2 hypertension with CKD presumed; E11.22 use additional N18"),
    ("acute on chronic diastolic CHF", "outpatient", None, ["I50.33"],
     "index Failure > heart > diastolic > acute > and (on) chronic"),
    ("right elbow lateral epicondylitis", "outpatient", None, ["M77.11"], "index Epicondylitis > lateral -> M77.1-"),
    ("acute lumbar strain, initial encounter", "outpatient", None, ["S39.012A"], "index Strain > back; I.C.19.a"),
    ("metastatic adenocarcinoma of the liver from colon", "outpatient", None, ["C18.9", "C78.7"],
     "Table of Neoplasms colon [malignant primary], liver [malignant secondary]; I.C.2"),
    ("accidental overdose of oxycodone", "outpatient", None, ["T40.2X1A"], "Table of Drugs: Oxycodone; I.C.19.e"),
    ("history of MI", "outpatient", None, ["I25.2"], "index History > personal > myocardial infarction"),
    ("cough and fever, rule out pneumonia", "outpatient", None, ["R05.9", "R50.9"], "IV.H: code the symptoms"),
    ("rule out pneumonia", "inpatient", None, ["J18.9"], "II.H: uncertain coded as established"),
    ("dementia in Alzheimer disease", "outpatient", None, ["G30.9", "F02.80"], "I.A.13 etiology/manifestation"),
    ("HTN with CHF and CKD stage 4", "outpatient", None, ["I13.0", "N18.4", "I50.9"],
     "I.C.9.a.3: I13.0 + heart failure (I50.-) + CKD stage (N18.-)"),
    ("nausea and vomiting", "outpatient", None, ["R11.2"], "index Nausea > with vomiting (combination, I.B.9)"),
    ("no chest pain", "outpatient", None, [], "negated: not coded"),
    ("benign neoplasm of ascending colon", "outpatient", None, ["D12.2"], "Table of Neoplasms"),
    ("fell from ladder, fractured right distal radius, initial encounter", "outpatient", None,
     ["S52.501A", "W11.XXXA"], "index Fracture > radius > distal end (see lower end); eindex Fall > from > ladder"),
])
def test_encoder_codes_issue_examples(encoder: Encoder, statement: str, setting: str, sex: str | None,
                                      expected: list[str], why: str) -> None:
    result = encoder.encode(statement, EncounterContext(setting=setting, sex=sex, day=DAY))
    assert sorted(c.code for c in result.codes) == sorted(expected), (why, [c.code for c in result.codes])
    for code in result.codes:
        assert code.rationale and code.evidence, "every code carries its rationale and evidence"


@pytest.mark.parametrize(("statement", "first", "then"), [
    ("dementia in Alzheimer disease", "G30.9", "F02.80"),      # I.A.13: etiology first
    ("accidental overdose of oxycodone with respiratory depression", "T40.2X1A", None),  # I.C.19.e.5.b
    ("fell from ladder, fractured right distal radius, initial encounter", "S52.501A", "W11.XXXA"),
])
def test_encoder_sequences_by_convention(encoder: Encoder, statement: str, first: str, then: str | None) -> None:
    codes = [c.code for c in encoder.encode(statement, EncounterContext(day=DAY)).codes]
    assert codes[0] == first, codes
    if then is not None:
        assert codes.index(then) > 0


@pytest.mark.parametrize(("statement", "missing"), [
    ("lateral epicondylitis", "laterality"),
    ("lumbar strain", "episode"),
    ("chronic kidney disease", "stage"),
])
def test_encoder_flags_missing_specificity(encoder: Encoder, statement: str, missing: str) -> None:
    result = encoder.encode(statement, EncounterContext(day=DAY))
    assert result.codes, statement
    assert missing in {q.missing for q in result.queries}


@pytest.mark.parametrize(("statement", "contexts"), [
    ("history of MI and CVA", ["history", "history"]),
    ("no fever, chills", ["negated", "negated"]),      # ConText: the cue's scope runs to the sentence end
    ("no fever; productive cough", ["negated", "present"]),  # a semicolon terminates it
    ("probable pneumonia", ["uncertain"]),
    ("family history of colon cancer", ["family"]),
    ("acute lumbar strain, initial encounter", ["present"]),
])
def test_terms_split_statement_with_context(statement: str, contexts: list[str]) -> None:
    assert [c.context for c in split_statement(statement)] == contexts


@pytest.mark.parametrize("statement", ["", "   ", "zzqx blorf"])
def test_encoder_handles_statements_without_codes(encoder: Encoder, statement: str) -> None:
    result = encoder.encode(statement, EncounterContext(day=DAY))
    assert result.codes == ()
