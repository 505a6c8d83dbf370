"""A primary malignancy excised with no evidence of disease left is history; a documented primary is not unknown.

Why: Guideline I.C.2.d codes a primary malignancy "excised or eradicated from its site" with "no further
treatment directed to that site and no evidence of any existing primary malignancy" with category Z85, not
as a current neoplasm ("colon cancer resected two years ago, no residual disease" is Z85.038). And C80.1
(malignant neoplasm, unspecified) stands for a primary site not documented (I.C.2.l.1): when the record names
the primary, as a current neoplasm or as history, C80.1 is not reported beside the secondary site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import Clause

if TYPE_CHECKING:
    from medcoder.coding.encoder import Candidate

_UNKNOWN_PRIMARY = "C80.1"


def eradicated_as_history(clauses: Sequence[Clause], statement: str) -> list[Clause]:
    """Clauses naming a neoplasm documented as excised, in a record that says no disease remains, as history."""
    lex = lexicon()
    text = f" {statement.lower()} "
    if not any(f" {cue} " in text or f" {cue}," in text or f" {cue}." in text for cue in lex.eradicated_cues):
        return list(clauses)
    out: list[Clause] = []
    for clause in clauses:
        words = frozenset(clause.words)
        if clause.context == "present" and words & lex.neoplasm_words and words & lex.excision_words:
            clause = dataclasses.replace(clause, context="history", cue="excised, no evidence of disease (I.C.2.d)")
        out.append(clause)
    return out


def drop_unknown_primary(candidates: list[Candidate], dropped: list[tuple[str, str]]) -> None:
    """Remove C80.1 added for an undocumented primary when another code names the primary, in place."""
    unknown = next((c for c in candidates if c.code == _UNKNOWN_PRIMARY and c.role == "neoplasm"), None)
    if unknown is None:
        return
    named = next((c for c in candidates if c is not unknown and (_is_primary(c.code) or c.code.startswith("Z85"))),
                 None)
    if named is not None:
        candidates.remove(unknown)
        dropped.append((unknown.code, f"primary documented ({named.code}): C80.1 not reported (I.C.2.l.1)"))


def _is_primary(code: str) -> bool:
    """A primary malignant neoplasm code (C00-C76, C81-C96), not a secondary (C77-C79) or C80."""
    if code[:1] != "C" or not code[1:3].isdigit():
        return False
    number = int(code[1:3])
    return number <= 76 or 81 <= number <= 96
