"""Ranked full-text search over titles, inclusion terms, index terms, PCS tables and HCPCS descriptions.

Why FTS5 with bm25 and an all-words-first strategy: a coder types a few words ("lateral epicondylitis
right"); results that contain every word must come before those that contain some, and Tabular titles
before index paths before the rest. Search finds candidates; it is not coding (the encoder walks the Index).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from medcoder.codesets.codesets import Codesets
from medcoder.errors import MedcoderError

_WORD = re.compile(r"[A-Za-z0-9]+")
_SYSTEM_OF_KIND = {
    "icd10cm-tabular": "ICD-10-CM", "icd10cm-index": "ICD-10-CM", "icd10pcs": "ICD-10-PCS", "hcpcs": "HCPCS",
}
# Tabular titles are the authority; inclusion terms and index entries lead to them.
_KIND_WEIGHT = {"title": 1.0, "inclusion": 0.85, "index": 0.8, "eindex": 0.7, "neoplasm": 0.7,
                "drug": 0.7, "pcs-table": 0.8, "pcs-index": 0.75, "hcpcs": 0.9, "hcpcs-modifier": 0.6}


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    system: str
    code: str
    kind: str
    text: str
    score: float
    release: str


def _query(words: list[str], *, all_words: bool) -> str:
    terms = [f'"{w}"*' if i == len(words) - 1 else f'"{w}"' for i, w in enumerate(words)]
    return (" AND " if all_words else " OR ").join(terms)


def _search_one(conn: sqlite3.Connection, query: str, limit: int) -> list[tuple[str, str, str, float]]:
    try:
        return list(conn.execute(
            "SELECT code, kind, text, bm25(search_fts) FROM search_fts WHERE search_fts MATCH ? "
            "ORDER BY bm25(search_fts) LIMIT ?", (query, limit)))
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []
        raise


DEFAULT_KINDS = ("icd10cm-tabular", "icd10cm-index", "icd10pcs", "hcpcs")


def search(codesets: Codesets, text: str, *, limit: int = 20,
           kinds: tuple[str, ...] = DEFAULT_KINDS) -> list[SearchHit]:
    """Best hits across the releases in ``codesets``, one per (system, code)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        raise MedcoderError(f"nothing to search for in {text!r}", code="E501", where="search text",
                            fix="Type one or more words, e.g. 'lateral epicondylitis'")
    best: dict[tuple[str, str], SearchHit] = {}
    for all_words in (True, False):
        for kind in kinds:
            if kind not in codesets.choices:
                continue
            conn = codesets.connection(kind)
            release = codesets.release(kind).id
            for code, hit_kind, hit_text, bm25 in _search_one(conn, _query(words, all_words=all_words),
                                                             limit * 3):
                if not code:
                    continue
                # bm25 is negative (more negative = better); weight it by how authoritative the row is.
                score = -bm25 * _KIND_WEIGHT.get(hit_kind, 0.5) * (2.0 if all_words else 1.0)
                key = (_SYSTEM_OF_KIND[kind], code)
                if key not in best or best[key].score < score:
                    best[key] = SearchHit(system=key[0], code=code, kind=hit_kind, text=hit_text,
                                          score=round(score, 3), release=release)
        if len(best) >= limit:
            break
    return sorted(best.values(), key=lambda h: (-h.score, h.code))[:limit]
