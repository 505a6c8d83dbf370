"""From a statement to clauses of index words: expansion, tokens, clause splitting, assertion context.

Why clauses: a statement such as "type 2 DM with stage 3a CKD and HTN" documents several conditions. Each
clause is walked in the Index on its own words; the words of the other clauses stay available to "with"
subterms, because the classification presumes a causal link between conditions the Index links with
"with" (Guideline I.A.15).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from medcoder.codesets.icd10cm_index_model import normalize
from medcoder.coding.lexicon import alternation, lexicon

# "X in a patient with Y" documents two conditions: Y is the patient's, not a "with" subterm of X.
_IN_PATIENT_WITH = r"\bin (?:a |an |the |this )?(?:patient|pt) (?:with|who has)\b"
_SPLIT = re.compile(r"\s*(;|,|\band\b|\balso\b|\bplus\b|\+|" + _IN_PATIENT_WITH + r")\s*", re.IGNORECASE)
_SEPARATORS = frozenset({";", ",", "and", "also", "plus", "+"})
_MODIFIER_ONLY = frozenset({"initial", "encounter", "subsequent", "sequela", "right", "left", "bilateral", "side",
                            "unilateral", "active", "treatment", "routine", "healing", "delayed", "first", "visit",
                            "follow", "up", "closed", "open", "displaced", "nondisplaced", "acute", "chronic"})
_MID_CUE = re.compile(r"(?<=\w)(?<!family)(?<!personal)(?<!past)\s+(s/p|status post|history of|h/o|hx of)\b",
                      re.IGNORECASE)
# "clubfoot (talipes equinovarus)": in documentation a parenthesis restates or names the condition; unlike the
# Index's own parentheses (nonessential modifiers), its words are the clinician's and are read.
_GLOSS = re.compile(r"(?<=\s)\(([^()]+)\)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_KEEP_AND = re.compile(r"\b(?:nausea and vomiting|right and left|left and right|signs and symptoms)\b", re.I)


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """A light plural folding shared by index titles and statements ("fractures" = "fracture"), and the
    lexicon's equivalent words ("cardiac" = "heart") folded to one form."""
    folded = _equivalents().get(token)
    if folded is not None:
        return folded
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is", "os", "as")):
        return token[:-1]
    return token


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """Normalized, stemmed words of a title or a clause (nonessential modifiers dropped by ``normalize``)."""
    return tuple(stem(t) for t in normalize(text).split())


@lru_cache(maxsize=1)
def _equivalents() -> dict[str, str]:
    import json
    from importlib import resources

    raw = json.loads(resources.files("medcoder.coding").joinpath("data/lexicon.json").read_text("utf-8"))
    return {k: v for k, v in raw.get("equivalents", {}).items() if not k.startswith("$")}


@lru_cache(maxsize=1)
def _lexicon_and() -> re.Pattern[str] | None:
    keys = sorted((k for k in lexicon().replacements if " and " in k), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b", re.IGNORECASE) if keys else None


def expand(text: str) -> str:
    """Replace abbreviations and documentation synonyms by the index's words."""
    lex = lexicon()

    def replace(match: re.Match[str]) -> str:
        written = match.group(0)
        key = written.lower()
        if key in lex.case_sensitive and not written.isupper():
            return written
        return lex.replacements[key]

    return lex.replace_pattern.sub(replace, text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    text: str
    """The clause as written (after expansion)."""
    start: int
    end: int
    """Offsets into the original statement."""
    words: tuple[str, ...]
    """Stemmed index words, connector words kept, stopwords dropped."""
    context: str
    """``present``, ``negated``, ``uncertain``, ``history``, ``family`` or ``status``."""
    cue: str | None = None
    joiner: str = ""
    """The separator before this clause ("," / "and" / ";"); "" for the first."""


@lru_cache(maxsize=1)
def _cue_patterns() -> tuple[tuple[str, dict[str, int], re.Pattern[str], re.Pattern[str] | None], ...]:
    """Per context, its cues longest first (their rank) as one prefix pattern and, for uncertainty ("..., ruled
    out"), one suffix pattern: a clause is read against every cue at once."""
    cues = lexicon().context_cues
    out = []
    for context in _CONTEXT_ORDER:
        ordered = sorted(cues[context], key=len, reverse=True)
        if not ordered:
            continue
        rank: dict[str, int] = {}
        for position, cue in enumerate(ordered):
            rank.setdefault(cue, position)
        alternatives = alternation(ordered)
        prefix = re.compile(rf"(?:{alternatives})(?= |$)")
        suffix = re.compile(rf" (?:{alternatives})$") if context == "uncertain" else None
        out.append((context, rank, prefix, suffix))
    return tuple(out)


# Family before history ("family history of"), history before negation ("no history" is rare here).
_CONTEXT_ORDER = ("family", "status", "history", "uncertain", "negated")


@lru_cache(maxsize=1)
def _negated_after() -> re.Pattern[str]:
    """The cues that end a clause and negate it ("..., ruled out"), longest first, as one suffix pattern."""
    ordered = sorted(lexicon().context_cues.get("negated_after", ()), key=len, reverse=True)
    return re.compile(rf"(?:^| )({alternation(ordered)})$") if ordered else re.compile(r"(?!)")


def _context(text: str) -> tuple[str, str | None, str]:
    """The clause's assertion context and the text with the cue removed (the longest cue of the first context that
    starts the clause, or for uncertainty also ends it). A concluding negation ("suspected sepsis ruled out") wins
    over any cue that starts the clause: the condition was looked for and found absent."""
    lower = text.lower().strip()
    concluded = _negated_after().search(lower)
    if concluded is not None:
        cue = concluded.group(1)
        rest = text.strip()[: -len(cue)].strip()
        _, _, rest = _context(rest) if rest else ("present", None, rest)
        return "negated", cue, rest
    for context, rank, prefix, suffix in _cue_patterns():
        first = prefix.match(lower)
        last = suffix.search(lower) if suffix is not None else None
        if first is not None and (last is None or rank[first.group(0)] <= rank[last.group(0)[1:]]):
            cue = first.group(0)
            return context, cue, text.strip()[len(cue):].strip()
        if last is not None:
            cue = last.group(0)[1:]
            return context, cue, text.strip()[: -len(cue)].strip()
    return "present", None, text.strip()


def split_statement(statement: str) -> list[Clause]:
    """Clauses of a diagnostic statement with their context; a cue carries over the clauses it governs
    ("history of MI and CVA": both historical) until a clause states its own."""
    protected = _KEEP_AND.sub(lambda m: m.group(0).replace(" and ", " & "), statement)
    # A lexicon phrase with "and" in it ("heart and kidney disease") names one condition.
    joined = _lexicon_and()
    if joined is not None:
        protected = joined.sub(lambda m: m.group(0).replace(" and ", " & "), protected)
    protected = _THOUSANDS.sub("", protected)  # "1,600 grams" is one number, not two clauses
    # A status or history cue in mid-clause starts a new clause ("CAD s/p CABG" = CAD; status post CABG).
    protected = _MID_CUE.sub(lambda m: ", " + m.group(1), protected)
    clauses: list[Clause] = []
    position = 0
    carried: tuple[str, str | None] | None = None
    stop = lexicon().stopwords
    joiner = ""
    leading: tuple[str, ...] = ()
    for piece in _SPLIT.split(protected):
        if piece is None or not piece.strip():
            continue
        if piece.strip().lower() in _SEPARATORS or re.fullmatch(_IN_PATIENT_WITH, piece.strip(), re.IGNORECASE):
            joiner = piece.strip().lower() if piece.strip().lower() in _SEPARATORS else "with"
            if joiner == ";":
                carried = None  # a semicolon ends a cue's scope (ConText termination)
            continue
        start = statement.find(piece.replace(" & ", " and ").strip(), position)
        start = max(start, position)
        end = start + len(piece.strip())
        position = end
        expanded = expand(piece.replace(" & ", " and "))
        context, cue, rest = _context(expanded)
        # A concluding cue ("..., ruled out") looks back: it governs no clause after it.
        concluding = context == "negated" and _negated_after().search(expanded.lower().strip()) is not None
        if context == "present" and carried is not None and carried[0] in ("history", "family", "negated",
                                                                              "uncertain"):
            context, cue = carried
        elif context != "present":
            carried = None if concluding else (context, cue)
        else:
            carried = None
        # A second cue inside ("rule out" after "history of") is rare; one level is enough here.
        words = tuple(w for w in tokens(_GLOSS.sub(r" \1 ", rest)) if w not in stop)
        if not words and concluding and clauses:
            # "pulmonary embolism, ruled out": the cue alone concludes the clause before it.
            clauses[-1] = replace(clauses[-1], text=f"{clauses[-1].text}, {cue}", end=end, context="negated", cue=cue)
            continue
        if not words:
            continue
        if not clauses and set(words) <= _MODIFIER_ONLY:
            # "Subsequent encounter, routine healing of ...": a leading modifier belongs to the next clause.
            leading = (*leading, *words)
            continue
        words, leading = (*leading, *words), ()
        if clauses and set(words) <= _MODIFIER_ONLY:
            # "..., initial encounter" / "..., left": a modifier of the clause before, not a condition.
            prev = clauses[-1]
            clauses[-1] = Clause(text=f"{prev.text}, {rest}", start=prev.start, end=end,
                                 words=prev.words + words, context=prev.context, cue=prev.cue, joiner=prev.joiner)
            continue
        clauses.append(Clause(text=rest, start=start, end=end, words=words, context=context, cue=cue,
                              joiner=joiner))
    return clauses
