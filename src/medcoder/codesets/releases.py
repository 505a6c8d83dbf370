"""Which release is in force on a date of service.

Why per kind: the sources differ (Tabular FY2026-April, Index FY2025-April, PCS FY2025/FY2026, HCPCS
quarterly), so each kind picks its own release and says honestly when the one in force is not available
and a neighbour stands in. ICD-10 fiscal years start October 1, with possible April 1 updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from medcoder.codesets.sources import Release
from medcoder.errors import ReleaseError

ICD10_START = date(2015, 10, 1)


def fiscal_year(day: date) -> int:
    """ICD-10 fiscal year of a date: FY2026 runs 2025-10-01 .. 2026-09-30."""
    return day.year + 1 if day.month >= 10 else day.year


def icd10_release_label(day: date) -> str:
    """The ICD-10 update in force on a date, e.g. ``FY2026`` or ``FY2026-APR``."""
    fy = fiscal_year(day)
    return f"FY{fy}-APR" if 4 <= day.month <= 9 else f"FY{fy}"


def hcpcs_quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


_QUARTERLY = frozenset({"hcpcs", "ncci-ptp", "ncci-mue", "ncci-aoc"})
_CALENDAR = frozenset({"pfs", "hcc"})


def release_label(kind: str, day: date) -> str:
    """How a kind names the release in force on a date: HCPCS and NCCI by quarter, the fee schedule and
    risk-adjustment models by calendar year, ICD-10 and its editors by fiscal year."""
    if kind in _QUARTERLY:
        return hcpcs_quarter(day)
    if kind in _CALENDAR:
        return f"CY{day.year}"
    return icd10_release_label(day)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseChoice:
    release: Release
    in_force: bool
    """True when the release's effective window covers the date asked."""
    note: str | None = None


def check_date(day: date, horizon: date) -> None:
    """Refuse dates no release can answer for, naming the valid range."""
    if day < ICD10_START:
        raise ReleaseError(
            f"date of service {day.isoformat()} is before ICD-10 took effect on {ICD10_START.isoformat()}",
            code="E401", where=day.isoformat(),
            fix="Encounters before 2015-10-01 are coded in ICD-9-CM, which medcoder does not support",
        )
    if day > horizon:
        raise ReleaseError(
            f"date of service {day.isoformat()} is after the newest release medcoder has "
            f"(valid through {horizon.isoformat()})", code="E402", where=day.isoformat(),
            fix="Add the newer official release to the mirror and run 'medcoder data build'",
        )


def choose(kind: str, day: date, releases: list[Release]) -> ReleaseChoice:
    """The release covering ``day``; else the latest one before it; else the earliest one after it."""
    mine = sorted((r for r in releases if r.kind == kind), key=lambda r: r.effective_from)
    if not mine:
        raise ReleaseError(f"no {kind} release is available", code="E403", where=kind,
                           fix="Run 'medcoder data build'")
    for release in reversed(mine):
        if release.covers(day):
            return ReleaseChoice(release=release, in_force=True)
    earlier = [r for r in mine if r.effective_to < day]
    stand_in = earlier[-1] if earlier else mine[0]
    # The note names the missing release, not the date asked (the caller reports that date beside it): every
    # date that wants the same missing release gets the same choice, so code sets opened for those dates are
    # one object, and their readers' per-release tables are shared (``service.claims.codesets_for``).
    return ReleaseChoice(
        release=stand_in, in_force=False,
        note=f"{kind} {release_label(kind, day)} is not available; using {stand_in.id} "
             f"({stand_in.effective_from.isoformat()}..{stand_in.effective_to.isoformat()})",
    )
