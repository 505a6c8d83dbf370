"""Rule sets ``ncci-ptp``, ``ncci-mue`` and ``ncci-aoc``: the Medicare NCCI edits a claim meets before payment.

Why per date of service: CMS applies all three to the services one provider bills for one patient on one
day. A PTP edit denies the column 2 code when both codes of a pair are billed that day (a modifier may
bypass it only when the edit's indicator is 1 and the services were distinct); an MUE caps the units of a
code on a line (adjudication indicator 1) or on the whole day (2 and 3); an add-on code is paid only with
one of its primary codes the same day.

Which release: the claim's date of service picks each table's release (``Codesets.for_date``). When no
release covers a line's date (the PTP table here is the stale 2024-07-01 one) the finding says so in
``release`` and ``details``, because a pair added or deleted since cannot be seen.

Malformed input is a finding, never an exception: unknown codes simply match no edit, and units that are not
a positive whole number are reported (``ncci-mue.invalid-units``) and left out of the MUE count.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from operator import itemgetter
from typing import Any, NamedTuple

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.ncci_mue import ADJUDICATION, MueLimit, MueSetting
from medcoder.codesets.ncci_ptp import PtpEdit, PtpSetting
from medcoder.edits.editing import Shared
from medcoder.errors import MedcoderError
from medcoder.model.claim import Claim, ServiceLine
from medcoder.model.findings import SEVERITIES, EditFinding, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class NcciRules:
    """``data/ncci.json``, validated: bypass modifiers and the closed vocabulary of rule ids."""

    ptp_modifiers: frozenset[str]
    mue_split_modifiers: tuple[str, ...]
    severities: dict[str, Severity]


@cache
def rules() -> NcciRules:
    raw = json.loads(resources.files("medcoder.edits").joinpath("data/ncci.json").read_text("utf-8"))
    modifiers = [m for group in raw["ptp_modifiers"].values() for m in group]
    bad = [m for m in [*modifiers, *raw["mue_split_modifiers"]] if not re.fullmatch(r"[0-9A-Z]{2}", m)]
    if bad:
        raise ValueError(f"ncci.json: {bad} are not two-character modifiers")
    severities: dict[str, Severity] = {}
    for rule_id, rule in raw["rules"].items():
        severity = rule["severity"]
        if severity not in SEVERITIES or not rule_id.startswith(("ncci-ptp.", "ncci-mue.", "ncci-aoc.")):
            raise ValueError(f"ncci.json: rule {rule_id!r} has severity {severity!r} or a foreign prefix")
        severities[rule_id] = severity
    return NcciRules(ptp_modifiers=frozenset(modifiers), mue_split_modifiers=tuple(raw["mue_split_modifiers"]),
                     severities=severities)


def _finding(rule: str, message: str, **fields: Any) -> EditFinding:
    return EditFinding(rule_set=rule.split(".", 1)[0], rule=rule, severity=rules().severities[rule],
                       message=message, **fields)


_CODE_OF = itemgetter(1)
"""The code of a (line, code) pair of ``_Lines``."""


def _modifiers(line: ServiceLine) -> set[str]:
    return {str(m).strip().upper() for m in line.modifiers}


class _Lines(NamedTuple):
    """A claim's service lines as the three NCCI rule sets read them, worked out once per claim: ``check_claim``
    runs ``ncci-ptp``, ``ncci-mue`` and ``ncci-aoc`` one after the other on the same (immutable) claim. A
    ``NamedTuple``, immutable like a frozen dataclass and cheaper to build (one per claim)."""

    coded: tuple[tuple[ServiceLine, str], ...]
    """Each line with its code (stripped and upper-cased), in claim order."""
    by_date: dict[date, list[tuple[ServiceLine, str]]]
    """The same pairs per date of service, dates in order, lines in claim order."""
    in_number_order: bool
    """Whether the claim lists its lines by number (nearly every claim): then claim order is number order, and
    the MUE and AOC rule sets need not sort them."""


_LINES: Shared[Claim, _Lines] = Shared("ncci_lines")


def _lines_of(claim: Claim) -> _Lines:
    """The claim's ``_Lines``, worked out once while ``check_claims`` edits it (the PTP, MUE and AOC rule sets
    read them a chunk of claims apart)."""
    return _LINES.get(claim, _read_lines)


def _read_lines(claim: Claim) -> _Lines:
    coded = tuple([(line, str(line.code).strip().upper()) for line in claim.lines])  # no call per line
    days: dict[date, list[tuple[ServiceLine, str]]] = defaultdict(list)
    in_order, previous = True, None
    for pair in coded:
        days[pair[0].service_date].append(pair)
        if previous is not None and pair[0].number < previous:
            in_order = False
        previous = pair[0].number
    return _Lines(coded=coded, by_date=dict(sorted(days.items())), in_number_order=in_order)


def _number(pair: tuple[ServiceLine, str]) -> int:
    """Sort key of a (line, code) pair: the line's number."""
    return pair[0].number


def _release(codesets: Codesets, kind: str, day: date) -> tuple[str, dict[str, Any]]:
    """``"ncci-ptp 2024-Q3"``, marked when the release does not cover the date of service."""
    release = codesets.release(kind)
    label = f"{kind} {release.id}"
    if release.covers(day):
        return label, {}
    window = f"{release.effective_from.isoformat()}..{release.effective_to.isoformat()}"
    return f"{label} (stand-in: not in force on {day.isoformat()})", {
        "release_in_force": False, "release_window": window, "release_lacks": list(release.lacks),
        "release_note": f"{label} covers {window}, not the date of service {day.isoformat()}; the release in "
                        f"force is not built, so its additions and deletions are not reflected"}


def _not_checked(rule: str, kind: str, error: MedcoderError) -> list[EditFinding]:
    return [_finding(rule, f"{kind} edits were not checked: {error.message}", fix=error.fix,
                     details={"error": error.to_dict()})]


# -- PTP -----------------------------------------------------------------------------------------------------

def ptp_setting(claim: Claim) -> PtpSetting | None:
    """Practitioner table for professional claims, hospital outpatient table for institutional outpatient
    claims; NCCI does not edit inpatient claims."""
    if claim.kind == "professional":
        return "practitioner"
    return "outpatient" if claim.setting == "outpatient" else None


def check_ptp(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Every column 1 / column 2 pair billed on the same date that a PTP edit in force forbids."""
    setting = ptp_setting(claim)
    if setting is None or not claim.lines:
        return []
    try:
        table = codesets.ncci_ptp
        days = []  # a loop over the dates, and the codes mapped in C: no comprehension built per claim
        for day, lines in _lines_of(claim).by_date.items():
            days.append((day, lines, table.pairs(map(_CODE_OF, lines), setting=setting, on=day)))
    except MedcoderError as e:
        return _not_checked("ncci-ptp.not-checked", "NCCI PTP", e)
    findings: list[EditFinding] = []
    for day, lines, edits in days:
        if not edits:
            continue  # most dates: no pair, and no release label to write
        release, notes = _release(codesets, "ncci-ptp", day)
        for edit in edits:
            if edit.modifier_indicator == 9:
                continue  # indicator 9: the edit was deleted retroactively and never applies
            firsts = [x for x, code in lines if code == edit.column_1]
            for second in (x for x, code in lines if code == edit.column_2):
                others = [x for x in firsts if x.number != second.number]
                if others:
                    findings.append(_ptp_finding(edit, others, second, setting, day, release, notes))
    return findings


def _ptp_finding(edit: PtpEdit, firsts: list[ServiceLine], second: ServiceLine, setting: PtpSetting, day: date,
                 release: str, notes: dict[str, Any]) -> EditFinding:
    first_numbers = ", ".join(str(x.number) for x in firsts)
    pair = f"{edit.column_2} (line {second.number}) with {edit.column_1} (line {first_numbers})"
    details: dict[str, Any] = {
        "column_1": edit.column_1, "column_2": edit.column_2, "modifier_indicator": edit.modifier_indicator,
        "rationale": edit.rationale, "setting": setting, "date_of_service": day.isoformat(),
        "deletion_date": edit.deletion_date.isoformat() if edit.deletion_date else None, **notes}
    fields: dict[str, Any] = {"codes": (edit.column_1, edit.column_2),
                              "lines": tuple(sorted({*(x.number for x in firsts), second.number})),
                              "release": release, "details": details}
    if edit.modifier_indicator == 0:
        return _finding(
            "ncci-ptp.modifier-0",
            f"NCCI PTP edit: {pair} on {day.isoformat()}: the column 2 code is not payable with the column 1 "
            f"code and no modifier bypasses this edit (modifier indicator 0). Rationale: {edit.rationale}",
            fix=f"Remove {edit.column_2} (its payment is included in {edit.column_1}), or correct the coding; "
                f"a modifier does not make it payable", **fields)
    used = sorted((_modifiers(second) | {m for x in firsts for m in _modifiers(x)}) & rules().ptp_modifiers)
    if used:
        details["bypass_modifiers"] = used
        return _finding(
            "ncci-ptp.bypassed",
            f"NCCI PTP edit {pair} on {day.isoformat()} is bypassed by modifier {', '.join(used)} (modifier "
            f"indicator 1). Rationale: {edit.rationale}",
            fix="Keep the modifier only if the documentation shows distinct services (different session, "
                "site, organ system, incision or encounter)", **fields)
    return _finding(
        "ncci-ptp.modifier-1",
        f"NCCI PTP edit: {pair} on {day.isoformat()}: the column 2 code is denied unless an NCCI-associated "
        f"modifier shows the services were distinct (modifier indicator 1). Rationale: {edit.rationale}",
        fix=f"Append 59/X{{EPSU}} (or an anatomic modifier) to {edit.column_2} if the services were distinct, "
            f"as documented; otherwise remove {edit.column_2}", **fields)


# -- MUE -----------------------------------------------------------------------------------------------------

_FEW_UNITS = {Decimal(n): n for n in range(1, 100)}
"""The units most lines bill, answered by one look-up (equal Decimals hash alike: ``Decimal("2.0")`` finds 2)."""


def _units(line: ServiceLine) -> int | None:
    """Whole positive units, else ``None`` (zero, negative, fractional, NaN or not a number)."""
    if type(line.units) is Decimal and not line.units.is_snan():  # a signalling NaN cannot be hashed
        few = _FEW_UNITS.get(line.units)
        if few is not None:
            return few
    try:
        units = line.units if isinstance(line.units, Decimal) else Decimal(str(line.units))
        if not units.is_finite() or units <= 0 or units != units.to_integral_value():
            return None
    except (InvalidOperation, ValueError, TypeError):
        return None
    return int(units)


def check_mue(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Units over the code's MUE, per line (MAI 1) or per date of service (MAI 2, 3); malformed units."""
    if not claim.lines or (claim.kind == "institutional" and claim.setting == "inpatient"):
        return []
    findings: list[EditFinding] = []
    valid: list[tuple[ServiceLine, str, int]] = []
    lines = _lines_of(claim)
    for line, code in lines.coded if lines.in_number_order else sorted(lines.coded, key=_number):
        units = _units(line)
        if units is None:
            findings.append(_finding(
                "ncci-mue.invalid-units",
                f"Line {line.number} ({code}) reports {line.units} units: units of service must be a "
                f"positive whole number", codes=(code,), lines=(line.number,),
                fix="Report the whole number of units of service performed (at least 1)",
                details={"units": str(line.units)}))
        else:
            valid.append((line, code, units))
    setting: MueSetting = "practitioner" if claim.kind == "professional" else "outpatient"
    try:
        table = codesets.ncci_mue
        available = table.settings()
        if setting not in available:
            release = codesets.release("ncci-mue")
            return [*findings, _finding(
                "ncci-mue.not-checked",
                f"MUEs were not checked: ncci-mue {release.id} holds the {', '.join(available)} table only, not "
                f"the {setting} one", release=f"ncci-mue {release.id}",
                details={"setting": setting, "release_lacks": list(release.lacks)})]
        limits: dict[str, MueLimit | None] = {}
        for _, code, _ in valid:
            if code not in limits:
                limits[code] = table.mue(code, setting=setting)
    except MedcoderError as e:
        return [*findings, *_not_checked("ncci-mue.not-checked", "NCCI MUE", e)]
    per_day: dict[tuple[date, str], list[tuple[ServiceLine, int]]] = defaultdict(list)
    for line, code, units in valid:
        limit = limits[code]
        if limit is None:
            continue  # no MUE for the code (or an unknown code): nothing to cap
        if limit.per_day:
            per_day[(line.service_date, limit.code)].append((line, units))
        elif units > limit.value:
            findings.append(_mue_finding(limit, [(line, units)], line.service_date, codesets))
    for (day, code), group in sorted(per_day.items()):
        limit = limits[code]
        total = 0
        for _, units in group:  # a loop, not a generator built per code and date
            total += units
        if limit is not None and total > limit.value:
            findings.append(_mue_finding(limit, group, day, codesets))
    return findings


def _mue_finding(limit: MueLimit, group: list[tuple[ServiceLine, int]], day: date,
                 codesets: Codesets) -> EditFinding:
    total = sum(u for _, u in group)
    release, notes = _release(codesets, "ncci-mue", day)
    meaning = ADJUDICATION[limit.adjudication_indicator]
    details: dict[str, Any] = {"mue": limit.value, "units": total,
                               "adjudication_indicator": limit.adjudication_indicator,
                               "adjudication": limit.adjudication, "rationale": limit.rationale,
                               "date_of_service": day.isoformat(), **notes}
    fields: dict[str, Any] = {"codes": (limit.code,), "lines": tuple(x.number for x, _ in group),
                              "release": release, "details": details}
    if not limit.per_day:
        line = group[0][0]
        split = ", ".join(rules().mue_split_modifiers)
        return _finding(
            "ncci-mue.line",
            f"Line {line.number}: {total} units of {limit.code} exceed its MUE of {limit.value} per line "
            f"(MAI 1, {meaning}). Rationale: {limit.rationale}",
            fix=f"If the services were clinically distinct (separate sites, sessions or encounters), report them "
                f"on separate lines with the modifiers that say so ({split}), each within {limit.value} units; "
                f"otherwise correct the units", **fields)
    lines = ", ".join(str(x.number) for x, _ in group)
    if limit.adjudication_indicator == 2:
        appeal = "a policy limit: units above it are denied and are not paid on appeal"
    else:
        appeal = "a clinical limit: units above it are denied; an appeal documenting medical necessity may be paid"
    return _finding(
        "ncci-mue.date-of-service",
        f"{total} units of {limit.code} on {day.isoformat()} (line {lines}) exceed its MUE of {limit.value} per "
        f"date of service (MAI {limit.adjudication_indicator}, {meaning}: {appeal}). Rationale: {limit.rationale}",
        fix=f"Report at most {limit.value} units of {limit.code} for the date, across all its lines",
        **fields)


# -- AOC -----------------------------------------------------------------------------------------------------

def check_aoc(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Add-on codes billed without one of their primary codes on the same date of service."""
    if not claim.lines or (claim.kind == "institutional" and claim.setting == "inpatient"):
        return []
    findings: list[EditFinding] = []
    try:
        table = codesets.ncci_aoc
        claim_lines = _lines_of(claim)
        for day, lines in claim_lines.by_date.items():
            labelled: tuple[str, dict[str, Any]] | None = None  # the release label, once the date needs it
            for line, code in lines if claim_lines.in_number_order else sorted(lines, key=_number):
                rule = table.rule_on(code, day)  # ``code`` is normalised (``_lines_of``)
                if rule is None:
                    continue
                release, notes = labelled = labelled or _release(codesets, "ncci-aoc", day)
                billed = {c: x.number for x, c in lines if x.number != line.number}
                present = sorted(set(rule.primaries) & set(billed))
                details: dict[str, Any] = {
                    "edit_type": rule.edit_type, "primaries": list(rule.primaries), "billed_primaries": present,
                    "contractor_defined": rule.contractor_defined, "notes": list(rule.notes),
                    "date_of_service": day.isoformat(), **notes}
                fields: dict[str, Any] = {"codes": (rule.addon,), "release": release, "details": details}
                if rule.edit_type == 2:
                    others = ", ".join(sorted(billed)) or "no other code"
                    findings.append(_finding(
                        "ncci-aoc.payer-defined-primary",
                        f"Line {line.number}: add-on code {rule.addon} has no CMS list of primary codes (AOC edit "
                        f"type 2); the payer decides which primary codes it goes with. Billed the same date: "
                        f"{others}", lines=(line.number,),
                        fix="Check the payer's (MAC's) primary codes for this add-on code", **fields))
                elif rule.primaries and not present:
                    findings.append(_aoc_missing(line, rule.addon, rule.edit_type, rule.primaries, day, fields))
    except MedcoderError as e:
        return [*findings, *_not_checked("ncci-aoc.not-checked", "NCCI AOC", e)]
    return findings


def _aoc_missing(line: ServiceLine, addon: str, edit_type: int, primaries: tuple[str, ...], day: date,
                 fields: dict[str, Any]) -> EditFinding:
    shown = ", ".join(primaries[:12]) + (f" and {len(primaries) - 12} more" if len(primaries) > 12 else "")
    also = (" The payer (MAC) may accept other primary codes for this type 3 edit." if edit_type == 3 else "")
    return _finding(
        "ncci-aoc.missing-primary",
        f"Line {line.number}: add-on code {addon} is billed on {day.isoformat()} without any of its primary "
        f"codes ({shown}; AOC edit type {edit_type}).{also}",
        lines=(line.number,),
        fix=f"Bill {addon} with the primary procedure it adds to (one of {shown}) on the same date, or remove it",
        **fields)
