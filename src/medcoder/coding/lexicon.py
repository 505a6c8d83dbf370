"""The encoder's wording data (abbreviations, synonyms, context cues), loaded once and validated.

Why data, not code: clinical wording grows with every note a coder reads; adding "HFmrEF" must be a data
change reviewed by a coder, each entry citing nothing but general usage, never a particular test note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from medcoder.errors import MedcoderError

_REQUIRED = ("abbreviations", "synonyms", "context_cues", "laterality", "episode", "stopwords", "connectors",
             "drug_intent", "neoplasm_behavior", "external_cause_triggers", "neoplasm_words", "status_words",
             "title_words", "query_dimensions")


@dataclass(frozen=True, slots=True)
class Lexicon:
    abbreviations: dict[str, str]
    synonyms: dict[str, str]
    context_cues: dict[str, tuple[str, ...]]
    laterality: dict[str, str]
    episode: dict[str, str]
    stopwords: frozenset[str]
    connectors: dict[str, tuple[str, ...]]
    drug_intent: dict[str, tuple[str, ...]]
    neoplasm_behavior: dict[str, tuple[str, ...]]
    external_cause_triggers: tuple[str, ...]
    neoplasm_words: frozenset[str]
    """Words that send a clause to the Table of Neoplasms when the Index entry does not finish it. "Mass" and
    "lesion" are not among them: the Index codes them by site (Mass > kidney N28.89, Lesion > liver K76.9) and sends
    to the Table only where it says so ("see also Neoplasm")."""
    status_words: dict[str, tuple[str, ...]]
    title_words: dict[str, frozenset[str]]
    query_dimensions: dict[str, frozenset[str]]
    replace_pattern: re.Pattern[str]
    replacements: dict[str, str]
    encounter_prefixes: tuple[str, ...] = ()
    """Categories that state the reason for an encounter (Z00-Z13): reported from prose only with a cue."""
    encounter_cues: tuple[str, ...] = ()
    procedure_phrases: tuple[str, ...] = ()
    """How a procedure was done ("under general anesthesia"): masked before coding."""
    shared_qualifier_nouns: tuple[str, ...] = ()
    """Structure nouns that share a qualifier across "or" ("acromioclavicular joint or ligament")."""
    implicit_subterms: tuple[str, ...] = ()
    """Index grouping subterms a statement need not say ("joint" in Pain > joint > knee)."""
    case_sensitive: frozenset[str] = frozenset()
    """Abbreviations expanded only when written in capitals ("MS" yes, "Ms. Jones" no)."""
    patient_words: frozenset[str] = frozenset()
    """Words naming who the patient is ("in a newborn"): not a condition of their own."""
    first_prefixes: tuple[str, ...] = ()
    """Codes sequenced before the others, in this order (chapter 15 I.C.15.a.1, U07.1 I.C.1.g.1.b)."""
    confirmed_only: frozenset[str] = frozenset()
    """Codes never reported for an uncertain diagnosis, even inpatient (U07.1, I.C.1.g.1.a)."""
    lasting_conditions: tuple[str, ...] = ()
    """Conditions that do not cease to exist ("history of hypertension" is hypertension)."""
    organism_classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Infectious agent word -> the Index words of its class ("covid" -> "viral")."""
    drug_classes: dict[str, str] = field(default_factory=dict)
    """Drug name -> the class words "use additional code" notes name ("metformin" -> "oral antidiabetic drug")."""
    drug_cause_words: frozenset[str] = frozenset()
    """Title words that name a drug therapy as a condition's cause ("due to antineoplastic chemotherapy")."""
    eradicated_cues: tuple[str, ...] = ()
    """Phrases saying no malignancy remains ("no residual disease"): an excised primary is history (I.C.2.d)."""
    excision_words: frozenset[str] = frozenset()
    """Words saying a neoplasm was excised ("resected")."""
    encounter_terms: frozenset[str] = frozenset()
    """Index main terms for a service the encounter is for, indexed with its condition ("chemotherapy")."""
    focus_cues: frozenset[str] = frozenset()
    """Words saying the encounter is for a condition ("admitted to treat the anemia")."""
    site_words: dict[str, frozenset[str]] = field(default_factory=dict)
    """Anatomical part -> the words of the region Tabular titles group it in ("colon" -> "large intestine")."""
    condition_classes: dict[str, str] = field(default_factory=dict)
    """Condition -> the class the Index names in a "with" subterm ("pneumonia" -> "lower respiratory infection")."""
    site_disorder_words: frozenset[str] = frozenset()
    """Condition words the Index lists for some sites only ("dysfunction"): elsewhere a specified disorder."""
    site_disorder_terms: tuple[str, ...] = ()
    """The main terms naming any disorder of a site, tried in order ("disorder", "disease")."""
    pregnancy_words: frozenset[str] = frozenset()
    """Words documenting a pregnancy: a bare "10 weeks" beside them is the week of gestation (Z3A)."""
    observation_cues: frozenset[str] = frozenset()
    """Words saying a patient was observed for a suspected condition ("observed", "evaluated")."""
    observation_classes: tuple[tuple[str, str, str], ...] = ()
    """(first, last category, kind of condition): the kind the Z05 subcategories name ("infectious" for A00-B99),
    most specific range first."""

    def observation_class(self, code: str) -> str | None:
        """The kind of condition ``code`` is, as the observation codes name it ("infectious" for A41.9)."""
        category = code[:3]
        return next((kind for first, last, kind in self.observation_classes if first <= category <= last), None)


def _entries(raw: dict[str, object]) -> dict[str, str]:
    return {k.lower(): str(v) for k, v in raw.items() if not k.startswith("$")}


def _words(raw: dict[str, object], section: str) -> frozenset[str]:
    """The lower-case words of a section's ``terms`` list."""
    entry = raw.get(section, {})
    terms = entry.get("terms", ()) if isinstance(entry, dict) else ()
    return frozenset(w for term in terms for w in str(term).lower().split())


def alternation(keys: Sequence[str]) -> str:
    """A regex alternation of the literal ``keys`` (lowercase, in the order they are to be tried) grouped by first
    character, same order within a group: the engine then tries only the keys that can start at a position instead
    of all of them (5x faster on the lexicon's 300 keys), with the same matches."""
    by_first: dict[str, list[str]] = {}
    for key in keys:
        by_first.setdefault(key[:1], []).append(key[1:])
    return "|".join(re.escape(first) + "(?:" + "|".join(re.escape(rest) for rest in rests) + ")"
                    for first, rests in by_first.items())


@cache
def lexicon() -> Lexicon:
    text = resources.files("medcoder.coding").joinpath("data/lexicon.json").read_text("utf-8")
    raw = json.loads(text)
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise MedcoderError(f"lexicon.json lacks {missing}", code="E701", where="coding/data/lexicon.json",
                            fix="Restore the missing sections")
    abbreviations = _entries(raw["abbreviations"])
    synonyms = _entries(raw["synonyms"])
    replacements = {**synonyms, **abbreviations}
    # Longest keys first so "ckd 3a" wins over "ckd"; word boundaries that also allow "/" and "-" inside keys.
    keys = sorted(replacements, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w/-])(" + alternation(keys) + r")(?![\w/-])", re.IGNORECASE)
    return Lexicon(
        abbreviations=abbreviations, synonyms=synonyms,
        context_cues={k: tuple(v) for k, v in raw["context_cues"].items() if not k.startswith("$")},
        laterality=_entries(raw["laterality"]), episode=_entries(raw["episode"]),
        stopwords=frozenset(raw["stopwords"]),
        connectors={k: tuple(v) for k, v in raw["connectors"].items()},
        drug_intent={k: tuple(v) for k, v in raw["drug_intent"].items()},
        neoplasm_behavior={k: tuple(v) for k, v in raw["neoplasm_behavior"].items()},
        external_cause_triggers=tuple(raw["external_cause_triggers"]),
        neoplasm_words=frozenset(raw["neoplasm_words"]),
        status_words={k: tuple(v) for k, v in raw["status_words"].items()},
        title_words={k: frozenset(v) for k, v in raw["title_words"].items() if not k.startswith("$")},
        query_dimensions={k: frozenset(v) for k, v in raw["query_dimensions"].items() if not k.startswith("$")},
        replace_pattern=pattern, replacements=replacements,
        encounter_prefixes=tuple(raw.get("encounter_reasons", {}).get("code_prefixes", ())),
        encounter_cues=tuple(raw.get("encounter_reasons", {}).get("cues", ())),
        procedure_phrases=tuple(raw.get("procedure_phrases", {}).get("phrases", ())),
        shared_qualifier_nouns=tuple(raw.get("shared_qualifier_nouns", {}).get("terms", ())),
        implicit_subterms=tuple(raw.get("implicit_subterms", {}).get("terms", ())),
        case_sensitive=frozenset(k.lower() for k in raw.get("case_sensitive_abbreviations", {}).get("keys", ())),
        drug_classes=_entries(raw.get("drug_classes", {})),
        condition_classes=_entries(raw.get("condition_classes", {})),
        site_words={k: frozenset(v.split()) for k, v in _entries(raw.get("site_words", {})).items()},
        organism_classes={k.lower(): tuple(v) for k, v in raw.get("organism_classes", {}).items()
                          if not k.startswith("$")},
        patient_words=frozenset(raw.get("patient_words", {}).get("terms", ())),
        first_prefixes=tuple(raw.get("sequencing", {}).get("first_prefixes", ())),
        confirmed_only=frozenset(raw.get("sequencing", {}).get("confirmed_only", ())),
        lasting_conditions=tuple(raw.get("lasting_conditions", {}).get("terms", ())),
        drug_cause_words=_words(raw, "drug_cause_words"),
        eradicated_cues=tuple(raw.get("eradicated_neoplasm", {}).get("cues", ())),
        excision_words=frozenset(raw.get("eradicated_neoplasm", {}).get("excision_words", ())),
        encounter_terms=_words(raw, "encounter_terms"),
        focus_cues=_words(raw, "focus_cues"),
        site_disorder_words=frozenset(raw.get("site_disorders", {}).get("conditions", ())),
        site_disorder_terms=tuple(raw.get("site_disorders", {}).get("main_terms", ())),
        pregnancy_words=frozenset(raw.get("gestational_age", {}).get("pregnancy_words", ())),
        observation_cues=frozenset(raw.get("ruled_out_observation", {}).get("cues", ())),
        observation_classes=tuple((*span.split("-", 1), kind) for span, kind
                                  in raw.get("ruled_out_observation", {}).get("classes", {}).items()),
    )
