"""Rule set ``validity``: is every code on the claim a real, billable code on its date of service?

Why by date and by the MCE windows: a payer rejects a claim line whose code was not valid on the date of
service (inpatient: on the discharge date), and the fix depends on why. A header was never billable
("E11.2 is a subcategory: choose E11.21, E11.22, E11.29"), a code can lack its 7th character or its
placeholder X, a code can have been expanded in an October update (G35 -> G35.A ... in FY2026) or not yet
exist. The MCE tables give every ICD-10-CM/PCS code's validity windows from FY2016, whatever Tabular
release is built; the Tabular explains headers and 7th characters; the HCPCS release gives Level II add and
termination dates. CPT is AMA-licensed, so it is checked for format only unless the user loaded a CPT file.

Malformed input is a finding, never an exception: a claim with one mistyped code is still edited in full.
The small helpers at the top (dates, pointers, release labels) are shared by the other rule sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.cpt import CODE as CPT_CODE
from medcoder.codesets.hcpcs import normalize_modifier
from medcoder.codesets.icd10pcs_reader import normalize_code as normalize_pcs
from medcoder.codesets.mce import Mce, ValidityWindow, window_in
from medcoder.codesets.releases import ReleaseChoice
from medcoder.edits.editing import Shared
from medcoder.errors import CodeFormatError, NotFoundError
from medcoder.model.claim import Claim, Diagnosis
from medcoder.model.code import normalize_icd10cm
from medcoder.model.findings import EditFinding, Severity
from medcoder.model.memo import IdentityMemo, remember

RULE_SET = "validity"
MAX_MODIFIERS = 4
"""837P SV101-3..6 and 837I SV202-3..6 carry at most four procedure modifiers."""

SYNTAX_RELEASE = "X12 5010 837 formats"
"""Release recorded by format-only rules that need no code set (revenue codes)."""

_HCPCS = re.compile(r"[A-Z]\d{4}")
_REVENUE = re.compile(r"\d{4}")
# Messages list at most this many replacement codes, then say how many more there are.
_SHOWN = 12


# -- helpers shared by the rule sets --------------------------------------------------------------------------

def release_of(codesets: Codesets, *kinds: str) -> str | None:
    """``"mce v33-v44"``: the releases that answered, as recorded on every finding (re-derivable later)."""
    used = [f"{kind} {codesets.choices[kind].release.id}" for kind in kinds if kind in codesets.choices]
    return ", ".join(used) or None


def release_notes(codesets: Codesets, *kinds: str) -> dict[str, Any]:
    """Details saying which answering release was a stand-in (not in force on the date asked)."""
    notes = [c.note for k in kinds if (c := codesets.choices.get(k)) is not None and c.note]
    return {"release_note": "; ".join(notes)} if notes else {}


_Labels = tuple[str | None, dict[str, Any]]
_LABELS: IdentityMemo[ReleaseChoice, _Labels] = IdentityMemo(4096)


def release_label(codesets: Codesets, kind: str) -> _Labels:
    """(``release_of``, ``release_notes``) of one kind, memoised per release choice (kept with its answer, so an
    id cannot be reused while its entry exists): the Tabular and MCE rule sets label the findings of most claims,
    and a batch's claims share a few code-set objects. The notes are one shared dict: callers copy it into their
    findings' details, never change it."""
    choice = codesets.choices.get(kind)
    if choice is None:
        return None, {}
    # Keyed by the choice alone: a choice is the one of its release's kind (``codesets.choices[kind]``).
    return _LABELS.get(choice, lambda _: (release_of(codesets, kind), release_notes(codesets, kind)))


def edit_day(claim: Claim) -> date | None:
    """The date the code sets are chosen by: the discharge date for inpatient stays (MCE, UB-04), else the
    statement's last day, else the last date of service on the claim."""
    if claim.kind == "institutional" and claim.setting == "inpatient":
        day = claim.discharge_date or claim.statement_to
        if day is not None:
            return day
    if claim.statement_to is not None:
        return claim.statement_to
    dates = claim.service_dates
    return dates[-1] if dates else None


def dx_days(claim: Claim, index: int, view: DxView | None = None) -> list[date]:
    """Dates a diagnosis must be valid on: its lines' dates of service (professional/outpatient), else the
    claim's edit day (inpatient stays are coded by discharge date). ``view``: the claim's ``dx_view``, when the
    caller holds it (one look-up per claim, not one per diagnosis)."""
    if view is None:
        view = dx_view(claim)
    return list(view.dates[index])


def dx_code(code: str) -> str | None:
    """The dotted form of a diagnosis code, or None when it is malformed (the validity set reports it)."""
    try:
        return normalize_icd10cm(code)
    except CodeFormatError:
        return None


class DxView(NamedTuple):
    """A claim's diagnoses as the rule sets read them, computed once per claim: ``check_claim`` runs the
    validity, Tabular and MCE rule sets one after the other on the same (immutable) claim.

    A ``NamedTuple``, immutable like a frozen dataclass and built in a third of the instructions (the dataclass
    sets each field through ``object.__setattr__``): it is built for every claim."""

    coded: tuple[tuple[int, int, str], ...]
    """(position in ``claim.diagnoses``, sequence, dotted code) by sequence; malformed codes are left out."""
    lines: dict[int, tuple[int, ...]]
    """The service lines (numbers, in order) pointing at each diagnosis position (pointers are 1-based)."""
    days: dict[int, tuple[date, ...]]
    """The dates of service of those lines, in order."""
    day: date | None
    """``edit_day``."""
    dotted: tuple[str | None, ...]
    """Each diagnosis's dotted code by position in ``claim.diagnoses``; None when malformed."""
    dates: tuple[tuple[date, ...], ...]
    """``dx_days`` of each diagnosis, by position."""


_VIEWS: Shared[Claim, DxView] = Shared("dx_view")
_WINDOWS: Shared[DxView, DxWindows] = Shared("dx_windows")


def dx_view(claim: Claim) -> DxView:
    """The claim's ``DxView``, worked out once while ``check_claims`` edits it (``editing.Shared``)."""
    return _VIEWS.get(claim, _dx_view)


def _dx_view(claim: Claim) -> DxView:
    diagnoses = claim.diagnoses
    try:
        dotted: tuple[str | None, ...] = tuple([normalize_icd10cm(dx.code) for dx in diagnoses])
    except CodeFormatError:  # a malformed code (the validity rule set reports it): the others still count
        dotted = tuple([dx_code(dx.code) for dx in diagnoses])
    numbers: dict[int, list[int]] = {}
    days: dict[int, set[date]] = {}
    for line in claim.lines:
        number = line.number  # read once per line, not once per pointer
        for pointer in line.diagnosis_pointers:
            index = pointer - 1
            found = numbers.get(index)
            if found is None:
                numbers[index], days[index] = [number], {line.service_date}
            elif found[-1] != number:  # a pointer repeated on one line counts once
                found.append(number)
                days[index].add(line.service_date)
    lines: dict[int, tuple[int, ...]] = {}
    sorted_days: dict[int, tuple[date, ...]] = {}
    for i, found in numbers.items():  # one loop for both (each comprehension is a function built per claim)
        lines[i], sorted_days[i] = tuple(sorted(found)), tuple(sorted(days[i]))
    day = edit_day(claim)
    # Inpatient stays are coded by discharge date; other claims by their lines' dates, else the edit day.
    on_day: tuple[date, ...] = (day,) if day is not None else ()
    if claim.kind == "institutional" and claim.setting == "inpatient":
        dates = (on_day,) * len(dotted)
    else:
        dates = tuple([sorted_days.get(index) or on_day for index in range(len(dotted))])
    return DxView(coded=_in_sequence(diagnoses, dotted), lines=lines, days=sorted_days, day=day, dotted=dotted,
                  dates=dates)


def _in_sequence(diagnoses: tuple[Diagnosis, ...], dotted: tuple[str | None, ...]) -> tuple[tuple[int, int, str], ...]:
    """``DxView.coded``: (position, sequence, dotted code) of the well-formed diagnoses by sequence, then position.
    Sorted only when the claim does not list its diagnoses in sequence order (nearly every claim does)."""
    coded: list[tuple[int, int, str]] = []
    in_order = True
    for index, dx in enumerate(diagnoses):
        code = dotted[index]
        if code:
            if coded and dx.sequence < coded[-1][1]:
                in_order = False
            coded.append((index, dx.sequence, code))
    if not in_order:
        coded.sort(key=itemgetter(1, 0))
    return tuple(coded)


class DxWindows(NamedTuple):
    """A claim's diagnoses' MCE validity windows, by position in ``claim.diagnoses``."""

    every: tuple[tuple[ValidityWindow, ...], ...]
    """Each diagnosis's windows (``Mce.windows_of``); none for a malformed code."""
    on_day: tuple[ValidityWindow | None, ...]
    """Each diagnosis's window in force on ``DxView.day`` (``window_in``), None when there is none (or no day):
    the date the MCE rule set reads and, nearly always, the validity rule set's too."""


def dx_windows(view: DxView, mce: Mce) -> DxWindows:
    """The claim's ``DxWindows``: the validity and MCE rule sets ask about the same codes on the same day, so
    they are looked up once per claim and MCE reader while ``check_claims`` edits it (like ``dx_view``)."""
    return _WINDOWS.get(view, lambda v: _dx_windows(v, mce), mce)


def _dx_windows(view: DxView, mce: Mce) -> DxWindows:
    day = view.day
    every: list[tuple[ValidityWindow, ...]] = []
    on_day: list[ValidityWindow | None] = []
    for code in view.dotted:
        windows = mce.windows_of(code) if code is not None else ()
        every.append(windows)
        on_day.append(window_in(windows, day) if day is not None else None)
    return DxWindows(tuple(every), tuple(on_day))


def listing(codes: list[str], limit: int = _SHOWN) -> str:
    shown = ", ".join(codes[:limit])
    return shown if len(codes) <= limit else f"{shown} ... ({len(codes) - limit} more)"


def dotted(bare: str, system: str) -> str:
    return normalize_icd10cm(bare) if system == "cm" else bare


def valid_below(codesets: Codesets, bare: str, day: date, *, system: str = "cm") -> list[str]:
    """Codes valid on ``day`` that extend ``bare`` (its billable descendants), from the MCE tables.

    A prefix range scan on the MCE table's (system, code) index: the reader answers one code at a time, and
    asking it for each of 75,000 codes to find E11.2's children would be wasteful.
    """
    day_int = day.year * 10000 + day.month * 100 + day.day
    rows = codesets.connection("mce").execute(
        "SELECT DISTINCT code FROM validity WHERE system=? AND code>? AND code<? AND valid_from<=? "
        "AND valid_to>=? ORDER BY code", (system, bare, bare + "~", day_int, day_int))
    return [code for (code,) in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Problem:
    rule: str
    message: str
    fix: str | None = None
    severity: Severity = "error"
    details: dict[str, Any] | None = None


# -- the rule set ---------------------------------------------------------------------------------------------

def check_validity(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Every diagnosis, ICD-10-PCS procedure, CPT/HCPCS line code and modifier, checked on its date."""
    out: list[EditFinding] = []
    dx_release = ("mce", "icd10cm-tabular")
    view = dx_view(claim)
    if claim.diagnoses and view.day is None:
        out.append(_finding(codesets, dx_release, _Problem(
            rule="validity.no-date", severity="warning",
            message="the claim has no date of service, so code validity cannot be checked",
            fix="Give the service lines' dates, or the statement period / discharge date")))
    windows = dx_windows(view, codesets.mce) if "mce" in codesets.choices else None
    edit = view.day
    for index, dx in enumerate(claim.diagnoses):
        for day in view.dates[index]:
            # Valid that day (the common case, without _check_dx's look-ups; on the edit day, already known).
            if windows is not None and (windows.on_day[index] if day == edit
                                        else window_in(windows.every[index], day)) is not None:
                continue
            problem = _check_dx(codesets, dx.code, day)
            if problem is not None:
                out.append(_finding(codesets, dx_release, problem, codes=(dx.code,),
                                    lines=view.lines.get(index, ())))
                break
    admitting, discharged = claim.admitting_diagnosis, view.day
    if admitting is not None and discharged is not None:
        # The MCE checks the admitting diagnosis for validity too (edit 1), on the discharge date.
        problem = _check_dx(codesets, admitting, discharged)
        if problem is not None:
            problem = replace(problem, message=f"admitting diagnosis: {problem.message}")
            out.append(_finding(codesets, dx_release, problem, codes=(admitting,)))
    for proc in claim.procedures:
        # Inpatient stays are coded with the ICD-10-PCS release of the discharge date.
        proc_day = (view.day if claim.setting == "inpatient" else None) or proc.performed_on
        problem = _check_pcs(codesets, proc.code, proc_day)
        if problem is not None:
            out.append(_finding(codesets, ("mce", "icd10pcs"), problem, codes=(proc.code,)))
    institutional = claim.kind == "institutional"
    for line in claim.lines:
        if institutional and line.revenue_code and not line.code.strip():
            continue  # a revenue code alone (room and board, pharmacy ...) is a complete UB-04 line
        kind, problem = _check_line_code(codesets, line.code, line.service_date)
        if problem is not None:
            out.append(_finding(codesets, (kind,), problem, codes=(line.code,), lines=(line.number,)))
        if line.modifiers:  # most lines have none
            has_modifiers = "hcpcs" in codesets.choices and codesets.hcpcs.count(modifiers=True) > 0
            for problem in _check_modifiers(codesets, line.modifiers, line.service_date, has_modifiers):
                out.append(_finding(codesets, ("hcpcs",), problem, codes=(line.code, *line.modifiers),
                                    lines=(line.number,)))
        if line.revenue_code is not None and not _REVENUE.fullmatch(line.revenue_code.strip()):
            out.append(_finding(codesets, (), _Problem(
                rule="validity.revenue-code-format",
                message=f"revenue code {line.revenue_code!r} is not 4 digits",
                fix="Write the UB-04 revenue code with its leading zero, e.g. 0450"), lines=(line.number,)))
    return out


def _finding(codesets: Codesets, kinds: Iterable[str], problem: _Problem, *,
             codes: tuple[str, ...] = (), lines: tuple[int, ...] = ()) -> EditFinding:
    kinds = tuple(kinds)
    details = {**(problem.details or {}), **release_notes(codesets, *kinds)}
    release = release_of(codesets, *kinds) or (f"{'/'.join(kinds)} (not built)" if kinds else SYNTAX_RELEASE)
    return EditFinding(rule_set=RULE_SET, rule=problem.rule, severity=problem.severity, message=problem.message,
                       codes=codes, lines=lines, release=release,
                       fix=problem.fix, details=details)


# -- ICD-10-CM ------------------------------------------------------------------------------------------------

def _check_dx(codesets: Codesets, code: str, day: date) -> _Problem | None:
    try:
        norm = normalize_icd10cm(code)
    except CodeFormatError as e:
        return _Problem(rule="validity.dx-format", message=e.message, fix=e.fix)
    has_mce = "mce" in codesets.choices
    if has_mce and codesets.mce.window_on(norm, day) is not None:
        return None
    windows = codesets.mce.windows(norm) if has_mce else []
    tabular = codesets.tabular
    entry = tabular.get(norm)
    if entry is not None and entry.billable and not has_mce:
        return None  # no MCE table built: the Tabular's billable flag is all we can check
    if entry is not None and not entry.billable:
        return _not_billable(codesets, norm, day, was_valid_to=windows[-1].valid_to if windows else None)
    if windows:
        return _not_in_effect(codesets, norm, day, windows=[(w.valid_from, w.valid_to) for w in windows])
    if entry is not None:
        return _Problem(rule="validity.dx-not-in-effect",
                        message=f"{norm} is in the Tabular but not in the MCE validity tables for "
                                f"{day.isoformat()}", fix="Check the code against the code set of the date")
    try:
        tabular.require(norm)
    except NotFoundError as e:
        rule = {"E504": "validity.dx-seventh-invalid", "E505": "validity.dx-placeholder"}.get(
            e.code, "validity.dx-unknown")
        return _Problem(rule=rule, message=e.message, fix=e.fix)
    return None  # pragma: no cover - require() raised above for every code get() did not find


def _not_billable(codesets: Codesets, norm: str, day: date, *, was_valid_to: date | None) -> _Problem:
    """A header, or a code lacking its 7th character: name the codes to choose from on that date."""
    tabular = codesets.tabular
    entry = tabular.require(norm, billable=False)
    below = [dotted(c, "cm") for c in valid_below(codesets, entry.undotted, day)] \
        if "mce" in codesets.choices else [c.code for c in tabular.children(norm) if c.billable]
    history = f" (it was billable until {was_valid_to.isoformat()})" if was_valid_to else ""
    if entry.needs_seventh:
        chars = tabular.seventh_characters(norm)
        return _Problem(rule="validity.dx-seventh-missing",
                        message=f"{norm} requires a 7th character ({', '.join(chars)}){history}",
                        fix=f"Choose one of {listing(below)}" if below else "Add the 7th character",
                        details={"seventh_characters": chars})
    if len(below) > _SHOWN:
        below_text = f"a code under {listing([c.code for c in tabular.children(norm)])} ({len(below)} codes)"
    else:
        below_text = listing(below)
    return _Problem(rule="validity.dx-header",
                    message=f"{norm} is a {entry.level} ({entry.title}), not a billable code{history}",
                    fix=f"Choose {below_text}" if below else "Choose a more specific code",
                    details={"billable_codes": below[:100]})


def _not_in_effect(codesets: Codesets, norm: str, day: date, *, windows: list[tuple[date, date]]) -> _Problem:
    """Valid at other times: say when, and what replaced it (its subdivisions, or its siblings' new codes)."""
    nearest = min(windows, key=lambda w: min(abs((day - w[0]).days), abs((day - w[1]).days)))
    span = f"{nearest[0].isoformat()} to {nearest[1].isoformat()}"
    details: dict[str, Any] = {"windows": [[a.isoformat(), b.isoformat()] for a, b in windows]}
    if nearest[0] > day:
        return _Problem(rule="validity.dx-not-in-effect",
                        message=f"{norm} is valid from {nearest[0].isoformat()}, not yet on {day.isoformat()}",
                        fix="Use the code of the code set in force on the date of service", details=details)
    bare = norm.replace(".", "")
    replacements = valid_below(codesets, bare, day)
    if not replacements and len(bare) == 7:
        # S30.1XXA -> S30.11XA, S30.12XA ...: the placeholder became a real character.
        stem = bare[:6].rstrip("X")
        replacements = [c for c in valid_below(codesets, stem, day) if len(c) == 7 and c[6] == bare[6]]
    shown = [dotted(c, "cm") for c in replacements]
    details["replacements"] = shown[:100]
    fix = (f"It was expanded: choose one of {listing(shown)}" if shown
           else "Look the condition up again in the code set in force on the date of service")
    return _Problem(rule="validity.dx-not-in-effect",
                    message=f"{norm} was valid {span}, not on {day.isoformat()}", fix=fix, details=details)


# -- ICD-10-PCS -----------------------------------------------------------------------------------------------

def _check_pcs(codesets: Codesets, code: str, day: date) -> _Problem | None:
    try:
        norm = normalize_pcs(code)
    except CodeFormatError as e:
        return _Problem(rule="validity.pcs-format", message=e.message, fix=e.fix)
    if "mce" in codesets.choices:
        if codesets.mce.window_on(norm, day, system="pcs") is not None:
            return None
        windows = codesets.mce.windows(norm, system="pcs")
        if windows:
            nearest = min(windows, key=lambda w: min(abs((day - w.valid_from).days), abs((day - w.valid_to).days)))
            return _Problem(rule="validity.pcs-not-in-effect",
                            message=f"{norm} was valid {nearest.valid_from.isoformat()} to "
                                    f"{nearest.valid_to.isoformat()}, not on {day.isoformat()}",
                            fix="Build the code again from the ICD-10-PCS tables of the discharge date's year")
    elif "icd10pcs" in codesets.choices and codesets.pcs.is_valid(norm):
        return None
    if "icd10pcs" not in codesets.choices:
        return _Problem(rule="validity.pcs-invalid", message=f"{norm} is not a valid ICD-10-PCS code",
                        fix="Build the code from the ICD-10-PCS tables")
    explanation = codesets.pcs.explain(norm)
    allowed = f"; the table allows {', '.join(explanation.allowed)}" if explanation.allowed else ""
    return _Problem(rule="validity.pcs-invalid",
                    message=f"{norm} is not a valid ICD-10-PCS code: {explanation.problem or 'not in the tables'}",
                    fix=f"Rebuild the code from table {norm[:3]}{allowed}",
                    details={"position": explanation.problem_position, "allowed": list(explanation.allowed)})


# -- CPT / HCPCS and modifiers --------------------------------------------------------------------------------

def _check_line_code(codesets: Codesets, code: str, day: date) -> tuple[str, _Problem | None]:
    text, form = _LINE_FORMS.get(code) or _line_form(code)
    if form == "hcpcs":
        return "hcpcs", _check_hcpcs(codesets, text, day)
    if form == "cpt":
        cpt = codesets.cpt
        if cpt is not None and cpt.get(text) is None:
            return "cpt", _Problem(rule="validity.cpt-unknown", message=f"{text} is not in your CPT file",
                                   fix="Check the code, or load the CPT release of the date of service")
        return "cpt", None
    return "hcpcs", _Problem(rule="validity.line-code-format",
                        message=f"{code!r} is neither a CPT code (5 digits, or 4 digits and F/T/U/M/A) nor a "
                                "HCPCS Level II code (a letter and 4 digits)",
                        fix="Retype the procedure code, e.g. 99213 or J1100")


_LINE_FORMS: dict[str, tuple[str, str | None]] = {}
"""``_line_form`` of each line code seen, as spelled on the claim (bounded like ``normalize_icd10cm``'s memo):
claims bill the same few thousand CPT/HCPCS codes over and over."""
_LINE_FORMS_MAX = 65_536


def _line_form(code: str) -> tuple[str, str | None]:
    """(``code`` stripped and upper-cased, ``"hcpcs"`` or ``"cpt"`` by its format, or None when it is neither),
    recorded in ``_LINE_FORMS``."""
    text = code.strip().upper()
    form = "hcpcs" if _HCPCS.fullmatch(text) else "cpt" if CPT_CODE.fullmatch(text) else None
    return remember(_LINE_FORMS, code, (text, form), _LINE_FORMS_MAX)


def _check_hcpcs(codesets: Codesets, code: str, day: date) -> _Problem | None:
    if "hcpcs" not in codesets.choices:
        return _Problem(rule="validity.hcpcs-unchecked", severity="info",
                        message=f"{code} was not checked: no HCPCS release is built",
                        fix="Run 'medcoder data build --only hcpcs'")
    release = codesets.release("hcpcs")
    in_force = release.covers(day)
    # A stand-in release may lack codes added (or keep codes ended) since: say so, as a warning.
    severity: Severity = "error" if in_force else "warning"
    against = "" if in_force else f" (checked against HCPCS {release.id}, not in force on {day.isoformat()})"
    entry = codesets.hcpcs.get(code)
    if entry is None:
        return _Problem(rule="validity.hcpcs-unknown", severity=severity,
                        message=f"{code} is not in the HCPCS Level II release {release.id}{against}",
                        fix="Check the code against the HCPCS file of the date of service")
    if codesets.hcpcs.is_active(code, day):
        return None
    if entry.termination_date is not None and day > entry.termination_date:
        when = f"was terminated on {entry.termination_date.isoformat()}"
    else:
        when = f"is effective from {entry.add_date.isoformat() if entry.add_date else '?'}"
    return _Problem(rule="validity.hcpcs-not-in-effect", severity=severity,
                    message=f"{code} {when}, so it is not valid on {day.isoformat()}{against}",
                    fix="Use the code in force on the date of service (see the HCPCS file's cross-reference)")


def _check_modifiers(codesets: Codesets, modifiers: tuple[str, ...], day: date,
                     has_modifiers: bool) -> list[_Problem]:
    if not modifiers:
        return []  # most lines
    out: list[_Problem] = []
    if len(modifiers) > MAX_MODIFIERS:
        out.append(_Problem(rule="validity.modifier-count",
                            message=f"{len(modifiers)} modifiers on one line; a claim line carries at most "
                                    f"{MAX_MODIFIERS}", fix="Keep the four that affect payment, pricing first"))
    seen: set[str] = set()
    for modifier in modifiers:
        try:
            norm = normalize_modifier(modifier)
        except CodeFormatError as e:
            out.append(_Problem(rule="validity.modifier-format", message=e.message, fix=e.fix))
            continue
        if norm in seen:
            out.append(_Problem(rule="validity.modifier-duplicate", severity="warning",
                                message=f"modifier {norm} is repeated on the line", fix="Report it once"))
        seen.add(norm)
        # Two digits are CPT modifiers (AMA-licensed, not in the CMS file): format only.
        if norm.isdigit() or not has_modifiers:
            continue
        if not codesets.hcpcs.is_active(norm, day):
            release = codesets.release("hcpcs")
            in_force = release.covers(day)
            out.append(_Problem(rule="validity.modifier-unknown", severity="error" if in_force else "warning",
                                message=f"modifier {norm} is not in force in the HCPCS release {release.id} on "
                                        f"{day.isoformat()}",
                                fix="Check the modifier against the HCPCS Level II modifier list"))
    return out
