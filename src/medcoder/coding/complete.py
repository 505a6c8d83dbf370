"""From an index code to a billable Tabular code: subcategory choice, laterality, 7th character, queries.

Why: the Index often stops short ("M77.1-", "S39.012", "O09.-"): the coder must go to the Tabular and pick
the child the documentation supports. We score each child by the words that distinguish it from its parent;
when nothing in the documentation chooses, we take the unspecified child (Guideline I.B.11-12 on
laterality and NOS) and record a documentation query naming what is missing. 7th characters follow the
statement ("initial", "subsequent", "sequela"), placeholder X filling empty positions (Guideline I.A.5/I.C.19).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from medcoder.codesets.icd10cm_tabular import Tabular, TabularEntry
from medcoder.coding.lexicon import lexicon
from medcoder.coding.terms import tokens

_DIMENSIONS = (
    ("laterality", frozenset({"right", "left", "bilateral"})),
    ("episode", frozenset({"initial", "subsequent", "sequela"})),
    ("trimester", frozenset({"trimester"})),
    ("stage", frozenset({"stage"})),
    ("acuity", frozenset({"acute", "chronic", "subacute"})),
    ("type", frozenset({"type"})),
    ("weeks", frozenset({"week"})),
    ("severity", frozenset({"mild", "moderate", "severe", "intermittent", "persistent"})),
)
_UNSPECIFIED = frozenset({"unspecified"})
_EPISODE_MEANING = frozenset({"initial", "subsequent", "sequela"})
# Words that link a title's parts ("with (acute) exacerbation", "due to birth injury"): documented alone they
# choose no subdivision; "COPD with pneumonia" says nothing of an exacerbation.
_LINKS = frozenset({"with", "in", "due", "to", "from", "by", "of", "and", "or", "as"})
# "Chronic kidney disease, unspecified" is unspecified; "... stage 1 through 4, or unspecified CKD" is a range.
_UNSPECIFIED_TITLE = re.compile(r",\s*unspecified\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    code: str
    entry: TabularEntry | None
    steps: tuple[str, ...]
    queries: tuple[tuple[str, str, tuple[str, ...]], ...]
    """(missing dimension, question, options)."""
    used: frozenset[str]
    noted: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """Further queries (what the code's ancestors leave unspecified): asked, but the code is as sure."""


def dimension_of(titles: Sequence[str], parent_words: frozenset[str]) -> str:
    """Name what distinguishes the options ("right"/"left" -> laterality) from the lexicon's closed list; the
    dimension most options mention wins."""
    return _dimension_of(tuple(titles), parent_words)


@lru_cache(maxsize=8192)
def _dimension_of(titles: tuple[str, ...], parent_words: frozenset[str]) -> str:
    # Cached: the same Index and Tabular options are asked about statement after statement.
    counts: dict[str, int] = {}
    for title in titles:
        words = set(tokens(title)) - parent_words
        for name, markers in lexicon().query_dimensions.items():
            if words & markers:
                counts[name] = counts.get(name, 0) + 1
    if not counts:
        return "specificity"
    return max(counts.items(), key=lambda kv: (kv[1], -list(lexicon().query_dimensions).index(kv[0])))[0]


def _dimension(options: list[TabularEntry], parent_words: frozenset[str]) -> str:
    return dimension_of([o.title for o in options], parent_words)


def _episode(words: frozenset[str], text: str) -> str | None:
    lowered = text.lower()
    for cue, character in sorted(lexicon().episode.items(), key=lambda kv: -len(kv[0])):
        if cue in lowered:
            return character
    return None


def _seventh(tab: Tabular, entry: TabularEntry, words: frozenset[str], text: str,
             steps: list[str], queries: list[tuple[str, str, tuple[str, ...]]]) -> str:
    chars = tab.seventh_characters(entry.code)
    character: str | None
    if chars and not any(_EPISODE_MEANING & set(tokens(m)) for m in chars.values()):
        character = _axis_seventh(entry, chars, words, queries)
    else:
        character = _episode_seventh(entry, chars, words, text, queries)
    if character is None:
        return entry.code
    bare = entry.code.replace(".", "")
    padded = bare.ljust(6, "X") + character
    code = f"{padded[:3]}.{padded[3:]}"
    steps.append(f"tabular: 7th character {character} ({chars[character]}) from {entry.seventh_from or entry.code}"
                 + ("; placeholder X" if len(bare) < 6 else ""))
    return code


def _axis_seventh(entry: TabularEntry, chars: dict[str, str], words: frozenset[str],
                  queries: list[tuple[str, str, tuple[str, ...]]]) -> str:
    """A 7th character that is not the episode of care (glaucoma stage H40.11-, eye of E11.35-, fetus of O36):
    the meaning the documentation states; otherwise the unspecified one, and a query naming the axis
    (Guideline I.C.7.a: stage 0 when the stage is not documented; I.B.13 unspecified eye)."""
    scored = sorted(((len(set(tokens(m)) & words - _UNSPECIFIED), -len(tokens(m)), c) for c, m in chars.items()),
                    reverse=True)
    if scored[0][0] > 0 and (len(scored) == 1 or scored[1][:2] != scored[0][:2]):
        return scored[0][2]
    default = next((c for c, m in chars.items() if _UNSPECIFIED & set(tokens(m))), None)
    default = default or next((c for c, m in chars.items() if "applicable" in m.lower()), None) or min(chars)
    dimension = dimension_of(list(chars.values()), frozenset())
    queries.append((dimension, f"Please document the {dimension} for {entry.code} {entry.title}.",
                    tuple(f"{c}: {m}" for c, m in chars.items())))
    return default


def _episode_seventh(entry: TabularEntry, chars: dict[str, str], words: frozenset[str], text: str,
                     queries: list[tuple[str, str, tuple[str, ...]]]) -> str | None:
    """The episode of care (initial, subsequent, sequela) and, for fractures, the healing and open/closed
    status (Guideline I.C.19.a, I.C.19.c.1)."""
    episode = _episode(words, text)
    scored: list[tuple[float, str]] = []
    for character, meaning in chars.items():
        meaning_words = set(tokens(meaning))
        score = 0.0
        if episode == "A" and "initial" in meaning_words:
            score += 2
        elif episode == "D" and "subsequent" in meaning_words:
            score += 2
        elif episode == "S" and "sequela" in meaning_words:
            score += 2
        score += 0.5 * len(meaning_words & words - {"encounter", "initial", "subsequent", "sequela"})
        # Guideline I.C.19.c.1: a fracture not documented as open is coded closed; routine healing by default.
        if "closed" in meaning_words or "routine" in meaning_words:
            score += 0.2
        if "open" in meaning_words and "open" not in words:
            score -= 1
        if "nonunion" in meaning_words or "malunion" in meaning_words or "delayed" in meaning_words:
            score -= 0.5 if not meaning_words & words - {"fracture", "encounter"} else 0
        scored.append((score, character))
    if not scored:
        return None
    scored.sort(key=lambda sc: (-sc[0], sc[1]))
    character = scored[0][1]
    if "type" in tokens(chars[character]) and "type" not in words:
        # Guideline I.C.19.c.1: an open fracture whose type is not documented takes the 7th character for
        # type I or II (Gustilo); the type is asked for.
        queries.append(("type", f"Please document the type of the open fracture for {entry.code} {entry.title}.",
                        tuple(f"{c}: {m}" for c, m in chars.items() if "type" in tokens(m))))
    if episode is None:
        initial = next((c for c, m in chars.items() if "initial" in m.lower()), character)
        character = initial if scored[0][0] < 2 else character
        queries.append(("episode", f"Is this the initial encounter (active treatment), a subsequent encounter, "
                                   f"or a sequela for {entry.code} {entry.title}?",
                        tuple(f"{c}: {m}" for c, m in chars.items())))
    return character


def _break_tie(scored: list[tuple[float, int, TabularEntry]], text: str) -> list[tuple[float, int, TabularEntry]]:
    """Between children equally chosen by the words left ("right" picks both "right foot" and "right toe(s)"
    under "Pain in foot and toes"), the one whose whole title the statement says wins; the rest stay tied."""
    if len(scored) < 2 or abs(scored[0][0] - scored[1][0]) > 1e-9:
        return scored
    said = frozenset(tokens(text))
    top = scored[0][0]
    tied = [t for t in scored if abs(t[0] - top) < 1e-9]
    fits = [(len(set(tokens(e.title)) - said - _UNSPECIFIED), position) for _, position, e in tied]
    least = min(f for f, _ in fits)
    if sum(1 for f, _ in fits if f == least) != 1:
        return scored
    winner = next(t for t, (f, _) in zip(tied, fits, strict=True) if f == least)
    return [(top + 0.01, winner[1], winner[2]), *(t for t in scored if t is not winner)]


@lru_cache(maxsize=65536)
def _extra(title: str, parent_title: str) -> frozenset[str]:
    """The words a title adds to its parent's, as a multiset difference ("unspecified site of unspecified female
    breast" adds one more "unspecified" to "unspecified site of female breast"); cached: titles repeat."""
    return frozenset((Counter(tokens(title)) - Counter(tokens(parent_title))).keys())


def _best_child(tab: Tabular, parent: TabularEntry, words: frozenset[str], *, core: frozenset[str],
                exclude_unspecified: bool = False, text: str = "",
                valid: Callable[[str], bool] | None = None) -> TabularEntry | None:
    """The child of ``parent`` whose distinguishing words the documentation has, if exactly one wins."""
    parent_words = frozenset(tokens(parent.title))
    scored: list[tuple[float, int, TabularEntry]] = []
    for position, child in enumerate(c for c in tab.children(parent.code) if c.seventh is None
                                     and (valid is None or not c.billable or valid(c.code))):
        extra = _extra(child.title, parent.title)
        if exclude_unspecified and "unspecified" in extra:
            continue
        hit = extra & words
        if not hit & core:  # a title word only a synonym supplied does not choose on its own
            continue
        if not hit - _LINKS - parent_words:
            continue  # only linking words, or words the parent already says ("injury ... due to birth injury")
        scored.append((len(hit) - 0.15 * len(extra - words - _UNSPECIFIED), position, child))
    scored.sort(key=lambda t: (-t[0], t[1]))
    scored = _break_tie(scored, text)
    if not scored or scored[0][0] <= 0 or (len(scored) > 1 and abs(scored[1][0] - scored[0][0]) < 1e-9):
        return None
    return scored[0][2]


def _cousin(tab: Tabular, entry: TabularEntry, words: frozenset[str], *, core: frozenset[str], text: str,
            valid: Callable[[str], bool] | None) -> TabularEntry | None:
    """A code under an unspecified subcategory ("J96.91 Respiratory failure, unspecified with hypoxia" under J96.9)
    while the documentation names a sibling subcategory ("acute on chronic": J96.2): the code of that subcategory
    that says what this code says below its own subcategory ("with hypoxia": J96.21)."""
    parent = tab.get(entry.parent) if entry.parent else None
    grand = tab.get(parent.parent) if parent is not None and parent.parent else None
    if parent is None or grand is None or parent.level != "subcategory":
        return None
    if "unspecified" not in _extra(parent.title, grand.title):
        return None
    named = _best_child(tab, grand, words, core=core, exclude_unspecified=True, text=text, valid=valid)
    if named is None or named.code == parent.code or named.billable:
        return None
    below = frozenset(tokens(entry.title)) - frozenset(tokens(parent.title))
    return next((c for c in tab.children(named.code) if c.billable and c.seventh is None
                 and frozenset(tokens(c.title)) - frozenset(tokens(named.title)) == below
                 and (valid is None or valid(c.code))), None)


def _unspecified_axes(tab: Tabular, entry: TabularEntry,
                      asked: set[str]) -> list[tuple[tuple[str, str, tuple[str, ...]], bool]]:
    """What an unspecified code still lacks, at every level it is unspecified: N18.9 "Chronic kidney disease,
    unspecified" lacks the stage; C34.90 lacks the lung (laterality) and, one level up, the part of the lung
    (C34.9 "unspecified part"); F02.80 lacks the severity its parent F02.8 leaves unspecified."""
    return [axis for axis in _axes_of(tab, entry) if axis[0][0] not in asked]


@lru_cache(maxsize=65536)
def _axes_of(tab: Tabular, entry: TabularEntry) -> tuple[tuple[tuple[str, str, tuple[str, ...]], bool], ...]:
    """The unspecified axes of ``entry`` and its ancestors (one per dimension), each marked whether it is the
    code's own level; cached per release and code."""
    found: list[tuple[tuple[str, str, tuple[str, ...]], bool]] = []
    code: TabularEntry | None = entry
    while code is not None and code.parent:
        parent = tab.get(code.parent)
        if parent is None or parent.level not in ("category", "subcategory"):
            break
        if "unspecified" in _extra(code.title, parent.title) \
                and not re.search(r"\bor unspecified\b", code.title, re.IGNORECASE):
            siblings = [c for c in tab.children(parent.code) if c.code != code.code and c.seventh is None]
            dimension = _dimension(siblings, frozenset(tokens(parent.title))) if siblings else "specificity"
            if dimension != "specificity" and all(f[0][0] != dimension for f in found):  # a named axis only
                found.append(((dimension, f"Please document the {dimension} for {parent.title.lower()} "
                                          f"({code.code} is unspecified).",
                               tuple(f"{c.code} {c.title}" for c in siblings)), code is entry))
        code = parent
    return tuple(found)


_DOMINANCE = frozenset({"dominant", "nondominant"})


def _dominance_default(children: list[TabularEntry], core: frozenset[str]) -> frozenset[str]:
    """Guideline I.C.9.d.1 / I.C.6.a: when the codes choose between the dominant and non-dominant side and the
    record does not say, a right side affected is dominant and a left side non-dominant."""
    if core & _DOMINANCE or not any({"dominant", "side"} <= set(tokens(c.title)) for c in children):
        return frozenset()
    if "right" in core and "left" not in core:
        return frozenset({"dominant"})
    if "left" in core and "right" not in core:
        return frozenset({"non", "dominant"})
    return frozenset()


def _documented_side(tab: Tabular, entry: TabularEntry, core: frozenset[str],
                      valid: Callable[[str], bool] | None) -> TabularEntry | None:
    """The code of the same category whose title is this one's with "unspecified" replaced by the documented side:
    "Varicose veins of unspecified lower extremity with ulcer of calf" (I83.002) for a left leg is I83.022, a
    subcategory away, where the sibling refinement cannot reach (Guideline I.B.13 laterality)."""
    sides = [w for w in ("right", "left", "bilateral") if w in core]
    if len(sides) != 1 or not entry.billable or "unspecified" not in tokens(entry.title):
        return None
    own = Counter(tokens(entry.title))
    if len(sides) != 1 or not entry.billable or entry.seventh is not None or not own["unspecified"] or own[sides[0]]:
        return None
    for current in _side_variants(tab, entry.code, sides[0]):
        if valid is None or valid(current.code):
            return current
    return None


@lru_cache(maxsize=65536)
def _richer_siblings(tab: Tabular, entry: TabularEntry) -> tuple[tuple[TabularEntry, frozenset[str]], ...]:
    """The billable siblings whose titles say everything ``entry``'s says and more, with the words they add
    (cached per Tabular and code)."""
    own = frozenset(tokens(entry.title))
    return tuple((sib, title - own) for sib in tab.children(entry.parent or "")
                 if sib.code != entry.code and sib.billable and sib.seventh is None
                 and own < (title := frozenset(tokens(sib.title))))


@lru_cache(maxsize=4096)
def _side_variants(tab: Tabular, code: str, side: str) -> tuple[TabularEntry, ...]:
    """The billable codes of ``code``'s category titled as ``code`` with "unspecified" replaced by ``side``, in
    the order the category is searched (cached per Tabular: the walk reads the whole category)."""
    entry = tab.get(code)
    if entry is None:
        return ()
    target = Counter(tokens(entry.title)) - Counter({"unspecified": 1}) + Counter({side: 1})
    found: list[TabularEntry] = []
    stack = [code[:3]]
    while stack:
        current = tab.get(stack.pop())
        if current is None:
            continue
        if current.billable and Counter(tokens(current.title)) == target:
            found.append(current)
        stack.extend(c.code for c in tab.children(current.code) if c.seventh is None)
    return tuple(found)


def complete(tab: Tabular, code: str, words: frozenset[str], text: str, *,
             core: frozenset[str] | None = None, valid: Callable[[str], bool] | None = None) -> Completion:
    """Descend from ``code`` to a billable code using the statement's ``words`` (``core``: the words actually
    written, without the title synonyms added to ``words``)."""
    core = words if core is None else core
    steps: list[str] = []
    queries: list[tuple[str, str, tuple[str, ...]]] = []
    used: set[str] = set()
    base = code.rstrip("-").rstrip(".")
    entry = tab.get(base)
    if entry is None and len(base.replace(".", "")) > 3:
        entry = tab.get(base.replace(".", "")[:3])
    if entry is None:
        return Completion(code=base, entry=None, steps=(f"tabular: {base} is not in the Tabular",),
                          queries=(), used=frozenset())
    refined = False
    for _ in range(8):
        if entry.billable and not refined and entry.parent and entry.seventh is None:
            # The Index may stop at an unspecified code ("Otitis, media, acute -> H66.90") while the
            # documentation says more ("right ear"): take the sibling the words choose (Tabular specificity).
            refined = True
            parent = tab.get(entry.parent)
            if parent is not None and "unspecified" in _extra(entry.title, parent.title):
                better = _best_child(tab, parent, words, core=core, exclude_unspecified=True, text=text,
                                     valid=valid)
                if better is not None:
                    steps.append(f"tabular: {entry.code} -> {better.code} {better.title} (documented specificity)")
                    entry = better
                    continue
            upper = tab.get(parent.parent) if parent is not None and parent.parent else None
            if parent is not None and upper is not None and upper.level == "subcategory" and "unspecified" in \
                    _extra(parent.title, upper.title) \
                    and _documented_side(tab, entry, core, valid) is None:
                # The unspecified part is one level up ("unspecified deep veins", I82.40-): the documented
                # vein ("femoral") chooses the sibling subcategory (I82.41-), completed below.
                better = _best_child(tab, upper, words, core=core, exclude_unspecified=True, text=text, valid=valid)
                if better is not None and better.code != parent.code:
                    steps.append(f"tabular: {entry.code} -> {better.code} {better.title} (documented specificity)")
                    entry = better
                    continue
            cousin = _cousin(tab, entry, words, core=core, text=text, valid=valid)
            if cousin is not None:
                steps.append(f"tabular: {entry.code} -> {cousin.code} {cousin.title} (documented specificity of "
                             f"{entry.parent})")
                entry = cousin
                continue
        if entry.billable:
            break
        if entry.needs_seventh:
            final = _seventh(tab, entry, words, text, steps, queries)
            made = tab.get(final)
            if made is not None:
                entry = made
            break
        children = [c for c in tab.children(entry.code) if c.seventh is None]
        if not children:
            break
        parent_words = frozenset(tokens(entry.title))
        default_side = _dominance_default(children, core)
        words, core = words | default_side, core | default_side
        scored: list[tuple[float, int, TabularEntry]] = []
        for position, child in enumerate(children):
            # A multiset difference: "unspecified site of unspecified female breast" differs from its parent
            # "unspecified site of female breast" by one more "unspecified".
            extra = _extra(child.title, entry.title)
            hit = extra & words
            chooses = bool(hit & core) and bool(hit - _LINKS - parent_words)
            score = len(hit) - 0.15 * len(extra - words - _UNSPECIFIED) if chooses else -0.15 * len(extra)
            scored.append((score, position, child))
        scored.sort(key=lambda t: (-t[0], t[1]))
        scored = _break_tie(scored, text)
        best_score, _, best = scored[0]
        tie = len(scored) > 1 and abs(scored[1][0] - best_score) < 1e-9
        if best_score > 0 and not tie:
            used |= (frozenset(tokens(best.title)) - parent_words) & words
            steps.append(f"tabular: {entry.code} -> {best.code} {best.title}")
            entry = best
            continue
        default = next((c for c in children
                        if "unspecified" in _extra(c.title, entry.title)), None)
        if default is None:
            # "... without mention of lumbar back pain or lower extremity pain" (M51.369) is the child for what
            # the documentation does not mention.
            default = next((c for c in children if "without mention" in c.title.lower()), None)
        if default is None:
            default = next((c for c in children if c.title.lower().endswith(("nos", "not elsewhere classified"))),
                           None)
        dimension = _dimension(children, parent_words)
        chosen = default or children[0]
        steps.append(f"tabular: {entry.code} -> {chosen.code} {chosen.title} (default: {dimension} not documented)")
        queries.append((dimension, f"Please document the {dimension} for {entry.title.lower()} ({entry.code}).",
                        tuple(f"{c.code} {c.title}" for c in children)))
        entry = chosen
    if entry.billable and entry.parent and entry.seventh is None:
        # A sibling that says everything this code says and more, all documented ("without complications,
        # in remission" is E11.A beside E11.9), is the more specific code (Guideline I.B.2: code to the
        # highest specificity documented).
        richer = [(len(extra), sib) for sib, extra in _richer_siblings(tab, entry)
                  if extra <= core and (valid is None or valid(sib.code))]
        if richer:
            best_sibling = max(richer, key=lambda t: t[0])[1]
            steps.append(f"tabular: {entry.code} -> {best_sibling.code} {best_sibling.title} (documented specificity)")
            entry = best_sibling
    sided = _documented_side(tab, entry, core, valid)
    if sided is not None:
        steps.append(f"tabular: {entry.code} -> {sided.code} {sided.title} (documented laterality, I.B.13)")
        entry = sided
    noted: list[tuple[str, str, tuple[str, ...]]] = []
    if entry.billable and entry.parent and entry.seventh is None:
        axes = _unspecified_axes(tab, entry, {q[0] for q in queries})
        if axes and not queries and axes[0][1]:
            queries.append(axes.pop(0)[0])  # the code's own unspecified axis (N18.9 stage)
        noted = [query for query, _ in axes]
    elif entry.billable and entry.seventh is not None and entry.parent:
        # A code with a 7th character is unspecified where the code it extends is ("S32.000A": the lumbar
        # vertebra's level); asked, without making the code less sure.
        extended = tab.get(entry.parent)
        if extended is not None:
            noted = [query for query, _ in _unspecified_axes(tab, extended, {q[0] for q in queries})]
    return Completion(code=entry.code, entry=entry, steps=tuple(steps), queries=tuple(queries),
                      used=frozenset(used), noted=tuple(noted))
