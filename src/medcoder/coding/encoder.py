"""Encode a diagnostic statement into the codes a coder would report, each with its rationale.

The official method, in order: split the statement into the conditions it documents and their assertion
context; find each condition's main term in the Alphabetic Index and walk its subterms with the
documentation's words (``index_search``); use the Table of Neoplasms and the Table of Drugs and Chemicals
where the Index sends us; verify and complete every code in the Tabular (``complete``); then apply the
conventions and guidelines (``guidelines``): uncertain diagnoses by setting, combination codes, "use
additional code" and "code first" notes, etiology/manifestation pairs, Excludes1, sequencing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.icd10cm_index import DEFAULT_HEADINGS
from medcoder.coding import guidelines
from medcoder.coding.adverse import adverse_effects
from medcoder.coding.agent import infectious_agent
from medcoder.coding.complete import Completion, complete, dimension_of
from medcoder.coding.excludes import excluded_elsewhere
from medcoder.coding.index_search import Hit, IndexSearch, Node, after_without, search_memo
from medcoder.coding.injury import IGNORABLE as _IGNORABLE
from medcoder.coding.injury import InjuryRules, includes_cause
from medcoder.coding.lexicon import lexicon
from medcoder.coding.neoplasm_history import drop_unknown_primary, eradicated_as_history
from medcoder.coding.restated import drop_restated
from medcoder.coding.terms import Clause, split_statement, stem, tokens
from medcoder.model.suggestion import CodeSuggestion, DocumentationQuery, Evidence

PIPELINE_VERSION = "encoder-0.1"
# The Tables' column headings, as printed (rationale, queries).
_NEOPLASM_COLUMNS = DEFAULT_HEADINGS["neoplasm"]
_DRUG_COLUMNS = DEFAULT_HEADINGS["drug"]
_SEE_NEOPLASM = re.compile(r"Neoplasm,\s*([a-z ]+?),\s*by site", re.IGNORECASE)
# "Meningioma - see also Neoplasm, meninges, benign": a histology that fixes both the site and the behavior.
_SEE_NEOPLASM_AT = re.compile(r"Neoplasm,\s*([a-z ,]+?),\s*(malignant|benign|uncertain behavior|in situ)\s*$",
                              re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class EncounterContext:
    setting: str = "outpatient"
    age: int | None = None
    sex: str | None = None
    day: date | None = None


@dataclass(slots=True, kw_only=True)
class Candidate:
    """A code on its way to the claim: where it came from and why."""

    code: str
    title: str
    clause: int
    role: str
    """``primary``, ``companion``, ``manifestation``, ``poisoning``, ``adverse-effect``, ``external-cause``."""
    rationale: list[str]
    evidence: Evidence
    confidence: float
    linked: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    after_link: frozenset[str] = frozenset()
    anchor: str | None = None
    """The code this one is sequenced right after (an adverse-effect T code after the effect, I.C.19.e.5.a)."""
    focus: bool = False
    """The record says the encounter is for this condition: sequenced first among its rank (Section II)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EncodeResult:
    statement: str
    codes: tuple[CodeSuggestion, ...]
    queries: tuple[DocumentationQuery, ...]
    dropped: tuple[tuple[str, str], ...] = ()
    """Codes considered and not reported, with the reason (guideline or convention)."""
    clauses: tuple[str, ...] = ()
    releases: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {"statement": self.statement, "codes": [c.to_dict() for c in self.codes],
                "queries": [q.to_dict() for q in self.queries],
                "dropped": [{"code": c, "reason": r} for c, r in self.dropped], "releases": self.releases}


class Encoder(InjuryRules):
    """Holds the compiled Index of one set of releases; ``encode`` is then cheap and thread-safe."""

    def __init__(self, codesets: Codesets) -> None:
        self.cs = codesets
        self.search = IndexSearch.of(codesets.index)
        self.tab = codesets.tabular
        self.rules = guidelines.Rules(codesets)
        self._statement = ""
        self._patient_words: frozenset[str] = frozenset()
        self._extra_words: frozenset[str] = frozenset()
        self._day: date | None = None
        self._drug_kind: str | None = None
        self._vocab: dict[str, frozenset[str]] = {}
        self._clauses: list[Clause] = []
        self._pregnant = False

    # -- one clause ------------------------------------------------------------------------------------
    def _complete(self, code: str, clause: Clause, used: frozenset[str]) -> Completion:
        # The episode of care is a property of the encounter: "..., initial encounter" anywhere applies.
        # The patient's sex chooses between "female"/"male" subdivisions (C50.91- vs C50.92-).
        mapped = lexicon().title_words
        used = self._spent(code, used)
        words = frozenset(clause.words) - (used - _SIDES) | self._patient_words | self._extra_words
        # A part names the region the Tabular groups it in ("colon" is the large intestine, a toe is in the
        # "ankle and foot"): documented, unlike a title synonym.
        sites = lexicon().site_words
        # The class of a documented condition names it in a title ("due to lung diseases" for a COPD, I27.23).
        words = words | _condition_classes(clause.words)
        core = words | frozenset(w for word in words for w in sites.get(word, ()))
        words = core | frozenset(w for word in clause.words for w in mapped.get(word, ()))
        day = self._day
        valid = (lambda c: self.cs.mce.is_valid(c, day)) if day is not None else None
        return complete(self.tab, code, words, f"{clause.text} {self._statement}", core=core, valid=valid)

    def _spent(self, code: str, used: frozenset[str]) -> frozenset[str]:
        """The walk's words the Index code already encodes. An incomplete code ("L89.15-" from Ulcer > pressure >
        stage 3 > sacral region) encodes only what its Tabular title says; the rest of the path ("stage 3") still
        chooses among its subdivisions, as the coder reads the Tabular with the whole documentation."""
        entry = self.tab.get(code.rstrip("-").rstrip("."))
        if entry is None or entry.billable:
            return used
        return used & frozenset(tokens(entry.title))

    def _nonessential(self, hit: Hit) -> frozenset[str]:
        """Words the walk explained only by a nonessential modifier ("heart (acute)"): the Index does not
        choose by them, so they stay available to the Tabular ("acute on chronic" -> I50.23)."""
        if hit.book != "index":
            return frozenset()
        nodes = self.search.book(hit.book).nodes
        nemod = frozenset().union(*(nodes[i].nemod for i in hit.path if i in nodes))
        essential = frozenset(w for i in hit.path if i in nodes for form in nodes[i].forms for w in form)
        return nemod - essential

    def _candidate(self, hit: Hit, code: str, clause: Clause, index: int, role: str, queries: list[DocumentationQuery],
                   *, source: str | None = None) -> Candidate | None:
        done = self._complete(code, clause, hit.used - self._nonessential(hit))
        if done.entry is None or not done.entry.billable:
            return None
        evidence = Evidence(start=clause.start, end=clause.end, text=clause.text, context=clause.context)
        for missing, question, options in (*done.queries, *done.noted):
            queries.append(DocumentationQuery(code=done.code, missing=missing, question=question, options=options,
                                              evidence=(evidence,)))
        if hit.book == "index":
            # The Index stopped at a term whose subterms the documentation did not choose between
            # ("Diabetes" without a type, "Sepsis" without an organism): ask for that detail.
            last = self.search.book("index").nodes[hit.path[-1]]
            subterms = [self.search.book("index").nodes[i] for i in last.children]
            coded = [o.title for o in subterms if o.code and o.connector is None and o.lead is None]
            if len(coded) >= 2 and hit.code == last.code:
                parent = frozenset(tokens(last.title))
                dimension = dimension_of(coded, parent)
                if dimension != "specificity" and dimension not in {m for m, _, _ in done.queries} \
                        and _names_axis(tuple(coded), dimension, parent):
                    queries.append(DocumentationQuery(
                        code=done.code, missing=dimension,
                        question=f"Please document the {dimension} of {' '.join(hit.titles).lower()}.",
                        options=tuple(coded[:20]), evidence=(evidence,)))
                queries.extend(self._subterm_axis(subterms, done, dimension, evidence))
        done = self._excluded_elsewhere(done, clause, hit.used)
        entry = done.entry
        if entry is None:
            return None
        unexplained = frozenset(clause.words) - hit.used - done.used - _IGNORABLE
        confidence = 0.95 - 0.1 * len(done.queries) - (0.1 if hit.code_is_default else 0.0)
        confidence -= 0.3 * len(unexplained) / max(1, len(clause.words))
        rationale = [source or hit.describe(), *done.steps]
        return Candidate(code=done.code, title=entry.title, clause=index, role=role, rationale=rationale,
                         evidence=evidence, confidence=max(0.05, min(0.99, confidence)), linked=hit.linked,
                         words=hit.used | done.used, after_link=hit.after_link)

    def _subterm_axis(self, subterms: Sequence[Node], done: Completion, asked: str,
                      evidence: Evidence) -> list[DocumentationQuery]:
        """The subterms the documentation did not choose between print incomplete codes ("Cataract > senile >
        cortical H25.01-") whose Tabular children differ by another axis (the eye): that detail is asked too,
        since any of those codes needs it (Guideline I.B.13 laterality). Only subterms coded in the category of the
        code assigned count: those are kinds of the same condition; "Hypertension > gestational O13-, > ocular
        H40.05-" are other conditions, whose trimester or eye the documentation of hypertension never lacks."""
        category = done.code[:3]
        incomplete = [o.code.rstrip("-").rstrip(".") for o in subterms
                      if o.code and o.code.endswith("-") and o.code.startswith(category)]
        if len(incomplete) < 2:
            return []
        titles = [child.title for code in incomplete[:6] for child in self.tab.children(code) if child.seventh is None]
        parents = frozenset(w for code in incomplete[:6] if (e := self.tab.get(code)) for w in tokens(e.title))
        dimension = dimension_of(titles, parents) if titles else "specificity"
        if dimension in ("specificity", asked) or dimension in {m for m, _, _ in done.queries}:
            return []
        return [DocumentationQuery(code=done.code, missing=dimension, evidence=(evidence,),
                                   question=f"Please document the {dimension} ({', '.join(incomplete[:6])}).",
                                   options=tuple(titles[:20]))]

    def _excluded_elsewhere(self, done: Completion, clause: Clause, used: frozenset[str]) -> Completion:
        """The code's Excludes1 note names the documented detail and where it is coded ("slipped on ice": W01's
        "... due to ice or snow (W00.0)"): that code instead (convention I.A.12.a, ``excludes``)."""
        pointer = excluded_elsewhere(self.tab, done.code, frozenset(clause.words) - used - done.used)
        if pointer is None:
            return done
        moved = self._complete(pointer.target, clause, used | pointer.words)
        if moved.entry is None or not moved.entry.billable:
            return done
        if self._day is not None and not self.cs.mce.is_valid(moved.code, self._day):
            return done  # the code the note names is not valid yet on the date of service (E11.A before FY2026)
        step = (f"tabular {done.code}: Excludes1 {pointer.note} -> {moved.code} ({', '.join(sorted(pointer.words))} "
                "documented)")
        return replace(moved, steps=(*done.steps, step, *moved.steps), used=moved.used | done.used | pointer.words)

    def _neoplasm(self, clause: Clause, index: int, hit: Hit | None,
                  queries: list[DocumentationQuery]) -> list[Candidate]:
        """Table of Neoplasms (Guideline I.C.2): behavior from the histology's "see Neoplasm, X, by site" or the
        documentation's words; the primary site from "from"/"primary", the secondary from "to"/"metastatic"."""
        lex = lexicon()
        text = clause.text.lower()
        behavior = None
        fixed_site = ""
        for see_also in (*hit.see_also, hit.see) if hit else ():
            found = _SEE_NEOPLASM.search(see_also or "")
            at = _SEE_NEOPLASM_AT.search(see_also or "") if found is None else None
            if found:
                behavior = found.group(1).strip().lower()
            elif at:
                fixed_site, behavior = at.group(1).strip().lower(), at.group(2).lower()
        for name, cues in lex.neoplasm_behavior.items():
            if name in ("secondary", "in situ", "benign", "uncertain") and any(c in text for c in cues):
                behavior = name if name != "secondary" or behavior in (None, "malignant") else behavior
        neo_words = frozenset(clause.words) & lex.neoplasm_words
        site_text_primary, site_text_secondary = None, None
        if behavior == "secondary" or "metasta" in text:
            parts = re.split(r"\b(?:from|primary)\b", text, maxsplit=1)
            if len(parts) == 2:
                site_text_secondary, site_text_primary = parts[0], parts[1]
            else:
                to_parts = re.split(r"\b(?:to|into|in)\b", text, maxsplit=1)
                if len(to_parts) == 2 and _has_site(to_parts[0]):
                    site_text_primary, site_text_secondary = to_parts
                else:
                    site_text_secondary = text
        out: list[Candidate] = []
        plans: list[tuple[str, int]] = []
        if site_text_primary is not None or site_text_secondary is not None:
            if site_text_primary is not None:
                plans.append((site_text_primary, 0))
            if site_text_secondary is not None:
                plans.append((site_text_secondary, 1))
        else:
            column = {"malignant": 0, "secondary": 1, "in situ": 2, "benign": 3, "uncertain behavior": 4,
                      "uncertain": 4, "unspecified behavior": 5}.get(behavior or "", 5 if not neo_words - {
                          "neoplasm", "tumor", "mass", "lesion"} else 0)
            plans.append((f"{fixed_site} {text}".strip(), column))
        for site_text, column in plans:
            # Histology words stay: the Table prints some by site ("nose > skin > basal cell carcinoma").
            words = tuple(w for w in tokens(site_text) if w not in lex.stopwords and w not in _BEHAVIOR_WORDS)
            site_hits = self.search.search(("neoplasm", *words), book="neoplasm")
            site = next((h for h in site_hits if h.cells and h.cells[column]), None)
            if site is None or site.cells is None:
                continue
            cell = site.cells[column]
            if not cell:
                continue
            source = (f"neoplasm: {' > '.join(site.titles)} [{_NEOPLASM_COLUMNS[column]}] -> {cell}"
                      + (f"; {hit.describe()}" if hit else ""))
            made = self._candidate(site, cell, clause, index, "neoplasm", queries, source=source)
            if made is not None:
                # The behavior words chose the column: they are explained, not left for another condition.
                made.words |= frozenset(tokens(site_text)) & (lex.neoplasm_words | _BEHAVIOR_WORDS)
                made.rationale.append("guideline I.C.2: neoplasms by site from the Table of Neoplasms")
                out.append(made)
        if plans and all(col == 1 for _, col in plans) and out:
            unknown = self.tab.get("C80.1")
            if unknown is not None:
                out.append(Candidate(code="C80.1", title=unknown.title, clause=index, role="neoplasm",
                                     rationale=["guideline I.C.2.l.1: secondary site documented, primary not "
                                                "documented -> C80.1"],
                                     evidence=out[0].evidence, confidence=0.6))
        return out

    def _drug(self, clause: Clause, index: int, kind: str, queries: list[DocumentationQuery]) -> list[Candidate]:
        """Table of Drugs and Chemicals (Guideline I.C.19.e): the column from the documented intent."""
        lex = lexicon()
        text = clause.text.lower()
        column = {"adverse effect": 4, "underdosing": 5}.get(kind, 0)
        if kind == "poisoning":
            for intent, col in (("intentional self-harm", 1), ("assault", 2), ("undetermined", 3)):
                if any(cue in text for cue in lex.drug_intent[intent]):
                    column = col
        cue_words = {w for cues in lex.drug_intent.values() for cue in cues for w in tokens(cue)}
        words = tuple(w for w in clause.words if w not in cue_words and w not in {"accidental", "overdose"})
        hits = self.search.search(words, book="drug")
        drug = next((h for h in hits if h.cells and h.cells[column]), None)
        if drug is None or drug.cells is None:
            return []
        cell = drug.cells[column]
        assert cell is not None
        role = {4: "adverse-effect", 5: "underdosing"}.get(column, "poisoning")
        source = f"drug: {' > '.join(drug.titles)} [{_DRUG_COLUMNS[column]}] -> {cell}"
        made = self._candidate(drug, cell, clause, index, role, queries, source=source)
        if made is None:
            return []
        if kind == "poisoning" and column == 0 and "accident" not in text:
            # Guideline I.C.19.e.5.b: intent not documented -> accidental, and the coder asks.
            queries.append(DocumentationQuery(
                code=made.code, missing="intent", evidence=(made.evidence,),
                question=f"Was the poisoning ({made.code}) accidental, intentional self-harm, an assault, or is the "
                         "intent undetermined?", options=_DRUG_COLUMNS[:4]))
        out = [made]
        # What the poisoning or adverse effect caused, documented in the same clause ("... with respiratory
        # depression"), is coded from the Index too.
        rest = tuple(w for w in words if w not in drug.used and w not in {"with", "due", "in", "from"})
        # What follows "after" / "because" tells the circumstances ("CHF after patient stopped taking Lasix
        # because he could not afford it"), not the condition: those words may stay unexplained.
        start = next((n for n, w in enumerate(rest) if w in _CIRCUMSTANCE_WORDS), len(rest))
        circumstances = frozenset(rest[start:])
        if rest:
            effect = next((h for h in self.search.search(rest) if h.code and not (frozenset(rest) - h.used
                                                                                   - circumstances)), None)
            if effect is not None and effect.code:
                caused = self._candidate(effect, effect.code, clause, index, "primary", queries)
                if caused is not None:
                    out.append(caused)
        made.rationale.append("guideline I.C.19.e: " + {
            "poisoning": "poisoning coded first, followed by its manifestations; intent accidental when not "
                         "documented (I.C.19.e.5.b)",
            "adverse-effect": "adverse effect: code first the nature of the effect, then the T code (I.C.19.e.5.a)",
            "underdosing": "underdosing: code first the relapse or exacerbation, then the T code (I.C.19.e.5.c)"}[role])
        return out

    def _organism_class(self, clause: Clause, index: int, made: list[Candidate],
                        queries: list[DocumentationQuery]) -> None:
        """The infectious agent one code of the clause names ("COVID-19 acute bronchitis": U07.1) causes the
        condition another code names; where that condition's entry lists organisms by class, the agent's class
        chooses (Bronchitis > acute > viral NEC, J20.8; Guideline I.C.1.g.1; lexicon ``organism_classes``)."""
        named = lexicon().organism_classes
        agents = [c for c in made if any(w in named for w in c.words)]
        if not agents or len(made) < 2:
            return
        classes = tuple(k for c in agents for w in c.words for k in named.get(w, ()))
        for position, c in enumerate(made):
            if c in agents or c.role != "primary":
                continue
            own = tuple(w for w in clause.words if w in c.words)
            hit = next((h for h in self.search.search((*own, *classes)) if h.code), None)
            if hit is None or hit.code is None or frozenset(own) - hit.used or not hit.used & frozenset(classes):
                continue
            better = self._candidate(hit, hit.code, clause, index, "primary", queries)
            if better is not None and better.code != c.code:
                better.rationale.append(f"guideline I.C.1.g.1: the condition is due to the organism "
                                        f"{' '.join(sorted(a.code for a in agents))} names ({', '.join(classes)})")
                made[position] = better

    def _other_words(self, index: int) -> tuple[str, ...]:
        clauses = self._clauses
        return tuple(w for j, c in enumerate(clauses) if j != index and c.context == "present" for w in c.words)

    def _linked_category(self, clause: Clause) -> frozenset[str]:
        """The condition written after "with" named by its Tabular category too: "DM2 with ESRD" links ESRD (N18.6)
        to the subterm "with chronic kidney disease", the title of category N18 (Guideline I.A.15: "with"
        presumes the link; the Index names the linked condition by its category)."""
        if "with" not in clause.words:
            return frozenset()
        tail = clause.words[clause.words.index("with") + 1:]
        hit = next((h for h in self.search.search(tail) if h.code and h.used & frozenset(tail)), None) if tail \
            else None
        category = self.tab.get(hit.code[:3]) if hit is not None and hit.code else None
        if category is None or hit is None or hit.code_is_default:
            return frozenset()
        # Only the words the clause does not say itself ("chronic" of "chronic kidney disease" for ESRD).
        return frozenset(tokens(category.title)) - lexicon().stopwords - frozenset(clause.words)

    def _is_encounter_reason(self, words: Sequence[str]) -> bool:
        """Whether the words are only a main term of the Index that indexes reasons for an encounter with the
        condition they are for (Chemotherapy > neoplasm, Radiotherapy > ... : lexicon ``encounter_terms``)."""
        return bool(words) and frozenset(words) <= lexicon().encounter_terms

    def _names_substance(self, clause: Clause) -> bool:
        """Whether the clause names a Table of Drugs substance as a whole main term ("metoprolol")."""
        hits = self.search.search(clause.words, book="drug")
        if not hits or hits[0].cells is None:
            return False
        return bool(frozenset(tokens(hits[0].titles[0])) & frozenset(clause.words))

    def _clause(self, clause: Clause, index: int, pooled: frozenset[str], context: EncounterContext,
                queries: list[DocumentationQuery], dropped: list[tuple[str, str]]) -> list[Candidate]:
        lex = lexicon()
        text = clause.text.lower()
        words = list(clause.words)
        weeks = _gestational_age(clause.text) if self._pregnant else None
        if weeks is not None:
            # "routine prenatal visit, first pregnancy, 10 weeks": the week of the pregnancy (lexicon gestational_age).
            words = list(tokens(f"{weeks} weeks gestation"))
        if clause.context in lex.status_words:
            words = [*lex.status_words[clause.context], *words]
        elif context.age == 0 and not lex.patient_words & frozenset(words):
            # A patient of age 0 is a newborn (the MCE newborn age edit): the Index's "newborn" subterms apply
            # ("Cephalhematoma > newborn -> P12.0") without the statement saying so.
            words = [*words, "newborn"]
        cues = frozenset(clause.words)
        status = clause.context in lex.status_words  # "history of colon cancer" is Z85.038, not a neoplasm
        for kind in ("adverse effect", "underdosing", "poisoning"):
            if status:
                break
            if any(cue in f" {text} " or (clause.cue and cue in clause.cue) for cue in lex.drug_intent[kind]) or (
                    kind == self._drug_kind and self._names_substance(clause)):
                # The Index may name the condition itself ("dependence, cannabis, with intoxication"): the
                # Table of Drugs is for substances taken wrongly or reacting, so prefer a full Index match.
                indexed = next((h for h in self.search.search(words, pooled=pooled, cues=cues) if h.code), None)
                if indexed is not None and not (frozenset(words) - indexed.used - _IGNORABLE) and \
                        not frozenset(tokens(" ".join(lex.drug_intent["poisoning"][:2]))) & frozenset(words):
                    break
                drugs = self._drug(clause, index, kind, queries)
                if drugs:
                    return drugs
        if not status and _triggers().search(text):
            # The cause's subterms may sit in another clause ("nasal bone fracture from a fistfight, assault":
            # Assault > fight): the other present clauses' words follow the clause's own.
            ext = self.search.search((*clause.words, *self._other_words(index)), book="eindex")
            best_ext = next((h for h in ext if h.code and h.used & frozenset(clause.words)), None)
            injury = [h for h in self.search.search(words, pooled=pooled, cues=cues) if h.code]
            found: list[Candidate] = []
            if injury and injury[0].score >= 2:
                cause = self._candidate(injury[0], injury[0].code or "", clause, index, "primary", queries)
                if cause:
                    found.append(cause)
            if best_ext is not None and best_ext.code and not _names_no_cause(injury[0] if injury else None,
                                                                               best_ext, words):
                external = self._candidate(best_ext, best_ext.code, clause, index, "external-cause", queries)
                if external:
                    external.rationale.append("guideline I.C.20: external cause code after the injury it explains")
                    found.append(external)
            if found:
                return found
        hits = _obstetric_first(self.search.search(words, pooled=pooled, cues=cues), words)
        if len(words) > len(clause.words) and words[-1] == "newborn":
            # The patient's age chooses "newborn" subterms; it names no condition (Newborn -> Z38.2) of its own.
            hits = [h for h in hits if h.used - {"newborn"}]
        best = next((h for h in hits if h.code or h.see_also or h.see), None)
        sent = " ".join(x for x in (best.see if best else None, *(best.see_also if best else ())) if x).lower()
        if not status and "table of drugs" in sent:
            # The Index itself sends us to the Table of Drugs ("Overdose - see Table of Drugs and Chemicals,
            # by drug, poisoning"); its words name the column.
            kind = "adverse effect" if "adverse" in sent else "underdosing" if "underdosing" in sent else "poisoning"
            drugs = self._drug(clause, index, kind, queries)
            if drugs:
                for d in drugs:
                    d.rationale.insert(0, best.describe() + " (see Table of Drugs and Chemicals)" if best else "")
                return drugs
        best = next((h for h in hits if h.code or h.see_also), None)
        complete_in_index = best is not None and best.code is not None and not best.followed and not (
            frozenset(words) - best.used - _IGNORABLE)
        if not status and not complete_in_index and (frozenset(words) & lex.neoplasm_words or (
                best is not None and any(_SEE_NEOPLASM.search(s or "") or _SEE_NEOPLASM_AT.search(s or "")
                                         for s in (*best.see_also, best.see)))):
            # The histology's own entry ("Adenocarcinoma - see also Neoplasm, malignant, by site") gives the
            # behavior; the site comes from the Table of Neoplasms.
            histology = next((h for h in hits if frozenset(tokens(h.titles[0])) & lex.neoplasm_words), best)
            neoplasms = self._neoplasm(clause, index, histology, queries)
            if neoplasms:
                return neoplasms
        if best is None or best.code is None:
            # "on long-term prednisone": the Index lists drug therapies by class (Long-term > steroids > systemic).
            classed = _named_by_class(words)
            best = next((h for h in self.search.search(classed, pooled=pooled, cues=cues) if h.code
                         and not frozenset(classed) - h.used - _IGNORABLE), None) if classed != tuple(words) else None
        generic = None
        if best is None or best.code is None:
            best = generic = self._site_disorder(words, pooled, cues)
        if best is None or best.code is None:
            dropped.append((clause.text, "no Alphabetic Index entry found for these words"))
            return []
        made = self._candidate(best, best.code, clause, index, "primary", queries)
        if made is None:
            dropped.append((best.code, f"{best.code} could not be completed to a billable code"))
            return []
        if generic is not None:
            condition = ", ".join(sorted(frozenset(words) & lexicon().site_disorder_words))
            made.rationale.insert(1, f"guideline I.A.9.a: the Index lists '{condition}' for other sites only, so "
                                     "the documented condition is a specified disorder of this site (NEC)")
        self._classifiable_sibling(made, clause)
        out = [made]
        manifestation = self.rules.manifestation_for(best, made, clause, queries)
        if manifestation is not None:
            out.append(manifestation)
        elif made.after_link:
            out.extend(self._code_first_partner(clause, index, made, queries))
        return out

    def _site_disorder(self, words: Sequence[str], pooled: frozenset[str], cues: frozenset[str]) -> Hit | None:
        """"Eustachian tube dysfunction": a condition the Index lists for some sites only (Dysfunction > bladder)
        is, at a site it does not list, a specified disorder of that site the classification has no entry for:
        Disorder > eustachian tube > specified NEC (H69.8-), Guideline I.A.9.a. None unless the walk explains
        every other word of the clause (but laterality) and the site's entry prints such a subterm."""
        lex = lexicon()
        named = frozenset(words) & lex.site_disorder_words
        if not named:
            return None
        rest = tuple(w for w in words if w not in named)
        site = frozenset(rest) - _IGNORABLE - frozenset(lex.laterality)
        book = self.search.book("index")
        for term in lex.site_disorder_terms:
            for hit in self.search.search((term, *rest), pooled=pooled, cues=cues):
                if term not in hit.used or len(hit.path) < 2 or not site or site - hit.used:
                    continue
                child = book.specified_child(hit.path[-1])
                if child is not None:
                    return book.extended(hit, child, hit.used - {term} | named)
        return None

    def _ruled_out_observation(self, clause: Clause, index: int, context: EncounterContext,
                               queries: list[DocumentationQuery]) -> list[Candidate]:
        """"Newborn observed for suspected sepsis, ruled out": the encounter was for observing a suspected condition
        that was ruled out (Guideline I.C.21.c.6; I.C.16.b for a newborn), coded from Suspected condition, ruled out
        (> newborn Z05.9), made specific by the kind of condition ruled out (sepsis A41.9 is infectious: Z05.1).
        Nothing unless the clause concludes on a "ruled out" cue and says the patient was observed for it."""
        lex = lexicon()
        words = frozenset(clause.words)
        if clause.cue not in lex.context_cues.get("negated_after", ()) or not words & lex.observation_cues:
            return []
        newborn = context.age == 0 or "newborn" in words
        cue_words = frozenset(w for cue in lex.context_cues.get("uncertain", ()) for w in cue.split())
        condition = tuple(w for w in clause.words
                          if w not in lex.observation_cues and w not in lex.patient_words and w not in cue_words)
        named = None
        for words_asked in ((*condition, "newborn"), condition) if newborn and condition else ():
            # Only Z05 subdivides by the kind of condition. A newborn's condition first as the Index lists it for
            # newborns (seizures: Newborn > seizure P90, not R56.9).
            named = next((h for h in self.search.search(words_asked) if h.code), None)
            if named is not None:
                break
        kind = lex.observation_class(named.code) if named is not None and named.code else None
        asked = ("suspected", "condition", "ruled", "out", *(("newborn",) if newborn else ("observation",)))
        found = next((h for h in self.search.search(asked) if h.code and "ruled" in h.used), None)
        if found is None or found.code is None:
            return []
        # The kind of condition chooses the Tabular subdivision ("suspected infectious condition": Z05.1).
        kinded = replace(clause, words=(*clause.words, *tokens(kind or "")))
        made = self._candidate(found, found.code, kinded, index, "primary", queries)
        if made is None:
            return []
        guideline = "I.C.16.b (newborn)" if newborn else "I.C.21.c.6"
        why = f"; {named.describe()} is {kind}" if named is not None and kind else ""
        made.rationale.insert(1, f"guideline {guideline}: observation for a suspected condition ruled out ("
                                 f"'{clause.cue}'){why}")
        return [made]

    def _code_first_partner(self, clause: Clause, index: int, made: Candidate,
                            queries: list[DocumentationQuery]) -> list[Candidate]:
        """The complication a combination code names may have a code of its own whose Tabular note says "code
        first" that combination code (K31.84 gastroparesis: code first E11.43): both are reported, the
        combination first (convention I.A.13)."""
        words = tuple(w for w in clause.words if w in made.after_link and w not in _IGNORABLE)
        hit = next((h for h in self.search.search(words) if h.code and not (frozenset(words) - h.used)), None)
        if hit is None or hit.code is None:
            return []
        partner = self._candidate(hit, hit.code, clause, index, "manifestation", [])
        if partner is None or partner.code == made.code or not self.rules.codes_first(partner.code, made.code) \
                or self.rules.asks_for(made.code, partner.code):
            return []  # a "use additional code" companion (E11.22 -> N18.-) is chosen from the whole clause
        partner.rationale.append(f"tabular {partner.code}: code first {made.code} (convention I.A.13)")
        return [partner]

    def _classifiable_sibling(self, made: Candidate, clause: Clause) -> None:
        """An unspecified history code whose siblings read "Conditions classifiable to C15-C26" (Z80-Z87): the site
        the walk left unexplained ("family history of colon cancer") is coded in the Table of Neoplasms (or the
        Index) and the sibling whose inclusion range covers that code is taken (Z80.9 -> Z80.0)."""
        entry = self.tab.get(made.code)
        if entry is None or entry.parent is None or "unspecified" not in entry.title.lower():
            return
        left = tuple(w for w in clause.words if w not in made.words and w not in _IGNORABLE
                     and w not in lexicon().stopwords)
        if not left:
            return
        siblings = [(sib, note.codes) for sib in self.tab.children(entry.parent) if sib.code != made.code
                    for note in self.tab.notes(sib.code, inherited=False)
                    if note.kind == "inclusionTerm" and note.codes and "classifiable" in note.text.lower()]
        if not siblings:
            return
        if "neoplasm" in entry.title.lower():
            site = next((h for h in self.search.search(("neoplasm", *left), book="neoplasm") if h.cells
                         and h.cells[0] and len(h.path) > 1), None)
            target = site.cells[0] if site is not None and site.cells else None
        else:
            target = next((h.code for h in self.search.search(left) if h.code), None)
        if not target:
            return
        for sibling, refs in siblings:
            if self.rules.covers_any(refs, target.rstrip("-")):
                made.rationale.append(f"tabular {sibling.code}: conditions classifiable to {', '.join(refs)} "
                                      f"include {target} ({' '.join(left)})")
                made.code, made.title = sibling.code, sibling.title
                return

    def _category_phrases(self, code: str) -> str:
        """The titles of a code's category as one text of index words (stop words dropped, as in clauses), to
        find a documented phrase in them ("without loss consciousness" in S06.5X0)."""
        category = self.tab.get(code.split(".")[0])
        if category is None:
            return ""
        stop = lexicon().stopwords
        titles: list[str] = []
        stack = [category.code]
        while stack:
            entry = self.tab.get(stack.pop())
            if entry is None:
                continue
            titles.append(" ".join(w for w in tokens(entry.title) if w not in stop))
            stack.extend(c.code for c in self.tab.children(entry.code) if c.seventh is None)
        return " | ".join(titles)

    def _category_words(self, code: str) -> frozenset[str]:
        """Every word printed in the titles of a code's category: what can specify a code further."""
        category = code.split(".")[0]
        found = self._vocab.get(category)
        if found is None:
            words: set[str] = set()
            stack = [category]
            while stack:
                current = stack.pop()
                entry = self.tab.get(current)
                if entry is None:
                    continue
                words.update(tokens(entry.title))
                if entry.needs_seventh:  # "moderate stage" names the 7th character of H40.11-
                    words.update(w for meaning in self.tab.seventh_characters(entry.code).values()
                                 for w in tokens(meaning))
                stack.extend(c.code for c in self.tab.children(current) if c.seventh is None)
            found = self._vocab[category] = frozenset(words)
        return found

    def _merge_specifiers(self, clauses: list[Clause], context: EncounterContext) -> list[Clause]:
        """A comma piece that only specifies the condition before it ("otitis externa, left ear", "MDD,
        recurrent, moderate", "nicotine dependence, cigarettes") is part of that condition: every word it has
        is printed in the titles of the category the condition codes to."""
        merged: list[Clause] = []
        for clause in clauses:
            if self._pregnant and _gestational_age(clause.text) is not None:
                merged.append(clause)  # the week of the pregnancy is a code of its own (Z3A), not a specifier
                continue
            if merged and clause.joiner == "," and clause.context == "negated" and merged[-1].context == "present":
                # "subdural hematoma ..., no loss of consciousness": an absent finding the condition's category
                # titles distinguish by ("without loss of consciousness", S06.5X0) specifies that condition.
                prev = merged[-1]
                best = next((h for h in self.search.search(prev.words, cues=frozenset(prev.words)) if h.code), None)
                said = " ".join(("without", *(w for w in clause.words if w not in _IGNORABLE)))
                if best is not None and best.code and said != "without" \
                        and said in self._category_phrases(best.code.rstrip("-").rstrip(".")):
                    absent = Clause(text=f"without {clause.text}", start=clause.start, end=clause.end,
                                    words=("without", *clause.words), context=prev.context, joiner=clause.joiner)
                    merged[-1] = _joined(prev, absent)
                    continue
            if merged and clause.joiner == "," and clause.context == merged[-1].context:
                prev = merged[-1]
                hits = self.search.search(prev.words, cues=frozenset(prev.words))
                best = next((h for h in hits if h.code), None)
                if best is not None and best.code:
                    vocab = self._category_words(best.code.rstrip("-").rstrip("."))
                    # The piece may specify the companion a "use additional code" note asks for ("..., limited to
                    # breakdown of skin" is the severity of the L97 ulcer I83.0- asks for).
                    for ref in self.rules.use_additional_refs(best.code.rstrip("-").rstrip(".")):
                        vocab = vocab | self._category_words(ref.split("-")[0].rstrip("."))
                    if set(clause.words) <= vocab | _IGNORABLE | {"both", "ear", "eye"}:
                        merged[-1] = _joined(prev, clause)
                        continue
                    # "MDD, recurrent, moderate": the piece moves the condition to a sibling category (F33):
                    # joined, the Index walk explains every word of it and still names the condition ("birth weight
                    # 1600 grams" after "preterm newborn" is a second condition: its walk shares no word).
                    joined = next((h for h in self.search.search(prev.words + clause.words,
                                                                 cues=frozenset(prev.words + clause.words))
                                   if h.code), None)
                    if joined is not None and set(clause.words) <= joined.used | _IGNORABLE \
                            and joined.score > best.score and joined.used & best.used:
                        merged[-1] = _joined(prev, clause)
                        continue
                elif not any(h.code for h in self.search.search(clause.words, cues=frozenset(clause.words))):
                    # Neither piece codes alone ("Lateral ligament complex sprain, right ankle"): the second
                    # names the site of the first.
                    merged[-1] = _joined(prev, clause)
                    continue
            merged.append(clause)
        return merged

    def _leftover(self, clause: Clause, index: int, made: list[Candidate], pooled: frozenset[str],
                  queries: list[DocumentationQuery]) -> list[Candidate]:
        """Words of the clause no code explained may name a second condition ("COVID-19 pneumonia",
        "H. pylori gastritis"): code them when the Index explains all of them."""
        # A code explains the words its title prints ("Radial styloid tenosynovitis [de Quervain]", M65.4).
        used: frozenset[str] = frozenset().union(*(c.words | frozenset(tokens(c.title)) for c in made)) \
            if made else frozenset()
        absent = after_without(clause.words)
        vocabulary = self.search.book("index").vocabulary
        used = used - _restated_in_head(clause.words, made)
        left = tuple(w for w in _named_by_class(clause.words) if w not in used and w not in _IGNORABLE
                     and w not in absent
                     and w not in lexicon().stopwords and w not in _CONNECTOR_WORDS and w in vocabulary
                     and w not in lexicon().patient_words)
        if not left or len(left) == len(clause.words):
            return []
        # "anemia in CKD stage 4": CKD took the clause, and "anemia" is indexed with its cause (Anemia, in (due
        # to), chronic kidney disease -> D63.1): the words already coded may still name the cause.
        # The Index's "due to underlying condition" (Diabetes -> E08.9) names whatever cause the clause coded.
        cause = _UNDERLYING if frozenset(clause.words) & _CAUSE_WORDS else ()
        linking = frozenset(clause.words) & _CONNECTOR_WORDS  # only a clause that says "in", "due to", "with"
        hit = next((h for h in self.search.search((*clause.words, *cause), pooled=pooled,
                                                  cues=frozenset(clause.words)) if linking
                    and h.code and not (frozenset(left) - h.used) and h.after_link & (used | frozenset(cause))
                    and frozenset(tokens(h.titles[0])) & frozenset(left)), None)
        role = "primary"
        if hit is None:
            # An organism left beside a condition coded elsewhere ("H. pylori gastritis"): B95-B97 (I.C.1.b).
            hit = infectious_agent(self.search, left)
            role = "primary" if hit is None else "companion"
        if hit is None and self._restates(clause, left, made):
            return []
        if hit is None:
            hit = next((h for h in self.search.search(left, pooled=pooled) if h.code and not (frozenset(left) - h.used)
                        and frozenset(tokens(h.titles[0])) & frozenset(left)), None)
        if hit is None and self._is_encounter_reason(left):
            # "encounter for chemotherapy for sigmoid colon cancer": the reason for the encounter is indexed with
            # the condition the other code took (Chemotherapy > neoplasm -> Z51.11, I.C.2.e.2).
            hit = next((h for h in self.search.search(_named_by_class(clause.words), pooled=pooled)
                        if h.code and not (frozenset(left) - h.used)
                        and frozenset(tokens(h.titles[0])) & frozenset(left)
                        and h.used & used), None)
        if hit is None or hit.code is None:
            return []
        extra = self._candidate(hit, hit.code, clause, index, role, queries)
        return [extra] if extra is not None and extra.code not in {c.code for c in made} else []

    def _replace_unspecified(self, made: list[Candidate], extra: Candidate, dropped: list[tuple[str, str]]) -> None:
        """The rest of the clause coded a sibling of an unspecified code already made ("allergic contact dermatitis
        due to poison ivy": L23.7 beside L23.9 "unspecified cause"): the condition is specified, so the unspecified
        code goes (Guideline I.A.9.b: unspecified codes only when the record lacks the detail)."""
        sibling = self.tab.get(extra.code)
        if sibling is None or sibling.parent is None:
            return
        specific = frozenset(tokens(sibling.title))
        for c in list(made):
            entry = self.tab.get(c.code)
            if entry is None or not _UNSPECIFIED_TITLE.search(entry.title) or _UNSPECIFIED_TITLE.search(sibling.title):
                continue
            # A sibling, or a code of the same block whose title says all the unspecified one does ("Encounter for
            # screening, unspecified" and "Encounter for screening mammogram ...").
            if entry.parent == sibling.parent or (entry.block == sibling.block and frozenset(
                    tokens(entry.title)) - {"unspecified"} <= specific):
                made.remove(c)
                extra.rationale.append(f"guideline I.A.9.b: {extra.code} specifies {c.code} {entry.title}")
                dropped.append((c.code, f"unspecified; its sibling {extra.code} is documented (guideline I.A.9.b)"))

    def _restates(self, clause: Clause, left: tuple[str, ...], made: list[Candidate]) -> bool:
        """The words left name the same condition as a code already made ("clubfoot (talipes equinovarus)"): read
        with the clause's other words, their own main term (Clubfoot > equinovarus) leads to that code again."""
        named = frozenset(left)
        hit = next((h for h in self.search.search(clause.words) if h.code
                    and frozenset(tokens(h.titles[0])) & named), None)
        if hit is None or hit.code is None or not hit.used - named:
            return False
        return any(c.code.replace(".", "").startswith(hit.code.rstrip("-").replace(".", "")) for c in made)

    # -- the statement ---------------------------------------------------------------------------------
    def encode(self, statement: str, context: EncounterContext | None = None, *,
               linked_words: frozenset[str] = frozenset()) -> EncodeResult:
        """``linked_words``: words of conditions documented elsewhere in the same encounter, available to
        "with" subterms (Guideline I.A.15) as the statement's own other clauses are."""
        with search_memo():
            return self._encode(statement, context, linked_words)

    def _encode(self, statement: str, context: EncounterContext | None, linked_words: frozenset[str]) -> EncodeResult:
        started = time.perf_counter()
        context = context or EncounterContext()
        self._statement = statement
        self._day = context.day
        self._patient_words = frozenset({"F": {"female"}, "M": {"male"}}.get((context.sex or "").upper(), set()))
        clauses = split_statement(statement)
        self._extra_words = _trimester_words(statement)
        self._drug_kind = _statement_drug_kind(statement)
        queries: list[DocumentationQuery] = []
        dropped: list[tuple[str, str]] = []
        candidates: list[Candidate] = []
        self._pregnant = any(w in lexicon().pregnancy_words for clause in clauses for w in clause.words)
        clauses = eradicated_as_history(self._merge_specifiers(clauses, context), statement)
        self._clauses = clauses
        classes = _condition_classes(tuple(w for clause in clauses if clause.context == "present"
                                           for w in clause.words))
        for i, clause in enumerate(clauses):
            if clause.context == "negated":
                observed = self._ruled_out_observation(clause, i, context, queries)
                if observed:
                    candidates.extend(observed)
                    continue
                dropped.append((clause.text, f"negated ('{clause.cue}'): not coded"))
                continue
            if clause.context == "uncertain" and context.setting != "inpatient":
                dropped.append((clause.text, f"uncertain ('{clause.cue}'): outpatient Guideline IV.H codes the "
                                             "documented signs and symptoms instead"))
                continue
            if clause.context == "family" and not clause.words:
                continue
            pooled = frozenset(w for j, other in enumerate(clauses) if j != i and other.context == "present"
                               for w in other.words) | linked_words | self._linked_category(clause)
            before = len(dropped)
            made = self._clause(clause, i, pooled | classes, context, queries, dropped)
            if not made and clause.context == "history" and _lasting(clause.words):
                # "history of hypertension": the Index has no history entry for a condition that does not cease to
                # exist (Guideline I.C.21.c.4 keeps history codes for conditions that no longer exist): coded as
                # the condition the patient has.
                clause = clauses[i] = replace(clause, context="present", cue=None)
                del dropped[before:]
                made = self._clause(clause, i, pooled | classes, context, queries, dropped)
                for c in made:
                    c.rationale.append("guideline I.C.21.c.4: 'history of' a lasting condition with no history code "
                                       "in the Index is the condition itself")
            if made and made[0].role not in ("external-cause",):
                for extra in self._leftover(clause, i, made, pooled, queries):
                    self._replace_unspecified(made, extra, dropped)
                    made.append(extra)
                made = self._sequela(clause, made)
                self._organism_class(clause, i, made, queries)
            if clause.context == "uncertain":
                for c in made:
                    c.rationale.append(f"guideline II.H: uncertain diagnosis ('{clause.cue}') at discharge coded "
                                       "as if established (inpatient)")
            candidates.extend(made)
        candidates.extend(self._external_cause(clauses, candidates, queries))
        if any(includes_cause(c.title) for c in candidates):
            # Chapter 19 note: "Codes within the T section that include the external cause do not require an
            # additional external cause code" (T63.441A "... venom of bees, accidental").
            for c in [c for c in candidates if c.role == "external-cause"]:
                candidates.remove(c)
                dropped.append((c.code, "the T code includes the external cause (chapter 19 note)"))
        injury = next((c for c in candidates if c.code[:1] in "ST" and c.code.endswith("A")), None)
        if injury is not None and clauses:
            known = {c.code for c in candidates}
            mechanism = frozenset(w for c in candidates if c.role == "external-cause" for w in c.words)
            causes = tuple(c.code for c in candidates if c.role == "external-cause")
            candidates.extend(c for c in self._place_activity_status(clauses[injury.clause], injury.clause, injury,
                                                                     queries, mechanism, causes)
                              if c.code not in known)
        drop_unknown_primary(candidates, dropped)
        drop_restated(candidates, clauses, dropped)
        for effect in adverse_effects(candidates, clauses, search=self.search, tab=self.tab,
                                      covers=self.rules.covers_any, text=statement):
            anchor = next(i for i, c in enumerate(candidates) if c.code == effect.anchor)
            candidates.insert(anchor + 1, effect)
        final = self.rules.apply(candidates, clauses, context, queries, dropped)
        codes = tuple(CodeSuggestion(system="ICD-10-CM", code=c.code, title=c.title, sequence=n + 1,
                                     confidence=c.confidence, evidence=(c.evidence,), rationale=tuple(c.rationale))
                      for n, c in enumerate(final))
        seen: set[tuple[str, str]] = set()
        unique_queries = []
        reported = {c.code for c in final}
        for q in queries:
            if (q.code, q.missing) not in seen and q.code in reported:
                seen.add((q.code, q.missing))
                unique_queries.append(q)
        releases = {kind: choice.release.id for kind, choice in sorted(self.cs.choices.items())}
        return EncodeResult(statement=statement, codes=codes, queries=tuple(unique_queries), dropped=tuple(dropped),
                            clauses=tuple(c.text for c in clauses), releases=releases,
                            seconds=time.perf_counter() - started)


@lru_cache(maxsize=1)
def _lasting_terms() -> tuple[frozenset[str], ...]:
    return tuple(frozenset(tokens(term)) for term in lexicon().lasting_conditions)


@lru_cache(maxsize=8192)
def _names_axis(options: tuple[str, ...], dimension: str, parent_words: frozenset[str]) -> bool:
    """Whether the subterms a query would list differ by ``dimension``: three of the 44 kinds of edema saying "acute"
    do not make acuity what the documentation of edema lacks, nor two of 170 fevers named for a virus its organism
    (a fifth of the options, or five; "Osteoarthritis > knee" lists bilateral among three). Cached: the same
    terms are asked about statement after statement."""
    markers = lexicon().query_dimensions.get(dimension, frozenset())
    named = sum(1 for title in options if (frozenset(tokens(title)) - parent_words) & markers)
    return named > 0 and (named * 5 >= len(options) or named >= 5)


def _lasting(words: Sequence[str]) -> bool:
    """Whether the words name a condition that does not cease to exist (lexicon ``lasting_conditions``)."""
    present = frozenset(words)
    return any(term <= present for term in _lasting_terms())


def _named_by_class(words: Sequence[str]) -> tuple[str, ...]:
    """Drug names replaced by the class words the Index prints ("Eliquis" -> Long-term > anticoagulants; lexicon
    ``drug_classes``)."""
    classes = _class_words()
    return tuple(w for word in words for w in classes.get(word, (word,)))


@lru_cache(maxsize=1)
def _class_words() -> dict[str, tuple[str, ...]]:
    return {stem(name): tokens(words) for name, words in lexicon().drug_classes.items()}


def _joined(prev: Clause, clause: Clause) -> Clause:
    return Clause(text=f"{prev.text}, {clause.text}", start=prev.start, end=clause.end, words=prev.words + clause.words,
                  context=prev.context, cue=prev.cue, joiner=prev.joiner)


_SIDES = frozenset({"right", "left", "bilateral"})
_BEHAVIOR_WORDS = frozenset({"benign", "malignant", "primary", "secondary", "uncertain", "behavior", "situ", "in",
                             "metastatic", "metastasi", "from", "unspecified"})


_UNSPECIFIED_TITLE = re.compile(r"\bunspecified\b", re.IGNORECASE)
_CAUSE_WORDS = frozenset({"due", "secondary", "caused"})
_CIRCUMSTANCE_WORDS = frozenset({"after", "because", "since", "when", "while"})
_UNDERLYING = ("underlying", "condition")
_LINK_WORDS = frozenset({"due", "in", "secondary", "caused"})
_CONNECTOR_WORDS = frozenset({"with", "without", "in", "due", "from", "by", "complicated", "secondary", "caused",
                              "following", "after", "associated", "related"})
_WEEKS = re.compile(r"\b(\d{1,2})\s*(?:completed\s+)?(?:weeks?|wks?)\b", re.IGNORECASE)


def _restated_in_head(words: Sequence[str], made: Sequence[Candidate]) -> frozenset[str]:
    """The words before the clause's "due to" / "in" when the codes made took every word from after it: they coded
    the cause, and the head is still a condition of its own even where the cause or its title repeats a word
    ("pulmonary hypertension due to chronic obstructive pulmonary disease": J44.9 coded the COPD, and "pulmonary"
    is still the hypertension's, Hypertension > pulmonary)."""
    link = next((i for i, w in enumerate(words) if w in _LINK_WORDS), None)
    if link is None or not made:
        return frozenset()
    head, tail = frozenset(words[:link]), frozenset(words[link + 1:])
    if not all(c.words <= tail for c in made):
        return frozenset()
    return head


@lru_cache(maxsize=8192)
def _condition_classes(words: tuple[str, ...]) -> frozenset[str]:
    """The class words of the documented conditions (lexicon ``condition_classes``): a pneumonia is a "lower
    respiratory infection" to the "with" subterms of the Index (J44.0), never a word of its own clause; a
    condition named by several words ("chronic obstructive pulmonary disease") is found as written in a row.
    Cached: asked for each code completed from a clause."""
    written = words
    found: set[str] = set()
    for named, kind in _class_phrases():
        size = len(named)
        if any(written[i:i + size] == named for i in range(len(written) - size + 1)):
            found.update(kind)
    return frozenset(found)


@lru_cache(maxsize=1)
def _class_phrases() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """The lexicon's conditions and their classes, as word sequences (stemmed like a clause's words)."""
    return tuple((tokens(named), tokens(kind)) for named, kind in lexicon().condition_classes.items())


_GESTATIONAL_AGE = re.compile(r"(?:at\s+)?(\d{1,2})\s*(?:completed\s+)?(?:weeks?|wks?)(?:\s+(?:of\s+)?"
                              r"(?:gestation|gestational age|pregnancy|pregnant))?", re.IGNORECASE)


def _gestational_age(text: str) -> str | None:
    """The weeks of a piece that states only a gestational age ("10 weeks", "at 32 wks gestation")."""
    found = _GESTATIONAL_AGE.fullmatch(text.strip(" .;"))
    return found.group(1) if found else None


def _trimester_words(statement: str) -> frozenset[str]:
    """Weeks of gestation name the trimester (Guideline I.C.15.a.3: first < 14 weeks 0 days, second 14 weeks
    0 days to < 28 weeks 0 days, third 28 weeks 0 days until delivery)."""
    found = _WEEKS.search(statement)
    if found is None:
        return frozenset()
    weeks = int(found.group(1))
    return frozenset({"trimester", "first" if weeks < 14 else "second" if weeks < 28 else "third"})


def _names_no_cause(condition: Hit | None, external: Hit, words: Sequence[str]) -> bool:
    """The Index explains the whole clause as a condition outside chapter 19 ("exposure to COVID-19" is
    Z20.822) and the External Cause Index only its trigger word: no external cause is documented."""
    if condition is None or not condition.code or condition.code[:1] in "ST":
        return False
    return not (frozenset(words) - condition.used - _IGNORABLE) and external.used <= condition.used


_OBSTETRIC = frozenset({"pregnancy", "childbirth", "puerperium", "puerperal"})


def _obstetric_first(hits: list[Hit], words: Sequence[str]) -> list[Hit]:
    """A condition documented in the pregnancy is coded from chapter 15 (Guideline I.C.15.a: a pregnant
    patient's conditions complicate the pregnancy unless documented incidental): the walks that explain the
    pregnancy come before those that leave it unexplained ("COVID-19 infection in pregnancy" is O98.51-)."""
    said = _OBSTETRIC.intersection(words)
    if not said or not hits or said <= hits[0].used:
        return hits
    # Only a chapter 15 walk that names the same condition ("infection") as the best walk.
    condition = hits[0].used - said
    return sorted(hits, key=lambda h: not (said <= h.used and (h.code or "").startswith("O")
                                           and bool(h.used & condition)))


def _statement_drug_kind(statement: str) -> str | None:
    text = f" {statement.lower()} "
    for kind in ("adverse effect", "underdosing"):
        if any(cue in text for cue in lexicon().drug_intent[kind]):
            return kind
    return None


@lru_cache(maxsize=1)
def _triggers() -> re.Pattern[str]:
    words = sorted(lexicon().external_cause_triggers, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def _has_site(text: str) -> bool:
    return bool(set(tokens(text)) - lexicon().neoplasm_words - lexicon().stopwords - {"metastatic"})


def encode(statement: str, *, codesets: Codesets, context: EncounterContext | None = None) -> EncodeResult:
    """Encode one statement with the releases of ``codesets``."""
    return Encoder(codesets).encode(statement, context)
