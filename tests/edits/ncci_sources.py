"""Independent readings of the mirrored NCCI files, shared by the NCCI tests.

Read with ``lzma``/``csv``/``openpyxl`` and plain string tests, never with the builders' parsers, so a
builder's mistake cannot hide in the expected values.
"""

from __future__ import annotations

import csv
import lzma
from datetime import date, timedelta
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

import openpyxl

from medcoder.codesets.sources import Release, find_release

PTP = find_release("ncci-ptp", "2024-Q3")
MUE = find_release("ncci-mue", "2026-Q2")
AOC = find_release("ncci-aoc", "2026-Q2")
DAY = date(2026, 5, 4)
# Pairs looked up in the source tables below (by ptp_scan) before any test relies on them.
WATCHED = {("29881", "29877"), ("11042", "97597"), ("45380", "45378"), ("99214", "99211"), ("10004", "36591")}


def quiet(message: str) -> None:
    pass


def mirror_file(mirror: Path, release: Release, key: str) -> Path:
    return mirror / next(f.relpath for f in release.files if f.key == key)


# -- independent readings of the source files ---------------------------------------------------------------

@cache
def ptp_scan(path: Path) -> dict[str, Any]:
    """Row count, rows not deleted, rows of the WATCHED pairs, and a pair whose only row ends 2024-06-30.

    The table is sorted by pair, so a pair's rows are consecutive: a group of one row is a pair listed once.
    """
    count = active = 0
    watched: dict[tuple[str, str], list[list[str]]] = {}
    only_ended: tuple[str, str, str] | None = None
    group: list[list[str]] = []
    with lzma.open(path, "rt", encoding="ascii", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["column_1", "column_2", "deletion_date", "modifier_indicator", "ptp_edit_rationale"]
        for row in chain(reader, [["", "", "", "", ""]]):   # a sentinel closes the last group
            if group and row[:2] != group[0][:2]:
                if only_ended is None and len(group) == 1 and group[0][2] == "20240630" and group[0][3] in "01":
                    only_ended = (group[0][0], group[0][1], group[0][3])
                group = []
            group.append(row)
            if not row[0]:
                break
            count += 1
            active += row[2] == "99991231"
            if (row[0], row[1]) in WATCHED:
                watched.setdefault((row[0], row[1]), []).append(row)
    return {"rows": count, "not_deleted": active, "watched": watched, "only_ended": only_ended}


@cache
def mue_rows(path: Path) -> dict[str, tuple[int, int, str]]:
    """code -> (MUE, MAI digit, rationale), from the rows after the 'HCPCS/ CPT Code' header."""
    out: dict[str, tuple[int, int, str]] = {}
    with path.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, r in enumerate(rows) if r and r[0].replace("\n", "").startswith("HCPCS/CPT"))
    for row in rows[start + 1:]:
        out[row[0]] = (int(row[1]), int(row[2][0]), row[3])
    return out


@cache
def aoc_rows(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple(r) for r in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    book.close()
    return rows


def julian(text: str | None) -> date:
    return date.max if text is None else date(int(text[:4]), 1, 1) + timedelta(days=int(text[4:]) - 1)


