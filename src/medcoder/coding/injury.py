"""Injury rules of the encoder: the External Cause Index read for every injury, place/activity/status codes,
sequelae.

Why a mixin: these steps walk the same compiled Index and complete codes the same way as the rest of the
encoder (``Encoder._candidate``); they are kept apart because they follow chapters 19-20 and their guidelines
(I.B.10, I.C.19, I.C.20), not the general Index walk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import Clause, split_statement, tokens
from medcoder.model.suggestion import DocumentationQuery

if TYPE_CHECKING:
    from medcoder.codesets.icd10cm_tabular import Tabular
    from medcoder.coding.encoder import Candidate
    from medcoder.coding.guidelines import Rules
    from medcoder.coding.index_search import Hit, IndexSearch

IGNORABLE = frozenset({"a", "initial", "encounter", "subsequent", "sequela", "right", "left", "bilateral", "with",
                       "in", "from", "due", "without", "patient"})
"""Words a code need not explain: episode, laterality and linking words."""

# Words that document a residual condition as the result of what follows (Guideline I.B.10 sequela).
_RESULT_WORDS = frozenset({"from", "due", "following", "caused"})
# Table of Drugs codes carry their external cause (chapter 19 note: "Codes within the T section that include the
# external cause do not require an additional external cause code").
_CAUSE_INCLUDED = frozenset({"poisoning", "adverse-effect", "underdosing", "external-cause"})
# Place of occurrence, activity and external cause status are coded by their own step, not as the cause.
_CIRCUMSTANCE_AXES = ("Y92", "Y93", "Y99")


class InjuryRules:
    """Chapter 19-20 steps of ``Encoder`` (see the module docstring)."""

    search: IndexSearch
    rules: Rules
    tab: Tabular
    _statement: str

    if TYPE_CHECKING:
        def _candidate(self, hit: Hit, code: str, clause: Clause, index: int, role: str,
                       queries: list[DocumentationQuery], *, source: str | None = None) -> Candidate | None: ...

    def _place_activity_status(self, clause: Clause, index: int, external: Candidate,
                               queries: list[DocumentationQuery], mechanism: frozenset[str] = frozenset(),
                               causes: tuple[str, ...] = ()) -> list[Candidate]:
        """Place of occurrence (Y92), activity (Y93) and external cause status (Y99) when the record states
        them; reported once, at the initial encounter (Guideline I.C.20.b-c). The words that named the mechanism
        ("struck by a baseball") do not also name an activity (playing baseball)."""
        if not external.code.endswith("A"):
            return []
        words = tuple(w for c in split_statement(self._statement) for w in c.words)
        out: list[Candidate] = []
        for prefix, what in ((("place", "occurrence"), "place of occurrence"), (("activity",), "activity"),
                             (("external", "cause", "status"), "external cause status")):
            said = tuple(w for w in words if w not in mechanism) if what == "activity" else words
            hit = None
            for _ in range(3):
                hits = self.search.search((*prefix, *said), book="eindex")
                hit = next((h for h in hits if h.code and frozenset(tokens(h.titles[0])) >= frozenset(prefix)), None)
                if hit is None or hit.code is None or not any(self.rules.excludes(hit.code, c) for c in causes):
                    break
                # A place the cause's code excludes is not its place: the vehicle of a transport accident ("car
                # driver ... on the interstate") is V43.52 + Y92.411, since Y92.81- "car" Excludes1 transport
                # accidents (V00-V99); the walk is repeated without those words (Guideline I.A.12.a).
                said, hit = tuple(w for w in said if w not in hit.used), None
            if hit is None or hit.code is None or hit.code_is_default or len(hit.path) < 2:
                continue
            made = self._candidate(hit, hit.code, clause, index, "external-cause", queries)
            if made is not None:
                made.rationale.append(f"guideline I.C.20: {what} code, reported once at the initial encounter")
                made.confidence *= 0.8
                out.append(made)
        if not causes and not any(c.code.startswith("Y93") for c in out):
            # Guideline I.C.20.b/k: place (Y92) and status (Y99) codes are secondary to other external cause
            # codes; with no cause or activity documented ("foreign body in ear canal") none is reported.
            return [c for c in out if not c.code.startswith(("Y92", "Y99"))]
        return out

    def _sequela(self, clause: Clause, made: list[Candidate]) -> list[Candidate]:
        """A residual condition documented as resulting from an injury ("scar of left cheek from old laceration") is
        a sequela (Guideline I.B.10): the residual first, then the injury with 7th character S."""
        link = next((n for n, w in enumerate(clause.words) if w in _RESULT_WORDS), None)
        if link is None or len(made) < 2:
            return made
        text = f" {clause.text.lower()} "
        if any(f" {cue}" in text for cue, character in lexicon().episode.items() if character in "AD"):
            return made  # documented as the active or a subsequent encounter: not a sequela
        before, after = frozenset(clause.words[:link]), frozenset(clause.words[link + 1:])
        residual = next((c for c in made if c.code[:1] not in "ST" and c.role == "primary" and c.words & before
                         and not c.words & after - IGNORABLE), None)
        injury = next((c for c in made if c.code[:1] in "ST" and len(c.code) == 8 and c.code.endswith(("A", "D"))
                       and c.role == "primary" and c.words & after), None)  # not a drug's adverse effect
        if residual is None or injury is None:
            return made
        sequela = self.tab.get(injury.code[:-1] + "S")
        if sequela is None or not sequela.billable:
            return made
        injury.rationale.append(f"guideline I.B.10: {residual.code} documented as resulting from the injury -> "
                                f"sequela, 7th character S ({injury.code} -> {sequela.code}); the residual first")
        injury.code, injury.title = sequela.code, sequela.title
        return [residual, *(c for c in made if c is not residual)]

    def _external_cause(self, clauses: list[Clause], candidates: list[Candidate],
                        queries: list[DocumentationQuery]) -> list[Candidate]:
        """The cause of an injury, from the External Cause Index (chapter 19 note: "Use secondary code(s) from
        Chapter 20 ... to indicate cause of injury"; Guideline I.C.20). A coder reads the whole statement for how
        the injury happened, whatever words it uses ("spilled hot coffee" with "burn of forearm" is Burn > hot >
        drink; "cut ... with kitchen knife" is Cut - see also Contact, with, knife), so the statement's words are
        walked in that Index when no clause named the cause with a trigger word. Codes that already include the
        cause (poisonings, adverse effects and underdosings from the Table of Drugs) take none."""
        if any(c.role in _CAUSE_INCLUDED for c in candidates):
            return []
        injuries = [c for c in candidates if c.role == "primary" and self._asks_for_cause(c.code)]
        if not injuries:
            return []
        words = tuple(w for c in clauses if c.context == "present" for w in c.words)
        explained = frozenset().union(*(c.words for c in candidates)) | IGNORABLE
        for hit in self.search.search(words, book="eindex"):
            if not hit.code or hit.code_is_default or hit.code.startswith(_CIRCUMSTANCE_AXES):
                continue
            if not hit.used - explained - lexicon().stopwords:
                continue  # the walk restates the injury ("Bite, dog" for "dog bite" is found by the clause itself)
            injury = injuries[0]
            made = self._candidate(hit, hit.code, clauses[injury.clause], injury.clause, "external-cause", queries)
            if made is not None:
                made.rationale.append("guideline I.C.20: external cause code after the injury it explains "
                                      "(chapter 19 note: use secondary code(s) from chapter 20)")
                made.confidence *= 0.85
                return [made]
            break
        return []

    def _asks_for_cause(self, code: str) -> bool:
        """Whether the code's chapter (or block) notes ask for a chapter 20 code to indicate the cause."""
        return any(note.kind in ("notes", "useAdditionalCode") and "chapter 20" in note.text.lower()
                   for note in self.tab.notes(code))


def includes_cause(title: str) -> bool:
    """Whether a code's title states the intent or the drug effect, i.e. its external cause (T36-T65, T74)."""
    lowered = title.lower()
    return any(cue in lowered for cue in _INTENT_TITLES)


_INTENT_TITLES = ("accidental (unintentional)", "intentional self-harm", ", assault", "undetermined",
                  "adverse effect of", "underdosing of")
