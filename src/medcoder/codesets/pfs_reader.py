"""Reader of a built PFS knowledge base: RVUs of a code, GPCIs of a locality, places of service, CMS amounts.

Why apart from the builder (as ``icd10pcs_reader``): pricing imports only these small read-side types, and the
builder's parsing of five CMS layouts stays out of every process that only prices claims.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

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


_RVU_SELECT = "SELECT * FROM rvu"
_DECIMALS = {"work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total", "fac_total", "conversion_factor",
             "opps_nonfac_pe", "opps_fac_pe", "opps_mp"}
_FLAGS = {"not_used_for_medicare", "nonfac_na", "fac_na"}
_NO_ROWS: dict[str, tuple[object, ...]] = {}


def _or_none(value: object) -> object:
    return value or None


def split_locality(locality: str) -> tuple[str, str] | None:
    """``'01112-05'`` -> ``('01112', '05')``; None when it is not in that form."""
    match = re.fullmatch(r"\s*(\d{5})-(\d{2})\s*", locality)
    return (match[1], match[2]) if match else None


class Pfs:
    """Reader: RVUs of a code, GPCIs of a locality, the conversion factor, places of service, CMS amounts."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # Interned: they become ``Rvu``'s keyword names, and the interpreter matches a keyword to a parameter by
        # identity first; a name read from SQLite is a new string, so each keyword fell back to comparing its text
        # with every parameter name (29 x 29 string comparisons per row).
        self._columns = [sys.intern(d[1]) for d in conn.execute("PRAGMA table_info(rvu)")]
        self._converters: tuple[tuple[int, Callable[[object], object]], ...] | None = None
        self._decimal_columns: tuple[int, ...] = ()
        self._decimals: dict[object, Decimal] = {}
        # The KB is read-only (opened immutable): rows are read once per release.
        self._built: dict[tuple[str, str], Rvu] = {}
        self._raw: dict[str, dict[str, tuple[object, ...]]] | None = None
        self._by_modifier: dict[str, Mapping[str, Rvu]] = {}
        self._gpcis: dict[tuple[str, str], Gpci | None] = {}
        self._pos: dict[str, PlaceOfService | None] = {}
        self._info: Mapping[str, str] | None = None

    def _rvu(self, row: tuple[object, ...]) -> Rvu:
        converters = self._converters
        if converters is None:
            # The columns that need a conversion and how, sorted out once per release rather than once per value;
            # the other columns (text) are taken as they are.
            converters = self._converters = tuple(
                (i, bool if key in _FLAGS else _or_none)
                for i, key in enumerate(self._columns) if key in _FLAGS or key == "endo_base")
            self._decimal_columns = tuple(i for i, key in enumerate(self._columns) if key in _DECIMALS)
        values = list(row)
        decimals = self._decimals
        for i in self._decimal_columns:  # ten per row: the shared Decimal of the text, without a call per value
            found = decimals.get(values[i])
            values[i] = found if found is not None else self._decimal(values[i])
        for i, convert in converters:
            values[i] = convert(values[i])
        return Rvu(**dict(zip(self._columns, values, strict=True)))  # type: ignore[arg-type]

    def _decimal(self, value: object) -> Decimal:
        """The column text as a Decimal, one shared object per distinct text: the RVU file repeats few values
        (0.00, the conversion factor ...) and a batch meets thousands of new codes, each row ten numbers."""
        found = self._decimals.get(value)
        if found is None:
            found = self._decimals[value] = Decimal(str(value))
        return found

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
            hcpcs, modifier = self._columns.index("hcpcs"), self._columns.index("modifier")
            for row in self._conn.execute(f"{_RVU_SELECT} ORDER BY hcpcs, modifier"):
                self._raw.setdefault(row[hcpcs], {})[row[modifier]] = row
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
