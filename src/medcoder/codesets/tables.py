"""The Table of Neoplasms and the Table of Drugs and Chemicals: a row of six codes for a site or a substance.

Why a reader of its own over the index tree: a coder uses the tables differently from the index — the path
picks a row and the documentation picks the column (behavior of a neoplasm; intent of a poisoning). A row
names its columns, so callers never index cells by position. Rows are walked with the same rules as the
Alphabetic Index (``AlphabeticIndex.walk``), so "see" references are followed and a site that the table
does not list falls back to the nearest printed row above it, flagged ``inherited``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from medcoder.codesets.icd10cm_index_model import DRUG_COLUMNS, NEOPLASM_COLUMNS, WalkResult, normalize
from medcoder.codesets.icd10cm_index_walk import AlphabeticIndex
from medcoder.errors import NotFoundError

_NEOPLASM_MAIN = frozenset({"neoplasm", "neoplastic", "neoplasm neoplastic"})


@dataclass(frozen=True, slots=True, kw_only=True)
class NeoplasmRow:
    """One row of the Table of Neoplasms. Columns are None where the table prints "-" (no such code).

    ``walk`` is the full evidence: path taken (main term "Neoplasm, neoplastic" first), cross-references met
    and followed. ``inherited`` says the site row itself printed no codes and the columns are an ancestor's.
    """

    site: tuple[str, ...]
    matched: bool
    term_id: int | None
    inherited: bool
    malignant_primary: str | None
    malignant_secondary: str | None
    ca_in_situ: str | None
    benign: str | None
    uncertain_behavior: str | None
    unspecified_behavior: str | None
    walk: WalkResult

    @property
    def columns(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in NEOPLASM_COLUMNS}

    @property
    def path(self) -> tuple[str, ...]:
        return self.walk.final.titles


@dataclass(frozen=True, slots=True, kw_only=True)
class DrugRow:
    """One row of the Table of Drugs and Chemicals. Columns are None where the table prints "--".

    The intent columns follow the table; Guideline I.C.19.e.5(b) codes a poisoning of unknown intent as
    accidental (``poisoning_accidental``).
    """

    substance: tuple[str, ...]
    matched: bool
    term_id: int | None
    inherited: bool
    poisoning_accidental: str | None
    poisoning_intentional_self_harm: str | None
    poisoning_assault: str | None
    poisoning_undetermined: str | None
    adverse_effect: str | None
    underdosing: str | None
    walk: WalkResult

    @property
    def columns(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DRUG_COLUMNS}

    @property
    def path(self) -> tuple[str, ...]:
        return self.walk.final.titles


class Tables:
    """Readers for the two tables of an index knowledge base (shares the walker's loaded books)."""

    def __init__(self, conn: sqlite3.Connection, *, index: AlphabeticIndex | None = None) -> None:
        self.index = index if index is not None else AlphabeticIndex(conn)

    def neoplasm(self, site_path: Sequence[str] | str) -> NeoplasmRow:
        """The row for a site: ``["colon"]``, ``["intestine", "large", "colon"]`` or ``"liver"``.

        The main term ("Neoplasm, neoplastic") may be given or left out; an empty path is the main term's
        row (site unspecified).
        """
        site = (site_path,) if isinstance(site_path, str) else tuple(site_path)
        if not site or normalize(site[0]) not in _NEOPLASM_MAIN:
            main = self.index.main_terms(book="neoplasm")
            if not main:
                raise NotFoundError("the Table of Neoplasms has no main term", code="E513",
                                    where="neoplasm", fix="Rebuild the KB with neoplasm_xml")
            query = (main[0].title, *site)
        else:
            query = site
        walk = self.index.walk(query, book="neoplasm", follow_see=True)
        cells = walk.cells or (None,) * len(NEOPLASM_COLUMNS)
        return NeoplasmRow(
            site=site, matched=walk.matched and walk.final.matched,
            term_id=walk.code_term_id, inherited=walk.code_is_default,
            malignant_primary=cells[0], malignant_secondary=cells[1], ca_in_situ=cells[2], benign=cells[3],
            uncertain_behavior=cells[4], unspecified_behavior=cells[5], walk=walk,
        )

    def drug(self, substance: Sequence[str] | str) -> DrugRow:
        """The row for a substance: ``"Oxycodone"``, ``"Aspirin"``, or a path ``["Acetic", "acid"]``.

        Raises :class:`NotFoundError` (E514) when no main term of the table names the substance.
        """
        query = (substance,) if isinstance(substance, str) else tuple(substance)
        walk = self.index.walk(query, book="drug", follow_see=True)
        if not walk.matched and isinstance(substance, str) and " " in substance.strip():
            # The table prints "acetic acid" as main term "Acetic", subterm "acid": try each word split.
            words = substance.split()
            for k in range(len(words) - 1, 0, -1):
                split = self.index.walk((" ".join(words[:k]), " ".join(words[k:])), book="drug",
                                        follow_see=True)
                if split.matched:
                    walk = split
                    break
        if not walk.steps:
            raise NotFoundError(f"{', '.join(query)!r} is not a substance in the Table of Drugs and Chemicals",
                                code="E514", where=", ".join(query),
                                fix="Try the generic name or the chemical class (the table lists both)")
        cells = walk.cells or (None,) * len(DRUG_COLUMNS)
        return DrugRow(
            substance=query, matched=walk.matched and walk.final.matched,
            term_id=walk.code_term_id, inherited=walk.code_is_default,
            poisoning_accidental=cells[0], poisoning_intentional_self_harm=cells[1], poisoning_assault=cells[2],
            poisoning_undetermined=cells[3], adverse_effect=cells[4], underdosing=cells[5], walk=walk,
        )
