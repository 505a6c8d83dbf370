"""The adverse effect of a drug documented as the cause of a condition: the Table of Drugs' adverse-effect code.

Why: Guideline I.C.19.e.5.a codes an adverse effect of a drug correctly prescribed and properly administered
as the nature of the effect first, followed by the T36-T50 code with 5th or 6th character 5. The condition's
code says when that applies: its Tabular note "use additional code for adverse effect, if applicable, to
identify drug (T45.1X5)" (D70.1, E09), or its title names a drug therapy as the cause ("Anemia due to
antineoplastic chemotherapy", D64.81). The drug is the substance the record names, looked up in the Table of
Drugs and Chemicals (Adverse effect column); without one, a note naming a single code gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from medcoder.codesets.icd10cm_tabular import Tabular
from medcoder.coding.complete import complete
from medcoder.coding.index_search import Hit, IndexSearch
from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import Clause, tokens

if TYPE_CHECKING:
    from medcoder.coding.encoder import Candidate

_ADVERSE_COLUMN = 4
_NOT_EFFECTS = frozenset({"poisoning", "adverse-effect", "underdosing", "external-cause"})


def _is_adverse_t(code: str) -> bool:
    """A T36-T50 code whose 5th or 6th character is 5 (adverse effect)."""
    bare = code.replace(".", "")
    return code[:1] == "T" and "36" <= bare[1:3] <= "50" and "5" in bare[4:6]


def _note_refs(tab: Tabular, code: str) -> tuple[str, ...] | None:
    """The codes of the "use additional code for adverse effect ... to identify drug" note, if it has one."""
    for note in tab.notes(code):
        if note.kind == "useAdditionalCode" and "adverse effect" in note.text.lower():
            return tuple(note.codes)
    return None


def _drug_hit(search: IndexSearch, words: Sequence[str]) -> Hit | None:
    """The substance the words name as a whole Table of Drugs main term, with an adverse-effect cell."""
    bag = frozenset(words)
    for hit in search.search(tuple(words), book="drug"):
        if hit.cells and hit.cells[_ADVERSE_COLUMN] and frozenset(tokens(hit.titles[0])) & bag:
            return hit
    return None


def adverse_effects(candidates: Sequence[Candidate], clauses: Sequence[Clause], *, search: IndexSearch,
                    tab: Tabular, covers: Callable[[Sequence[str], str], bool], text: str) -> list[Candidate]:
    """The adverse-effect T codes the candidates call for, each anchored after the condition it explains."""
    from medcoder.coding.encoder import Candidate

    if any(_is_adverse_t(c.code) for c in candidates):
        return []  # the record already names the drug's adverse effect in its own words
    cause_words = lexicon().drug_cause_words
    out: list[Candidate] = []
    for c in candidates:
        if c.role in _NOT_EFFECTS or c.code[:1] in "STVWXY" or c.clause >= len(clauses):
            continue
        refs = _note_refs(tab, c.code)
        names_drug = bool(frozenset(tokens(c.title)) & cause_words)
        if refs is None and not names_drug:
            continue
        own = clauses[c.clause]
        # The drug must be documented as taken or as the cause ("due to antineoplastic chemotherapy", "on
        # prednisone"), not only named by the condition's own term ("heparin-induced thrombocytopenia").
        evidence = [tuple(w for w in own.words if w not in c.words or w in c.after_link),
                    *(cl.words for cl in clauses if cl is not own and cl.context == "present")]
        cell: str | None = None
        source = ""
        for words in evidence:
            hit = _drug_hit(search, words) if words else None
            if hit is None or hit.cells is None:
                continue
            found = hit.cells[_ADVERSE_COLUMN] or ""
            if refs and not covers(refs, found.rstrip("-")):
                continue
            cell, source = found, f"drug: {' > '.join(hit.titles)} [adverse effect] -> {found}"
            break
        if cell is None and refs is not None and len(refs) == 1 and "-" not in refs[0] and names_drug \
                and evidence[0]:
            cell, source = refs[0], f"tabular {c.code}: use additional code for adverse effect ({refs[0]})"
        if cell is None:
            continue
        done = complete(tab, cell, frozenset(own.words), text)
        if done.entry is None or not done.entry.billable:
            continue
        out.append(Candidate(
            code=done.code, title=done.entry.title, clause=c.clause, role="companion",
            rationale=[source, *done.steps, f"guideline I.C.19.e.5.a: adverse effect of a drug properly "
                                            f"administered: the nature of the effect ({c.code}) first, then the "
                                            "T code with 5th or 6th character 5"],
            evidence=c.evidence, confidence=c.confidence * 0.85, anchor=c.code))
    return out
