"""Conventions and guidelines applied to the codes of one statement or encounter.

Each rule cites its source: combination codes absorb the conditions they name (I.B.9) unless a "use
additional code" note asks for them; "use additional code" companions the documentation supports are added
(I.A.12 notes); "code first" and etiology/manifestation pairs are sequenced (I.A.13); Excludes1 pairs are
resolved (I.A.12.a); codes are checked for validity on the date of service (MCE validity table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, TypeVar

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.icd10cm_tabular import TabularEntry
from medcoder.coding.agent import infectious_agent
from medcoder.coding.complete import complete
from medcoder.coding.index_search import Hit, IndexSearch
from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import Clause, tokens
from medcoder.model.code import CodeRef
from medcoder.model.suggestion import DocumentationQuery

if TYPE_CHECKING:
    from medcoder.coding.encoder import Candidate, EncounterContext


_SEQUENCED_BEFORE = re.compile(r"\bwith ([\w ]+?) sequenced before ([\w ]+)", re.IGNORECASE)
_CODES_IN_TEXT = re.compile(r"\([^()]*\)|\b[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]+)?\b")
_GENERIC_TITLE = frozenset({"unspecified", "other", "specified", "e", "the", "of", "as", "cause", "disease",
                            "classified", "elsewhere", "and", "or", "in", "with", "a"})
_IDENTIFIES = frozenset({"infectious", "agent", "organism", "bacterial", "week", "weeks"})
_SIDE_WORDS = frozenset({"right", "left", "bilateral", "unspecified", "initial", "subsequent", "sequela", "encounter"})
# "Use additional code to identify specific condition" (O99, O98, O26.6): the condition coded in its own chapter.
_CONDITION_WORDS = frozenset({"condition", "disease", "disorder"})
# Words that place a condition in the pregnancy rather than name it.
_CONTEXT_WORDS = frozenset({"complicating", "complicated", "in", "with", "week", "trimester"})
# Details a "use additional code" note identifies that a documentation query can ask for.
_COMPANION_QUERIES = ("weeks",)
_INSTRUCTION_WORDS = frozenset({"code", "use", "additional", "identify", "to", "the", "of", "if", "applicable",
                                "any", "associated", "for", "type", "such", "as", "using", "control", "a", "an",
                                "and", "or", "with", "where", "specify", "long", "term", "current"})


@dataclass(frozen=True, slots=True)
class _Notes:
    use_additional: tuple[str, ...]
    use_groups: tuple[tuple[str, ...], ...]
    use_lines: tuple[tuple[frozenset[str], tuple[str, ...]], ...]
    """Each "use additional code" line's own words and the codes it names ("insulin (Z79.4)")."""
    """One entry per "use additional code" instruction: each asks for its own companion."""
    code_first: tuple[str, ...]
    excludes1: tuple[str, ...]
    first_lines: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()
    names_condition: bool = False
    """A "use additional code to identify specific condition" note without codes (O99, O98)."""
    first_condition: bool = False
    """A "code first the specific condition related to ..." note (U09.9): the clause's condition goes first."""
    before: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    """A note "... with X sequenced before Y" (P07: birth weight before gestational age): the title words of each."""
    names_infection: bool = False
    """A "use additional code to identify infection" note without codes (T81.4-): the organism is coded too."""


class Rules:
    def __init__(self, codesets: Codesets) -> None:
        self.cs = codesets
        self.tab = codesets.tabular
        self._manifestations: list[tuple[str, frozenset[str], tuple[str, ...]]] | None = None
        self._notes = lru_cache(maxsize=65536)(self._load_notes)
        self._covered: dict[tuple[tuple[str, ...], str], bool] = {}
        self._ranges: dict[tuple[str, ...], list[tuple[str, str, frozenset[str]]]] = {}
        self._common: dict[tuple[str, ...], frozenset[str]] = {}
        self._phrases: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, ...], frozenset[int]]] = {}
        self._index_search: IndexSearch | None = None

    @property
    def index_search(self) -> IndexSearch:
        """The compiled Index of these code sets (looked up once: every rule searches it)."""
        if self._index_search is None:
            self._index_search = IndexSearch.of(self.cs.index)
        return self._index_search

    # -- notes -----------------------------------------------------------------------------------------
    def _load_notes(self, code: str) -> _Notes:
        use: list[str] = []
        first: list[str] = []
        excl: list[str] = []
        groups: dict[tuple[str, int], list[str]] = {}
        lines: list[tuple[frozenset[str], tuple[str, ...]]] = []
        firsts: list[tuple[frozenset[str], tuple[str, ...]]] = []
        names_condition = False
        first_condition = False
        before: list[tuple[frozenset[str], frozenset[str]]] = []
        names_infection = False
        for note in self.tab.notes(code):
            order = _SEQUENCED_BEFORE.search(note.text) if note.kind == "notes" else None
            if order is not None:
                before.append((frozenset(tokens(order.group(1))), frozenset(tokens(order.group(2)))))
            target = {"useAdditionalCode": use, "codeFirst": first, "excludes1": excl}.get(note.kind)
            if target is not None:
                target.extend(note.codes)
            if note.kind == "useAdditionalCode" and note.codes:
                groups.setdefault((note.source, note.group), []).extend(note.codes)
                words = frozenset(tokens(_CODES_IN_TEXT.sub(" ", note.text))) - _INSTRUCTION_WORDS
                lines.append((words, note.codes))
            if note.kind == "useAdditionalCode" and not note.codes:
                bare = frozenset(tokens(note.text))
                names_condition = names_condition or ("specific" in bare and bool(bare & _CONDITION_WORDS))
                names_infection = names_infection or ("identify" in bare and "infection" in bare)
            if note.kind == "codeFirst" and not note.codes:
                bare = frozenset(tokens(note.text))
                # "code first underlying infection, such as: ..." (R65.2): the infection documented with it first.
                first_condition = first_condition or ("specific" in bare and bool(bare & _CONDITION_WORDS)) \
                    or "underlying" in bare
            if note.kind == "codeFirst" and note.codes:
                words = frozenset(tokens(_CODES_IN_TEXT.sub(" ", note.text))) - _INSTRUCTION_WORDS - {"nos"}
                firsts.append((words, note.codes))
        return _Notes(tuple(use), tuple(tuple(g) for g in groups.values()), tuple(lines), tuple(first), tuple(excl),
                      tuple(firsts), names_condition, first_condition, tuple(before), names_infection)

    def covers_any(self, refs: Sequence[str], code: str) -> bool:
        """Whether any of the Tabular references (codes, categories, ranges) includes ``code``."""
        return self._covers(refs, code)

    def _covers(self, refs: Sequence[str], code: str) -> bool:
        key = (tuple(refs), code)
        hit = self._covered.get(key)
        if hit is None:
            hit = self._covered[key] = self._covers_uncached(refs, code)
        return hit

    def _covers_uncached(self, refs: Sequence[str], code: str) -> bool:
        for ref in refs:
            try:
                if self.tab.covers(ref, code):
                    return True
            except (ValueError, LookupError):
                continue
        return False

    def _indexed_as(self, words: frozenset[str], clause: Clause | None, taken: frozenset[str],
                    chapter: int) -> TabularEntry | None:
        """The code the Index gives the condition a "code first" line names by example ("sepsis NOS (A41.9)"),
        walked from that main term with the clause's words the noted code did not explain ("pneumococcal" ->
        Sepsis > pneumococcal, A40.3); only in the example's chapter (the same kind of condition)."""
        if clause is None:
            return None
        rest = tuple(w for w in clause.words if w not in taken)
        for hit in self.index_search.search((*sorted(words), *rest))[:8]:
            main = frozenset(tokens(hit.titles[0])) - lexicon().stopwords
            if hit.code and main and main <= words and not hit.code_is_default:
                done = complete(self.tab, hit.code, frozenset(rest) | words, clause.text)
                if done.entry is not None and done.entry.billable and done.entry.chapter == chapter:
                    return done.entry
        return None

    def use_additional_refs(self, code: str) -> tuple[str, ...]:
        """The codes and ranges ``code``'s "use additional code" notes name (its own or inherited)."""
        if self.tab.get(code) is None:
            return ()
        return self._notes(code).use_additional
    def excludes(self, code: str, other: str) -> bool:
        """Whether an Excludes1 note of either code (its own or inherited) names the other (I.A.12.a)."""
        return self._covers(self._notes(code).excludes1, other) or self._covers(self._notes(other).excludes1, code)

    def codes_first(self, code: str, etiology: str) -> bool:
        """Whether ``code``'s "code first" note (its own or inherited) names ``etiology``."""
        return self._covers(self._notes(code).code_first, etiology)

    def asks_for(self, code: str, companion: str) -> bool:
        """Whether ``code``'s "use additional code" note names ``companion``'s category (E11.621 asks for the
        ulcer's site in L97.4-/L97.5-: any L97 code is that companion, chosen by the companion rule)."""
        refs = self._notes(code).use_additional
        return self._covers(refs, companion) or any(ref[:3] == companion[:3] for ref in refs)

    # -- etiology / manifestation (I.A.13) ---------------------------------------------------------------
    def _manifestation_codes(self) -> list[tuple[str, frozenset[str], tuple[str, ...]]]:
        """Every billable manifestation code (MCE attribute) with its title words and code-first references.

        The derived index lost the bracketed manifestation codes; the Tabular keeps the other half of the
        pair: each manifestation code says "code first" its etiologies.
        """
        if self._manifestations is None:
            found: list[tuple[str, frozenset[str], tuple[str, ...]]] = []
            conn = self.cs.connection("mce")
            rows = conn.execute("SELECT DISTINCT code FROM validity WHERE system='cm' AND attributes LIKE "
                                "'%manifestation%'").fetchall()
            for (bare,) in rows:
                entry = self.tab.get(bare)
                if entry is None or not entry.billable:
                    continue
                found.append((entry.code, frozenset(tokens(entry.title)), self._notes(entry.code).code_first))
            self._manifestations = sorted(found)
        return self._manifestations

    def manifestation_for(self, hit: Hit, made: Candidate, clause: Clause,
                          queries: list[DocumentationQuery] | None = None) -> Candidate | None:
        """When the walk went "X, in, Y" (or was sent there by "see") and ended on an etiology code, add the
        manifestation code for X whose Tabular "code first" note names that etiology."""
        from medcoder.coding.encoder import Candidate

        via_in = any(t.lower().startswith(("in ", "in(")) or t.lower() in ("in", "in (due to)") for t in hit.titles)
        via_in = via_in or any(" > in > " in f.lower() or " > in (due to) > " in f.lower() for f in hit.followed)
        via_in = via_in or any("in, diseases specified elsewhere" in (s or "").lower() for s in hit.see_also)
        if not via_in:
            return None
        clause_words = frozenset(clause.words)
        best: tuple[float, str] | None = None
        for code, title_words, code_first in self._manifestation_codes():
            overlap = title_words & clause_words - {"disease", "in", "other", "classified", "elsewhere"}
            if not overlap or not self._covers(code_first, made.code):
                continue
            score = len(overlap) + (0.5 if "unspecified" in title_words or "without" in title_words else 0)
            score -= 0.01 * len(code)
            if best is None or score > best[0]:
                best = (score, code)
        if best is None:
            return None
        done = complete(self.tab, best[1], clause_words, clause.text)
        entry = done.entry
        if entry is None:
            return None
        for missing, question, options in (*done.queries, *done.noted):
            if queries is None:
                break
            # What the manifestation code leaves unspecified ("unspecified severity" of F02.80) is asked too.
            queries.append(DocumentationQuery(code=entry.code, missing=missing, question=question, options=options,
                                              evidence=(made.evidence,)))
        return Candidate(code=entry.code, title=entry.title, clause=made.clause, role="manifestation",
                         rationale=[f"tabular {entry.code}: code first the underlying condition, which includes "
                                    f"{made.code}", "convention I.A.13: etiology/manifestation pair, manifestation "
                                    "sequenced after its etiology", *done.steps],
                         evidence=made.evidence, confidence=made.confidence * 0.9)

    # -- the encounter ----------------------------------------------------------------------------------
    def apply(self, candidates: list[Candidate], clauses: Sequence[Clause], context: EncounterContext,
              queries: list[DocumentationQuery], dropped: list[tuple[str, str]]) -> list[Candidate]:
        from medcoder.coding.encoder import Candidate

        # 1. Deduplicate (first occurrence wins; keep the richer rationale).
        unique: dict[str, Candidate] = {}
        for c in candidates:
            if c.code in unique:
                unique[c.code].confidence = max(unique[c.code].confidence, c.confidence)
                continue
            unique[c.code] = c
        items = list(unique.values())
        # 2. Combination codes (I.B.9): a clause whose words were all linked into another code's "with"
        #    subterm is absorbed, unless that code's "use additional code" note asks for it.
        for c in list(items):
            if not c.linked:
                continue
            notes = self._notes(c.code)
            for other in list(items):
                if other is c or other.clause == c.clause or other.role != "primary":
                    continue
                clause_words = frozenset(clauses[other.clause].words)
                if clause_words and clause_words <= c.linked | {"with"}:
                    if self._covers(notes.use_additional, other.code):
                        other.rationale.append(f"tabular {c.code}: use additional code -> {other.code} kept")
                        continue
                    items.remove(other)
                    dropped.append((other.code, f"combination code {c.code} includes it (guideline I.B.9)"))
        # 3. "Use additional code" companions the documentation supports.
        present = {c.code for c in items}
        # A companion's own notes apply too (E11.22 -> N18.6 -> "use additional code to identify dialysis status").
        pending = list(items)
        while pending:
            c = pending.pop(0)
            notes = self._notes(c.code)
            # Documented anywhere in the record, as present (not negated, uncertain or historical).
            clause_words = _with_drug_classes(frozenset(w for cl in clauses if cl.context == "present"
                                                        for w in cl.words))
            for words, refs in notes.first_lines:
                # "code first COVID-19 (U07.1)" with COVID-19 documented: the etiology goes first.
                if len(refs) != 1 or "-" in refs[0] or not words or not words <= clause_words:
                    continue
                entry = self.tab.get(refs[0])
                walked = self._indexed_as(words, clauses[c.clause] if c.clause < len(clauses) else None, c.words,
                                          entry.chapter if entry is not None else -1)
                if entry is not None and walked is not None and walked.code != c.code:
                    entry = walked  # the example's own chapter: the same kind of condition, more specific
                if entry is not None and entry.billable and entry.code not in present:
                    items.insert(items.index(c), Candidate(
                        code=entry.code, title=entry.title, clause=c.clause, role="primary",
                        rationale=[f"tabular {c.code}: code first {' '.join(sorted(words))} ({entry.code}) "
                                   "documented"], evidence=c.evidence, confidence=c.confidence * 0.9))
                    present.add(entry.code)
            added = 0  # companions follow their code in the order of its notes
            for words, refs in notes.use_lines:
                # The instruction names its companion in words ("insulin (Z79.4)"): documented -> add it.
                if len(refs) != 1 or "-" in refs[0] or not words or not words <= clause_words | c.linked:
                    continue
                entry = self.tab.get(refs[0])
                if entry is not None and entry.billable and entry.code not in present:
                    added += 1
                    items.insert(items.index(c) + added, Candidate(
                        code=entry.code, title=entry.title, clause=c.clause, role="companion",
                        rationale=[f"tabular {c.code}: use additional code: {' '.join(sorted(words))} "
                                   f"({entry.code}) documented"], evidence=c.evidence, confidence=c.confidence * 0.9))
                    present.add(entry.code)
            for group in notes.use_groups:
                if any(self._covers(group, p) for p in present if p != c.code):
                    continue
                companion = self._companion(c, group, clauses, queries)
                if companion is not None and _identified_by(companion, items):
                    # "Use additional code to identify the infectious agent" when another code already names
                    # it (A41.51 Sepsis due to E. coli beside N39.0): the detail is not coded twice.
                    dropped.append((companion.code, f"{c.code}: use additional code already met by the title of "
                                                    "another code"))
                    continue
                if companion is not None and companion.code not in present:
                    added += 1
                    items.insert(items.index(c) + added, companion)
                    present.add(companion.code)
                    pending.append(companion)
                elif companion is None:
                    queries.extend(self._companion_query(c, group))
            if notes.names_infection and not any(p[:1] in "AB" for p in present):
                # "Use additional code to identify infection" (T81.4-) with no infectious agent coded: ask for it.
                queries.append(DocumentationQuery(
                    code=c.code, missing="organism", evidence=(c.evidence,), options=(),
                    question=f"Please document the organism of the infection for {c.code} (use additional code to "
                             "identify infection)."))
            # The condition itself, in its own chapter, right after the code that places it in the pregnancy.
            for refs in self._condition_refs(notes, present):
                companion = self._condition_elsewhere(c, refs, clauses)
                if companion is not None and companion.code not in present:
                    items.insert(items.index(c) + 1, companion)
                    present.add(companion.code)
                    break
        # 4. Excludes1 (I.A.12.a): two codes that exclude each other are not reported together.
        for c in list(items):
            if c not in items:
                continue
            excl = self._notes(c.code).excludes1
            if not excl:
                continue
            for other in list(items):
                if other is c or other not in items or not self._covers(excl, other.code):
                    continue
                loser = _weaker(c, other)
                items.remove(loser)
                winner = other if loser is c else c
                dropped.append((loser.code, f"Excludes1 with {winner.code} (guideline I.A.12.a)"))
                winner.rationale.append(f"tabular: Excludes1 resolved against {loser.code}")
                if loser is c:
                    break
        # Guideline I.C.1.g.1.a: only a confirmed COVID-19 is coded; "probable" is coded from its symptoms.
        for c in [c for c in items if c.code in lexicon().confirmed_only and c.clause < len(clauses)
                  and clauses[c.clause].context == "uncertain"]:
            items.remove(c)
            dropped.append((c.code, "uncertain diagnosis not coded even for an inpatient (guideline I.C.1.g.1.a)"))
        # Inpatient uncertain diagnoses coded as established (II.H) replace the symptoms that led to them
        # (I.B.5: signs and symptoms routinely associated with the diagnosis are not coded separately).
        if context.setting == "inpatient" and any(clauses[c.clause].context == "uncertain" for c in items
                                                  if c.clause < len(clauses)):
            for c in [c for c in items if c.code.startswith("R") and clauses[c.clause].context == "present"]:
                items.remove(c)
                dropped.append((c.code, "symptom of the uncertain diagnosis coded as established (II.H, I.B.5)"))
        # 5. Validity on the date of service (MCE validity windows).
        if context.day is not None and "mce" in self.cs.choices:
            for c in list(items):
                if not self.cs.mce.is_valid(c.code, context.day):
                    items.remove(c)
                    dropped.append((c.code, f"not valid on {context.day.isoformat()} (MCE validity table)"))
                else:
                    c.rationale.append(f"valid on {context.day.isoformat()} (MCE); "
                                       f"tabular {self.cs.release('icd10cm-tabular').id}")
        return self._sequence(items)

    def excludes1_losers(self, codes: Sequence[_T]) -> dict[str, str]:
        """Codes of one encounter that an Excludes1 note of another rules out (Guideline I.A.12.a), as
        loser -> winner: the unspecified or less confident of each pair is dropped, as within a statement."""
        losers: dict[str, str] = {}
        for a in codes:
            if a.code in losers:
                continue
            excl = self._notes(a.code).excludes1
            if not excl:
                continue
            for b in codes:
                if b.code == a.code or b.code in losers or not self._covers(excl, b.code):
                    continue
                loser = _weaker(a, b)
                losers[loser.code] = (b if loser is a else a).code
                if loser is a:
                    break
        return losers

    def _companion(self, c: Candidate, refs: tuple[str, ...], clauses: Sequence[Clause],
                   queries: list[DocumentationQuery]) -> Candidate | None:
        """Code the words of ``c``'s own clause that a "use additional code" note asks for (I13.0 -> I50.-); the
        companion's own gaps are queried like any code's ("type of heart failure" for I50.9)."""
        from medcoder.coding.encoder import Candidate
        clause = clauses[c.clause]
        unexplained = frozenset(clause.words) - c.words
        # The companion names the complication of the combination code: the words matched below its "with"
        # subterm plus what it left unexplained ("chronic kidney disease" + "stage 3a").
        focus = (c.after_link | unexplained) if c.after_link else frozenset(clause.words)
        words = tuple(w for w in clause.words if w in focus)
        search = self.index_search
        hits = search.search(words)[:16]
        # Prefer the entry that explains what the combination code left unexplained ("stage 3a").
        hits.sort(key=lambda h: (-len(h.used & unexplained), -h.score))
        for hit in hits:
            if not hit.code or hit.code.rstrip("-").startswith(c.code[:3]):
                continue
            done = complete(self.tab, hit.code, frozenset(words), clause.text)
            if done.entry is None or not done.entry.billable or not self._covers(refs, done.code):
                continue
            queries.extend(DocumentationQuery(code=done.code, missing=missing, question=question, options=options,
                                              evidence=(c.evidence,)) for missing, question, options in done.queries)
            return Candidate(code=done.code, title=done.entry.title, clause=c.clause, role="companion",
                             rationale=[hit.describe(), *done.steps,
                                        f"tabular {c.code}: use additional code ({', '.join(refs)})"],
                             evidence=c.evidence, confidence=c.confidence * 0.9)
        return self._agent(c, refs, clause) or self._note_subject(c, refs, clauses) \
            or self._by_title_in_range(c, refs, clauses)

    def _agent(self, c: Candidate, refs: tuple[str, ...], clause: Clause) -> Candidate | None:
        """The note asks for the infectious agent (B95-B97) and the clause names one the code left unexplained
        ("MRSA cellulitis"): its code from the Index, "as cause of disease classified elsewhere" (I.C.1.e.1.b)."""
        from medcoder.coding.encoder import Candidate
        words = tuple(w for w in clause.words if w not in c.words and w not in _SIDE_WORDS)
        hit = infectious_agent(self.index_search, words) if words else None
        if hit is None or hit.code is None:
            return None
        done = complete(self.tab, hit.code, frozenset(words), clause.text)
        if done.entry is None or not done.entry.billable or not self._covers(refs, done.code):
            return None
        return Candidate(code=done.code, title=done.entry.title, clause=c.clause, role="companion",
                         rationale=[hit.describe(), *done.steps,
                                    f"tabular {c.code}: use additional code ({', '.join(refs)}) to identify the "
                                    "infectious agent"], evidence=c.evidence, confidence=c.confidence * 0.9)

    def _note_phrase(self, code: str, refs: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[int]]:
        """The words of the "use additional code" note naming ``refs``, in the note's order, and the Index main terms
        they name by two words or more ("outcome of delivery") or by the note's first word; else nothing (cached:
        notes repeat)."""
        key = (code, refs)
        found = self._phrases.get(key)
        if found is None:
            stop = lexicon().stopwords
            found = ((), frozenset())
            book = self.index_search.book("index")
            for note in self.tab.notes(code):
                if note.kind == "useAdditionalCode" and note.codes == refs:
                    words = tuple(w for w in tokens(_CODES_IN_TEXT.sub(" ", note.text))
                                  if w not in _INSTRUCTION_WORDS and w not in stop)
                    # A main term of two words or more ("outcome of delivery"), or the note's own first word
                    # ("underdosing of medication regimen": Underdosing).
                    mains = frozenset(main_id for main_id, taken in book.main_candidates(words)
                                      if len(taken) >= 2 or (words and taken == {words[0]}))
                    if mains:
                        found = (words, mains)
                    break
            self._phrases[key] = found
        return found

    def _note_subject(self, c: Candidate, refs: tuple[str, ...], clauses: Sequence[Clause]) -> Candidate | None:
        """The note names its subject as an Index main term ("code to indicate outcome of delivery (Z37.0)"): walk
        that main term with the record's words ("single liveborn" -> Outcome of delivery > single > liveborn)."""
        from medcoder.coding.encoder import Candidate
        documented = tuple(w for cl in clauses if cl.context == "present" for w in cl.words)
        record = frozenset(documented)
        for note_words, line_refs in self._notes(c.code).use_lines:
            if not set(line_refs) & set(refs) or not note_words:
                continue
            phrase, mains = self._note_phrase(c.code, line_refs)
            if not phrase:
                continue
            book = self.index_search.book("index")
            if not any(book.may_explain(main, record - note_words) for main in mains):
                continue  # the record says nothing the note's subject could be refined by
            for hit in self.index_search.search((*phrase, *documented), mains=mains)[:4]:
                # A main term of two words or more, all the note's ("outcome of delivery"), refined by the record.
                main = frozenset(tokens(hit.titles[0])) - lexicon().stopwords
                # A one-word main term must be walked two levels down by the record alone (Underdosing > intentional
                # > due to financial hardship), not by the note's other words ("hypoglycemia level" + the "2" of
                # "type 2" is no "Hypoglycemia > level > 2") nor stop at its own default.
                deep = len(main) >= 2 or (main == {phrase[0]} and len(hit.path) >= 3 and not hit.code_is_default
                                          and hit.used & note_words == main)
                if not hit.code or not deep or not main <= note_words or len(hit.path) < 2 \
                        or not hit.used - note_words:
                    continue
                done = complete(self.tab, hit.code, frozenset(documented), clauses[c.clause].text)
                if done.entry is None or not done.entry.billable or not self._covers(refs, done.code):
                    continue
                return Candidate(code=done.code, title=done.entry.title, clause=c.clause, role="companion",
                                 rationale=[hit.describe(), *done.steps,
                                            f"tabular {c.code}: use additional code ({', '.join(refs)})"],
                                 evidence=c.evidence, confidence=c.confidence * 0.85)
        return None

    def _condition_refs(self, notes: _Notes, present: set[str]) -> list[tuple[str, ...]]:
        """The "use additional code" instructions that ask for the condition itself: "to identify specific
        condition" without a code (O99), or "from category E11" naming whole categories (O24.1), not yet met."""
        found: list[tuple[str, ...]] = [()] if notes.names_condition else []
        for _, refs in notes.use_lines:
            if refs and all(len(r) == 3 for r in refs) and not any(self._covers(refs, p) for p in present):
                found.append(refs)
        return found

    def _condition_elsewhere(self, c: Candidate, refs: tuple[str, ...], clauses: Sequence[Clause]) -> Candidate | None:
        """The condition a chapter-15 code says complicates the pregnancy ("anemia complicating pregnancy" is
        O99.01- + D64.9): its own code, found in the Index with the clause's words less the words of ``c``'s chapter
        title, outside that chapter ("use additional code to identify specific condition", O99; "from category E11
        to further identify any manifestations", O24.1; Guideline I.C.15.g)."""
        from medcoder.coding.encoder import Candidate
        entry = self.tab.get(c.code)
        chapter = self.tab.chapter(entry.chapter) if entry is not None else None
        if chapter is None or c.clause >= len(clauses):
            return None
        context_words = frozenset(tokens(chapter.title)) | _CONTEXT_WORDS
        words = tuple(w for w in clauses[c.clause].words if w not in context_words)
        if not words:
            return None
        for hit in self.index_search.search(words)[:8]:
            if not hit.code or not frozenset(tokens(hit.titles[0])) & frozenset(words):
                continue
            done = complete(self.tab, hit.code, frozenset(words), clauses[c.clause].text)
            if done.entry is None or not done.entry.billable or done.entry.chapter == chapter.number:
                continue
            if refs and not self._covers(refs, done.code):
                continue
            return Candidate(code=done.code, title=done.entry.title, clause=c.clause, role="companion",
                             rationale=[hit.describe(), *done.steps,
                                        f"tabular {c.code}: use additional code to identify the specific condition"
                                        + (f" ({', '.join(refs)})" if refs else "")],
                             evidence=c.evidence, confidence=c.confidence * 0.85)
        return None

    def _companion_query(self, c: Candidate, refs: tuple[str, ...]) -> list[DocumentationQuery]:
        """A "use additional code ... to identify the specific week of the pregnancy, if known" note whose detail
        is not documented: ask for it, named from the note's own words (lexicon ``query_dimensions``)."""
        dimensions = lexicon().query_dimensions
        for words, line_refs in self._notes(c.code).use_lines:
            if not set(line_refs) & set(refs):
                continue
            for name in _COMPANION_QUERIES:
                if words & dimensions.get(name, frozenset()):
                    return [DocumentationQuery(code=c.code, missing=name, evidence=(c.evidence,), options=refs,
                                               question=f"Please document the {name} for {c.code} "
                                                        f"(use additional code {', '.join(refs)}).")]
        return []

    def _restated_subject(self, c: Candidate, code: str, own_title: frozenset[str], stop: frozenset[str]) -> bool:
        """Whether a "use additional code" line naming ``code`` asks for a subject ``c``'s own title states."""
        return any(subject and subject <= own_title for line_words, line_refs in self._notes(c.code).use_lines
                   if (subject := line_words - stop - _GENERIC_TITLE) and self._covers(line_refs, code))

    def _range_codes(self, refs: tuple[str, ...]) -> list[tuple[str, str, frozenset[str]]]:
        key = tuple(refs)
        found = self._ranges.get(key)
        if found is None:
            found = []
            for ref in refs:
                try:
                    parsed = CodeRef.parse(ref)
                except ValueError:
                    continue
                first, last = parsed.first.split(".")[0], parsed.last.split(".")[0]
                block = [e for e in self.tab.categories() if first <= e.code <= last] if first != last else \
                    [self.tab.get(first)]
                stack = [e.code for e in block if e is not None]
                while stack:
                    code = stack.pop()
                    entry = self.tab.get(code)
                    if entry is None:
                        continue
                    if entry.billable and self._covers((ref,), entry.code):
                        found.append((entry.code, entry.title, frozenset(tokens(entry.title))))
                    stack.extend(ch.code for ch in self.tab.children(code) if ch.seventh is None)
            self._ranges[key] = found
        return found

    def _common_title_words(self, refs: tuple[str, ...]) -> frozenset[str]:
        """Words most titles of the range print ("infection", "as the cause of diseases"): they distinguish no code
        of it (cached per range: notes repeat)."""
        key = tuple(refs)
        found = self._common.get(key)
        if found is None:
            codes = self._range_codes(refs)
            counts: dict[str, int] = {}
            for _, _, title_words in codes:
                for w in title_words:
                    counts[w] = counts.get(w, 0) + 1
            found = self._common[key] = frozenset(
                {w for w, n in counts.items() if n > max(2, len(codes) * 0.3)} | _GENERIC_TITLE)
        return found

    def _by_title_in_range(self, c: Candidate, refs: tuple[str, ...], clauses: Sequence[Clause]) -> Candidate | None:
        """The note names a range (Z3A, B95-B97): the code in it whose distinctive title words are all documented
        ("28 weeks" -> Z3A.28, "Escherichia coli" -> B96.20)."""
        from medcoder.coding.encoder import Candidate

        codes = self._range_codes(refs)
        if not codes or len(codes) > 400:
            return None
        words = frozenset(w for cl in clauses if cl.context == "present" for w in cl.words)
        # Only when the instruction's subject is documented ("perforated tympanic membrane") or is the kind
        # of detail a range always identifies (infectious agent, week of pregnancy).
        subjects = [line_words for line_words, line_refs in self._notes(c.code).use_lines if set(line_refs) & set(refs)]
        if not any(sw & words or sw & _IDENTIFIES for sw in subjects):
            return None
        common = self._common_title_words(refs)
        pairs = frozenset(pair for cl in clauses if cl.context == "present"
                          for pair in zip(cl.words, cl.words[1:], strict=False))
        best: tuple[tuple[int, int], str, str] | None = None
        stop = lexicon().stopwords  # never in a clause's words ("limited to breakdown of skin")
        own_title = frozenset(tokens(c.title))
        for code, title, title_words in codes:
            distinctive = title_words - common - stop
            if distinctive <= _SIDE_WORDS or (distinctive <= c.words | own_title
                                              and not self._restated_subject(c, code, own_title, stop)):
                # A companion names something its code does not say: the "uncomplicated" of J45.20 does not name
                # F17.200 (nicotine dependence ..., uncomplicated). Unless the note asks to identify a detail the
                # code's own title states: I13.11 "... stage 5 chronic kidney disease ..." still takes N18.6 for
                # "use additional code to identify the stage of chronic kidney disease" (I.C.9.a.3).
                continue
            # Between codes equally named by their distinctive words ("estrogen" in Z17.0 and Z17.1), the one
            # more of whose title is documented ("positive") wins.
            rank = (len(distinctive), len(title_words & words))
            if distinctive and len(distinctive & words) == len(distinctive) and (best is None or rank > best[0]) \
                    and _numbers_in_place(title, distinctive, pairs):
                best = (rank, code, title)
        if best is None:
            return None
        return Candidate(code=best[1], title=best[2], clause=c.clause, role="companion",
                         rationale=[f"tabular {c.code}: use additional code ({', '.join(refs)}) -> {best[1]} "
                                    f"{best[2]} (its title words are documented)"],
                         evidence=c.evidence, confidence=c.confidence * 0.85)

    def _sequence(self, items: list[Candidate]) -> list[Candidate]:
        """Poisonings first (I.C.19.e.5.b); adverse-effect T codes after the effect (I.C.19.e.5.a); "code first"
        etiologies before their manifestations (I.A.13); external causes last (I.C.20)."""
        rank = {"poisoning": 0, "primary": 1, "neoplasm": 1, "companion": 1, "manifestation": 1,
                "adverse-effect": 2, "underdosing": 2, "external-cause": 3}
        first = lexicon().first_prefixes
        ordered = sorted(items, key=lambda c: (rank.get(c.role, 1), _priority(c.code, first), not c.focus, c.clause))
        for c in [c for c in ordered if self._notes(c.code).first_condition]:
            # "Code first the specific condition related to COVID-19" (U09.9): the condition documented with it.
            position = ordered.index(c)
            related = [o for o in ordered[position + 1:] if o.clause == c.clause and o.role == "primary"]
            for moved in related:
                ordered.remove(moved)
                ordered.insert(ordered.index(c), moved)
                c.rationale.append(f"tabular {c.code}: code first the specific condition -> {moved.code} before")
        for c in list(ordered):
            for earlier, later in self._notes(c.code).before:
                # Tabular P07: "birth weight sequenced before gestational age", within the category.
                if not later <= frozenset(tokens(c.title)):
                    continue
                for moved in [o for o in ordered[ordered.index(c) + 1:] if o.code[:3] == c.code[:3]
                              and earlier <= frozenset(tokens(o.title))]:
                    ordered.remove(moved)
                    ordered.insert(ordered.index(c), moved)
                    moved.rationale.append(f"tabular {c.code[:3]}: {' '.join(sorted(earlier))} sequenced before "
                                           f"{' '.join(sorted(later))} -> before {c.code}")
        changed = True
        guard = 0
        while changed and guard < 20:
            changed = False
            guard += 1
            for i, c in enumerate(ordered):
                first = self._notes(c.code).code_first
                if not first:
                    continue
                for j in range(i + 1, len(ordered)):
                    if self._covers(first, ordered[j].code):
                        moved = ordered.pop(j)
                        ordered.insert(i, moved)
                        c.rationale.append(f"tabular {c.code}: code first {moved.code} (sequenced before)")
                        changed = True
                        break
                if changed:
                    break
        # I.C.19.e.5.a/c: the effect or the relapsed condition is coded first, never the adverse-effect or underdosing
        # T code, even when a "code first" note (Z91.12- -> T36-T50) pulled that T code forward.
        head = next((n for n, c in enumerate(ordered) if c.role in ("adverse-effect", "underdosing")), None)
        if head is not None:
            effects = [c for c in ordered[head + 1:] if c.role == "primary" and c.clause == ordered[head].clause]
            ordered = ordered[:head] + effects + [c for c in ordered[head:] if c not in effects]
        return _anchored(ordered)


class _Scored(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def confidence(self) -> float: ...


_T = TypeVar("_T", bound=_Scored)


def _weaker(a: _T, b: _T) -> _T:
    """Of two codes in Excludes1 conflict, the one to drop: the unspecified or less confident one."""
    a_unspec = "unspecified" in a.title.lower()
    b_unspec = "unspecified" in b.title.lower()
    if a_unspec != b_unspec:
        return a if a_unspec else b
    if abs(a.confidence - b.confidence) > 1e-9:
        return a if a.confidence < b.confidence else b
    return b if len(a.code) >= len(b.code) else a


def _numbers_in_place(title: str, distinctive: frozenset[str], pairs: frozenset[tuple[str, str]]) -> bool:
    """A number names a code only beside the word it counts: "28 weeks" is Z3A.28, but the "2" of "type 2"
    is not "Hypoglycemia level 2" (E16.A2)."""
    words = tokens(title)
    for position, word in enumerate(words):
        if word.isdigit() and word in distinctive:
            around = {pair for pair in ((words[position - 1], word) if position else None,
                                        (word, words[position + 1]) if position + 1 < len(words) else None) if pair}
            if not around & pairs:
                return False
    return True


def _with_drug_classes(words: frozenset[str]) -> frozenset[str]:
    """A documented drug names its class for "use additional code" notes: "metformin" is one of the "oral
    antidiabetic drugs (Z79.84)" (lexicon ``drug_classes``; Guideline I.C.4.a.3)."""
    classes = lexicon().drug_classes
    return words | frozenset(w for word in words if word in classes for w in tokens(classes[word]))


_AGENT_TITLE = frozenset({"cause", "classified", "elsewhere"})


def _identified_by(companion: Candidate, items: Sequence[Candidate]) -> bool:
    """Whether the companion only names an infectious agent "as the cause of diseases classified elsewhere"
    (B95-B97) that another code's title already names (A41.51 "Sepsis due to Escherichia coli")."""
    words = frozenset(tokens(companion.title))
    distinctive = words - _GENERIC_TITLE
    return _AGENT_TITLE <= words and bool(distinctive) and any(
        distinctive <= frozenset(tokens(o.title)) for o in items if o.code != companion.code)


def _anchored(ordered: list[Candidate]) -> list[Candidate]:
    """Codes anchored to another (an adverse-effect T code to the effect it explains, I.C.19.e.5.a) move right
    after it, in their order; an anchor not reported leaves the code where it is."""
    placed = [c for c in ordered if c.anchor is None or all(o.code != c.anchor for o in ordered)]
    for c in ordered:
        if c not in placed:
            at = next(i for i, o in enumerate(placed) if o.code == c.anchor)
            while at + 1 < len(placed) and placed[at + 1].anchor == c.anchor:
                at += 1
            placed.insert(at + 1, c)
    return placed


def _priority(code: str, first: tuple[str, ...]) -> int:
    """Position of the first ``first`` prefix the code starts with (chapter guidelines' sequencing), else last."""
    return next((n for n, prefix in enumerate(first) if code.startswith(prefix)), len(first))


def ref_of(text: str) -> CodeRef:
    return CodeRef.parse(text)
