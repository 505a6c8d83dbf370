"""The arithmetic of the Physician Fee Schedule: the payment rules, RVU x GPCI terms and rounding to cents.

Why apart from ``pricing/pfs.py``: the terms of one (RVU row, GPCI row, setting) are pure functions of read-only
release data, computed once and reused by every line that bills the code (``cached_breakdown``).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from medcoder.codesets.pfs import STATUS_CODES, Gpci, Rvu
from medcoder.errors import ClaimError
from medcoder.model.fee import RvuBreakdown, Setting
from medcoder.model.memo import remember

CENT = Decimal("0.01")
ZERO_CENTS = Decimal("0.00")
"""A unit the PFS pays nothing for, in cents like every other unit amount (its line shows ``0.00``)."""
_NATIONAL_GPCI = Decimal("1.000")
"""Every GPCI of national amounts (no locality), written as the GPCI file writes them."""
_PAY = {"fee", "fee-alone", "carrier", "none"}
_ASSISTANT_SECTIONS = ("assistant", "co-surgeon", "team-surgery", "bilateral")


@cache
def rules() -> dict[str, Any]:
    """The PFS payment rules, validated once: a typo in the data must not silently change a price."""
    data: dict[str, Any] = json.loads(
        resources.files("medcoder.pricing").joinpath("data/pfs_rules.json").read_text("utf-8"))
    bad = [s for s, r in data["status"].items() if s not in STATUS_CODES or r["pay"] not in _PAY]
    bad += [s for s in _ASSISTANT_SECTIONS if not set(data[s]["indicators"]) >= {"0", "9"}]
    if bad or data["rounding"]["mode"] != "ROUND_HALF_UP":
        raise ClaimError(f"pfs_rules.json is invalid at {bad}", code="E818", where="pricing/data/pfs_rules.json",
                         fix="Correct the rule data; every status code needs a known 'pay' value")
    return data


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to cents. The rounding is passed by position: ``quantize`` matches a keyword
    against its parameter names, which took half of each call (every fresh line rounds one or two amounts)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


@cache
def _floor_dates() -> tuple[date, date]:
    floor_rule = rules()["work_gpci_floor"]
    return date.fromisoformat(floor_rule["from"]), date.fromisoformat(floor_rule["to"])


@lru_cache(maxsize=4096)
def floor_applies(day: date) -> bool:
    """Whether the 1.0 work GPCI floor is in force on ``day``; memoised per date (asked for every line)."""
    start, end = _floor_dates()
    return start <= day <= end


# (id(rvu), id(gpci), setting, floored) -> (rvu, gpci, breakdown, notes, amount): the readers keep their rows
# alive and the terms are pure functions of them, so each is computed once; the objects kept guard the ids.
_BREAKDOWNS: dict[tuple[int, int, str, bool], tuple[Rvu, Gpci | None, RvuBreakdown, tuple[str, ...], Decimal]] = {}


def cached_breakdown(rvu: Rvu, gpci: Gpci | None, setting: Setting,
                      day: date) -> tuple[RvuBreakdown, tuple[str, ...], Decimal]:
    """``breakdown`` and its fee schedule amount, memoized per (RVU row, GPCI row, setting, floor)."""
    start, end = _floor_dates()
    key = (id(rvu), id(gpci), setting, start <= day <= end)
    hit = _BREAKDOWNS.get(key)
    if hit is None or hit[0] is not rvu or hit[1] is not gpci:
        parts, notes = breakdown(rvu, gpci, setting, day)
        hit = remember(_BREAKDOWNS, key, (rvu, gpci, parts, tuple(notes), fee_schedule_amount(parts)), 100_000)
    return hit[2], hit[3], hit[4]


def breakdown(rvu: Rvu, gpci: Gpci | None, setting: Setting, day: date) -> tuple[RvuBreakdown, list[str]]:
    """The RVU x GPCI terms of one code, and notes on which PE RVU and work GPCI were used and why."""
    notes: list[str] = []
    start, end = _floor_dates()
    floored = start <= day <= end
    pe_setting: Setting = setting
    if setting == "non-facility" and rvu.nonfac_na:
        pe_setting = "facility"
        notes.append("non-facility PE RVU is NA (not developed for an office setting): the facility PE RVU is "
                     "used, as in CMS's payment file")
    elif setting == "facility" and rvu.fac_na:
        notes.append("facility PE RVU is NA: the service is not expected to be billed by a practitioner in a "
                     "facility (the facility bills it); the published facility PE RVU is used")
    one = _NATIONAL_GPCI
    work_gpci = one if gpci is None else (gpci.work_gpci_floor if floored else gpci.work_gpci)
    return RvuBreakdown(
        work_rvu=rvu.work_rvu, pe_rvu=rvu.fac_pe_rvu if pe_setting == "facility" else rvu.nonfac_pe_rvu,
        mp_rvu=rvu.mp_rvu, work_gpci=work_gpci, pe_gpci=one if gpci is None else gpci.pe_gpci,
        mp_gpci=one if gpci is None else gpci.mp_gpci, conversion_factor=rvu.conversion_factor,
        setting=pe_setting, work_gpci_floor=floored and gpci is not None), notes


def fee_schedule_amount(parts: RvuBreakdown) -> Decimal:
    """(work + PE + MP terms) x CF to cents: ``adjusted_rvus`` written out, the same products in the same order
    without four property calls (every new unit a batch meets comes here)."""
    p = parts
    return cents((p.work_rvu * p.work_gpci + p.pe_rvu * p.pe_gpci + p.mp_rvu * p.mp_gpci) * p.conversion_factor)
