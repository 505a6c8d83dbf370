"""What reading a note produces: its sections, its sentences, and the assertion context of any span.

Why plain frozen data: the coding pipeline stores and shows why a mention was (not) coded — "negated by
rule ``neg.denies`` at 120-126", "historical: in the Past Medical History section" — so the context carries
the rules and the text spans that set it, and every offset points into the note exactly as received.
Section names and assertion categories are closed vocabularies: a rule file naming anything else is refused
when it is loaded (``medcoder.nlp``), and the pipeline can switch on them exhaustively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from medcoder.model.frozen import quick_init

SectionName = Literal[
    "chief_complaint", "hpi", "past_medical_history", "past_surgical_history", "family_history",
    "social_history", "medications", "allergies", "review_of_systems", "physical_exam", "results",
    "assessment", "plan", "assessment_and_plan", "procedure", "hospital_course", "discharge_diagnoses",
    "admission_diagnoses", "impression", "other",
]
SECTION_NAMES: tuple[str, ...] = (
    "chief_complaint", "hpi", "past_medical_history", "past_surgical_history", "family_history",
    "social_history", "medications", "allergies", "review_of_systems", "physical_exam", "results",
    "assessment", "plan", "assessment_and_plan", "procedure", "hospital_course", "discharge_diagnoses",
    "admission_diagnoses", "impression", "other",
)
"""``results`` holds labs, imaging and pathology; ``procedure`` operative and procedure notes; ``other`` the
text before the first header and any section whose header is known but of none of these kinds."""

SectionRole = Literal["conclusion", "narrative", "history", "family", "listing", "review", "plan"]
SECTION_ROLES: tuple[str, ...] = ("conclusion", "narrative", "history", "family", "listing", "review", "plan")
"""What a section's mentions are, for coding: ``conclusion`` the provider's diagnoses (assessment,
impression, diagnoses lists); ``narrative`` findings and events told in prose (HPI, exam, results, course);
``history`` the patient's past; ``family`` relatives' conditions; ``listing`` drugs or substances named, not
conditions (medications, allergies); ``review`` symptoms asked system by system (ROS), mostly answered
"no"; ``plan`` what will be done, often conditional ("return if ...")."""

Category = Literal["negated", "uncertain", "historical", "family", "hypothetical"]
CATEGORIES: tuple[str, ...] = ("negated", "uncertain", "historical", "family", "hypothetical")
"""``negated``: stated absent (ConText "negated existence"); ``uncertain``: possible, probable, suspected,
to be ruled out (ICD-10-CM Guidelines II.H and IV.H treat these differently in- and outpatient);
``historical``: in the past (history of, prior, status post); ``family``: experienced by someone else, mostly
a relative; ``hypothetical``: conditional or future (if, return if, risk of, as needed)."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A section of a note: the header that names it and the body it governs (character offsets).

    ``title_start``/``title_end`` span the header text (``"PAST MEDICAL HISTORY:"``); ``start``/``end`` the
    body, from after the header to the next section. The text before the first header is an ``other``
    section whose title is empty (``title_start == title_end == start``). When an inline header covers only
    its own line ("Family history: uncle with ALS." inside a narrative) the text after it resumes the
    enclosing section; that resumed part points at the enclosing section's header again.
    """

    name: SectionName
    title_start: int
    title_end: int
    start: int
    end: int
    rule_id: str | None = None
    """Id of the header rule that matched (``rules/sections.json``); None for text before any header."""

    def contains(self, offset: int) -> bool:
        return self.start <= offset < self.end


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence:
    """A sentence or list item: character offsets into the note, and the canonical name of its section."""

    start: int
    end: int
    section: SectionName = "other"


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ContextModifier:
    """A cue that set an assertion category, and where: a phrase of the sentence ("denies") or, for a
    category a section implies, the section's header."""

    category: Category
    rule_id: str
    start: int
    end: int


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TargetContext:
    """The assertion context of one span (a mention): the five categories, and the rules and cues that set
    them. A span none of them applies to is a current condition of the patient (``present``)."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    rules: tuple[str, ...] = ()
    """Ids of the rules that set a category, in text order, without repeats."""
    modifiers: tuple[ContextModifier, ...] = ()
    section: SectionName | None = None
    """Canonical name of the section the span is in, when read from a whole note."""

    @property
    def present(self) -> bool:
        """Affirmed, current, about the patient: what a coder codes without a second look."""
        return not (self.negated or self.uncertain or self.historical or self.family or self.hypothetical)

    @property
    def categories(self) -> tuple[Category, ...]:
        flags: tuple[tuple[Category, bool], ...] = (
            ("negated", self.negated), ("uncertain", self.uncertain), ("historical", self.historical),
            ("family", self.family), ("hypothetical", self.hypothetical))
        return tuple(name for name, on in flags if on)

    @property
    def label(self) -> str:
        """``"present"`` or the categories joined by commas (the ``Evidence.context`` string)."""
        return ",".join(self.categories) or "present"


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SectionContext:
    """What a section says about every mention in it, whatever the sentence says."""

    name: SectionName
    role: SectionRole
    implies: tuple[Category, ...] = ()
    """Categories every mention of the section takes: family history -> family; past medical and surgical
    history -> historical."""
    rule_id: str = ""
    why: str = ""

    @property
    def diagnostic(self) -> bool:
        """Whether mentions here can be the patient's conditions at all (not drugs, allergens, ROS answers)."""
        return self.role not in ("listing", "review")
