"""Each general mechanism of the encoder on one real statement, with the Index entry, Tabular note or guideline
that makes the codes right (codes from the built knowledge base, nothing mocked)."""

from __future__ import annotations

from datetime import date

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.complete import complete
from medcoder.coding.encoder import Encoder, EncounterContext
from medcoder.settings import Settings

DAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def encoder(kb_settings: Settings) -> Encoder:
    return Encoder(Codesets.for_date(DAY, settings=kb_settings))


@pytest.mark.parametrize(("statement", "setting", "expected", "why"), [
    ("neutropenia due to cancer chemotherapy", "outpatient", ["D70.1", "T45.1X5A"],
     "D70.1 use additional code for adverse effect (T45.1X5); I.C.19.e.5.a effect first, then the T code"),
    ("heparin-induced thrombocytopenia", "inpatient", ["D75.829"],
     "the drug is only named by the condition's own term: no adverse-effect code added"),
    ("history of hypertension", "outpatient", ["I10"],
     "I.C.21.c.4: history codes are for conditions that no longer exist; hypertension has no History > personal "
     "entry and does not cease to exist (lexicon lasting_conditions)"),
    ("history of pneumonia", "outpatient", ["Z87.01"], "History > personal > pneumonia: the history code stays"),
    ("anemia due to antineoplastic chemotherapy for left breast cancer, admitted to treat the anemia", "inpatient",
     ["D64.81", "T45.1X5A", "C50.912"], "restated anemia (D64.9) dropped; focus first (I.C.2.c.2); T code anchored"),
    ("steroid-induced diabetes, on long-term prednisone", "outpatient", ["E09.9", "T38.0X5A", "Z79.52"],
     "drug class: prednisone -> Long-term > steroids > systemic; E09 adverse-effect note with the Table of Drugs"),
    ("Bell's palsy", "outpatient", ["G51.0"], "Palsy > Bell's (no code) - see also Palsy, facial -> G51.0"),
    ("malignant melanoma of left forearm", "outpatient", ["C43.62"],
     "Melanoma C43.9 > skin C43.9 restates the default: Melanoma > skin > forearm -> C43.6-"),
    ("meningioma", "outpatient", ["D32.9"], "Meningioma - see also Neoplasm, meninges, benign -> D32.9"),
    ("morbid obesity due to excess calories, BMI 42, adult", "outpatient", ["E66.01", "Z68.41"],
     "Body > mass index > adult > 40.0-44.9 -> Z68.41 (a number inside the printed range)"),
    ("DM2 with ESRD on dialysis", "outpatient", ["E11.22", "N18.6", "Z99.2"],
     "ESRD is in category N18 Chronic kidney disease: Diabetes > type 2 > with > CKD; N18.6 -> Z99.2"),
    ("sepsis due to E. coli UTI", "inpatient", ["A41.51", "N39.0"],
     "A41.51 already names E. coli: N39.0's B95-B97 companion not repeated"),
    ("acute DVT of the left femoral vein", "outpatient", ["I82.412"],
     "I82.402 unspecified deep veins -> sibling subcategory I82.41- femoral, left"),
    ("varicose veins of left leg with ulcer of calf, limited to breakdown of skin", "outpatient",
     ["I83.022", "L97.221"], "unspecified lower extremity -> left (I.B.13); the comma piece is the L97 severity"),
    ("acute postoperative pain", "inpatient", ["G89.18"], "postoperative = postprocedural: Pain > acute > "
                                                          "postprocedural NEC -> G89.18"),
    ("basal cell carcinoma of skin of nose", "outpatient", ["C44.311"],
     "Table of Neoplasms: nose > skin > basal cell carcinoma [Malignant Primary]"),
    ("atrial fibrillation on long-term Eliquis", "outpatient", ["I48.91", "Z79.01"],
     "Eliquis is an anticoagulant: Long-term > anticoagulants -> Z79.01"),
    ("encounter for chemotherapy for sigmoid colon cancer", "outpatient", ["Z51.11", "C18.7"],
     "Chemotherapy > neoplasm -> Z51.11 beside the neoplasm, first (I.C.2.e.2)"),
    ("admitted for treatment of liver metastases; colon cancer resected two years ago, no residual disease",
     "inpatient", ["C78.7", "Z85.038"], "excised primary with no disease left is history (I.C.2.d); no C80.1"),
    ("severe sepsis with septic shock due to pneumococcal pneumonia", "inpatient", ["A40.3", "J13", "R65.21"],
     "R65.2 code first underlying infection, such as sepsis NOS: Sepsis > pneumococcal (I.C.1.d.1.b)"),
    ("atherosclerosis of native arteries of right leg with intermittent claudication", "outpatient", ["I70.211"],
     "Atherosclerosis - see also Arteriosclerosis > extremities > leg > right > with > intermittent claudication"),
    ("left hemiparesis from old stroke", "outpatient", ["I69.354"],
     "Hemiplegia > following > cerebrovascular disease > stroke; left side default non-dominant (I.C.9.d.1)"),
    ("CAD of native coronary artery with unstable angina", "outpatient", ["I25.110"],
     "Disease > artery > coronary > with angina pectoris - see Arteriosclerosis > coronary > native vessel"),
    ("hypertensive heart and kidney disease without heart failure, ESRD, on dialysis", "outpatient",
     ["I13.11", "N18.6", "Z99.2"], "Hypertension > cardiorenal > without heart failure > with ESRD; no F19.20"),
    ("pulmonary embolism ruled out", "inpatient", [],
     "a diagnosis concluded absent is not coded: II.H codes only diagnoses still uncertain at discharge"),
    ("suspected sepsis, ruled out", "inpatient", [],
     "', ruled out' concludes the clause before it, whatever cue ('suspected') started it"),
    ("chest pain, MI ruled out", "inpatient", ["R07.9"], "only the ruled-out clause is negated"),
    ("radiotherapy was ruled out and chest pain", "inpatient", ["R07.9"],
     "a concluding cue looks back: it does not carry to the clause after it"),
    ("rule out pneumonia", "inpatient", ["J18.9"], "'rule out' is still uncertain: coded as if established (II.H)"),
    ("lipoma of the back", "outpatient", ["D17.1"],
     "Lipoma D17.9 -> Tabular D17.1 trunk: the back is part of the trunk (L02.21 lists L02.212 back)"),
    ("left eustachian tube dysfunction", "outpatient", ["H69.82"],
     "Dysfunction lists no eustachian tube: Disorder > eustachian tube > specified NEC -> H69.8- (I.A.9.a, "
     "lexicon site_disorders), left ear from the Tabular"),
    ("sacroiliac joint dysfunction", "outpatient", [],
     "Disorder > joint > specified type NEC would leave 'sacroiliac' unexplained: not coded as any joint"),
    ("hypothalamic dysfunction", "outpatient", ["E23.3"], "the Index's own Dysfunction > hypothalamic NEC wins"),
    ("newborn observed for suspected seizures, ruled out", "inpatient", ["Z05.2"],
     "I.C.16.b: Suspected condition, ruled out > newborn -> Z05.9; the condition ruled out is Newborn > seizure P90, "
     "neurological (lexicon ruled_out_observation): Tabular Z05.2"),
    ("observed for suspected myocardial infarction, ruled out", "inpatient", ["Z03.89"],
     "I.C.21.c.6: Observation > suspected, ruled out > condition NEC -> Z03.89"),
    ("pulmonary hypertension due to interstitial lung disease", "outpatient", ["J84.9", "I27.23"],
     "the cause took the clause (J84.9 'Interstitial pulmonary disease'); the head 'pulmonary hypertension' is still "
     "a condition of its own (Hypertension > pulmonary I27.20), and an ILD is a lung disease (lexicon "
     "condition_classes): Tabular I27.23 'due to lung diseases and hypoxia', 'and' read as and/or (I.A.14)"),
    ("normal first pregnancy, 10 weeks gestation", "outpatient", ["Z34.01", "Z3A.10"],
     "Pregnancy > normal > first -> Z34.0- (10 weeks: first trimester, I.C.15.a.3); the week of gestation is a "
     "code of its own, Pregnancy > weeks of gestation > 10 weeks -> Z3A.10, not a specifier of Z34"),
    ("pregnancy, 32 wks", "outpatient", ["Z33.1", "Z3A.32"],
     "a bare gestational age beside a documented pregnancy is the week of gestation (lexicon gestational_age)"),
    ("knee pain for 3 weeks, left", "outpatient", ["M25.562"], "weeks without a pregnancy are a duration"),
])
def test_encoder_mechanism_codes(encoder: Encoder, statement: str, setting: str, expected: list[str],
                                 why: str) -> None:
    result = encoder.encode(statement, EncounterContext(setting=setting, sex="F", day=DAY))
    assert [c.code for c in result.codes] == expected, (why, [c.code for c in result.codes])


@pytest.mark.parametrize(("statement", "missing"), [
    ("senile cataract", "laterality"),     # Cataract > senile > cortical H25.01- ...: every choice needs the eye
    ("atrial fibrillation", "type"),       # paroxysmal, persistent, permanent: the type of atrial fibrillation
])
def test_encoder_mechanism_queries(encoder: Encoder, statement: str, missing: str) -> None:
    result = encoder.encode(statement, EncounterContext(day=DAY))
    assert missing in {q.missing for q in result.queries}, [(q.code, q.missing) for q in result.queries]


@pytest.mark.parametrize(("statement", "not_asked"), [
    ("hypertension", "trimester"),  # Hypertension > gestational O13-, > maternal O16-: other conditions than I10
    ("hypertension", "laterality"),  # > ocular H40.05-: ditto
    ("edema", "acuity"),             # 3 of Edema's 44 coded subterms say acute or chronic: not what edema lacks
    ("fever", "organism"),           # 2 of 170 kinds of fever name a virus
])
def test_encoder_does_not_ask_for_other_conditions_details(encoder: Encoder, statement: str, not_asked: str) -> None:
    result = encoder.encode(statement, EncounterContext(day=DAY))
    assert not_asked not in {q.missing for q in result.queries}, [(q.code, q.question) for q in result.queries]


@pytest.mark.parametrize(("code", "words", "expected"), [
    ("I83.002", {"varicose", "vein", "left", "leg", "ulcer", "calf"}, "I83.022"),
    ("I83.002", {"varicose", "vein", "leg", "ulcer", "calf"}, "I83.002"),
])
def test_complete_documented_side_across_subcategories(encoder: Encoder, code: str, words: set[str],
                                                       expected: str) -> None:
    done = complete(encoder.tab, code, frozenset(words), " ".join(sorted(words)))
    assert done.code == expected, done.steps
