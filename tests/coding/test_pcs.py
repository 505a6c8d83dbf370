"""ICD-10-PCS procedures read from note sentences and built axis by axis from the PCS tables."""

from __future__ import annotations

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.icd10pcs_reader import Pcs
from medcoder.coding.pcs import code_procedures, pcs_lexicon
from medcoder.coding.pipeline import code_text
from medcoder.nlp import read_note
from medcoder.settings import Settings


@pytest.fixture(scope="module")
def pcs(kb_settings: Settings) -> Pcs:
    return Codesets.newest(settings=kb_settings).pcs


@pytest.mark.parametrize(("text", "expected"), [
    # BW03ZZZ: table BW0 Imaging, Anatomical Regions, Plain Radiography; body part 3 Chest; contrast Z None.
    ("On arrival a chest X-ray showed a right basal consolidation.", {"BW03ZZZ"}),
    # BW40ZZZ: table BW4 Ultrasonography of anatomical regions; body part 0 Abdomen; contrast Z None.
    ("The abdominal ultrasound revealed a moderate amount of ascites.", {"BW40ZZZ"}),
    # BW20ZZZ: table BW2 CT of anatomical regions; body part 0 Abdomen; row 2 contrast Z None (not named).
    ("An abdominal CT scan demonstrated a 4 cm retroperitoneal mass.", {"BW20ZZZ"}),
    # BW201ZZ: table BW2, body part 0 Abdomen; contrast named, so row 1 contrast 1 Low Osmolar.
    ("Abdominal CT with intravenous contrast showed a hypodense hepatic lesion.", {"BW201ZZ"}),
    # BW25ZZZ: table BW2, body part 5 Chest, Abdomen and Pelvis (three label words beat one or two).
    ("Staging CT of the chest, abdomen and pelvis showed no distant disease.", {"BW25ZZZ"}),
    # BN20ZZZ: table BN2 CT of Skull and Facial Bones; body part 0 Skull ("cranial"); contrast Z None.
    ("A cranial CT performed in the emergency room was unremarkable.", {"BN20ZZZ"}),
    # B030ZZZ: table B03 MRI of Central Nervous System; body part 0 Brain; row 2 contrast Z None.
    ("Brain MRI showed several periventricular white matter lesions.", {"B030ZZZ"}),
    # BV44ZZZ: table BV4 Ultrasonography of Male Reproductive System; body part 4 Scrotum ("testicular").
    ("Testicular ultrasound showed an enlarged heterogeneous right testis.", {"BV44ZZZ"}),
    # BT43ZZZ: table BT4 Ultrasonography of Urinary System; body part 3 Kidneys, Bilateral ("renal").
    ("Renal ultrasound showed bilateral hydronephrosis.", {"BT43ZZZ"}),
    # 4A02X4Z: table 4A0 Measurement; body system 2 Cardiac, approach X External, 4 Electrical Activity.
    ("The electrocardiogram showed sinus rhythm at 80 bpm.", {"4A02X4Z"}),
    # 0DJD8ZZ: table 0DJ Inspection, GI system; body part D Lower Intestinal Tract; approach 8 endoscopic.
    ("Colonoscopy up to the cecum found diverticula in the sigmoid.", {"0DJD8ZZ"}),
    # 0TJB8ZZ: table 0TJ Inspection, Urinary System; body part B Bladder; approach 8 endoscopic.
    ("Cystoscopy revealed a papillary lesion on the left lateral wall.", {"0TJB8ZZ"}),
    # 0TT10ZZ: table 0TT Resection, Urinary System; body part 1 Kidney, Left (side named); approach 0 Open.
    ("He underwent a left radical nephrectomy in March.", {"0TT10ZZ"}),
    # 0FB03ZX: table 0FB Excision, Hepatobiliary System; body part 0 Liver; approach 3; qualifier X Diagnostic.
    ("A liver biopsy showed chronic hepatitis with moderate fibrosis.", {"0FB03ZX"}),
    # 5A1D70Z: table 5A1 Performance; body system D Urinary; duration 7 Intermittent <6 h; function 0 Filtration.
    ("She was started on hemodialysis three times a week.", {"5A1D70Z"}),
    # 0W993ZX: table 0W9 Drainage, Anatomical Regions, General; body part 9 Pleural Cavity, Right (side named);
    # approach 3 Percutaneous, device Z, qualifier X Diagnostic (rule pcs-thoracentesis).
    ("A right thoracentesis drained 900 ml of straw-coloured fluid.", {"0W993ZX"}),
    # Two mentions, each reading only its own words: BW03ZZZ (chest) and BW40ZZZ (abdomen).
    ("A chest radiograph and an abdominal ultrasound were both normal.", {"BW03ZZZ", "BW40ZZZ"}),
])
def test_code_procedures_builds_table_codes(pcs: Pcs, text: str, expected: set[str]) -> None:
    suggestions = code_procedures(read_note(text), pcs)
    assert {s.code for s in suggestions} == expected
    for suggestion in suggestions:
        assert pcs.is_valid(suggestion.code) and suggestion.system == "ICD-10-PCS"
        assert any("lexicon rule pcs-" in step for step in suggestion.rationale)
        for span in suggestion.evidence:
            assert text[span.start:span.end] == span.text


@pytest.mark.parametrize("text", [
    "No chest X-ray was performed.",
    "If the anemia persists, a colonoscopy should be considered.",
    "Her mother underwent hemodialysis for many years.",
])
def test_code_procedures_skips_negated_hypothetical_family(pcs: Pcs, text: str) -> None:
    assert code_procedures(read_note(text), pcs) == []


@pytest.mark.parametrize("text", ["The patient underwent a nephrectomy for a renal tumour."])
def test_code_procedures_needs_side_for_sided_body_parts(pcs: Pcs, text: str) -> None:
    """Resection of a kidney has no unsided body part; the side unknown, no code is guessed."""
    assert [s.code for s in code_procedures(read_note(text), pcs) if s.code.startswith("0TT")] == []


@pytest.mark.parametrize(("text", "base"), [("Chest X-ray was normal. Chest X-ray again normal.", 100)])
def test_code_procedures_dedupes_and_offsets(pcs: Pcs, text: str, base: int) -> None:
    suggestions = code_procedures(read_note(text), pcs, offset_base=base)
    assert [s.code for s in suggestions] == ["BW03ZZZ"]
    assert [e.start for e in suggestions[0].evidence] == [base + 6, base + 30]


@pytest.mark.parametrize("rule_id", [r.id for r in pcs_lexicon().rules if r.codes])
def test_pcs_lexicon_complete_codes_are_valid(pcs: Pcs, rule_id: str) -> None:
    rule = next(r for r in pcs_lexicon().rules if r.id == rule_id)
    assert all(pcs.is_valid(code) for code in rule.codes), rule.codes
    assert all(pcs.table(prefix) is not None for prefix in rule.tables)


@pytest.mark.parametrize(("setting", "coded"), [("inpatient", True), ("outpatient", False)])
def test_code_text_adds_pcs_for_inpatient_only(kb_settings: Settings, setting: str, coded: bool) -> None:
    text = "A 60-year-old man with community-acquired pneumonia. A chest X-ray showed a right lower lobe infiltrate."
    result = code_text(text, setting=setting, settings=kb_settings)
    pcs_codes = [s for s in result.suggestions if s.system == "ICD-10-PCS"]
    assert bool(pcs_codes) is coded
    assert [s.sequence for s in result.suggestions] == list(range(1, len(result.suggestions) + 1))
    if coded:
        assert pcs_codes[0].code == "BW03ZZZ" and result.suggestions[-1].system == "ICD-10-PCS"
