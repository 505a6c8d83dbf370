"""What the coding stages produce: suggested codes with their evidence and rationale, and physician queries.

Why plain frozen data: every suggestion is stored, diffed, shown to a coder and re-derivable; it must not
carry a database session or a spaCy object. The JSON shape is the batch contract (``shared/CONTRACTS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from medcoder.model.frozen import quick_init

System = Literal["ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT"]
Status = Literal["suggested", "accepted", "rejected", "modified", "added-by-coder"]
SYSTEMS: tuple[str, ...] = ("ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT")
STATUSES: tuple[str, ...] = ("suggested", "accepted", "rejected", "modified", "added-by-coder")


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """A span of the original text (character offsets into the document as received)."""

    start: int
    end: int
    text: str
    context: str | None = None
    """Assertion context of the mention (``negated``, ``uncertain``, ``historical``, ...), when known."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text}
        if self.context:
            out["context"] = self.context
        return out


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CodeSuggestion:
    system: System
    code: str
    title: str
    sequence: int
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    rationale: tuple[str, ...] = ()
    """Human-readable steps: index path, tabular notes applied, guideline section, release used."""
    status: Status = "suggested"

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "title": self.title, "sequence": self.sequence,
                "confidence": round(self.confidence, 3), "evidence": [e.to_dict() for e in self.evidence],
                "rationale": list(self.rationale)}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentationQuery:
    """A question to the physician when the documentation lacks what the code needs."""

    code: str
    """The default code used meanwhile."""
    missing: str
    """What is missing: ``laterality``, ``type``, ``stage``, ``acuity``, ``episode`` ..."""
    question: str
    options: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "missing": self.missing, "question": self.question,
                "options": list(self.options), "evidence": [e.to_dict() for e in self.evidence]}
