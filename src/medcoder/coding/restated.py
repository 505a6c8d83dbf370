"""A condition restated in another clause: coded once, and the restatement may name the encounter's focus.

Why: a record often names a condition twice, once fully ("anemia due to antineoplastic chemotherapy") and once
in passing ("admitted to treat the anemia"). The passing mention walks to the unspecified code of the same
category (D64.9 beside D64.81); reporting both would contradict the specific code (Guideline I.B: code to the
highest specificity documented). When the restatement says the encounter is for that condition, it is the
condition chiefly responsible for the encounter and is sequenced first (Section II; I.C.2.c.1-2 for anemia
with a malignancy or its therapy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import Clause

if TYPE_CHECKING:
    from medcoder.coding.encoder import Candidate


def drop_restated(candidates: list[Candidate], clauses: Sequence[Clause],
                  dropped: list[tuple[str, str]]) -> None:
    """Remove unspecified codes that restate a more specific code of the same category, in place."""
    cues = lexicon().focus_cues
    for restated in list(candidates):
        if "unspecified" not in restated.title.lower() or not restated.words:
            continue
        fuller = next((o for o in candidates if o is not restated and o.clause != restated.clause
                       and o.code[:3] == restated.code[:3] and o.code != restated.code
                       and restated.words <= o.words), None)
        if fuller is None:
            continue
        candidates.remove(restated)
        dropped.append((restated.code, f"restates {fuller.code} documented with more detail (guideline I.B)"))
        said = clauses[restated.clause].words if restated.clause < len(clauses) else ()
        if cues.intersection(said):
            fuller.focus = True
            fuller.rationale.append("the record says the encounter is for this condition: sequenced first "
                                    "(Section II principal diagnosis)")
