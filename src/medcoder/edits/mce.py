"""Rule set ``mce``: the Medicare Code Editor's table-driven edits, from rules kept as data.

Why data (``data/mce_rules.json``): which MCE attribute triggers which edit, how severe it is, what the
message says and which section of the CMS *Definitions of Medicare Code Edits* justifies it are facts a
billing manager may want to read or tune, not logic. The code here implements a closed vocabulary of
checks (``dx-age``, ``pcs-with-dx`` ...); the attributes come from the MCE tables of the discharge date
and the age ranges from the MCE age table of the same date (maternity was 12-55 until FY2019, 9-64 since).
Age and sex conflicts apply to every claim; principal-diagnosis, procedure and discharge-status edits to
inpatient institutional claims, as in the MCE itself.
"""

from __future__ import annotations

import json
import sqlite3
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from typing import Any, NamedTuple, cast

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.icd10pcs_reader import normalize_code as normalize_pcs
from medcoder.edits.codes import dx_view, dx_windows, release_label
from medcoder.errors import ClaimError, CodeFormatError
from medcoder.model.claim import Claim
from medcoder.model.findings import SEVERITIES, EditFinding, Severity

RULE_SET = "mce"
_WHERE = "edits/data/mce_rules.json"

# Each check and the template fields its message and fix may use (validated when the rules load).
CHECK_FIELDS: dict[str, frozenset[str]] = {
    "dx-age": frozenset({"code", "category", "low", "high", "ages", "age"}),
    "dx-sex": frozenset({"code", "needed", "sex"}),
    "pcs-sex": frozenset({"code", "needed", "sex"}),
    "age-unknown": frozenset({"codes"}),
    "age-invalid": frozenset({"age"}),
    "sex-unknown": frozenset({"codes", "sex"}),
    "pdx-attribute": frozenset({"code"}),
    "pdx-alone": frozenset({"code"}),
    "dx-attribute": frozenset({"code"}),
    "duplicate-pdx": frozenset({"code"}),
    "pcs-attribute": frozenset({"code"}),
    "pcs-with-dx": frozenset({"code", "dx"}),
    "pcs-with-pdx": frozenset({"code", "dx"}),
    "pcs-without-dx": frozenset({"code"}),
    "pcs-age-over": frozenset({"code", "age", "max_age"}),
    "pcs-los-under": frozenset({"code", "los", "min_los_days"}),
    "discharge-status": frozenset({"status", "day"}),
}
_NEEDS: dict[str, tuple[str, ...]] = {
    "pcs-with-pdx": ("dx_attribute",), "pcs-without-dx": ("dx_attribute",), "pcs-age-over": ("max_age",),
    "pcs-los-under": ("min_los_days",)}
_NO_ATTRIBUTES = frozenset({"age-invalid", "duplicate-pdx", "discharge-status"})
_KNOWN_KEYS = frozenset({"id", "citation", "check", "attributes", "except_attributes", "dx_attribute", "claims",
                         "settings", "severity", "message", "fix", "max_age", "min_los_days"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MceRule:
    id: str
    check: str
    citation: str
    severity: Severity
    message: str
    fix: str
    claims: frozenset[str]
    settings: frozenset[str] | None = None
    attributes: tuple[str, ...] = ()
    except_attributes: tuple[str, ...] = ()
    dx_attribute: str | None = None
    max_age: int | None = None
    min_los_days: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MceRules:
    version: str
    source: str
    age_categories: dict[str, str]
    """MCE attribute -> category name in the MCE age-range table (``newborn`` -> ``Newborn``)."""
    rules: tuple[MceRule, ...]


def _bad(message: str, where: str) -> ClaimError:
    return ClaimError(message, code="E830", where=where, fix="Correct the rule in edits/data/mce_rules.json")


def parse_rules(raw: dict[str, Any]) -> MceRules:
    """Validate the rules document: known checks and keys, required parameters, template fields."""
    rules = []
    seen: set[str] = set()
    for i, item in enumerate(raw.get("rules", [])):
        where = f"{_WHERE} rules[{i}]"
        unknown = set(item) - _KNOWN_KEYS
        check = item.get("check")
        if unknown:
            raise _bad(f"unknown key(s) {sorted(unknown)}", where)
        if check not in CHECK_FIELDS:
            raise _bad(f"unknown check {check!r}; known: {', '.join(CHECK_FIELDS)}", where)
        for key in ("id", "citation", "severity", "message", "fix", "claims", *_NEEDS.get(check, ())):
            if item.get(key) in (None, "", []):
                raise _bad(f"rule lacks {key!r}", where)
        if check not in _NO_ATTRIBUTES and not item.get("attributes"):
            raise _bad(f"check {check!r} needs 'attributes'", where)
        if item["severity"] not in SEVERITIES or item["id"] in seen:
            raise _bad(f"bad severity {item['severity']!r} or repeated id {item['id']!r}", where)
        seen.add(item["id"])
        for key in ("message", "fix"):
            fields = {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(item[key]) if f}
            if not fields <= CHECK_FIELDS[check]:
                raise _bad(f"{key} uses {sorted(fields - CHECK_FIELDS[check])}, not given by check {check!r}", where)
        rules.append(MceRule(
            id=item["id"], check=check, citation=item["citation"], severity=cast(Severity, item["severity"]),
            message=item["message"], fix=item["fix"], claims=frozenset(item["claims"]),
            settings=frozenset(item["settings"]) if item.get("settings") else None,
            attributes=tuple(item.get("attributes", ())), except_attributes=tuple(item.get("except_attributes", ())),
            dx_attribute=item.get("dx_attribute"), max_age=item.get("max_age"), min_los_days=item.get("min_los_days")))
    return MceRules(version=str(raw["version"]), source=str(raw["source"]),
                    age_categories=dict(raw["age_categories"]), rules=tuple(rules))


@cache
def mce_rules() -> MceRules:
    text = resources.files("medcoder.edits").joinpath("data/mce_rules.json").read_text("utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise _bad(f"not valid JSON: {e}", _WHERE) from e
    return parse_rules(raw)


def age_on(birth: date | None, day: date | None) -> int | None:
    """Age in completed years on ``day`` (the MCE's age at admission); negative when born after it."""
    if birth is None or day is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class _Code(NamedTuple):
    """A valid code of the claim with its MCE attributes on the edit day. A ``NamedTuple``, immutable like a frozen
    dataclass and built in a third of the instructions (the dataclass sets each field through
    ``object.__setattr__``): one is built per code of every claim."""

    position: int
    """Position in ``claim.diagnoses`` (for line pointers); -1 for procedures."""
    code: str
    attributes: frozenset[str]


class _Context(NamedTuple):
    """What the checks read of one claim (a ``NamedTuple`` like ``_Code``: one per claim)."""

    claim: Claim
    codesets: Codesets
    day: date
    age: int | None
    sex: str | None
    dx: tuple[_Code, ...]
    """Valid diagnoses on ``day`` in sequence order (principal first)."""
    pcs: tuple[_Code, ...]
    principal: _Code | None
    """The first of ``dx`` when it is the principal diagnosis (sequence 1): a field, worked out once per claim, as
    the principal-diagnosis checks of every claim read it."""

    def dx_with(self, attribute: str) -> list[_Code]:
        return [d for d in self.dx if attribute in d.attributes]


Hit = tuple[tuple[_Code, ...], dict[str, Any]]
"""The codes concerned and the template fields of one finding."""


@dataclass(frozen=True, slots=True)
class _RuleTable:
    """The rules for one kind of claim, and for each MCE attribute the rules it can trigger (by position)."""

    rules: tuple[MceRule, ...]
    always: tuple[int, ...]
    """Rules that run on every claim (checks not keyed to an attribute)."""
    by_attribute: dict[str, tuple[int, ...]]


@lru_cache(maxsize=16)
def _applicable(kind: str, setting: str | None) -> _RuleTable:
    """The rules document's rules for one kind of claim, sorted out once: a claim then runs only the rules whose
    attributes one of its codes carries (most claims carry a few attributes, the rules name dozens)."""
    chosen = tuple(rule for rule in mce_rules().rules
                   if kind in rule.claims and (rule.settings is None or setting in rule.settings))
    by_attribute: dict[str, list[int]] = {}
    for i, rule in enumerate(chosen):
        if rule.check not in _UNFLAGGED:
            for attribute in dict.fromkeys(rule.attributes):
                by_attribute.setdefault(attribute, []).append(i)
    return _RuleTable(rules=chosen, always=tuple(i for i, rule in enumerate(chosen) if rule.check in _UNFLAGGED),
                      by_attribute={a: tuple(ids) for a, ids in by_attribute.items()})


def check_mce(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Run every MCE rule that applies to this kind of claim, on the MCE tables of the claim's edit day."""
    view = dx_view(claim)
    day = view.day
    if day is None or "mce" not in codesets.choices:
        return []  # no date: the validity rule set says so; no MCE table: nothing to check against
    rules = mce_rules()
    mce = codesets.mce
    dx: list[_Code] = []
    on_day = dx_windows(view, mce).on_day  # each diagnosis's window on ``day`` (the view's day)
    for index, _, code in view.coded:
        window = on_day[index]
        if window is not None:
            dx.append(_Code(index, code, window.attribute_set))
    pcs: list[_Code] = []
    for proc in claim.procedures:
        try:
            code = normalize_pcs(proc.code)
        except CodeFormatError:
            continue
        window = mce.window_on(code, day, system="pcs")
        if window is not None:
            pcs.append(_Code(position=-1, code=code, attributes=window.attribute_set))
    start = claim.admission_date or claim.statement_from or claim.first_service_date
    sex = claim.patient.sex if claim.patient.sex in ("F", "M") else None
    first = dx[0] if dx else None
    principal = first if first is not None and claim.diagnoses[first.position].sequence == 1 else None
    # Positional: a NamedTuple's keyword arguments cost more to sort out than the tuple to build.
    ctx = _Context(claim, codesets, day, age_on(claim.patient.birth_date, start), sex, tuple(dx), tuple(pcs),
                   principal)
    table = _applicable(claim.kind, claim.setting)
    # The rules keyed to an attribute run only when a code carries one of their attributes; in file order.
    triggered = _triggered(table, ctx)
    hits: list[tuple[MceRule, tuple[_Code, ...], dict[str, Any]]] = []
    for i in sorted(triggered.union(table.always)) if triggered else table.always:
        rule = table.rules[i]
        for codes, fields in _CHECKS[rule.check](rule, ctx, rules):
            hits.append((rule, codes, fields))
    if not hits:
        return []  # most claims: the release labels below are not needed
    out: list[EditFinding] = []
    release, stand_in = release_label(codesets, "mce")
    for rule, codes, fields in hits:
        indexes = [c.position for c in codes if c.position >= 0]
        out.append(EditFinding(
            rule_set=RULE_SET, rule=rule.id, severity=rule.severity, message=rule.message.format(**fields),
            codes=tuple(dict.fromkeys(c.code for c in codes)),
            lines=tuple(sorted({n for x in indexes for n in view.lines.get(x, ())})),
            release=release, fix=rule.fix.format(**fields),
            details={"citation": f"{rules.source}, {rule.citation}", "rules_version": rules.version,
                     "attributes": sorted({a for c in codes for a in c.attributes & set(rule.attributes)}),
                     **stand_in}))
    return out


def _triggered(table: _RuleTable, ctx: _Context) -> set[int]:
    """The rules (positions in ``table.rules``) keyed to an attribute one of the claim's codes carries. Loops,
    not a comprehension: this runs for every claim, and a comprehension is a function built per call."""
    by_attribute = table.by_attribute
    found: set[int] = set()
    for codes in (ctx.dx, ctx.pcs):
        for code in codes:
            for attribute in code.attributes:
                rules = by_attribute.get(attribute)
                if rules:
                    found.update(rules)
    return found


# -- the checks (the closed vocabulary of mce_rules.json) -------------------------------------------------------

def _dx_age(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    found: list[Hit] = []  # a list, not a generator: see _age_invalid
    if ctx.age is None or ctx.age < 0:
        return found
    ranges = ctx.codesets.mce.age_table(ctx.day)
    for d in ctx.dx:
        for attribute in rule.attributes:
            category = rules.age_categories.get(attribute)
            if attribute not in d.attributes or category not in ranges:
                continue
            low, high = ranges[category]
            if not low <= ctx.age <= high:
                ages = f"{low}" if low == high else f"{low}-{high}"
                found.append(((d,), {"code": d.code, "category": category.lower(), "low": low, "high": high,
                                     "ages": ages, "age": ctx.age}))
    return found


def _conflicts(rule: MceRule, ctx: _Context, codes: tuple[_Code, ...]) -> Iterator[Hit]:
    if ctx.sex is None:
        return
    for c in codes:
        for attribute in rule.attributes:
            needed = {"female": "F", "male": "M"}.get(attribute)
            if attribute in c.attributes and needed is not None and needed != ctx.sex:
                yield (c,), {"code": c.code, "needed": attribute, "sex": ctx.sex}


def _dx_sex(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    yield from _conflicts(rule, ctx, ctx.dx)


def _pcs_sex(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    yield from _conflicts(rule, ctx, ctx.pcs)


def _flagged(rule: MceRule, ctx: _Context) -> tuple[_Code, ...]:
    wanted = set(rule.attributes)
    return tuple(c for c in (*ctx.dx, *ctx.pcs) if c.attributes & wanted)


def _age_unknown(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    if ctx.age is not None:
        return ()  # nearly every claim: the flagged codes need not be gathered
    flagged = tuple(c for c in _flagged(rule, ctx) if c.position >= 0)
    return [(flagged, {"codes": ", ".join(c.code for c in flagged)})] if flagged else ()


# The three checks of every claim (``_UNFLAGGED``) and the most frequent others return a list, not a generator:
# they mostly find nothing or one thing, and a call returning a list is cheaper than a generator built and drained.

def _age_invalid(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    if ctx.age is not None and not 0 <= ctx.age <= 124:
        return [((), {"age": ctx.age})]
    return ()


def _sex_unknown(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    if ctx.sex is not None:
        return  # nearly every claim: the flagged codes need not be gathered
    flagged = _flagged(rule, ctx)
    if flagged:
        yield flagged, {"codes": ", ".join(c.code for c in flagged), "sex": ctx.claim.patient.sex or "missing"}


def _pdx_attribute(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    pdx = ctx.principal  # isdisjoint: the same test as a non-empty intersection, without building a set
    if pdx is not None and not pdx.attributes.isdisjoint(rule.attributes) \
            and pdx.attributes.isdisjoint(rule.except_attributes):
        return [((pdx,), {"code": pdx.code})]
    return ()


def _pdx_alone(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    pdx = ctx.principal
    if pdx is not None and pdx.attributes & set(rule.attributes) and len(ctx.claim.diagnoses) == 1:
        yield (pdx,), {"code": pdx.code}


def _dx_attribute(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    for d in ctx.dx:
        if d.attributes & set(rule.attributes):
            yield (d,), {"code": d.code}


def _duplicate_pdx(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    found: list[Hit] = []
    pdx = ctx.principal
    if pdx is not None:
        for d in ctx.dx[1:]:
            if d.code == pdx.code:
                found.append(((pdx, d), {"code": d.code}))
    return found


def _pcs_attribute(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    for p in ctx.pcs:
        if p.attributes & set(rule.attributes):
            yield (p,), {"code": p.code}


def _pcs_with_dx(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    for p in ctx.pcs:
        for attribute in sorted(p.attributes & set(rule.attributes)):
            for d in ctx.dx_with(rule.dx_attribute or attribute):
                yield (p, d), {"code": p.code, "dx": d.code}


def _pcs_with_pdx(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    pdx = ctx.principal
    if pdx is None or rule.dx_attribute not in pdx.attributes:
        return
    for p in ctx.pcs:
        if p.attributes & set(rule.attributes):
            yield (p, pdx), {"code": p.code, "dx": pdx.code}


def _pcs_without_dx(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    if rule.dx_attribute is not None and ctx.dx_with(rule.dx_attribute):
        return
    for p in ctx.pcs:
        if p.attributes & set(rule.attributes):
            yield (p,), {"code": p.code}


def _pcs_age_over(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    if ctx.age is None or rule.max_age is None or ctx.age <= rule.max_age:
        return
    for p in ctx.pcs:
        if p.attributes & set(rule.attributes):
            yield (p,), {"code": p.code, "age": ctx.age, "max_age": rule.max_age}


def _pcs_los_under(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterator[Hit]:
    admitted, discharged = ctx.claim.admission_date, ctx.claim.discharge_date
    if admitted is None or discharged is None or rule.min_los_days is None:
        return
    los = (discharged - admitted).days
    if los >= rule.min_los_days:
        return
    for p in ctx.pcs:
        if p.attributes & set(rule.attributes):
            yield (p,), {"code": p.code, "los": los, "min_los_days": rule.min_los_days}


def _discharge_status(rule: MceRule, ctx: _Context, rules: MceRules) -> Iterable[Hit]:
    status = ctx.claim.discharge_status
    if status is None:
        return ()  # missing: the completeness rule set reports it
    day = ctx.day.year * 10000 + ctx.day.month * 100 + ctx.day.day
    if not _status_valid(ctx.codesets.connection("mce"), status.strip(), day):
        return [((), {"status": status, "day": ctx.day.isoformat()})]
    return ()


@lru_cache(maxsize=65_536)
def _status_valid(conn: sqlite3.Connection, status: str, day: int) -> bool:
    """Memoized per (read-only MCE table, status, day). The MCE reader has no discharge-status lookup; the
    table has 45 rows."""
    return conn.execute("SELECT 1 FROM discharge_status WHERE status=? AND valid_from<=? AND valid_to>=?",
                        (status, day, day)).fetchone() is not None


# Checks that can find something on a claim whose codes carry none of the rule's attributes.
_UNFLAGGED = frozenset({"age-invalid", "discharge-status", "duplicate-pdx"})
_CHECKS: dict[str, Callable[[MceRule, _Context, MceRules], Iterable[Hit]]] = {
    "dx-age": _dx_age, "dx-sex": _dx_sex, "pcs-sex": _pcs_sex, "age-unknown": _age_unknown,
    "age-invalid": _age_invalid, "sex-unknown": _sex_unknown, "pdx-attribute": _pdx_attribute,
    "pdx-alone": _pdx_alone, "dx-attribute": _dx_attribute, "duplicate-pdx": _duplicate_pdx,
    "pcs-attribute": _pcs_attribute, "pcs-with-dx": _pcs_with_dx, "pcs-with-pdx": _pcs_with_pdx,
    "pcs-without-dx": _pcs_without_dx, "pcs-age-over": _pcs_age_over, "pcs-los-under": _pcs_los_under,
    "discharge-status": _discharge_status,
}
