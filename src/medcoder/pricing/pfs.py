"""Price professional service lines on the Medicare Physician Fee Schedule (PFS), keeping the arithmetic.

Why computed from RVUs and not looked up: CMS publishes locality amounts only in bulk payment files (and the
mirror holds only the April revision), while the RVU, GPCI and conversion-factor files cover every code. The
amount is [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF, rounded to cents only at the
end, which reproduces every amount of the PFREV26B payment file. Payment modifiers, status codes and
multiple-procedure ranking are rules kept as data (``data/pfs_rules.json``) citing Pub. 100-04 ch.12.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from operator import itemgetter
from typing import NamedTuple

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.pfs import Gpci, Pfs, Rvu, split_locality
from medcoder.codesets.sources import Release
from medcoder.errors import ClaimError, MedcoderError
from medcoder.model.claim import Claim, ServiceLine
from medcoder.model.fee import Adjustment, FeeSchedulePrice, LineFee, PriceProblem, RvuBreakdown, Setting, iso_date
from medcoder.model.memo import IdentityMemo, remember
from medcoder.pricing.pfs_terms import (
    CENT,
    ZERO_CENTS,
    breakdown,
    cached_breakdown,
    cents,
    fee_schedule_amount,
    floor_applies,
    rules,
)

__all__ = ["CENT", "breakdown", "fee_schedule_amount", "price_claim", "price_line", "resolve_locality", "rules"]


@dataclass(frozen=True, slots=True)
class _Release:
    """What pricing any claim reads of one ``Codesets``'s PFS release, worked out once per code sets."""

    pfs: Pfs
    release: Release
    ids: tuple[str, ...]
    """The release ids every priced line records, e.g. ``('pfs/CY2026', 'pfs-rules/2026.1')``."""
    rvus_from: date
    rvus_note: str
    """The note on a line served before ``rvus_from``, the same for every such line of the release."""


# Each code sets' PFS release: a batch prices every claim against a few shared ``Codesets`` whose choices are
# fixed once built.
_RELEASES: IdentityMemo[Codesets, _Release] = IdentityMemo(256)


def _release_of(codesets: Codesets) -> _Release:
    return _RELEASES.get(codesets, _new_release)


def _new_release(codesets: Codesets) -> _Release:
    pfs, release = codesets.pfs, codesets.release("pfs")
    info = pfs.info_view()
    rvus_from = date.fromisoformat(info.get("rvu_effective_from", release.effective_from.isoformat()))
    return _Release(pfs=pfs, release=release, ids=(release.name, rules()["id"]), rvus_from=rvus_from,
                    rvus_note=f"RVUs of the {info.get('rvu_title', 'RVU file')} (in force from {rvus_from}); a "
                              "code revised since may have had other RVUs on this date")


def resolve_locality(pfs: Pfs, locality: str | None) -> Gpci | None:
    """The GPCIs of ``MAC-locality``; None for national amounts. Raises ``ClaimError`` (E811/E812) when bad."""
    if locality is None:
        return None
    if split_locality(locality) is None:
        raise ClaimError(f"locality {locality!r} is not in the form MAC-locality", code="E812", where=locality,
                         fix="Give the 5-digit MAC and 2-digit locality, e.g. 01112-05 (None for national)")
    gpci = pfs.gpci(locality)
    if gpci is None:
        raise ClaimError(f"locality {locality} is not in the CY GPCI file", code="E811", where=locality,
                         fix="Use a MAC-locality pair from the locality file (medcoder lists them), or None")
    return gpci


@dataclass(slots=True)
class _Work:
    """A line being priced: its result so far, its RVU row and one unit's amount after line-level rules."""

    line: ServiceLine
    code: str
    """The line's code as priced (normalised once it is known to be priceable)."""
    setting: Setting | None
    locality: str | None
    releases: tuple[str, ...]
    gpci: Gpci | None = None
    """Sixth, so that ``_price_one`` can pass the first six by position (no keyword dict per line)."""
    rvu: Rvu | None = None
    unit: Decimal | None = None
    """One unit's amount, always in cents (two places), so that one unit's line amount is the unit itself."""
    charge: Decimal = Decimal(0)
    extra: list[Adjustment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Fields of the line's ``LineFee`` set along the way; ``_finish`` builds it once.
    status: str | None = None
    breakdown: RvuBreakdown | None = None
    fee_schedule_amount: Decimal | None = None
    amount: Decimal | None = None
    problems: tuple[PriceProblem, ...] = ()


_ZERO, _ONE = Decimal(0), Decimal(1)
"""What a line's units, charge and amounts are compared with: a Decimal compared with an int converts the int
first, every time (several comparisons per line)."""


def _problem(line: ServiceLine, code: str, message: str, fix: str | None = None) -> PriceProblem:
    return PriceProblem(code=code, message=message, line=line.number, fix=fix)


def _modifier_rules(line: ServiceLine, rvu: Rvu, extra: list[Adjustment], notes: list[str]) -> Decimal | None:
    """Factor of the payment modifiers on a line that has some (None = carrier priced); records each adjustment."""
    mods, data, factor = set(line.modifiers), rules(), Decimal(1)

    def apply(section: str, indicator: str, percent: Decimal, what: str) -> None:
        nonlocal factor
        rule = data[section]
        factor *= percent
        extra.append(Adjustment(rule=f"{section}.{indicator}", factor=percent, reason=what, cite=rule["cite"]))

    if "50" in mods:
        meaning = data["bilateral"]["indicators"].get(rvu.bilateral, {"factor": "1", "meaning": "unknown"})
        apply("bilateral", rvu.bilateral, Decimal(meaning["factor"]), f"modifier 50: {meaning['meaning']}")
    if mods & set(data["assistant"]["modifiers"]) or "AS" in mods:
        meaning = data["assistant"]["indicators"].get(rvu.assistant, {"pay": False, "meaning": "unknown"})
        if not meaning["pay"]:
            apply("assistant", rvu.assistant, Decimal(0), f"assistant at surgery not paid: {meaning['meaning']}")
            return factor
        apply("assistant", rvu.assistant, Decimal(data["assistant"]["factor"]),
              f"assistant at surgery, 16 percent: {meaning['meaning']}")
        if "AS" in mods:
            apply("assistant-nonphysician", "AS", Decimal(data["assistant-nonphysician"]["factor"]),
                  data["assistant-nonphysician"]["meaning"])
    if "62" in mods:
        meaning = data["co-surgeon"]["indicators"].get(rvu.co_surgeon, {"pay": False, "meaning": "unknown"})
        percent = Decimal(data["co-surgeon"]["factor"]) if meaning["pay"] else Decimal(0)
        apply("co-surgeon", rvu.co_surgeon, percent, f"modifier 62: {meaning['meaning']}")
    if "66" in mods:
        meaning = data["team-surgery"]["indicators"].get(rvu.team_surgery, {"pay": False, "meaning": "unknown"})
        if meaning["pay"] == "carrier":
            notes.append(f"modifier 66 (team surgery): {meaning['meaning']}; no national amount")
            return None
        apply("team-surgery", rvu.team_surgery, Decimal(0), f"modifier 66: {meaning['meaning']}")
    return factor


def _select_row(line: ServiceLine, pfs: Pfs, work: _Work) -> Rvu | None:
    """The PPRRVU row for the line's modifiers: -26/-TC/-53 rows where the code has them (PC/TC rules)."""
    code = work.code
    # The global row (most lines): no PC/TC or terminated-service rule applies; a code that has it is in the file.
    found = None if line.modifiers else pfs.rvu(code)
    if found is not None:
        return found
    if not pfs.modifiers(code):
        work.problems = (_problem(
            line, "E810", f"{code} is not in the PFS RVU file of this release",
            "Check the code (CPT/HCPCS, five characters) and the date of service"),)
        return None
    if not line.modifiers:
        return None  # only component rows: nothing prices the global service
    rows = pfs.rvu_rows(code)
    mods = [m.upper() for m in line.modifiers]
    components = [m for m in mods if m in rules()["pctc"]["components"]]
    glob = rows.get("") or next(iter(rows.values()))
    if len(components) > 1:
        work.problems = (_problem(line, "E816", "modifiers 26 and TC on one line",
                                  "Bill the professional and technical components apart"),)
        return None
    if components and components[0] not in rows:
        meaning = rules()["pctc"]["indicators"].get(glob.pctc, {"meaning": "unknown"})["meaning"]
        work.status, work.amount = glob.status, Decimal(0)
        work.problems = (_problem(
            line, "E816", f"modifier {components[0]} cannot be used with {code}: PC/TC indicator {glob.pctc} "
            f"({meaning})", "Bill the code without the component modifier"),)
        return None
    if "53" in mods and "53" not in rows:
        work.notes.append(f"modifier 53 on {code}: {rules()['terminated']['meaning']}")
        work.status = glob.status
        return None
    return rows[components[0] if components else ("53" if "53" in mods else "")]


def _price_one(line: ServiceLine, *, pfs: Pfs, gpci: Gpci | None, locality: str | None, setting: Setting | None,
               covers: bool, releases: tuple[str, ...]) -> _Work:
    work = _Work(line, line.code.strip().upper(), setting, locality, releases, gpci)  # every line: by position
    if not covers:
        work.problems = (_problem(
            line, "E814", f"no PFS release covers the date of service {line.service_date.isoformat()} "
            f"({releases[0]} is the one available)", "Add the PFS release of that calendar year"),)
        return work
    if setting is None:
        return work  # the caller recorded why (unknown or unassigned place of service)
    if gpci is None:
        work.notes.append("national amount: no locality given, every GPCI is 1.000")
    if not line.units.is_finite() or line.units <= _ZERO:
        work.problems = (_problem(line, "E817", f"units {line.units} are not positive"),)
        return work
    key = (id(pfs), line.code, line.modifiers, id(gpci), setting, floor_applies(line.service_date))
    hit = _UNITS.get(key)
    if hit is None or hit[0] is not pfs or hit[1] is not gpci:
        priced = _price_unit(line, pfs=pfs, gpci=gpci, setting=setting, work=work)
        if priced is None:
            return work
        hit = remember(_UNITS, key, (pfs, gpci, priced), 100_000)
    unit = hit[2]
    work.rvu, work.status, work.breakdown, work.fee_schedule_amount = unit.rvu, unit.rvu.status, unit.parts, unit.fee
    work.unit = unit.amount
    work.notes += unit.notes
    work.extra += unit.extra
    return work


class _Unit(NamedTuple):
    """One unit of a code priced by ``_price_unit``: its row, RVU x GPCI terms, fee schedule amount, amount after
    the line-level rules (None: carrier priced) and the notes and adjustments that say why. A named tuple, not a
    frozen dataclass: built for every new (code, setting, locality) a batch meets, where setting six frozen
    fields one by one cost more than pricing the unit."""

    rvu: Rvu
    parts: RvuBreakdown
    fee: Decimal
    amount: Decimal | None
    notes: tuple[str, ...]
    extra: tuple[Adjustment, ...]


# (id(reader), code, modifiers, id(GPCI row), setting, work GPCI floor) -> (reader, GPCI row, unit): what a unit of
# a code is worth is a pure function of those (the line's number, units and charge come later), and a batch bills
# the same codes in the same localities again and again; the objects kept guard the ids against reuse.
_UNITS: dict[tuple[int, str, tuple[str, ...], int, str, bool], tuple[Pfs, Gpci | None, _Unit]] = {}


def _price_unit(line: ServiceLine, *, pfs: Pfs, gpci: Gpci | None, setting: Setting, work: _Work) -> _Unit | None:
    """One unit of the line's code, modifiers, setting and date; None (problems and notes left on ``work``) when
    no row of the code can price it."""
    rvu = _select_row(line, pfs, work)
    if rvu is None:
        return None
    # Not cached_breakdown: the caller's memo of units already covers (row, GPCI, setting, floor), so a unit priced
    # here is one whose breakdown is new too, and a second memo would only be missed and filled.
    parts, notes = breakdown(rvu, gpci, setting, line.service_date)
    fee = fee_schedule_amount(parts)
    extra: list[Adjustment] = []
    amount = _unit_amount(line, rvu, parts, fee, notes, extra)
    return _Unit(rvu, parts, fee, amount, tuple(notes), tuple(extra))  # by position: no keyword dict per unit


def _unit_amount(line: ServiceLine, rvu: Rvu, parts: RvuBreakdown, fee: Decimal, notes: list[str],
                 extra: list[Adjustment]) -> Decimal | None:
    """One unit's amount after the status and payment modifier rules (None: carrier priced), in cents; records
    why on ``notes`` and ``extra``."""
    status = rules()["status"][rvu.status]
    pay = status["pay"]
    if pay == "none":
        notes.append(f"status {rvu.status}: {status['meaning']}; the PFS pays nothing for it"
                     + ("; its RVUs are published for other payers" if rvu.not_used_for_medicare else ""))
        return ZERO_CENTS
    if pay == "carrier" or not fee:
        notes.append(f"status {rvu.status}: {status['meaning']}" + ("" if pay == "carrier" else
                     "; no RVUs are published, so the MAC prices it"))
        return None
    if pay == "fee-alone":
        notes.append(f"status T: {status['meaning']}")
    if rvu.opps_nonfac_pe and parts.setting == "non-facility":
        notes.append("the non-facility amount is subject to the OPPS cap (DRA section 5102(b)); the OPPS cap "
                     "file is not in this release, so the amount is not capped")
    if not line.modifiers:
        return fee  # no payment modifier (most units): the fee itself, in cents already
    factor = _modifier_rules(line, rvu, extra, notes)
    return None if factor is None else cents(fee * factor)


def _family(work: _Work, bases: set[str]) -> str | None:
    """The endoscopic family (base code) of a line, for multiple-endoscopy rules; None if not an endoscopy."""
    if work.rvu is not None and work.rvu.mult_proc == "3" and work.rvu.endo_base:
        return work.rvu.endo_base
    return work.code if work.code in bases else None


def _rank_procedures(works: list[_Work], pfs: Pfs) -> None:
    """Multiple surgery (ch.12 §40.6): on one date, rank by fee; 100 percent for the highest, then less."""
    indicators = rules()["multiple-procedure"]["indicators"]
    by_date: dict[date, list[_Work]] = {}
    for w in works:
        if w.rvu is None or not w.unit:
            continue
        meaning = indicators.get(w.rvu.mult_proc, {})
        if meaning.get("ranked"):
            by_date.setdefault(w.line.service_date, []).append(w)
        elif meaning.get("not_applied"):
            w.notes.append(f"multiple procedure indicator {w.rvu.mult_proc}: {meaning['meaning']}")
    for day, group in by_date.items():
        if len(group) == 1 and group[0].line.units == _ONE:
            continue  # one procedure alone on its date (an endoscopic family of one): nothing to rank or reduce
        bases = {w.rvu.endo_base for w in group if w.rvu and w.rvu.mult_proc == "3" and w.rvu.endo_base}
        # items: (value ranked, [(work, its share)]); an endoscopic family ranks as one item.
        families: dict[str, list[tuple[_Work, Decimal]]] = {}
        items: list[tuple[Decimal, list[tuple[_Work, Decimal]]]] = []
        for w in group:
            unit, units = w.unit or _ZERO, w.line.units
            if units == _ONE:  # most lines
                count, share = 1, unit
            elif units == units.to_integral_value() and units <= 99:
                count, share = int(units), unit  # each unit is a procedure
            else:  # absurd unit counts (an MUE matter) are ranked as one item
                count, share = 1, cents(unit * units)
            family = _family(w, bases) if bases else None  # no endoscopy on the date: no family
            for _ in range(count):
                if family is None:
                    items.append((share, [(w, share)]))
                else:
                    families.setdefault(family, []).append((w, share))
        for base, members in families.items():
            items.append(_endoscopy_family(base, members, pfs))
        if len(items) < 2 and all(len(shares) < 2 for _, shares in items):
            continue
        items.sort(key=itemgetter(0), reverse=True)
        for rank, (_, shares) in enumerate(items, start=1):
            for w, share in shares:
                if len(items) < 2:  # one endoscopic family alone: only its own reductions apply
                    w.amount = (w.amount or _ZERO) + share
                    continue
                adjustment = _ranked(w.rvu.mult_proc if w.rvu else "2", rank, len(items), day)
                w.extra.append(adjustment)
                w.amount = (w.amount or _ZERO) + cents(share * adjustment.factor)


@lru_cache(maxsize=4096)
def _ranked(indicator: str, rank: int, count: int, day: date) -> Adjustment:
    """The multiple-procedure adjustment of the ``rank``-th of ``count`` procedures on ``day``; memoised, as a
    batch ranks the same few (indicator, rank, count) on the same dates over and over. Half the calls of a batch
    are new (rank, count, date) keys: what does not depend on the date comes from ``_rank_terms``."""
    rule, percent, reason, cite = _rank_terms(indicator, rank, count)
    return Adjustment(rule=rule, factor=percent, reason=f"multiple procedures on {iso_date(day)}: {reason}", cite=cite)


@lru_cache(maxsize=1024)
def _rank_terms(indicator: str, rank: int, count: int) -> tuple[str, Decimal, str, str]:
    """``_ranked``'s rule, factor, reason after the date, and citation: the same on every date."""
    data = rules()["multiple-procedure"]
    factors = _factors(indicator)
    percent, shown = factors[min(rank, len(factors)) - 1]
    reason = f"ranked {rank} of {count} by fee, {shown} percent"
    if rank > data["by_report_after"]:
        reason += "; the MAC prices procedures after the fifth by report"
    return f"multiple-procedure.{indicator}", percent, reason, data["cite"]


@cache
def _factors(indicator: str) -> tuple[tuple[Decimal, str], ...]:
    """The multiple-procedure indicator's payment factors by rank, each with its percent as printed."""
    factors = rules()["multiple-procedure"]["indicators"][indicator].get("factors", ["1"])
    return tuple((percent, f"{percent * 100:g}") for percent in map(Decimal, factors))


def _endoscopy_family(base: str, members: list[tuple[_Work, Decimal]],
                      pfs: Pfs) -> tuple[Decimal, list[tuple[_Work, Decimal]]]:
    """Highest endoscopy in full; each other one its fee minus the base endoscopy's fee (never below 0)."""
    members.sort(key=lambda m: m[1], reverse=True)
    first = members[0][0]
    base_rvu = pfs.rvu(base)
    base_fee = Decimal(0)
    if base_rvu is not None and first.setting is not None:
        _, _, base_fee = cached_breakdown(base_rvu, first.gpci, first.setting, first.line.service_date)
    shares = [members[0]]
    for w, share in members[1:]:
        reduced = max(share - base_fee, Decimal(0))
        w.notes.append(f"multiple endoscopy (family of {base}): {share} minus the base code's {base_fee}")
        shares.append((w, reduced))
    return sum((s for _, s in shares), Decimal(0)), shares


def _bundle_injections(works: list[_Work]) -> None:
    """Status T lines are paid only when no other PFS-payable service is billed on the same date."""
    payable = {w.line.service_date for w in works if w.rvu and w.rvu.status in ("A", "R", "C") and w.unit != _ZERO}
    for w in works:
        if w.rvu is not None and w.rvu.status == "T" and w.unit and w.line.service_date in payable:
            w.notes.append("status T bundled: another PFS-payable service is billed on the same date")
            w.unit = ZERO_CENTS


def _finish(works: list[_Work], pfs: Pfs) -> list[LineFee]:
    _bundle_injections(works)
    _rank_procedures(works, pfs)
    done = []
    for w in works:
        amount = w.amount
        if amount is None and w.unit is not None:
            # one unit (most lines): the unit amount itself, already in cents (a quantize per line saved)
            amount = w.unit if w.line.units == _ONE else cents(w.unit * w.line.units)
        allowed = amount
        if amount is not None and _ZERO < w.charge < amount:
            allowed = w.charge
            w.notes.append(f"the charge {w.charge} is below the fee schedule amount: Medicare allows the lower")
        done.append(LineFee(line=w.line.number, code=w.code, modifiers=tuple(w.line.modifiers),
                            service_date=w.line.service_date, units=w.line.units, setting=w.setting,
                            locality=w.locality, releases=w.releases,
                            status=w.status, breakdown=w.breakdown, fee_schedule_amount=w.fee_schedule_amount,
                            amount=amount, allowed=allowed, problems=w.problems, adjustments=tuple(w.extra),
                            notes=tuple(w.notes)))
    return done


@lru_cache(maxsize=1024)
def _setting_of(pfs: Pfs, code: str) -> tuple[Setting | None, str | None]:
    """Facility or non-facility from a place-of-service code (ch.12 §20.4.2), or why it cannot say; memoised per
    reader and code (asked for every line, and a batch bills from a handful of places)."""
    pos = pfs.place_of_service(code) if code.strip().isdigit() else None
    if pos is None or pos.setting is None:
        what = "unassigned" if pos is not None else "not a CMS place-of-service code"
        return None, f"place of service {code!r} is {what}"
    return ("facility" if pos.setting == "facility" else "non-facility"), None


def _price_lines(lines: Sequence[ServiceLine], *, codesets: Codesets, gpci: Gpci | None, locality: str | None,
                 settings: Sequence[tuple[Setting | None, str | None]]) -> list[LineFee]:
    """Price ``lines`` (``settings[i]`` is line i's setting, or None and why not) with the claim-level rules."""
    known = _release_of(codesets)
    pfs, release, releases, rvus_from = known.pfs, known.release, known.ids, known.rvus_from
    works = []
    for line, (setting, why) in zip(lines, settings, strict=True):
        covers = release.covers(line.service_date)
        try:
            work = _price_one(line, pfs=pfs, gpci=gpci, locality=locality, setting=setting, covers=covers,
                              releases=releases)
        except MedcoderError as e:  # bad input never stops the claim: the line reports it
            work = _Work(line=line, code=line.code, setting=setting, locality=locality, releases=releases,
                         problems=(_problem(line, e.code, e.message, e.fix),))
        if why is not None:
            work.problems = (*work.problems, _problem(
                line, "E813", why, "Use a two-digit CMS place-of-service code (11 office, 21 inpatient, ...)"))
        if covers and line.service_date < rvus_from:
            work.notes.append(known.rvus_note)
        work.charge = line.charge
        works.append(work)
    return _finish(works, pfs)


def price_line(line: ServiceLine, *, codesets: Codesets, locality: str | None, facility: bool,
               claim_lines: Sequence[ServiceLine] = ()) -> LineFee:
    """Price one line in a locality (None = national) and setting.

    ``claim_lines`` are the claim's lines (including this one) when the claim-level rules must apply:
    multiple-procedure ranking and status-T bundling look at the other lines of the same date. Raises
    ``ClaimError`` (E811/E812) for a bad locality; problems of the line itself are returned on the result.
    """
    gpci = resolve_locality(codesets.pfs, locality)
    lines = list(claim_lines)
    if line not in lines:
        lines.append(line)
    mine = lines.index(line)
    setting: Setting = "facility" if facility else "non-facility"
    settings = [(setting, None) if i == mine or other.place_of_service is None
                else _setting_of(codesets.pfs, other.place_of_service) for i, other in enumerate(lines)]
    return _price_lines(lines, codesets=codesets, gpci=gpci, locality=locality, settings=settings)[mine]


def price_claim(claim: Claim, codesets: Codesets) -> FeeSchedulePrice:
    """Price every line of a professional claim; never raises for bad input (problems are returned)."""
    try:
        if claim.kind != "professional":
            raise ClaimError(f"claim {claim.claim_id} is {claim.kind}: the PFS prices professional claims",
                             code="E815", where=claim.claim_id, fix="Price institutional claims with MS-DRG")
        gpci = resolve_locality(codesets.pfs, claim.locality)
        releases = _release_of(codesets).ids
    except MedcoderError as e:
        problem = PriceProblem(code=e.code, message=e.message, fix=e.fix)
        unpriced = tuple(LineFee(line=line.number, code=line.code, modifiers=tuple(line.modifiers),
                                 service_date=line.service_date, units=line.units, setting=None,
                                 locality=claim.locality, notes=(f"not priced: {e.message}",))
                         for line in claim.lines)
        return FeeSchedulePrice(claim_id=claim.claim_id, locality=claim.locality, lines=unpriced, problems=(problem,))
    settings = [_setting_of(codesets.pfs, line.place_of_service or claim.place_of_service) for line in claim.lines]
    fees = _price_lines(claim.lines, codesets=codesets, gpci=gpci, locality=claim.locality, settings=settings)
    return FeeSchedulePrice(claim_id=claim.claim_id, locality=claim.locality, lines=tuple(fees), releases=releases)
