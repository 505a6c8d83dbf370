"""Injury mechanisms of the encoder (chapters 19-20): the External Cause Index read for every injury, cross-references
to another main term, Excludes1 notes that point elsewhere, sequelae, 7th-character queries. Each case cites the
Index path, Tabular note or guideline, and uses real codes from the knowledge base."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder, EncounterContext
from medcoder.coding.excludes import excluded_elsewhere
from medcoder.coding.index_search import IndexSearch
from medcoder.settings import Settings

DAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def codesets(kb_settings: Settings) -> Codesets:
    return Codesets.for_date(DAY, settings=kb_settings)


@pytest.fixture(scope="module")
def encoder(codesets: Codesets) -> Encoder:
    return Encoder(codesets)


@pytest.mark.parametrize(("statement", "expected", "why"), [
    ("car passenger in collision with another car on the freeway, contusion of chest, initial",
     ["S20.20XA", "V43.62XA", "Y92.411"],
     "eindex Collision - see also Accident, transport > car occupant > passenger > collision > car; the place "
     "'car' (Y92.81-) Excludes1 transport accidents, so the freeway is the place (I.A.12.a)"),
    ("gunshot wound of right thigh, initial", ["S71.131A"],
     "index Gunshot wound - see also Puncture (another main term; 'open' not printed in this release) > thigh > right"),
    ("scar of right forearm from old burn", ["L90.5", "T22.011S"],
     "I.B.10 sequela: the residual condition first, the injury with 7th character S"),
    ("concussion, no loss of consciousness, initial", ["S06.0X0A"],
     "the absent finding specifies the condition: S06.0X0 'without loss of consciousness'"),
    ("wasp sting, accidental", ["T63.461A"],
     "chapter 19 note: codes within the T section that include the external cause take no chapter 20 code"),
    ("acute bronchitis due to COVID-19", ["U07.1", "J20.8"],
     "I.C.1.g.1: COVID-19 first; Bronchitis > acute > viral NEC (organism class of the agent)"),
    ("hypertensive urgency after patient stopped taking lisinopril because he could not afford it",
     ["I16.0", "T46.4X6A", "Z91.120"],
     "I.C.19.e.5.c: the relapsed condition first, the underdosing T code, then the note's subject walked in the "
     "Index: Underdosing > intentional NEC > due to financial hardship of patient"),
])
def test_encoder_injury_mechanisms(encoder: Encoder, statement: str, expected: list[str], why: str) -> None:
    got = [c.code for c in encoder.encode(statement, EncounterContext(day=DAY)).codes]
    assert got == expected, (why, got)


@pytest.mark.parametrize(("statement", "code", "missing"), [
    ("overdose of ibuprofen", "T39.311A", "intent"),  # I.C.19.e.5.b: intent unknown -> accidental, asked
    ("open fracture of right femoral shaft, initial", "S72.301B", "type"),  # I.C.19.c.1: open NOS -> type I or II
    ("deep incisional surgical site infection, initial", "T81.42XA", "organism"),  # T81.4: use additional code
])
def test_encoder_injury_queries(encoder: Encoder, statement: str, code: str, missing: str) -> None:
    result = encoder.encode(statement, EncounterContext(day=DAY))
    assert [c.code for c in result.codes] == [code]
    assert (code, missing) in {(q.code, q.missing) for q in result.queries}


@pytest.mark.parametrize(("code", "words", "target"), [
    ("W01.0XXA", frozenset({"fall", "slipping", "ice"}), "W00.0"),  # W01 Excludes1 "... due to ice or snow (W00.0)"
    ("W01.0XXA", frozenset({"fall", "slipping"}), None),  # nothing the note adds is documented
])
def test_excludes_points_to_the_code_of_the_documented_detail(codesets: Codesets, code: str, words: frozenset[str],
                                                               target: str | None) -> None:
    pointer = excluded_elsewhere(codesets.tabular, code, words)
    assert (pointer.target if pointer else None) == target


@pytest.mark.parametrize(("words", "code"), [
    (("motorcycle", "driver", "collision", "with", "car", "in", "traffic"), "V23.49"),  # see also Accident, transport
    (("car", "driver", "collision", "with", "another", "car"), "V43.52"),  # "car" written twice names two subterms
])
def test_index_search_external_cause_index_walks(codesets: Codesets, words: tuple[str, ...], code: str) -> None:
    hits = IndexSearch.of(codesets.index).search(words, book="eindex")
    assert hits and hits[0].code == code, [h.describe() for h in hits[:3]]
