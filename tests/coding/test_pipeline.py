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
