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
from medcoder.coding.complete import complete
from medcoder.coding.index_search import Hit
from medcoder.coding.terms import Clause, tokens
from medcoder.model.code import CodeRef
from medcoder.model.suggestion import DocumentationQuery

if TYPE_CHECKING:
    from medcoder.coding.encoder import Candidate, EncounterContext


_CODES_IN_TEXT = re.compile(r"\([^()]*\)|\b[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]+)?\b")
_GENERIC_TITLE = frozenset({"unspecified", "other", "specified", "e", "the", "of", "as", "cause", "disease",
                            "classified", "elsewhere", "and", "or", "in", "with", "a"})
_IDENTIFIES = frozenset({"infectious", "agent", "organism", "bacterial", "week", "weeks"})
_SIDE_WORDS = frozenset({"right", "left", "bilateral", "unspecified", "initial", "subsequent", "sequela", "encounter"})
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


class Rules:
    def __init__(self, codesets: Codesets) -> None:
        self.cs = codesets
        self.tab = codesets.tabular
        self._manifestations: list[tuple[str, frozenset[str], tuple[str, ...]]] | None = None
        self._notes = lru_cache(maxsize=65536)(self._load_notes)
        self._covered: dict[tuple[tuple[str, ...], str], bool] = {}
        self._ranges: dict[tuple[str, ...], list[tuple[str, str, frozenset[str]]]] = {}

    # -- notes -----------------------------------------------------------------------------------------
    def _load_notes(self, code: str) -> _Notes:
        use: list[str] = []
        first: list[str] = []
        excl: list[str] = []
        groups: dict[tuple[str, int], list[str]] = {}
        lines: list[tuple[frozenset[str], tuple[str, ...]]] = []
        firsts: list[tuple[frozenset[str], tuple[str, ...]]] = []
        for note in self.tab.notes(code):
            target = {"useAdditionalCode": use, "codeFirst": first, "excludes1": excl}.get(note.kind)
            if target is not None:
                target.extend(note.codes)
            if note.kind == "useAdditionalCode" and note.codes:
                groups.setdefault((note.source, note.group), []).extend(note.codes)
                words = frozenset(tokens(_CODES_IN_TEXT.sub(" ", note.text))) - _INSTRUCTION_WORDS
                lines.append((words, note.codes))
            if note.kind == "codeFirst" and note.codes:
                words = frozenset(tokens(_CODES_IN_TEXT.sub(" ", note.text))) - _INSTRUCTION_WORDS
                firsts.append((words, note.codes))
        return _Notes(tuple(use), tuple(tuple(g) for g in groups.values()), tuple(lines), tuple(first), tuple(excl),
                      tuple(firsts))

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

    def manifestation_for(self, hit: Hit, made: Candidate, clause: Clause) -> Candidate | None:
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
        for c in list(items):
            notes = self._notes(c.code)
            # Documented anywhere in the record, as present (not negated, uncertain or historical).
            clause_words = frozenset(w for cl in clauses if cl.context == "present" for w in cl.words)
            for words, refs in notes.first_lines:
                # "code first COVID-19 (U07.1)" with COVID-19 documented: the etiology goes first.
                if len(refs) != 1 or "-" in refs[0] or not words or not words <= clause_words:
                    continue
                entry = self.tab.get(refs[0])
                if entry is not None and entry.billable and entry.code not in present:
                    items.insert(items.index(c), Candidate(
                        code=entry.code, title=entry.title, clause=c.clause, role="primary",
                        rationale=[f"tabular {c.code}: code first {' '.join(sorted(words))} ({entry.code}) "
                                   "documented"], evidence=c.evidence, confidence=c.confidence * 0.9))
                    present.add(entry.code)
            for words, refs in notes.use_lines:
                # The instruction names its companion in words ("insulin (Z79.4)"): documented -> add it.
                if len(refs) != 1 or "-" in refs[0] or not words or not words <= clause_words | c.linked:
                    continue
                entry = self.tab.get(refs[0])
                if entry is not None and entry.billable and entry.code not in present:
                    items.insert(items.index(c) + 1, Candidate(
                        code=entry.code, title=entry.title, clause=c.clause, role="companion",
                        rationale=[f"tabular {c.code}: use additional code: {' '.join(sorted(words))} "
                                   f"({entry.code}) documented"], evidence=c.evidence, confidence=c.confidence * 0.9))
                    present.add(entry.code)
            for group in notes.use_groups:
                if any(self._covers(group, p) for p in present if p != c.code):
                    continue
                companion = self._companion(c, group, clauses, queries)
                if companion is not None and companion.code not in present:
                    items.insert(items.index(c) + 1, companion)
                    present.add(companion.code)
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
        from medcoder.coding.index_search import IndexSearch

        clause = clauses[c.clause]
        unexplained = frozenset(clause.words) - c.words
        # The companion names the complication of the combination code: the words matched below its "with"
        # subterm plus what it left unexplained ("chronic kidney disease" + "stage 3a").
        focus = (c.after_link | unexplained) if c.after_link else frozenset(clause.words)
        words = tuple(w for w in clause.words if w in focus)
        search = IndexSearch.of(self.cs.index)
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
        return self._by_title_in_range(c, refs, clauses)

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
        counts: dict[str, int] = {}
        for _, _, title_words in codes:
            for w in title_words:
                counts[w] = counts.get(w, 0) + 1
        common = {w for w, n in counts.items() if n > max(2, len(codes) * 0.3)} | _GENERIC_TITLE
        best: tuple[int, str, str] | None = None
        for code, title, title_words in codes:
            distinctive = title_words - common
            if distinctive <= _SIDE_WORDS:
                continue
            if distinctive and len(distinctive & words) == len(distinctive) and (
                    best is None or len(distinctive) > best[0]):
                best = (len(distinctive), code, title)
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
        ordered = sorted(items, key=lambda c: (rank.get(c.role, 1), c.clause))
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
        return ordered


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


def ref_of(text: str) -> CodeRef:
    return CodeRef.parse(text)
