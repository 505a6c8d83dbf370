"""MS-DRG grouping of an inpatient stay and its national IPPS operating payment.

Why drgpy for the grouping and our own tables for everything said about it: drgpy 0.2.1 implements the CMS
grouper logic (v36-v43.1) but ships no weights and no human reason for a severity tier. Its DRG is taken as
the answer; the relative weight and length-of-stay means come from Table 5 of the knowledge base, and every
secondary diagnosis's CC/MCC verdict is re-derived from Tables 6I/6J/6K (``MsDrg.secondary_severity``), so a
coder sees *which* diagnosis made "with MCC" and an auditor sees any place where the two sets of tables
disagree. Payment is relative weight x a configurable base rate (``data/drg_rates.json``), nothing more.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from importlib import resources
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from drgpy import _versions as drgpy_versions
from drgpy.msdrg import DRGEngine

from medcoder.codesets.icd10pcs_reader import normalize_code
from medcoder.codesets.mce import window_in
from medcoder.errors import ClaimError, CodeFormatError, MedcoderError
from medcoder.model.code import undotted
from medcoder.model.drg import DrgAssignment, DrgCase, DrgPayment, SecondarySeverity, Severity, Tier

if TYPE_CHECKING:
    from collections.abc import KeysView, Sequence

    from medcoder.codesets.codesets import Codesets
    from medcoder.codesets.msdrg import DrgWeight
    from medcoder.model.claim import Claim, Diagnosis

GROUPER = "drgpy 0.2.1"
_CENT = Decimal("0.01")
_TIER = re.compile(r"\b(WITH|WITHOUT) (CC/MCC|MCC|CC)\b")
_WANTED: dict[Tier, tuple[Severity | None, ...]] = {"with MCC": ("MCC",), "with CC": ("CC",),
                                                   "with CC/MCC": ("MCC", "CC")}
"""The levels that make each 'with' tier: the secondary diagnoses holding them are the tier's drivers."""
_TIER_ORDER: tuple[Tier, ...] = ("with MCC", "with CC/MCC", "with CC", "without MCC", "without CC/MCC")
_NO_AGE = ("age is carried but not grouped on: drgpy 0.2.1 takes no age, so age-dependent CMS logic (MCE age "
           "edits, neonate routing) is not applied")


# -- rates (data/drg_rates.json) ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """One dated amount from ``drg_rates.json``: the IPPS base rate, or the annual risk-adjustment base."""

    id: str
    effective_from: date
    effective_to: date
    amount: Decimal
    source: str


def _rate(raw: dict[str, Any], amount_key: str, where: str) -> Rate:
    try:
        return Rate(id=str(raw["id"]), effective_from=date.fromisoformat(raw["effective_from"]),
                    effective_to=date.fromisoformat(raw["effective_to"]), amount=Decimal(str(raw[amount_key])),
                    source=str(raw["source"]))
    except (KeyError, TypeError, ValueError, InvalidOperation) as e:
        raise ClaimError(f"rate entry is malformed: {e!r}", code="E849", where=where,
                         fix="Each entry needs id, effective_from, effective_to (ISO dates), an amount and "
                             "source; see the file's first entry") from e


@cache
def load_rates() -> dict[str, tuple[Rate, ...]]:
    """``{'ipps': ..., 'risk_adjustment': ...}`` from the packaged rates file, validated once."""
    text = resources.files("medcoder.pricing").joinpath("data/drg_rates.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    if raw.get("schema") != 1:
        raise ClaimError("unknown rates file schema", code="E849", where="pricing/data/drg_rates.json",
                         fix="Use schema 1")
    return {
        # an IPPS entry names which of its amounts is the base rate ("operating_standardized_amount")
        "ipps": tuple(_rate(r, str(r.get("base_rate")), f"drg_rates.json ipps[{i}]")
                      for i, r in enumerate(raw["ipps"])),
        "risk_adjustment": tuple(_rate(r, "annual_base_per_member", f"drg_rates.json risk_adjustment[{i}]")
                                 for i, r in enumerate(raw["risk_adjustment"])),
    }


def rate_on(kind: str, day: date) -> Rate:
    """The ``ipps`` or ``risk_adjustment`` rate in force on ``day``; E846 when none is."""
    rates = load_rates()[kind]
    for rate in rates:
        if rate.effective_from <= day <= rate.effective_to:
            return rate
    spans = ", ".join(f"{r.id} {r.effective_from}..{r.effective_to}" for r in rates)
    raise ClaimError(f"no {kind} rate covers {day.isoformat()}", code="E846", where=day.isoformat(),
                     fix=f"The rates file covers {spans}; pass the amount explicitly or add an entry")


# -- grouper version by discharge date ---------------------------------------------------------------------

def grouper_span() -> tuple[date, date]:
    """First and last discharge date drgpy's bundled versions cover (the last: end of the newest FY)."""
    versions = drgpy_versions.SUPPORTED_VERSIONS
    newest = versions[-1].effective_date
    return versions[0].effective_date, date(newest.year + (newest.month >= 10), 9, 30)


@lru_cache(maxsize=4096)
def grouper_version(discharge_date: date) -> str:
    """The MS-DRG version in force on a discharge date (FY2026: v43; from 2026-04-01: v43.1); memoised per
    date (a batch's stays share few discharge dates)."""
    first, last = grouper_span()
    if not first <= discharge_date <= last:
        raise ClaimError(f"discharge date {discharge_date.isoformat()} is outside the MS-DRG versions "
                         f"drgpy 0.2.1 bundles ({first.isoformat()}..{last.isoformat()}, v36..v43.1)",
                         code="E841", where=discharge_date.isoformat(),
                         fix="Group stays discharged in FY2019-FY2026, or upgrade drgpy for newer versions")
    return str(drgpy_versions.get_version_for_date(discharge_date).name)


@cache
def _engine(version: str) -> DRGEngine:
    return DRGEngine(version=version)


@cache
def _grouper_name(version: str) -> str:
    return f"{GROUPER} MS-DRG {version}"


# -- the grouper -------------------------------------------------------------------------------------------

@cache
def tier_of(title: str) -> Tier | None:
    """The severity split a DRG title names: ``'... WITH MCC'`` -> ``'with MCC'``; None without one."""
    m = _TIER.search(title)
    if m is None:
        return None
    tier = f"{m[1].lower()} {m[2]}"
    return next(t for t in _TIER_ORDER if t == tier)


def _accepts(tier: Tier, level: Severity | None) -> bool:
    """Whether a stay whose strongest secondary is ``level`` belongs to ``tier`` (MS-DRG severity rule)."""
    return {"with MCC": level == "MCC", "with CC/MCC": level is not None, "with CC": level is not None,
            "without MCC": level != "MCC", "without CC/MCC": level is None}[tier]


def _dx(code: str, what: str) -> str:
    try:
        return undotted(code)
    except CodeFormatError as e:
        raise ClaimError(f"{what} {code!r} is not an ICD-10-CM code: {e.message}", code="E842", where=repr(code),
                         fix=e.fix) from e


_NEITHER = "neither CC nor MCC (Tables 6I/6J)"
_UNKNOWN = SecondarySeverity(code="", listed=None, level=None, reason="", grouper_level=None)
"""Marks a code ``DrgGrouper._plain`` has not looked at yet (None there means "not plain")."""


class _Stay(NamedTuple):
    """A stay checked and ready for drgpy (``DrgGrouper._prepare``): the codes as drgpy takes them."""

    case: DrgCase
    version: str
    engine: DRGEngine
    principal: str
    procedures: list[str]
    secondary: list[str]
    """The distinct secondary diagnoses, dotless, in order of first mention."""
    poa: dict[str, str]
    notes: list[str]
    """The assignment's notes so far (``_grouped`` and ``_finish`` add theirs)."""


def _grouped(stay: _Stay) -> str:
    """drgpy's DRG of the stay; for an unknown sex, the DRG both sexes agree on (E844 when they differ)."""
    case, engine = stay.case, stay.engine

    def run(sex: str) -> str:
        return str(engine.get_drg([stay.principal, *stay.secondary], stay.procedures, gender=sex,
                                  is_alive=case.discharged_alive, poa=stay.poa,
                                  discharge_status=case.discharge_status))

    if case.sex in ("F", "M"):
        return run(case.sex)
    drg, other = run("F"), run("M")
    if drg != other:
        named = {k: "no DRG" if v == "000" else f"DRG {v}" for k, v in (("F", drg), ("M", other))}
        raise ClaimError(f"the stay groups to {named['F']} if female and {named['M']} if male", code="E844",
                         where=f"sex={case.sex}", fix="Give the patient's sex (F or M)")
    stay.notes.append("sex unknown: the stay groups alike for F and M")
    return drg


class DrgGrouper:
    """Groups and prices stays with the knowledge base of one set of releases; keep one per batch."""

    def __init__(self, codesets: Codesets) -> None:
        self._codesets = codesets
        self._msdrg = codesets.msdrg
        self._mce = codesets.mce
        self._release = codesets.release("msdrg")
        self._weights_release = f"msdrg {self._release.id}"
        self._table5: dict[str, DrgWeight] = {}
        self._listed: KeysView[str] | None = None
        # Memos keyed by code (never by stay): a batch repeats the same codes, and the tables are read-only.
        self._families: dict[str, tuple[str, ...]] = {}
        # Per grouper version, code -> its severity when the code is on neither Table 6I/6J nor drgpy's CC list
        # (most secondaries): then nothing depends on the principal, the DRG, the discharge or POA, so one object
        # per code serves every stay; None marks a code that needs the full key above.
        self._plain: dict[str, dict[str, SecondarySeverity | None]] = {}
        # Discharge status -> its (valid_from, valid_to) YYYYMMDD windows, read once per status: a batch's stays
        # bring a few statuses on hundreds of dates, and a query per new (status, date) was most of the reads.
        self._statuses: dict[str, tuple[tuple[int, int], ...]] = {}
        self._splits: dict[str, tuple[Tier | None, dict[Tier | None, str]]] = {}
        self._fixes: dict[tuple[str, Severity | None], tuple[str, str] | None] = {}
        # DRG -> what an assignment to it repeats for every stay: its Table 5 row, tier, the tier's driving levels
        # and its severity family.
        self._drgs: dict[str, tuple[DrgWeight, Tier | None, tuple[Severity | None, ...], tuple[str, ...]]] = {}

    def _weights(self) -> dict[str, DrgWeight]:
        if not self._table5:
            self._table5 = {d.drg: d for d in self._msdrg.drgs()}
        return self._table5

    def _family(self, drg: str) -> tuple[str, ...]:
        """The contiguous Table 5 DRGs with this DRG's MDC and title before its severity split."""
        if drg not in self._families:
            self._families[drg] = self._find_family(drg)
        return self._families[drg]

    def _find_family(self, drg: str) -> tuple[str, ...]:
        table = self._weights()
        row = table[drg]
        m = _TIER.search(row.title)
        if m is None:
            return (drg,)
        stem = row.title[:m.start()]
        family = [drg]
        for step in (-1, 1):
            n = int(drg) + step
            while (other := table.get(f"{n:03d}")) and other.mdc == row.mdc and \
                    (o := _TIER.search(other.title)) and other.title[:o.start()] == stem:
                family.append(other.drg)
                n += step
        return tuple(sorted(family))

    def _check_codes(self, case: DrgCase) -> tuple[str, list[str], list[str], dict[str, str]]:
        """The stay's dotless principal, its procedures and distinct secondaries (E842 for a bad or invalid code or
        discharge status), and each diagnosis as written -> dotless, for the POA flags to reuse."""
        day = case.discharge_date
        principal = _dx(case.principal_dx, "principal diagnosis")
        dotless = {case.principal_dx: principal}
        for c in case.secondary_dx:
            dotless[c] = _dx(c, "secondary diagnosis")
        # the distinct dotless codes in order of first mention, the principal's (the first) left out
        secondary = list(dict.fromkeys(dotless.values()))[1:]
        procedures: list[str] = []
        for code in case.procedures:
            try:
                procedures.append(normalize_code(code.strip()))
            except CodeFormatError as e:
                raise ClaimError(f"procedure {code!r} is not an ICD-10-PCS code: {e.message}", code="E842",
                                 where=repr(code), fix=e.fix) from e
        for system, codes in (("cm", [principal, *secondary]), ("pcs", procedures)):
            for code in codes:
                # The MCE reader memoises each code's windows; the edits have usually asked for this code already.
                if window_in(self._mce.windows_of(code, system=system), day) is None:
                    kind = "ICD-10-CM" if system == "cm" else "ICD-10-PCS"
                    raise ClaimError(f"{code} is not a valid {kind} code on {day.isoformat()}", code="E842",
                                     where=code, fix="Use a billable code of the fiscal year of discharge")
        on = day.year * 10000 + day.month * 100 + day.day  # the MCE tables' YYYYMMDD integers
        windows = self._statuses.get(case.discharge_status)
        if windows is None:
            windows = self._statuses[case.discharge_status] = tuple(self._codesets.connection("mce").execute(
                "SELECT valid_from, valid_to FROM discharge_status WHERE status=?", (case.discharge_status,)))
        for valid_from, valid_to in windows:
            if valid_from <= on <= valid_to:
                break
        else:
            raise ClaimError(f"discharge status {case.discharge_status!r} is not valid on {day.isoformat()}",
                             code="E842", where=case.discharge_status,
                             fix="Use a two-digit UB-04 patient discharge status, e.g. 01 home, 20 expired")
        return principal, list(dict.fromkeys(procedures)) if len(procedures) > 1 else procedures, secondary, dotless

    def group(self, case: DrgCase) -> DrgAssignment:
        """The MS-DRG of ``case`` with its weight and severity evidence; ClaimError E841-E845 otherwise."""
        stay = self._prepare(case)
        return self._finish(stay, _grouped(stay))

    def _prepare(self, case: DrgCase) -> _Stay:
        """What drgpy is asked, from the stay's checked codes (E842, E843 before drgpy runs)."""
        version = grouper_version(case.discharge_date)
        engine = _engine(version)
        principal, procedures, secondary, dotless = self._check_codes(case)
        if not engine.dxmap.get(principal):
            raise ClaimError(f"{principal} cannot be a principal diagnosis in MS-DRG {version}: no MDC "
                             "lists it", code="E843", where=principal,
                             fix="Sequence the condition chiefly responsible for the admission first")
        poa = {dotless.get(code) or _dx(code, "POA diagnosis"): flag.strip().upper() for code, flag in case.poa}
        return _Stay(case, version, engine, principal, procedures, secondary, poa,
                     [_NO_AGE] if case.age is not None else [])

    def _finish(self, stay: _Stay, drg: str) -> DrgAssignment:
        """The assignment to drgpy's ``drg``: its Table 5 row, each secondary's severity and the tier check."""
        case, version, engine, principal, _, secondary, poa, notes = stay
        if drg == "000":
            raise ClaimError(f"the stay groups to no MS-DRG in {version} (the CMS grouper returns 999 "
                             "Ungroupable)", code="E843", where=principal,
                             fix="Check the principal diagnosis against the patient's sex and the procedures")
        if drg not in self._weights():
            raise ClaimError(f"DRG {drg} is not in Table 5 of {self._release.name}", code="E845", where=drg,
                             fix="Group with the weights release of the discharge's fiscal year")
        if not self._release.covers(case.discharge_date):
            notes.append(f"weights from {self._release.name} ({self._release.effective_from}.."
                         f"{self._release.effective_to}), not the release in force on {case.discharge_date}")
        alive = case.discharged_alive
        plain = self._plain.get(version)
        if plain is None:
            plain = self._plain[version] = {}

        def severities(drg: str) -> tuple[SecondarySeverity, ...]:
            found = []
            for code in secondary:
                known = plain.get(code, _UNKNOWN)
                if known is _UNKNOWN:
                    known = plain[code] = self._plain_severity(code, engine)
                if known is None:  # a CC/MCC: its verdict depends on this stay's principal, DRG, discharge, POA
                    known = self._severity(code, principal, drg, alive, poa.get(code, "Y"), engine)
                found.append(known)
            return tuple(found)

        found = severities(drg)
        disagreements = [f"{s.code}: Tables 6I/6J/6K give {s.level or 'neither'}, drgpy {version} gives "
                         f"{s.grouper_level or 'neither'}" for s in found if s.level != s.grouper_level]
        fixed = self._tier_fix(drg, found)
        if fixed is not None:
            disagreements.append(fixed[1])
            notes.append(f"DRG {fixed[0]} replaces drgpy's DRG {drg}: the family's severity split decides")
            drg, found = fixed[0], severities(fixed[0])
        return self._assignment(case, drg, version, found, disagreements, notes)

    def _tier_fix(self, drg: str, found: tuple[SecondarySeverity, ...]) -> tuple[str, str] | None:
        """The family member the severity split calls for when drgpy picked another, with the reason.

        drgpy 0.2.1 tests only "_MCC" in some "with CC/MCC" families (e.g. 537/538, 949/950), so a stay with
        a CC lands in the "without CC/MCC" DRG. A title whose split has an alternative ("WITH MCC OR DISC
        DEVICE") is reached by other routes too and is never second-guessed.
        """
        split = self._splits.get(drg)
        if split is None:
            split = self._splits[drg] = self._split(drg)
        tier, by_tier = split
        if tier is None:
            return None
        levels = {s.level for s in found}
        strongest: Severity | None = "MCC" if "MCC" in levels else "CC" if "CC" in levels else None
        key = (drg, strongest)
        if key not in self._fixes:  # the answer depends on nothing else: one per DRG and level
            self._fixes[key] = self._fix(drg, tier, by_tier, strongest)
        return self._fixes[key]

    @staticmethod
    def _fix(drg: str, tier: Tier, by_tier: dict[Tier | None, str],
             strongest: Severity | None) -> tuple[str, str] | None:
        expected = next((t for t in _TIER_ORDER if t in by_tier and _accepts(t, strongest)), tier)
        if expected == tier:
            return None
        return by_tier[expected], (f"drgpy chose DRG {drg} ({tier}) but the strongest secondary per Tables "
                                   f"6I/6J/6K is {strongest or 'none'}: DRG {by_tier[expected]} ({expected})")

    def _split(self, drg: str) -> tuple[Tier | None, dict[Tier | None, str]]:
        """The DRG's severity tier (None when ``_tier_fix`` must leave it alone) and its family by tier."""
        title = self._weights()[drg].title
        tier, m = tier_of(title), _TIER.search(title)
        if tier is None or m is None or title[m.end():].startswith(" OR "):
            return None, {}
        return tier, {tier_of(self._weights()[d].title): d for d in self._family(drg)}

    def _plain_severity(self, code: str, engine: DRGEngine) -> SecondarySeverity | None:
        """``_severity``'s answer for a code on neither Table 6I/6J nor drgpy's CC/MCC list, else None."""
        listed = self._listed
        if listed is None:  # the codes on Table 6I/6J, asked for once (the grouper's codes are dotless already)
            listed = self._listed = self._msdrg.listed_codes()
        if code in engine.ccmap or code in listed:
            return None
        return SecondarySeverity(code=code, listed=None, level=None, reason=_NEITHER, grouper_level=None)

    def _severity(self, code: str, principal: str, drg: str, alive: bool, poa: str,
                  engine: DRGEngine) -> SecondarySeverity:
        facts = self._msdrg.severity_facts(code)
        listed = None if facts is None else facts.level
        # The level ``kb.secondary_severity`` gives, from the same Table 6K tests the reason names (asked once).
        level: Severity | None = None
        info = engine.ccmap.get(code)
        hac = poa in ("N", "U") and info is not None and info.get("hac") is not None  # POA is mostly Y
        if facts is None:
            reason = _NEITHER
        elif principal in facts.excluded_with:
            reason = f"{listed} excluded with principal {principal} (Table 6K Part 1 PDX collection)"
        elif not alive and facts.alive_only:
            reason = f"{listed} only when discharged alive (Table 6K Part 2); the patient expired"
        elif drg in facts.ignored_in:
            reason = f"{listed} ignored in DRG {drg} (Table 6K Part 3)"
        elif hac:
            reason = f"{listed} not counted: hospital-acquired condition with POA {poa} (drgpy's HAC list)"
        else:
            level = listed
            reason = f"{listed} on Table {'6I' if listed == 'MCC' else '6J'}, not excluded with principal " \
                     f"{principal} (Table 6K)"
        grouper: Severity | None = None
        if info is not None and not (principal in engine.exmap.get(info["pdx"], ()) or hac
                                     or code in engine.drg_exclusions.get(drg, ())
                                     or (info["aowa"] and not alive)):
            grouper = "MCC" if info["level"] == "MCC" else "CC"
        return SecondarySeverity(code=code, listed=listed, level=level, reason=reason, grouper_level=grouper)

    def _assignment(self, case: DrgCase, drg: str, version: str, found: tuple[SecondarySeverity, ...],
                    disagreements: list[str], notes: list[str]) -> DrgAssignment:
        known = self._drgs.get(drg)
        if known is None:
            row = self._weights()[drg]
            tier = tier_of(row.title)
            known = self._drgs[drg] = (row, tier, _WANTED.get(tier, ()) if tier else (), self._family(drg))
        row, tier, wanted, family = known
        return DrgAssignment(
            drg=row.drg, title=row.title, mdc=row.mdc, drg_type=row.type, tier=tier, family=family,
            drivers=tuple([s.code for s in found if s.level in wanted]) if wanted else (), severities=found,
            weight=row.weight, gmlos=row.gmlos, alos=row.alos, grouper=_grouper_name(version),
            weights_release=self._weights_release, age=case.age, sex=case.sex,
            discharge_status=case.discharge_status, disagreements=tuple(disagreements), notes=tuple(notes))

    def price(self, case: DrgCase, *, base_rate: Decimal | None = None) -> DrgPayment:
        """Group ``case`` and pay relative weight x ``base_rate`` (default: the IPPS rate of the discharge)."""
        assignment = self.group(case)
        return price_assignment(assignment, day=case.discharge_date, base_rate=base_rate)


def price_assignment(assignment: DrgAssignment, *, day: date, base_rate: Decimal | None = None) -> DrgPayment:
    if assignment.weight is None:
        raise ClaimError(f"DRG {assignment.drg} has no relative weight", code="E845", where=assignment.drg,
                         fix="DRGs 998/999 are not payable; correct the principal diagnosis")
    if base_rate is None:
        base_rate, source = _ipps_on(day)
        payment = _file_rate_payment(assignment.weight, base_rate)
    else:
        source, payment = "base rate given by the caller", _payment(assignment.weight, base_rate)
    return DrgPayment(assignment=assignment, base_rate=base_rate, payment=payment, rate_source=source)


def price_stays(stays: Sequence[tuple[DrgGrouper, DrgCase]]) -> list[DrgPayment | MedcoderError]:
    """``DrgGrouper.price`` of each (grouper, stay), or the coded error that stopped that stay.

    Why a step at a time across the stays: drgpy's maps and per-MDC functions take more room than the processor's
    caches, and running drgpy on each stay between our own checks and tables evicts them; the code checks of
    every stay, then drgpy on every stay, then the severities and payment of every stay keep each step's data
    in cache (``claims.price_many``, ``claim_batch.CHUNK``)."""
    prepared: list[_Stay | MedcoderError] = []
    for grouper, case in stays:
        try:
            prepared.append(grouper._prepare(case))
        except MedcoderError as e:
            prepared.append(e)
    grouped: list[tuple[_Stay, str] | MedcoderError] = []
    for stay in prepared:
        if isinstance(stay, MedcoderError):
            grouped.append(stay)
            continue
        try:
            grouped.append((stay, _grouped(stay)))
        except MedcoderError as e:
            grouped.append(e)
    out: list[DrgPayment | MedcoderError] = []
    for (grouper, case), done in zip(stays, grouped, strict=True):
        if isinstance(done, MedcoderError):
            out.append(done)
            continue
        try:
            out.append(price_assignment(grouper._finish(*done), day=case.discharge_date))
        except MedcoderError as e:
            out.append(e)
    return out


@lru_cache(maxsize=4096)
def _ipps_on(day: date) -> tuple[Decimal, str]:
    """The IPPS base rate on ``day`` and its source as a payment cites it; memoised per discharge date (the
    rates file is read once and never changes)."""
    rate = rate_on("ipps", day)
    return rate.amount, f"IPPS {rate.id} operating standardized amount ({rate.source})"


def _payment(weight: float, base_rate: Decimal) -> Decimal:
    """Relative weight x base rate, rounded to cents."""
    return (Decimal(str(weight)) * base_rate).quantize(_CENT, rounding=ROUND_HALF_UP)


_file_rate_payment = lru_cache(maxsize=16_384)(_payment)
"""``_payment`` memoised per (weight, rate) for the rates file's amounts: a batch meets a few hundred DRGs at a
few rates. A caller's own rate is not memoised (it may be any Decimal, a signalling NaN included)."""


def group_case(case: DrgCase, *, codesets: Codesets) -> DrgAssignment:
    """One-off grouping; for many stays keep a :class:`DrgGrouper`."""
    return DrgGrouper(codesets).group(case)


def price_case(case: DrgCase, *, codesets: Codesets, base_rate: Decimal | None = None) -> DrgPayment:
    return DrgGrouper(codesets).price(case, base_rate=base_rate)


def case_from_claim(claim: Claim, diagnoses: Sequence[Diagnosis] | None = None) -> DrgCase:
    """The grouper's view of an inpatient claim: diagnosis 1 is principal, age at admission, POA kept.

    ``diagnoses``: the claim's diagnoses already sorted by sequence, when the caller has them (pricing sorts
    them once for the grouper and the risk score)."""
    if claim.discharge_date is None:
        raise ClaimError(f"claim {claim.claim_id} has no discharge date", code="E840", where=claim.claim_id,
                         fix="MS-DRG grouping needs the discharge date of an inpatient claim")
    if diagnoses is None:
        diagnoses = sorted(claim.diagnoses, key=BY_SEQUENCE)
    if not diagnoses:
        raise ClaimError(f"claim {claim.claim_id} has no diagnosis", code="E840", where=claim.claim_id,
                         fix="Add the principal diagnosis as sequence 1")
    born, admitted = claim.patient.birth_date, claim.admission_date or claim.discharge_date
    age = None
    if born is not None:
        age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
    return DrgCase(
        principal_dx=diagnoses[0].code, secondary_dx=tuple([d.code for d in diagnoses[1:]]),
        procedures=tuple([p.code for p in sorted(claim.procedures, key=BY_SEQUENCE)]) if claim.procedures else (),
        sex=claim.patient.sex, age=age, discharge_status=claim.discharge_status or "01",
        discharge_date=claim.discharge_date,
        poa=tuple([(d.code, d.poa) for d in diagnoses if d.poa]))


BY_SEQUENCE = attrgetter("sequence")
"""Sort key putting a claim's diagnoses (or procedures) in their claim sequence: 1 is the principal."""
