"""Sentence and list-item splitting with offsets into the original text."""

from __future__ import annotations

import pytest

from medcoder.nlp.sentences import split_sentences


def pieces(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Seen by Dr. Gutierrez today. He is well.", ["Seen by Dr. Gutierrez today.", "He is well."]),
    ("Use imaging, e.g. CT or MRI. Then decide.", ["Use imaging, e.g. CT or MRI.", "Then decide."]),
    ("Creatinine 2.5 mg/dL. Potassium 4.1.", ["Creatinine 2.5 mg/dL.", "Potassium 4.1."]),
    ("Ultram 50 mg. daily for pain.", ["Ultram 50 mg. daily for pain."]),
    ("Ultram 50 mg. Follow up in 2 weeks.", ["Ultram 50 mg.", "Follow up in 2 weeks."]),
    ("Is it painful? Yes! Very.", ["Is it painful?", "Yes!", "Very."]),
    ("Pneumonia vs. atelectasis.", ["Pneumonia vs. atelectasis."]),
])
def test_sentences_points_and_abbreviations(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1. Hypertension.\n2. Diabetes mellitus", ["Hypertension.", "Diabetes mellitus"]),
    ("1. Hypertension. 2. Diabetes.", ["Hypertension.", "Diabetes."]),
    ("- no fever\n* chills\n• rash", ["no fever", "chills", "rash"]),
    ("a) asthma\nb) eczema", ["asthma", "eczema"]),
    ("Hypertension\nDiabetes\nGout", ["Hypertension", "Diabetes", "Gout"]),
    ("1.\nCough for a week.", ["Cough for a week."]),
])
def test_sentences_list_items(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Patient has a cough that\nstarted yesterday.", ["Patient has a cough that\nstarted yesterday."]),
    ("First paragraph\n\nsecond paragraph", ["First paragraph", "second paragraph"]),
])
def test_sentences_line_breaks(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize("text", ["  Leading space. And a second one.  \n\n  - item two  "])
def test_sentences_offsets_and_section(text: str) -> None:
    found = split_sentences(text, 2, len(text), section="plan")
    assert [text[s.start:s.end] for s in found] == ["Leading space.", "And a second one.", "item two"]
    assert {s.section for s in found} == {"plan"}
