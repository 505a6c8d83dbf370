"""Reader of a built PFS knowledge base: RVUs of a code, GPCIs of a locality, places of service, CMS amounts.

Why apart from the builder (as ``icd10pcs_reader``): pricing imports only these small read-side types, and the
builder's parsing of five CMS layouts stays out of every process that only prices claims.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from medcoder.model.frozen import quick_init


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Rvu:
    """One PPRRVU row: RVUs and payment-policy indicators of a code (modifier '' = global service)."""

    hcpcs: str
    modifier: str
    status: str
    not_used_for_medicare: bool
    work_rvu: Decimal
    nonfac_pe_rvu: Decimal
    nonfac_na: bool
    """CMS has not developed a non-facility PE RVU (its payment file then repeats the facility amount)."""
    fac_pe_rvu: Decimal
    fac_na: bool
    mp_rvu: Decimal
    nonfac_total: Decimal
    fac_total: Decimal
    pctc: str
    global_days: str
    mult_proc: str
    bilateral: str
    assistant: str
    co_surgeon: str
    team_surgery: str
    endo_base: str | None
    conversion_factor: Decimal
    supervision: str
    imaging_family: str
    opps_nonfac_pe: Decimal
    opps_fac_pe: Decimal
    opps_mp: Decimal
    line: int
    """Line of the PPRRVU file the row came from (cited in price breakdowns)."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Gpci:
    mac: str
    locality: str
    state: str
    name: str
    work_gpci: Decimal
    """Without the 1.0 floor (Addendum E 'PW GPCI (without 1.0 Floor)')."""
    work_gpci_floor: Decimal
    pe_gpci: Decimal
    mp_gpci: Decimal

    @property
    def id(self) -> str:
        """``MAC-locality``, the form ``Claim.locality`` uses."""
        return f"{self.mac}-{self.locality}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOfService:
    code: str
    name: str
    setting: str | None
    """``facility``, ``non-facility``, or None for an unassigned code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedAmount:
    """CMS's own fee schedule amount of a code in a locality, from the PFREV payment file."""

    hcpcs: str
    modifier: str
    locality: str
    nonfac_amount: Decimal
    fac_amount: Decimal
    status: str
    pctc: str
    mult_surg: str


_RVU_COLUMNS = ("hcpcs", "modifier", "status", "not_used_for_medicare", "work_rvu", "nonfac_pe_rvu", "nonfac_na",
                "fac_pe_rvu", "fac_na", "mp_rvu", "nonfac_total", "fac_total", "pctc", "global_days", "mult_proc",
                "bilateral", "assistant", "co_surgeon", "team_surgery", "endo_base", "conversion_factor",
                "supervision", "imaging_family", "opps_nonfac_pe", "opps_fac_pe", "opps_mp", "line")
"""The RVU table's columns in the order ``Pfs._rvu`` reads them by position (hcpcs first, modifier second)."""
_RVU_SELECT = f"SELECT {', '.join(_RVU_COLUMNS)} FROM rvu"
_NO_ROWS: dict[str, tuple[object, ...]] = {}


class _Decimals(dict[object, Decimal]):
    """Column text -> one shared Decimal per distinct text: the RVU file repeats few values (0.00, the conversion
    factor ...) and a batch meets thousands of new codes, each row ten numbers; a miss converts and keeps it."""

    def __missing__(self, value: object) -> Decimal:
        found = self[value] = Decimal(str(value))
        return found


def split_locality(locality: str) -> tuple[str, str] | None:
    """``'01112-05'`` -> ``('01112', '05')``; None when it is not in that form."""
    match = re.fullmatch(r"\s*(\d{5})-(\d{2})\s*", locality)
    return (match[1], match[2]) if match else None


class Pfs:
    """Reader: RVUs of a code, GPCIs of a locality, the conversion factor, places of service, CMS amounts."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._decimals = _Decimals()
        # The KB is read-only (opened immutable): rows are read once per release.
        self._built: dict[tuple[str, str], Rvu] = {}
        self._raw: dict[str, dict[str, tuple[object, ...]]] | None = None
        self._by_modifier: dict[str, Mapping[str, Rvu]] = {}
        self._gpcis: dict[tuple[str, str], Gpci | None] = {}
        self._pos: dict[str, PlaceOfService | None] = {}
        self._info: Mapping[str, str] | None = None

    def _rvu(self, row: tuple[Any, ...]) -> Rvu:
        """The ``Rvu`` of a row read with ``_RVU_SELECT``: each keyword from its column's position in
        ``_RVU_COLUMNS`` (no dict of the 27 column names per row, which cost as much as the object)."""
        d = self._decimals
        return Rvu(hcpcs=row[0], modifier=row[1], status=row[2], not_used_for_medicare=bool(row[3]),
                   work_rvu=d[row[4]], nonfac_pe_rvu=d[row[5]], nonfac_na=bool(row[6]), fac_pe_rvu=d[row[7]],
                   fac_na=bool(row[8]), mp_rvu=d[row[9]], nonfac_total=d[row[10]], fac_total=d[row[11]],
                   pctc=row[12], global_days=row[13], mult_proc=row[14], bilateral=row[15], assistant=row[16],
                   co_surgeon=row[17], team_surgery=row[18], endo_base=row[19] or None, conversion_factor=d[row[20]],
                   supervision=row[21], imaging_family=row[22], opps_nonfac_pe=d[row[23]], opps_fac_pe=d[row[24]],
                   opps_mp=d[row[25]], line=row[26])

    def rvu(self, code: str, modifier: str = "") -> Rvu | None:
        """The code's row for ``modifier`` ('' = global), built on first use: most lines bill the global service
        alone, so a code's -26, -TC and -53 rows are not built until asked for."""
        key = (code.strip().upper(), modifier.strip().upper())
        found = self._built.get(key)
        if found is None:
            raw = self._raw_rows().get(key[0], _NO_ROWS).get(key[1])
            if raw is None:
                return None
            found = self._built[key] = self._rvu(raw)
        return found

    def modifiers(self, code: str) -> Collection[str]:
        """The modifiers the code has a row for ('' = global), in modifier order; empty for an unknown code."""
        return self._raw_rows().get(code.strip().upper(), _NO_ROWS).keys()

    def rvu_rows(self, code: str) -> Mapping[str, Rvu]:
        """The code's rows by modifier ('' = global), built once per code; read-only, shared by every caller."""
        key = code.strip().upper()
        found = self._by_modifier.get(key)
        if found is None:
            rows = {modifier: self.rvu(key, modifier) for modifier in self.modifiers(key)}
            found = self._by_modifier[key] = MappingProxyType({m: r for m, r in rows.items() if r is not None})
        return found

    def rvus(self, code: str) -> list[Rvu]:
        """Every row of a code: the global service and its -26, -TC or -53 rows."""
        return list(self.rvu_rows(code).values())

    def _raw_rows(self) -> dict[str, dict[str, tuple[object, ...]]]:
        """Every RVU row of the release by code and modifier, in modifier order, read in one query (19,000 rows):
        a batch meets thousands of distinct codes, and a query per new code cost more than reading the table
        once. A row becomes an ``Rvu`` object on first use."""
        if self._raw is None:
            self._raw = {}
            for row in self._conn.execute(f"{_RVU_SELECT} ORDER BY hcpcs, modifier"):
                self._raw.setdefault(row[0], {})[row[1]] = row
        return self._raw

    def gpci(self, locality: str) -> Gpci | None:
        """The locality's GPCI row; one object per locality, so results computed from it can be memoised."""
        key = split_locality(locality)
        if key is None:
            return None
        if key not in self._gpcis:
            row = self._conn.execute("SELECT * FROM gpci WHERE mac=? AND locality=?", key).fetchone()
            self._gpcis[key] = None if row is None else _gpci(row)
        return self._gpcis[key]

    def localities(self) -> list[Gpci]:
        return [_gpci(r) for r in self._conn.execute("SELECT * FROM gpci ORDER BY state, mac, locality")]

    def counties(self, locality: str) -> tuple[str, str] | None:
        """(fee schedule area, counties) of a locality, as the locality/county file words them."""
        key = split_locality(locality)
        row = None if key is None else self._conn.execute(
            "SELECT area, counties FROM county WHERE mac=? AND locality=?", key).fetchone()
        return None if row is None else (row[0], row[1])

    def place_of_service(self, code: str) -> PlaceOfService | None:
        if code not in self._pos:
            row = self._conn.execute("SELECT code, name, setting FROM place_of_service WHERE code=?",
                                     (code.strip().zfill(2),)).fetchone()
            self._pos[code] = None if row is None else PlaceOfService(code=row[0], name=row[1], setting=row[2])
        return self._pos[code]

    def info(self) -> dict[str, str]:
        return dict(self.info_view())

    def info_view(self) -> Mapping[str, str]:
        """``info`` without the copy (read-only), for the pricer's per-claim reads."""
        if self._info is None:
            self._info = MappingProxyType(dict(self._conn.execute("SELECT key, value FROM info").fetchall()))
        return self._info

    @property
    def conversion_factor(self) -> Decimal:
        return Decimal(self.info()["conversion_factor"])

    def published(self, code: str, locality: str, modifier: str = "") -> PublishedAmount | None:
        key = split_locality(locality)
        row = None if key is None else self._conn.execute(
            "SELECT hcpcs, modifier, mac || '-' || locality, nonfac_amount, fac_amount, status, pctc, mult_surg "
            "FROM published_amount WHERE hcpcs=? AND modifier=? AND mac=? AND locality=?",
            (code.strip().upper(), modifier, *key)).fetchone()
        return None if row is None else _published(row)

    def published_amounts(self) -> list[PublishedAmount]:
        return [_published(r) for r in self._conn.execute(
            "SELECT hcpcs, modifier, mac || '-' || locality, nonfac_amount, fac_amount, status, pctc, mult_surg "
            "FROM published_amount ORDER BY hcpcs, modifier, mac, locality")]


def _gpci(row: tuple[str, ...]) -> Gpci:
    mac, loc, state, name, work, floor, pe, mp = row
    return Gpci(mac=mac, locality=loc, state=state, name=name, work_gpci=Decimal(work),
                work_gpci_floor=Decimal(floor), pe_gpci=Decimal(pe), mp_gpci=Decimal(mp))


def _published(row: tuple[str, ...]) -> PublishedAmount:
    code, mod, loc, nonfac, fac, status, pctc, mult = row
    return PublishedAmount(hcpcs=code, modifier=mod, locality=loc, nonfac_amount=Decimal(nonfac),
                           fac_amount=Decimal(fac), status=status, pctc=pctc, mult_surg=mult)
