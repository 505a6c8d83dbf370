"""The encoder's Index and Tabular mechanisms, one case each with a real code of the knowledge base: what an
incomplete Index code leaves to the Tabular, agents "as cause of disease classified elsewhere", quantity ranges,
"sequenced before" notes, unspecified codes that give way, and the like."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncounterContext
from medcoder.coding.terms import split_statement, tokens
from medcoder.settings import Settings

DAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def encoder(kb_settings: Settings) -> Encoder:
    return Encoder(Codesets.for_date(DAY, settings=kb_settings))


@pytest.mark.parametrize(("statement", "age", "expected", "why"), [
    ("stage 3 pressure ulcer of sacrum", 80, ["L89.153"],
     "Ulcer > pressure > stage 3 > sacral region -> L89.15-: the path's 'stage 3' chooses in the Tabular"),
    ("H. pylori gastritis", 40, ["K29.70", "B96.81"],
     "Infection > Helicobacter pylori > as cause of disease classified elsewhere -> B96.81, after (I.C.1.b)"),
    ("MRSA cellulitis of left leg", 40, ["L03.116", "B95.62"],
     "L03 use additional code (B95-B97): Staphylococcus > as cause of ... > aureus > methicillin resistant"),
    ("congenital clubfoot (talipes equinovarus), right foot", 0, ["Q66.01"],
     "words in the statement's parentheses are read; the gloss restates the condition, no second code"),
    ("lumbar degenerative disc disease", 50, ["M51.369"], "the 'without mention of' child is the default"),
    ("mild intermittent asthma, uncomplicated", 12, ["J45.20"],
     "a 'use additional code' companion must name something its code's title does not (not F17.200)"),
    ("COPD with pneumonia", 70, ["J44.0", "J18.9"],
     "pneumonia is a lower respiratory infection to Disease > pulmonary > chronic obstructive > with"),
    ("allergic contact dermatitis due to poison ivy", 15, ["L23.7"],
     "L23.9 'unspecified cause' gives way to its documented sibling (I.A.9.b)"),
    ("preterm newborn, 32 completed weeks, birth weight 1,600 grams", 0, ["P07.16", "P07.35"],
     "Weight > 1000-2499 grams at birth -> see Low, birthweight > with weight of > 1500-1749 grams; P07 note"),
    ("cephalhematoma due to birth injury", 0, ["P12.0"], "age 0 is a newborn: Cephalhematoma > newborn"),
    ("hypospadias", 0, ["Q54.9"], "the age's 'newborn' chooses subterms, never the Newborn main term (Z38.2)"),
    ("de Quervain's tenosynovitis", 35, ["M65.4"], "De Quervain's > disease: the eponym's own disease"),
    ("acute on chronic hypoxic respiratory failure due to COPD exacerbation", 70, ["J44.1", "J96.21"],
     "J96.91 under the unspecified J96.9: 'acute on chronic' names J96.2, 'with hypoxia' J96.21"),
    ("diverticulitis of colon", 60, ["K57.32"], "the colon is the large intestine (K57.3-)"),
    ("disseminated intravascular coagulation", 60, ["D65"],
     "Coagulation, intravascular - see also Defibrination syndrome -> D65, named with its qualifier"),
    ("coagulation", 60, [], "the head of the codeless 'Coagulation, intravascular' alone names nothing"),
])
def test_encoder_index_tabular_mechanisms(encoder: Encoder, statement: str, age: int, expected: list[str],
                                          why: str) -> None:
    result = encoder.encode(statement, EncounterContext(setting="inpatient", age=age, day=DAY))
    assert [c.code for c in result.codes] == expected, why


@pytest.mark.parametrize(("statement", "words"), [
    ("congenital clubfoot (talipes equinovarus)", "clubfoot talipes equinovarus"),
    ("birth weight 1,600 grams", "1600 grams"),
])
def test_terms_split_statement_reads_glosses_and_numbers(statement: str, words: str) -> None:
    clauses = split_statement(statement)
    assert len(clauses) == 1
    assert set(tokens(words)) <= set(clauses[0].words)
