"""Find the main term and walk the subterms with a statement's own words, the way a coder reads the Index.

Why a search and not a fixed path: documentation does not come in index order ("right elbow lateral
epicondylitis" is Epicondylitis > lateral; "lumbar strain" is Strain > back). A coder finds the main term
(the condition, not the anatomy), then at each indent takes the subterm whose words the documentation
contains, ignores nonessential modifiers, and stops at the default code when no subterm applies. We do
exactly that over a compiled, in-memory copy of the Index, scoring each candidate by how many of the
clause's words it explains, and record the path for the rationale.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache

from medcoder.codesets.icd10cm_index import AlphabeticIndex
from medcoder.codesets.icd10cm_index_model import IndexTerm, split_reference
from medcoder.coding.lexicon import lexicon
from medcoder.coding.quantities import Quantity, quantities, quantity_forms
from medcoder.coding.terms import tokens

ROOT = 0
_CONNECTORS = {"with": "with", "without": "without", "in": "in", "due to": "in", "in due to": "in",
               "in due": "in", "following": "in", "associated with": "with", "complicated by": "with"}
_MARKERS = frozenset({"nec", "no", "nos"})
_PREPOSITIONS = frozenset({"from", "off", "out", "of", "on", "onto", "in", "into", "at", "by", "to", "with", "against",
                           "over", "under", "through", "down", "up"})
W_WORD, W_LINKED, W_NEMOD, W_CUE, W_CONNECTOR, W_IMPLICIT = 1.0, 0.9, 0.3, 0.2, 0.5, 0.3
# Words a subterm may print without them being essential to the match ("kidney involvement", "native vessel").
# "car occupant" is named by "car driver" or "car passenger": the Index lists the occupant's role one level below.
_GENERIC = frozenset({"involvement", "disease", "disorder", "condition", "conditions", "state", "site", "end", "organ",
                      "part", "region", "vessel", "occupant", "object", "bone"})
_NOT_SPECIFIED = ("not specified", "not stated")
_EPONYM_DEFAULT = frozenset({"disease"})
_SPECIFIED = ("specified nec", "specified type nec", "other specified")
_EPONYM = re.compile(r"\w['\u2019]s\b")
_OR = re.compile(r"\s+or\s+", re.IGNORECASE)
_NEMOD = re.compile(r"\(([^()]*)\)")
# References into the Table of Neoplasms or of Drugs are read by the encoder's table logic, never walked here.
_TABLE_REFERENCES = ("neoplasm", "table")
_LISTED_CATEGORIES = ("Y92", "Y93")
_REACH_LIMIT = 2000  # terms visited before a reach is taken to be the whole book


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    title: str
    forms: tuple[frozenset[str], ...]
    """Word sets that name this term: an inverted title ("myocardium, myocardial") has one per form."""
    nemod: frozenset[str]
    connector: str | None
    """A pure connector subterm ("with", "without", "in (due to)"): transparent, its children match."""
    lead: str | None
    """A connector that starts the title ("with vomiting"): the rest must match, linked words allowed."""
    code: str | None
    see: str | None
    see_also: str | None
    cells: tuple[str | None, ...] | None
    parent: int | None
    children: tuple[int, ...]
    quantities: tuple[Quantity, ...] = ()
    """Ranges of values the title prints ("40.0-44.9", "1500-1749 grams"): a documented value inside one names
    the subterm (Body > mass index > adult > 40.0-44.9 for "BMI 42"; ``quantities``)."""
    required: tuple[tuple[frozenset[str], frozenset[str]], ...] = field(init=False, default=())
    """Each form with the words it needs (``_required``), computed once: the walk tests them for every clause."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", tuple((form, _required(form)) for form in self.forms))


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """A walk: the main term and subterms taken, the code it ends on, and the words it explained."""

    book: str
    path: tuple[int, ...]
    titles: tuple[str, ...]
    code: str | None
    code_is_default: bool
    score: float
    used: frozenset[str]
    linked: frozenset[str] = frozenset()
    """Words taken from other clauses through a "with" subterm (Guideline I.A.15)."""
    see_also: tuple[str, ...] = ()
    cells: tuple[str | None, ...] | None = None
    followed: tuple[str, ...] = field(default=())
    after_link: frozenset[str] = frozenset()
    """Words matched below the first "with"/"in" subterm: the complication a combination code names."""
    see: str | None = None
    """The "see" instruction of the last term when it could not be walked (e.g. "Table of Drugs ...")."""

    def describe(self) -> str:
        arrow = f" -> {self.code}" if self.code else ""
        via = "".join(f" (see {f})" for f in self.followed)
        return f"{self.book}: {' > '.join(self.titles)}{via}{arrow}"


@dataclass(slots=True)
class _Best:
    score: float = 0.0
    path: tuple[int, ...] = ()
    used: frozenset[str] = frozenset()
    linked: frozenset[str] = frozenset()
    step_words: tuple[frozenset[str], ...] = ()


_NOTHING = _Best()
"""No subterm taken (shared: a walk's results are never mutated)."""
_UNKNOWN: frozenset[str] = frozenset({"\0unknown"})
_WITHOUT = frozenset({"without", "no"})
_EMPTY: frozenset[str] = frozenset()


class CompiledBook:
    """One book of the Index as word sets per term, with its main terms keyed by their word phrases."""

    def __init__(self, index: AlphabeticIndex, book: str) -> None:
        terms, children = index.tree(book=book)  # type: ignore[arg-type]
        stop = lexicon().stopwords
        self.book = book
        self.index = index
        self.nodes: dict[int, Node] = {}
        for term_id, term in terms.items():
            node = self._node(term, tuple(children.get(term_id, ())), stop)
            if book == "eindex" and (node.code or "").startswith(_LISTED_CATEGORIES) and " and " in node.title:
                # "Activity > cooking and baking" (Y93.G3), "Place of occurrence > street and highway" (Y92.410):
                # place and activity entries name a category by listing its members; either member names it.
                members = tuple(frozenset(w for w in tokens(part) if w not in stop and w not in _MARKERS)
                                for part in re.split(r",|\band\b", node.title) if part.strip())
                node = replace(node, forms=tuple(dict.fromkeys((*node.forms, *(m for m in members if m)))))
            self.nodes[term_id] = node
        self.main_ids: tuple[int, ...] = tuple(children.get(ROOT, ()))
        self.by_phrase: dict[tuple[str, ...], list[int]] = {}
        self.head_only: dict[int, frozenset[str]] = {}
        """Qualified main terms heading a tree, named by their head alone: one without a code of its own ("Coagulation,
        intravascular - see also Defibrination syndrome") is taken that way only to reach a subterm, since
        "coagulation" by itself is not intravascular coagulation."""
        for main_id in self.main_ids:
            term = terms[main_id]
            # Keys drop stop words as clauses do ("Place of occurrence" is named by "place occurrence").
            forms = {tuple(w for w in tokens(term.title) if w not in _MARKERS and w not in stop)}
            parts = split_reference(term.title)
            head = tuple(w for w in tokens(parts[0]) if w not in _MARKERS and w not in stop) if parts else ()
            qualified = False
            for part in parts[1:]:
                # "Diabetes, diabetic" lists variants of one word: each names the term. "Discontinuity,
                # ossicles, ear" is one phrase printed inverted: "ear" alone does not name it.
                form = tuple(w for w in tokens(part) if w not in _MARKERS and w not in stop)
                if head and form and (form[0][:4] == head[0][:4] or form[0].startswith(head[0])):  # "Sty, stye"
                    forms.add(form)
                elif form and not _OR.search(term.title):
                    qualified = True  # "Ménière's disease, syndrome or vertigo" lists alternatives instead
            # The head alone names an entry whose other parts are variants, or a qualified entry that
            # heads a tree ("Fracture, traumatic" is where every fracture is indexed); a qualified leaf
            # ("Impression, basilar") is named only with its qualifier.
            if not qualified or children.get(main_id):
                forms.add(head)
                if qualified and head:
                    self.head_only[main_id] = frozenset(head)
            if qualified and len(parts) == 2:
                # An inverted phrase read in documentation order: "Impression, basilar" is "basilar impression".
                forms.add(tuple(w for w in tokens(parts[1]) if w not in _MARKERS and w not in stop) + head)
            for form in forms:
                if form:
                    self.by_phrase.setdefault(form, []).append(main_id)
        self.max_phrase = max((len(k) for k in self.by_phrase), default=1)
        self._longest_from: dict[str, int] = {}
        for key in self.by_phrase:
            self._longest_from[key[0]] = max(self._longest_from.get(key[0], 0), len(key))
        self.vocabulary: frozenset[str] = frozenset(w for key in self.by_phrase for w in key) | frozenset(
            w for node in self.nodes.values() for form in node.forms for w in form)
        """Every word the book prints: a word outside it ("presented", "woman") can never be explained."""
        implicit = _implicit()
        # Subterms a walk may pass through unsaid: grouping subterms documentation leaves implicit ("joint" in
        # "knee pain") and subterms restating their parent's code ("Melanoma C43.9 > skin C43.9").
        self._through: frozenset[int] = frozenset(
            node.id for node in self.nodes.values() if node.children and node.forms and node.parent in self.nodes
            and (node.code is not None and node.code == self.nodes[node.parent].code
                 or all(f <= implicit for f in node.forms)))
        self._sizes: dict[int, int] = {}
        self._reach: dict[int, frozenset[str] | None] = {}
        self._below: dict[int, frozenset[str] | None] = {}
        self._phrases_of: dict[int, list[tuple[tuple[str, ...], int]]] | None = None
        self._lineage: dict[int, tuple[tuple[int, ...], frozenset[str]]] = {}
        self._resolved: dict[str, int | None] = {}
        self._default_child: dict[int, int | None] = {}
        # For terms with many subterms ("Disease" has over a thousand), find the subterms a clause can match
        # through its words instead of scanning them all; connector subterms are always tried.
        self._by_word: dict[int, dict[str, tuple[int, ...]]] = {}
        self._always: dict[int, tuple[int, ...]] = {}
        for node in self.nodes.values():
            if len(node.children) < 12:
                continue
            by_word: dict[str, list[int]] = {}
            always: list[int] = []
            for child_id in node.children:
                child = self.nodes[child_id]
                if child.connector is not None or not child.forms or all(f <= _implicit() for f in child.forms) \
                        or (child.code is not None and child.code == node.code and child.children) \
                        or child.quantities:
                    always.append(child_id)
                    continue
                for child_form in child.forms:
                    for word in _required(child_form):
                        by_word.setdefault(word, []).append(child_id)
            self._by_word[node.id] = {w: tuple(ids) for w, ids in by_word.items()}
            self._always[node.id] = tuple(always)

    @staticmethod
    def _node(term: IndexTerm, kids: tuple[int, ...], stop: frozenset[str]) -> Node:
        # Words come from the printed text with its parenthesized modifiers removed: the derived CSV
        # sometimes leaves essential words in the nemod column ("and" + "(on) chronic (congestive)").
        printed = term.printed or term.title
        title_words = tuple(w for w in tokens(printed) if w not in _MARKERS)
        joined = " ".join(title_words)
        connector = _CONNECTORS.get(joined)
        lead = None
        if connector is None and len(title_words) > 1:
            for size in (2, 1):
                head = " ".join(title_words[:size])
                if head in _CONNECTORS:
                    lead = _CONNECTORS[head]
                    printed = " ".join(title_words[size:])
                    break
        parts = split_reference(printed) if lead is None else (printed,)
        qualifiers: frozenset[str] = frozenset()
        if len(parts) > 1 and term.parent_id:
            # A subterm printed inverted ("abuse, physical", "valve, heart") needs all its words; parts that
            # restate the first word ("senescent, senile") are variants of it.
            first = tokens(parts[0])[:1]
            # A part led by "of" ("chronic lymphocytic, of B-cell type") describes; it is not required, unless it
            # restricts ("malignant, of soft parts except skin" is not every malignant melanoma).
            quals = [p for p in parts[1:] if not (first and tokens(p)[:1] and tokens(p)[0][:3] == first[0][:3])
                     and not (p.lower().startswith("of ") and " except " not in p.lower())]
            prepositions = all(w in _PREPOSITIONS for w in tokens(parts[0]))  # "from, off, out of" lists variants
            if quals and not prepositions and not any(_OR.search(q) for q in quals):
                qualifiers = frozenset(w for q in quals for w in tokens(q) if w not in stop and w not in _MARKERS)
                parts = tuple(p for p in parts if p not in quals)
        # "atrial or auricular": either word names the subterm.
        # An "or" inside a nonessential modifier ("birthweight (2499 grams or less)") lists no alternatives.
        parts = tuple(alt for part in parts
                      for alt in ([part, *_alternatives(part)] if _OR.search(_NEMOD.sub(" ", part)) else [part]))
        forms = tuple(dict.fromkeys(
            frozenset(w for w in tokens(part) if w not in stop and w not in _MARKERS) | qualifiers for part in parts))
        forms = tuple(f for f in forms if f)
        nemod_words = frozenset(tokens(" ".join(_NEMOD.findall(printed)) or (term.nemod or ""))) - stop
        return Node(id=term.id, title=term.title, forms=forms, nemod=nemod_words, connector=connector, lead=lead,
                    code=term.code, see=term.see, see_also=term.see_also, cells=term.cells, parent=term.parent_id,
                    children=kids, quantities=quantities(term.title, _NEMOD.sub(" ", printed), forms))

    def lineage(self, node_id: int) -> tuple[tuple[int, ...], frozenset[str]]:
        """The term's path from its main term and every word printed along it (cached: references repeat)."""
        found = self._lineage.get(node_id)
        if found is None:
            ids: list[int] = []
            words: set[str] = set()
            node: Node | None = self.nodes[node_id]
            while node is not None:
                ids.append(node.id)
                words.update(*node.forms)
                node = self.nodes.get(node.parent) if node.parent else None
            found = self._lineage[node_id] = (tuple(reversed(ids)), frozenset(words))
        return found

    def may_explain(self, node_id: int, words: frozenset[str]) -> bool:
        """Whether a walk from ``node_id`` could explain any of ``words``: they meet the words of its subterms or of
        a term their "see" and "see also" references lead to, transitively. A term reaching much of the book
        ("Pneumonia", "Exposure") is taken to reach all of it, so the answer errs only towards walking."""
        if node_id not in self._reach:
            self._reach[node_id] = self._reach_words(node_id)
        reach = self._reach[node_id]
        return reach is None or not reach.isdisjoint(words)

    def _reach_words(self, node_id: int) -> frozenset[str] | None:
        words: set[str] = set()
        seen: set[int] = set()
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            if len(seen) >= _REACH_LIMIT:
                return None
            seen.add(current)
            node = self.nodes[current]
            words.update(*node.forms)
            words |= node.nemod
            stack.extend(node.children)
            for reference in (node.see, node.see_also):
                target = self.resolve(reference) if reference else None
                if target is not None:
                    words |= self.lineage(target)[1]
                    stack.append(target)
        return frozenset(words)

    def size(self, node_id: int) -> int:
        """Terms under a main term: between equally good main terms the general entry ("Fracture,
        traumatic" with every bone) is preferred to a qualified one ("Fracture, pathological")."""
        cached = self._sizes.get(node_id)
        if cached is None:
            cached = 1 + sum(self.size(c) for c in self.nodes[node_id].children)
            self._sizes[node_id] = cached
        return cached

    # -- main terms --------------------------------------------------------------------------------------
    def main_candidates(self, words: Sequence[str], mains: frozenset[int] | None = None
                        ) -> list[tuple[int, frozenset[str]]]:
        """Main terms named by any run of the clause's words, with the words they take (the longest run, then the
        leftmost); ``mains``: only these."""
        if mains is not None:
            return self._named_among(words, mains)
        found: dict[int, frozenset[str]] = {}
        n = len(words)
        longest = [self._longest_from.get(word, 0) for word in words]
        for size in range(min(self.max_phrase, n), 0, -1):
            for start in range(0, n - size + 1):
                if longest[start] < size:
                    continue  # no main term of this length starts with this word
                phrase = tuple(words[start:start + size])
                if size == 1 and len(phrase[0]) < 2:
                    continue  # a lone letter ("mm/h") names no condition
                for main_id in self.by_phrase.get(phrase, ()):
                    if main_id not in found:
                        found[main_id] = frozenset(phrase)
        return list(found.items())

    def _named_among(self, words: Sequence[str], mains: frozenset[int]) -> list[tuple[int, frozenset[str]]]:
        """``main_candidates`` for a few main terms (a note naming its subject among a whole record's words): their
        own phrases looked for in the words instead of every run of the words looked up, same order."""
        if self._phrases_of is None:
            phrases_of: dict[int, list[tuple[tuple[str, ...], int]]] = {}
            for phrase, ids in self.by_phrase.items():
                for rank, main_id in enumerate(ids):
                    phrases_of.setdefault(main_id, []).append((phrase, rank))
            self._phrases_of = phrases_of
        n = len(words)
        firsts: dict[str, list[int]] = {}
        for position, word in enumerate(words):
            firsts.setdefault(word, []).append(position)
        found: list[tuple[int, int, int, int, frozenset[str]]] = []
        for main_id in mains:
            best: tuple[int, int, int, int, frozenset[str]] | None = None
            for phrase, rank in self._phrases_of.get(main_id, ()):
                size = len(phrase)
                if size == 1 and len(phrase[0]) < 2:
                    continue  # a lone letter ("mm/h") names no condition
                for start in firsts.get(phrase[0], ()):
                    if start + size <= n and tuple(words[start:start + size]) == phrase:
                        key = (-size, start, rank, main_id, frozenset(phrase))
                        if best is None or key[:3] < best[:3]:
                            best = key
                        break
            if best is not None:
                found.append(best)
        found.sort(key=lambda t: t[:3])
        return [(main_id, taken) for _, _, _, main_id, taken in found]

    # -- subterms ----------------------------------------------------------------------------------------
    def descend(self, node_id: int, avail: frozenset[str], pooled: frozenset[str], cues: frozenset[str],
                memo: dict[tuple[int, frozenset[str], bool, frozenset[str], frozenset[str]], _Best], *,
                in_with: bool = False, seen: frozenset[str] = frozenset(), banned: frozenset[str] = frozenset(),
                spare: frozenset[str] = frozenset()) -> _Best:
        """Best descent below ``node_id``. ``seen`` holds the words the path above already matched: a subterm
        may repeat them ("Hypertension > kidney > with > stage 5 chronic kidney disease") as long as it
        matches at least one new word. ``spare`` holds words the clause writes twice ("car driver in collision with
        another car"): the first match leaves them available to a deeper subterm."""
        if self._barren(node_id, avail, pooled):
            return _NOTHING  # every subterm needs a word the clause does not have
        return self._descend(node_id, avail, pooled, cues, memo, in_with, seen, banned, spare)

    def _descend(self, node_id: int, avail: frozenset[str], pooled: frozenset[str], cues: frozenset[str],
                 memo: dict[tuple[int, frozenset[str], bool, frozenset[str], frozenset[str]], _Best],
                 in_with: bool, seen: frozenset[str], banned: frozenset[str], spare: frozenset[str]) -> _Best:
        # ``descend`` with positional arguments (the recursion is the walk's hottest call); every caller has
        # checked that the term is not barren for these words.
        key = (node_id, avail, in_with, seen, spare)
        cached = memo.get(key)
        if cached is not None:
            return cached
        best = _NOTHING
        avail_seen = avail | seen
        linkable = avail_seen | pooled
        without_cued = not _WITHOUT.isdisjoint(cues)
        by_word = self._by_word.get(node_id)
        if by_word is None:
            children: Sequence[int] = self.nodes[node_id].children
        else:
            picked = set(self._always[node_id])
            for word in (avail | pooled) if in_with else avail:
                picked.update(by_word.get(word, ()))
            # Subterm ids follow the printed order (the compiled tree numbers them in file order).
            children = sorted(picked) if len(picked) > 1 else tuple(picked)
        nodes, barren = self.nodes, self._barren
        for child_id in children:
            child = nodes[child_id]
            if child.connector is not None:
                if barren(child_id, avail, pooled):
                    continue
                if child.connector == "without" and not without_cued:
                    continue
                # The connector's own words ("complicated by", "due to", "with") count when documented.
                said = (child.forms[0] if child.forms else frozenset()) & avail
                inner = self._descend(child_id, avail - said, pooled, cues, memo, child.connector == "with", seen,
                                      _EMPTY if child.connector == "without" else banned, spare)
                if not inner.path:
                    continue
                bonus = W_CUE if child.connector in cues or (child.connector == "in" and "due" in cues) else 0.0
                candidate = _Best(inner.score + bonus + W_CONNECTOR * len(said), (child_id, *inner.path),
                                  inner.used | said, inner.linked, (said, *inner.step_words))
            else:
                if child.lead == "without" and not without_cued:
                    continue
                may_link = in_with or child.lead == "with"
                chosen: tuple[frozenset[str], frozenset[str]] | None = None
                pairs = child.required if not child.quantities else \
                    tuple((form, _required(form)) for form in quantity_forms(child.forms, child.quantities, avail))
                for form, required in pairs:
                    link: frozenset[str]
                    if required <= avail_seen:
                        own = form & avail
                        if own:
                            link = frozenset()
                        elif may_link and required - seen:
                            link = required - avail - seen
                        else:
                            continue
                    elif may_link and required <= linkable:
                        own = form & avail
                        if not own and not required - seen:
                            continue
                        link = required - avail - seen
                    else:
                        continue
                    if chosen is None or len(form) > len(chosen[0] | chosen[1]):
                        chosen = (own, link)
                if chosen is None:
                    # A subterm printing its parent's own code ("Melanoma C43.9 > skin C43.9") is the parent's
                    # default reading: documentation leaves it unsaid as it does grouping subterms.
                    if child_id in self._through and not barren(child_id, avail, pooled):
                        # "knee pain" is Pain > joint > knee: documentation leaves grouping subterms
                        # ("joint", "limb, lower") implicit; a deeper match may pass through one unsaid.
                        through = self._descend(child_id, avail, pooled, cues, memo, False, seen, banned, spare)
                        if through.path and through.used:
                            candidate = _Best(through.score - W_IMPLICIT, (child_id, *through.path), through.used,
                                              through.linked, (frozenset(), *through.step_words))
                            if candidate.score > best.score + 1e-9:
                                best = candidate
                    continue
                own, linked = chosen
                if child.lead != "without" and own & banned and "without" not in own:
                    continue  # "without coma": words after "without" are not a "with" complication
                # Nonessential modifiers explain words only when no subterm below needs them
                # ("heart (acute)" must not eat the "acute" of "diastolic > acute").
                rest = self._descend(child_id, (avail - own) | (own & spare), pooled, cues, memo, False,
                                     seen | own | linked, _EMPTY if child.lead == "without" else banned,
                                     spare - own) if not barren(child_id, avail, pooled) else _NOTHING
                extra = child.nemod & (avail - own - rest.used)
                bonus = W_CUE if child.lead and child.lead in cues else 0.0
                if not rest.path and child.see and child.code is None:
                    # "Dementia > in > Alzheimer's disease - see Disease, Alzheimer's": what the walk can still
                    # explain past the reference ("late onset") counts in choosing this subterm; the reference
                    # itself is followed once the walk is chosen.
                    bonus += self._ahead(child.see, avail - own - extra, pooled, cues, banned, spare)
                score = len(own) * W_WORD + len(linked) * W_LINKED + len(extra) * W_NEMOD + rest.score + bonus
                candidate = _Best(score, (child_id, *rest.path), own | extra | rest.used, linked | rest.linked,
                                  (own | linked, *rest.step_words))
            if candidate.score > best.score + 1e-9:
                best = candidate
        memo[key] = best
        return best

    def _barren(self, node_id: int, avail: frozenset[str], pooled: frozenset[str]) -> bool:
        """Whether no subterm below ``node_id`` can match: each needs a word neither available nor linkable."""
        below = self._below.get(node_id, _UNKNOWN)
        if below is _UNKNOWN:
            below = self._words_below(node_id)
        return below is not None and below.isdisjoint(avail) and below.isdisjoint(pooled)

    def _words_below(self, node_id: int) -> frozenset[str] | None:
        """Every word a subterm below ``node_id`` prints: a clause with none of them (nor linkable words) takes
        no subterm there, so the walk need not look. None when a subterm matches by a value range instead
        ("1500-1749 grams"), whose words are the clause's numbers."""
        node = self.nodes[node_id]
        words: set[str] = set()
        found: frozenset[str] | None = frozenset()
        for child_id in node.children:
            child = self.nodes[child_id]
            inner = self._below.get(child_id, _UNKNOWN)
            if inner is _UNKNOWN:
                inner = self._words_below(child_id)
            if inner is None or child.quantities:
                found = None
                break
            words.update(*child.forms)
            words |= inner
        else:
            found = frozenset(words)
        self._below[node_id] = found
        return found

    def _ahead(self, reference: str, avail: frozenset[str], pooled: frozenset[str], cues: frozenset[str],
               banned: frozenset[str], spare: frozenset[str]) -> float:
        """The score a walk gains past a "see" reference: the best descent below its target with the words left
        (words the target's own path prints are not counted again), less the cost of following."""
        if not avail or reference.lower().startswith(_TABLE_REFERENCES) or "condition" in tokens(reference):
            return 0.0
        target = self.resolve(reference)
        if target is None:
            return 0.0
        _, target_words = self.lineage(target)
        ahead = self.descend(target, avail - target_words, pooled, cues, {}, banned=banned, spare=spare)
        return max(0.0, ahead.score - 0.05) if ahead.used else 0.0

    def walk_from(self, main_id: int, taken: frozenset[str], words: frozenset[str], pooled: frozenset[str],
                  cues: frozenset[str], banned: frozenset[str] = frozenset(), spare: frozenset[str] = frozenset()
                  ) -> Hit:
        main = self.nodes[main_id]
        avail = (words - taken) | (taken & spare)
        best = self.descend(main_id, avail, pooled, cues, {}, seen=taken, banned=banned, spare=spare - taken)
        extra = main.nemod & (avail - best.used)
        path = (main_id, *best.path)
        score = len(taken) * W_WORD + len(extra) * W_NEMOD + best.score
        return self._hit(path, score, taken | extra | best.used, best.linked, self._after_link(best))

    def _after_link(self, best: _Best) -> frozenset[str]:
        for position, node_id in enumerate(best.path):
            node = self.nodes[node_id]
            if node.connector in ("with", "in") or node.lead in ("with", "in"):
                return frozenset().union(*best.step_words[position:]) if best.step_words else frozenset()
        return frozenset()

    def _hit(self, path: tuple[int, ...], score: float, used: frozenset[str], linked: frozenset[str],
             after_link: frozenset[str] = frozenset(), *, see_also_before: tuple[str, ...] = (),
             followed: tuple[str, ...] = ()) -> Hit:
        path = self._with_default_child(path)
        code: str | None = None
        default = False
        cells: tuple[str | None, ...] | None = None  # the last term's that prints any
        last = len(path) - 1
        nodes = [self.nodes[node_id] for node_id in path]
        for position, node in enumerate(nodes):
            printed = node.cells is not None and any(node.cells)
            if printed:
                cells = node.cells
            if node.code:
                code = node.code
                default = position != last
            elif printed:
                default = position != last
        see_also = see_also_before + tuple(node.see_also for node in nodes if node.see_also)
        return Hit(book=self.book, path=path, titles=tuple(node.title for node in nodes), code=code,
                   code_is_default=default, score=score, used=used, linked=linked,
                   see_also=see_also, cells=cells, after_link=after_link,
                   see=nodes[-1].see, followed=followed)

    def _with_default_child(self, path: tuple[int, ...]) -> tuple[int, ...]:
        """A term with no code of its own whose subterm says "not specified as recurrent" (Colitis, Clostridium
        difficile) is coded by that subterm when the walk stops there: the documentation did not specify."""
        last = self.nodes[path[-1]]
        if last.code or last.cells or last.see:
            return path
        child = self._default_child.get(last.id, -1)
        if child == -1:
            child = self._default_child[last.id] = next(
                (c for c in last.children if self.nodes[c].code
                 and self.nodes[c].title.lower().startswith(_NOT_SPECIFIED)), None)
            if child is None and last.parent is None and _EPONYM.search(last.title):
                # An eponym printed as a main term without a code ("De Quervain's"): its "disease" subterm is the
                # eponymous disease itself (M65.4); "syndrome", "thyroiditis" need their words.
                child = self._default_child[last.id] = next(
                    (c for c in last.children if self.nodes[c].code and self.nodes[c].forms
                     and all(f <= _EPONYM_DEFAULT for f in self.nodes[c].forms)), None)
        return path if child is None else (*path, child)

    def specified_child(self, node_id: int) -> int | None:
        """The term's coded "specified NEC" (or "specified type NEC", "other specified") subterm: where the
        documentation names a condition more specific than the classification has (Guideline I.A.9.a)."""
        return next((c for c in self.nodes[node_id].children if self.nodes[c].code
                     and self.nodes[c].title.lower().startswith(_SPECIFIED)), None)

    def extended(self, hit: Hit, child: int, used: frozenset[str]) -> Hit:
        """``hit`` walked one subterm further, to ``child``, explaining ``used``."""
        return self._hit((*hit.path, child), hit.score, used, hit.linked, hit.after_link, followed=hit.followed)

    def resolve(self, reference: str) -> int | None:
        """The term a printed cross-reference names ("Pain, abdominal"), when it resolves fully."""
        if reference in self._resolved:
            return self._resolved[reference]
        result = self.index.resolve(reference, book=self.book)  # type: ignore[arg-type]
        if not result.matched:
            # "see Diabetes, due to, drug or chemical" where the Index prints one subterm "due to drug or
            # chemical": a connector part joins the part after it.
            parts = split_reference(reference)
            joined: list[str] = []
            for part in parts:
                if joined and joined[-1].lower() in _CONNECTORS:
                    joined[-1] = f"{joined[-1]} {part}"
                else:
                    joined.append(part)
            if len(joined) < len(parts):
                result = self.index.walk(tuple(joined), book=self.book)  # type: ignore[arg-type]
            if not result.matched and not reference.lower().startswith(_TABLE_REFERENCES):
                # "see also Contact, with, by object or machine": a part led by "by" is the reader's choice,
                # made with the documentation's words below the rest of the reference; and a tail this
                # release of the Index does not print ("Puncture, open" in the derived CSV) leaves the coder
                # at the longest part of the reference that exists, to walk on with the documentation.
                kept = [p for p in parts if not p.lower().startswith("by ")]
                for size in range(len(kept), 0, -1):
                    result = self.index.walk(tuple(kept[:size]), book=self.book)  # type: ignore[arg-type]
                    if result.matched and _literal(result.titles, kept[:size]):
                        break
                else:
                    return self._resolved.setdefault(reference, None)
        target = result.steps[-1].term_id if result.matched and result.steps else None
        self._resolved[reference] = target
        return target


class IndexSearch:
    """Compiled books of one Index release, shared by every statement coded with it."""

    _lock = threading.Lock()
    _cache: dict[int, IndexSearch] = {}

    def __init__(self, index: AlphabeticIndex) -> None:
        self.index = index
        self._books: dict[str, CompiledBook] = {}

    @classmethod
    def of(cls, index: AlphabeticIndex) -> IndexSearch:
        with cls._lock:
            found = cls._cache.get(id(index))
            if found is None or found.index is not index:
                found = cls._cache[id(index)] = cls(index)
            return found

    def book(self, name: str) -> CompiledBook:
        with self._lock:
            if name not in self._books:
                self._books[name] = CompiledBook(self.index, name)
            return self._books[name]

    def search(self, words: Sequence[str], *, pooled: frozenset[str] = frozenset(),
               cues: frozenset[str] = frozenset(), book: str = "index",
               exclude_see_condition: bool = True, mains: frozenset[int] | None = None) -> list[Hit]:
        """Every main term the words name, each walked as deep as the words allow; best first. ``mains``: only these
        main terms (a note naming its subject walks that subject, not every term the record names)."""
        memo = _MEMO.get()
        if memo is not None:
            key = (id(self), tuple(words), pooled, cues, book, exclude_see_condition, mains)
            found = memo.get(key)
            if found is None:
                found = memo[key] = self._search(words, pooled, cues, book, exclude_see_condition, mains)
            return list(found)
        return self._search(words, pooled, cues, book, exclude_see_condition, mains)

    def _search(self, words: Sequence[str], pooled: frozenset[str], cues: frozenset[str], book: str,
                exclude_see_condition: bool, mains: frozenset[int] | None) -> list[Hit]:
        compiled = self.book(book)
        bag = frozenset(words)
        spare = frozenset(w for w, n in Counter(words).items() if n > 1) if len(bag) < len(words) else frozenset()
        banned = after_without(words)
        hits: list[Hit] = []
        for main_id, taken in compiled.main_candidates(words, mains):
            main = compiled.nodes[main_id]
            if exclude_see_condition and main.see and "condition" in main.see.lower() and not main.code:
                continue
            if banned and taken <= banned:
                continue  # "... without heart failure" does not name "Failure" as the condition
            hit = compiled.walk_from(main_id, taken, bag, pooled, cues, banned, spare)
            if len(hit.path) == 1 and main.code is None and compiled.head_only.get(main_id) == taken:
                continue  # only its cross-reference was left to code, for a condition the words did not name
            hit = self._follow(compiled, hit, bag, pooled, cues, banned=banned, spare=spare)
            hits.append(hit)
        # Between equal walks, one ending on a code of its own beats one falling back to its main term's
        # default ("Bell's, palsy" G51.0 over "Palsy, Bell's" with no code in the derived Index).
        hits.sort(key=lambda h: (-h.score, h.code is None, h.code_is_default, -compiled.size(h.path[0]), len(h.path)))
        return hits

    def _follow(self, compiled: CompiledBook, hit: Hit, bag: frozenset[str], pooled: frozenset[str],
                cues: frozenset[str], depth: int = 0, *, banned: frozenset[str] = frozenset(),
                spare: frozenset[str] = frozenset()) -> Hit:
        """Follow a "see" on the last term of the path, continuing the walk with the words left (words after
        "without" stay barred from "with" subterms on the far side of the reference too)."""
        last = compiled.nodes[hit.path[-1]]
        if depth > 3:
            return hit
        reference = last.see if last.see and last.code is None else None
        if reference is None and last.see_also and (bag - hit.used) and (
                hit.code is None or hit.code_is_default or self._is_table(compiled) or compiled.book == "eindex"):
            # A subterm without a code of its own ("Encounter > removal (of) - see also Removal") points on.
            # "see also": worth following only when it explains words the entry itself did not.
            also = self._follow_reference(compiled, hit, last.see_also, bag, pooled, cues, depth, optional=True,
                                          banned=banned, spare=spare)
            if also is not None and len(also.used) > len(hit.used):
                return also
        if reference is None and last.see_also and last.code is None and not last.cells and (
                hit.code_is_default or (hit.code is None and len(hit.path) == 1)) \
                and "condition" not in last.see_also.lower():  # "see also condition": look up the condition
            # A subterm that prints no code of its own, only "see also" ("Palsy, Bell's - see also Palsy, facial"):
            # the reference gives its code, not the main term's default (G51.0, not G83.9); a main term that
            # prints nothing else ("Atherosclerosis - see also Arteriosclerosis") is coded there too.
            also = self._follow_reference(compiled, hit, last.see_also, bag, pooled, cues, depth, banned=banned,
                                          spare=spare)
            return also if also is not None and also.code and not also.code_is_default else hit
        if reference is None:
            return hit
        followed = self._follow_reference(compiled, hit, reference, bag, pooled, cues, depth, banned=banned,
                                          spare=spare)
        return hit if followed is None else followed

    @staticmethod
    def _is_table(compiled: CompiledBook) -> bool:
        # In the Index a "see also" beside a code is a pointer for more information (e.g. to the
        # manifestation of an etiology/manifestation pair), not a better code; in the tables a row without
        # the column asked often says "see also" the row that has it. In the External Cause Index it sends
        # to where the mechanism is classified in detail ("Collision NEC V89.9 - see also Accident,
        # transport"): followed, like any "see also", only when it explains more of the documentation.
        return compiled.book in ("neoplasm", "drug")

    def _follow_reference(self, compiled: CompiledBook, hit: Hit, reference: str, bag: frozenset[str],
                          pooled: frozenset[str], cues: frozenset[str], depth: int,
                          optional: bool = False, banned: frozenset[str] = frozenset(),
                          spare: frozenset[str] = frozenset()) -> Hit | None:
        if "condition" in tokens(reference):
            return None  # "Acute - see also condition": look up the condition itself, as the search already does
        target = compiled.resolve(reference)
        if target is None:
            return None
        target_node = compiled.nodes[target]
        chain, target_words = compiled.lineage(target)
        by_site = "by site" in reference.lower() or reference.lower().startswith(("neoplasm", "table"))
        if optional and not by_site and target_node.forms and chain[0] == hit.path[0] \
                and not any(required <= bag for _, required in target_node.required):
            # A "see also" to another subterm of the same main term is followed only when the documentation
            # names it: "History, personal" says "see also History, family", which does not apply when no
            # family member is documented (siblings are told apart by their words). One to another main term
            # names the same thing another way ("Gunshot wound - see also Puncture"; "Lifting - see also
            # Overexertion") and is followed when it explains more of the documentation.
            return None
        # The target path restates words already read ("see Hypertension, heart" from "Failure, heart, with
        # hypertension"): only its own words are taken again; every other word may still refine it.
        best = compiled.descend(target, bag - target_words, pooled, cues, {}, banned=banned, spare=spare)
        path = (*chain, *best.path)
        used = hit.used | best.used | (bag & target_words)
        linked = (hit.linked | best.linked) - used
        score = len(used) * W_WORD + len(linked) * W_LINKED - 0.05 * (depth + 1)
        merged = compiled._hit(path, score, used, linked, hit.after_link | compiled._after_link(best),
                               see_also_before=hit.see_also,
                               followed=(*hit.followed, " > ".join(hit.titles) + " -> see " + reference))
        return self._follow(compiled, merged, bag, pooled, cues, depth + 1, banned=banned, spare=spare)


_MEMO: ContextVar[dict[tuple[object, ...], list[Hit]] | None] = ContextVar("index_search_memo", default=None)


@contextmanager
def search_memo() -> Iterator[None]:
    """Searches repeated while one statement is coded (each rule asks the Index about the same clause words) are
    walked once. The memo lives only for the block: a statement seen again is walked again."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _literal(titles: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether a walk took exactly the printed parts of a reference, each naming its term as a whole (the walk may
    otherwise match by leading words: "Neoplasm, malignant" is not "malignant mast cell")."""
    if len(titles) != len(parts):
        return False
    for title, part in zip(titles, parts, strict=True):
        names = {tokens(title), *(tokens(p) for p in split_reference(title))}  # "Complications" = "Complication"
        if tokens(part) not in names:
            return False
    return True


def _alternatives(part: str) -> list[str]:
    """The alternatives of "X or Y": "atrial or auricular" names either word; "acromioclavicular joint or
    ligament" shares its qualifier ("acromioclavicular ligament") when both nouns name the same kind of
    structure (lexicon ``shared_qualifier_nouns``); "upper arm or shoulder" does not."""
    pieces = [p.strip() for p in _OR.split(part) if p.strip()]
    out = [pieces[0]]
    for piece in pieces[1:]:
        before = out[-1].split()
        shared = len(before) > 1 and len(piece.split()) == 1 and {before[-1].lower(), piece.lower()} <= _structures()
        out.append(" ".join([*before[:-1], piece]) if shared else piece)
    return out


@lru_cache(maxsize=1)
def _structures() -> frozenset[str]:
    return frozenset(lexicon().shared_qualifier_nouns)


@lru_cache(maxsize=1)
def _implicit() -> frozenset[str]:
    """Stemmed words of the grouping subterms documentation leaves implicit (lexicon data)."""
    return frozenset(w for phrase in lexicon().implicit_subterms for w in tokens(phrase))


def _required(form: frozenset[str]) -> frozenset[str]:
    """The words a subterm needs: generic words are optional ("lower end", "kidney involvement"), except "end"
    in "end stage" (a stage, not a part of a bone)."""
    generic = _GENERIC - {"end"} if "stage" in form else _GENERIC
    return (form - generic) or form


def statement_for_path(titles: Sequence[str]) -> str:
    """What documentation naming an index path says (the round-trip measure): each term's first form, plus the
    qualifiers of a subterm printed inverted ("valve, heart" is a heart valve; "Diabetes, diabetic" lists
    variants, "a or b" alternatives)."""
    words: list[str] = []
    for depth, title in enumerate(titles):
        parts = split_reference(title) or (title,)
        words.append(parts[0])
        head = parts[0].split()[0][:3].lower() if parts[0].split() else ""
        if depth and not any(_OR.search(p) for p in parts[1:]):
            words.extend(p for p in parts[1:] if p.split() and p.split()[0][:3].lower() != head)
    return " ".join(words)


def after_without(words: Sequence[str]) -> frozenset[str]:
    """Words documented after "without" (or "no") in a clause: absent findings, never "with" complications. A
    word also written before it names the condition itself ("heart disease without heart failure")."""
    for position, word in enumerate(words):
        if word in ("without", "no"):
            return frozenset(words[position + 1:]) - frozenset(words[:position])
    return frozenset()


def ensure_mapping(value: Mapping[int, IndexTerm]) -> Mapping[int, IndexTerm]:
    return value
