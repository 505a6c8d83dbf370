"""What the claim editors report: one finding per broken rule, naming the rule, codes, release and fix.

Why one shape for every rule set: a billing manager sorts and filters findings from validity, MCE, NCCI,
MUE and completeness checks in one work queue, and an auditor must see which release of which rule fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

Severity = Literal["error", "warning", "info"]
"""``error``: the payer rejects or denies the line/claim as billed; ``warning``: likely denial or lost
revenue unless documentation supports it (e.g. a modifier-allowed NCCI pair); ``info``: advice."""
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
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

    def __init__(self, *, rule_set: str, rule: str, severity: Severity, message: str, codes: tuple[str, ...] = (),
                 lines: tuple[int, ...] = (), release: str | None = None, fix: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        """The fields as the dataclass declares them (``details`` None: a new empty dict).

        Why not the dataclass's own ``__init__``: a frozen dataclass sets each field through
        ``object.__setattr__``, which made a finding cost ~18,000 instructions to build, more than most rules
        spend deciding it (claims carry four findings on average). The new finding is filled as a ``_Thawed``
        (the same slots, no frozen ``__setattr__``) and given its class back: ~8,000 instructions, and once built
        it is the same frozen object (equality, hash, ``dataclasses.replace``, FrozenInstanceError)."""
        object.__setattr__(self, "__class__", _Thawed)
        thawed = cast(Any, self)
        thawed.rule_set, thawed.rule, thawed.severity, thawed.message = rule_set, rule, severity, message
        thawed.codes, thawed.lines, thawed.release, thawed.fix = codes, lines, release, fix
        thawed.details = {} if details is None else details
        thawed.__class__ = EditFinding

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


class _Thawed:
    """``EditFinding``'s slots (so the same memory layout, and ``__class__`` can be assigned between the two)
    without the frozen ``__setattr__``: only ``EditFinding.__init__`` holds one, while it fills it."""

    __slots__ = EditFinding.__slots__
