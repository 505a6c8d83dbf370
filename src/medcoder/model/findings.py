"""What the claim editors report: one finding per broken rule, naming the rule, codes, release and fix.

Why one shape for every rule set: a billing manager sorts and filters findings from validity, MCE, NCCI,
MUE and completeness checks in one work queue, and an auditor must see which release of which rule fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from medcoder.model.frozen import quick_init

Severity = Literal["error", "warning", "info"]
"""``error``: the payer rejects or denies the line/claim as billed; ``warning``: likely denial or lost
revenue unless documentation supports it (e.g. a modifier-allowed NCCI pair); ``info``: advice."""
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class EditFinding:
    rule_set: str
    """Which rule set fired: ``validity``, ``tabular``, ``mce``, ``ncci-ptp``, ``ncci-mue``, ``ncci-aoc``,
    ``completeness``."""
    rule: str
    """Stable rule id within the set, e.g. ``mce.sex-conflict``, ``ncci-ptp.modifier-0``."""
    severity: Severity
    message: str
    codes: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()
    """Service-line numbers concerned (empty for claim-level findings)."""
    release: str | None = None
    """The rule set's release that fired, e.g. ``ncci-ptp 2024-Q3`` (re-derivable later)."""
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule_set": self.rule_set, "rule": self.rule, "severity": self.severity,
                               "message": self.message, "codes": list(self.codes), "lines": list(self.lines)}
        if self.release:
            out["release"] = self.release
        if self.fix:
            out["fix"] = self.fix
        if self.details:
            out["details"] = self.details
        return out

