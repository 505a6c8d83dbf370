"""Answer Tabular List questions from a built KB: does this code exist, is it billable, what is it called,
what is above and below it, which notes and 7th characters apply.

Why in-memory dicts loaded lazily: the coding and edits stages ask about every suggested code, often
many times per record, so ``get`` must cost a dictionary lookup, not a query (the whole hierarchy is
~47,000 rows, a few MB). Notes are read with indexed queries because they are asked for far less often.
7th-character codes (``S39.012A``, ``T40.2X1A``) are synthesised from the ``sevenChrDef`` that applies,
following the Tabular's rule: "For codes less than 6 characters that require a 7th character a
placeholder X should be assigned for all characters less than 6".
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, cast

from medcoder.errors import NotFoundError, ReleaseError
from medcoder.model.code import CodeRef, normalize_icd10cm

Level = Literal["category", "subcategory", "code"]
NoteLevel = Literal["introduction", "chapter", "block", "category", "subcategory", "code"]
NoteKind = Literal["inclusionTerm", "includes", "excludes1", "excludes2", "codeFirst", "useAdditionalCode",
                   "codeAlso", "notes", "sevenChrNote", "sevenChrDef", "visualImpairment", "instruction"]

INHERITED_KINDS: frozenset[str] = frozenset({
    "includes", "excludes1", "excludes2", "codeFirst", "useAdditionalCode", "codeAlso", "notes",
    "sevenChrNote", "sevenChrDef"})
"""Note kinds that apply to every code below the level that prints them (Guideline I.A.12: an Excludes
note under a category applies to all its codes). Inclusion terms and the H54 visual-impairment table
describe only the code they are printed under, so they are not inherited."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Chapter:
    number: int
    title: str
    first: str
    last: str

    @property
    def range(self) -> str:
        return f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A section of a chapter (``E08-E13``); ``parent`` is the enclosing block, if any (``T20-T32``)."""

    id: str
    title: str
    first: str
    last: str
    chapter: int
    parent: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TabularEntry:
    """One code of the Tabular, printed (``E11.22``) or a synthesised 7th-character code (``S39.012A``).

    ``billable`` means valid on a claim: a leaf needing no 7th character, or a 7th-character code.
    ``needs_seventh`` marks a leaf such as ``S39.012`` that is only billable with a 7th character;
    ``seventh`` is the 7th character of a synthesised code; ``seventh_from`` the code whose
    ``sevenChrDef`` applies (``S39``), if any.
    """

    code: str
    title: str
    level: Level
    billable: bool
    parent: str | None
    category: str
    block: str
    chapter: int
    needs_seventh: bool = False
    seventh: str | None = None
    seventh_from: str | None = None

    @property
    def undotted(self) -> str:
        return self.code.replace(".", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """One printed note line with the codes it references and where it was printed.

    ``level``/``source`` say where it came from (``"category"``/``"S39"``, ``"block"``/``"S30-S39"``,
    ``"chapter"``/``"19"``), so a coder can see why an inherited Excludes1 applies. ``group`` numbers
    the XML element, so "any associated:" and its list items stay together. ``character`` is the 7th
    character a ``sevenChrDef`` line describes.
    """

    kind: NoteKind
    text: str
    codes: tuple[str, ...]
    level: NoteLevel
    source: str
    group: int
    character: str | None = None


@dataclass(slots=True, kw_only=True)
class _Index:
    version: str
    entries: dict[str, TabularEntry]
    by_bare: dict[str, TabularEntry]
    span: dict[str, tuple[int, int]]
    order: list[TabularEntry]
    children: dict[str, list[TabularEntry]]
    seventh: dict[str, dict[str, str]]
    rules: dict[tuple[str, str], tuple[str, str]]
    chapters: dict[int, Chapter]
    blocks: dict[str, Block]


def _choices(codes: list[str], limit: int = 12) -> str:
    shown = ", ".join(codes[:limit])
    return shown if len(codes) <= limit else f"{shown} ... ({len(codes) - limit} more)"


class Tabular:
    """Read-only view of the ICD-10-CM Tabular tables of a KB. Safe to share across threads."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._index: _Index | None = None
        self._lock = threading.Lock()
        # Synthesised 7th-character entries, memoised by the spelling asked (bounded: at most the
        # ~51,000 real 7th-character codes in a few spellings each).
        self._made: dict[str, TabularEntry] = {}
        # Printed code needing a 7th character -> its allowed 7th characters (``_allowed``), for ``owner_place``.
        self._sevenths: dict[str, dict[str, str]] = {}
        # The KB is read-only (opened immutable): notes and reference checks are memoised per release.
        self._notes_memo: dict[tuple[str, bool, frozenset[str] | None], tuple[Note, ...]] = {}
        self._at_memo: dict[tuple[str, str, str], tuple[Note, ...]] = {}
        self._covers_memo: dict[tuple[str, str], bool] = {}
        self._inherited_memo: dict[tuple[str, str, frozenset[str] | None], tuple[Note, ...]] = {}
        self._rows: dict[tuple[str, str], list[tuple[str, str, str, int, str | None]]] | None = None

    # -- loading -------------------------------------------------------------------------------------

    def _idx(self) -> _Index:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._load()
        return self._index

    def _load(self) -> _Index:
        try:
            info = dict(self._conn.execute("SELECT key, value FROM tabular_info"))
            rows = self._conn.execute(
                "SELECT code, title, level, parent, block, chapter, leaf, seventh_from, seq, seq_end "
                "FROM tabular_code ORDER BY seq").fetchall()
            seventh_rows = self._conn.execute(
                "SELECT owner, character, title FROM tabular_seventh ORDER BY owner, seq").fetchall()
            rule_rows = self._conn.execute(
                "SELECT category, sixth, excluded, note FROM tabular_seventh_rule").fetchall()
            chapters = {n: Chapter(number=n, title=t, first=f, last=la) for n, t, f, la in
                        self._conn.execute("SELECT number, title, first, last FROM tabular_chapter "
                                           "ORDER BY seq")}
            blocks = {i: Block(id=i, title=t, first=f, last=la, chapter=c, parent=p) for i, t, f, la, c, p in
                      self._conn.execute("SELECT id, title, first, last, chapter, parent "
                                         "FROM tabular_block ORDER BY seq")}
        except sqlite3.OperationalError as e:
            raise ReleaseError(f"this knowledge base has no ICD-10-CM Tabular tables ({e})", code="E401",
                               fix="Build the ICD-10-CM KB first (codesets.icd10cm_tabular.build)") from e
        seventh: dict[str, dict[str, str]] = {}
        for owner, char, title in seventh_rows:
            seventh.setdefault(owner, {})[char] = title
        idx = _Index(version=info.get("version", "?"), entries={}, by_bare={}, span={}, order=[],
                     children={}, seventh=seventh,
                     rules={(c, s): (x, n) for c, s, x, n in rule_rows}, chapters=chapters, blocks=blocks)
        for code, title, level, parent, block, chapter, leaf, seventh_from, seq, seq_end in rows:
            entry = TabularEntry(code=code, title=title, level=level,
                                 billable=bool(leaf) and not seventh_from, parent=parent, category=code[:3],
                                 block=block, chapter=chapter,
                                 needs_seventh=bool(leaf) and bool(seventh_from), seventh_from=seventh_from)
            idx.entries[code] = entry
            idx.by_bare[code.replace(".", "")] = entry
            idx.span[code] = (seq, seq_end)
            idx.order.append(entry)
            if parent is not None:
                idx.children.setdefault(parent, []).append(entry)
        return idx

    # -- point lookups -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The ``<version>`` of the Tabular XML the KB was built from (e.g. ``"2026"``)."""
        return self._idx().version

    def get(self, code: str) -> TabularEntry | None:
        """The entry for ``code`` in any form normalize_icd10cm accepts, or None if it is not in the
        Tabular (``E11.99``). Raises CodeFormatError for malformed input (``E11.``)."""
        idx = self._index or self._idx()
        # Fast path: printed codes as written in the book, dotted or not (the common case in batches).
        entry = idx.entries.get(code) or idx.by_bare.get(code) or self._made.get(code)
        if entry is not None:
            return entry
        norm = normalize_icd10cm(code)
        entry = idx.entries.get(norm)
        if entry is not None or len(norm) != 8:
            return entry
        base = self._base_of(idx, norm.replace(".", ""))
        if base is None:
            return None
        title = self._allowed(idx, base).get(norm[-1])
        if title is None:
            return None
        made = self._expansion(base, norm[-1], title)
        if len(self._made) < 250_000:
            self._made[code] = made
        return made

    def require(self, code: str, *, billable: bool = True) -> TabularEntry:
        """Like :meth:`get`, but raise NotFoundError (E501-E505) saying what to code instead; with
        ``billable=True`` (the default) headers and codes lacking their 7th character are refused too."""
        entry = self.get(code)
        if entry is None:
            raise self._not_found(normalize_icd10cm(code))
        if billable and not entry.billable:
            if entry.needs_seventh:
                chars = self._allowed(self._idx(), entry)
                listed = ", ".join(f"{c} ({t})" for c, t in chars.items())
                codes = [self._expansion(entry, c, t).code for c, t in chars.items()]
                raise NotFoundError(f"{entry.code} requires a 7th character: {listed}", code="E503",
                                    where=entry.code, fix=f"Use one of {_choices(codes)}")
            below = [c.code for c in self.children(entry.code)]
            raise NotFoundError(f"{entry.code} is a {entry.level} header, not billable", code="E502",
                                where=entry.code,
                                fix=f"Choose one of {_choices(below)} (or a code below them)")
        return entry

    def _not_found(self, norm: str) -> NotFoundError:
        idx = self._idx()
        bare = norm.replace(".", "")
        where = f"ICD-10-CM {idx.version} Tabular"
        if len(bare) == 7 and (base := self._base_of(idx, bare)) is not None:
            chars = self._allowed(idx, base)
            why = ""
            rule = idx.rules.get((bare[:3], bare[5]))
            if rule and bare[6] in rule[0]:
                why = f" ({base.category} note: {rule[1]})"
            valid = ", ".join(f"{c} ({t})" for c, t in chars.items())
            return NotFoundError(f"{norm} is not a code in the {where}: 7th character {bare[6]} is not "
                                 f"valid for {base.code}{why}", code="E504", where=norm,
                                 fix=f"Valid 7th characters: {valid}")
        if 5 <= len(bare) <= 7:
            stem, char = bare[:-1], bare[-1]
            for k in range(3, len(stem) + 1):
                guess = stem[:k] + "X" * (6 - len(stem)) + stem[k:] + char
                if len(guess) == 7 and (hit := self.get(guess)) is not None:
                    return NotFoundError(f"{norm} is not a code in the {where}: the placeholder X is "
                                         "missing", code="E505", where=norm,
                                         fix=f"Did you mean {hit.code} ({hit.title})?")
        for n in range(len(bare) - 1, 2, -1):
            near = idx.by_bare.get(bare[:n])
            if near is not None:
                if near.billable:
                    detail = "which is billable"
                elif near.needs_seventh:
                    detail = f"which needs a 7th character ({', '.join(self._allowed(idx, near))})"
                else:
                    detail = f"whose codes are {_choices([c.code for c in self.children(near.code)])}"
                return NotFoundError(f"{norm} is not a code in the {where}", code="E501", where=norm,
                                     fix=f"The closest code is {near.code} '{near.title}', {detail}")
        return NotFoundError(f"{norm} is not a code in the {where}: category {bare[:3]} does not exist",
                             code="E501", where=norm,
                             fix="Check the first three characters, or search the Index by term")

    @staticmethod
    def _base_of(idx: _Index, bare: str) -> TabularEntry | None:
        """The printed leaf a 7-character code extends: S39012A -> S39.012, O401XX0 -> O40.1."""
        stem = bare[:6]
        while (base := idx.by_bare.get(stem)) is None:
            if len(stem) <= 3 or not stem.endswith("X"):
                return None
            stem = stem[:-1]
        return base if base.needs_seventh else None

    @staticmethod
    def _allowed(idx: _Index, entry: TabularEntry) -> dict[str, str]:
        """7th characters valid for ``entry``, minus those a note withdraws (S06 with 6th character 7/8)."""
        if entry.seventh_from is None:
            return {}
        chars = idx.seventh[entry.seventh_from]
        if entry.needs_seventh and idx.rules:
            bare = entry.undotted[:6].ljust(6, "X")
            rule = idx.rules.get((bare[:3], bare[5]))
            if rule is not None:
                return {c: t for c, t in chars.items() if c not in rule[0]}
        return chars

    @staticmethod
    def _expansion(base: TabularEntry, char: str, title: str) -> TabularEntry:
        bare = base.undotted.ljust(6, "X") + char
        return TabularEntry(code=f"{bare[:3]}.{bare[3:]}", title=f"{base.title}, {title}", level="code",
                            billable=True, parent=base.code, category=base.category, block=base.block,
                            chapter=base.chapter, seventh=char, seventh_from=base.seventh_from)

    # -- hierarchy -----------------------------------------------------------------------------------

    def chapter(self, number: int) -> Chapter | None:
        return self._idx().chapters.get(number)

    def chapters(self) -> list[Chapter]:
        return list(self._idx().chapters.values())

    def block(self, block_id: str) -> Block | None:
        """A block by id (``E08-E13``, ``B10``); blocks are not codes, so they have their own lookup."""
        return self._idx().blocks.get(block_id.strip().upper())

    def blocks(self, *, chapter: int | None = None) -> list[Block]:
        return [b for b in self._idx().blocks.values() if chapter is None or b.chapter == chapter]

    def categories(self, *, block: str | None = None) -> list[TabularEntry]:
        """Categories in Tabular order, of one block (including its nested blocks) or of all."""
        idx = self._idx()
        wanted: set[str] | None = None
        if block is not None:
            wanted = {block.strip().upper()}
            for b in idx.blocks.values():  # blocks are listed outer-first, so one pass finds all nested
                if b.parent in wanted:
                    wanted.add(b.id)
        return [e for e in idx.order if e.level == "category" and (wanted is None or e.block in wanted)]

    def children(self, code: str) -> list[TabularEntry]:
        """Codes one level down; for a leaf needing a 7th character, its 7th-character codes."""
        idx = self._idx()
        entry = self.require(code, billable=False)
        if entry.needs_seventh:
            return [self._expansion(entry, c, t) for c, t in self._allowed(idx, entry).items()]
        return list(idx.children.get(entry.code, ())) if entry.seventh is None else []

    def ancestors(self, code: str, *, include_self: bool = False) -> list[TabularEntry | Block | Chapter]:
        """Parent first, up to the category, its block(s) and chapter: ``S39.012A`` -> ``S39.012``,
        ``S39.01``, ``S39.0``, ``S39``, block ``S30-S39``, chapter 19."""
        idx = self._idx()
        entry = self.require(code, billable=False)
        chain: list[TabularEntry | Block | Chapter] = [entry] if include_self else []
        parent = entry.parent
        while parent is not None:
            chain.append(idx.entries[parent])
            parent = idx.entries[parent].parent
        block: str | None = entry.block
        while block is not None:
            chain.append(idx.blocks[block])
            block = idx.blocks[block].parent
        chain.append(idx.chapters[entry.chapter])
        return chain

    def position(self, code: str) -> int | None:
        """``code``'s place in Tabular order (a 7th-character code at its parent's place), the key ``covers``
        compares; None when the code is not in the Tabular. Exposed so that a caller testing many references
        against one code (claim edits) looks the code up once and compares integers."""
        entry = self.get(code)
        if entry is None:
            return None
        return self._idx().span[entry.parent if entry.seventh and entry.parent else entry.code][0]

    def bounds(self, ref: str) -> tuple[int, int] | None:
        """The Tabular-order interval ``ref`` covers when both its ends are Tabular codes, else None (then
        only ``covers`` can answer). ``covers(ref, code)`` equals ``lo <= position(code) <= hi`` for such refs.
        Raises CodeFormatError for a reference the parser cannot read."""
        r = CodeRef.parse(ref)
        idx = self._idx()
        lo, hi = idx.span.get(r.first), idx.span.get(r.last)
        return (lo[0], hi[1]) if lo and hi else None

    def covers(self, ref: str | CodeRef, code: str) -> bool:
        """Whether a note reference (``E11.-``, ``I10-I16``, ``N18.1-N18.6``) includes ``code``.

        Ranges follow Tabular order, not text order: ``C76-C80`` does not include ``C7A``.
        """
        if isinstance(ref, str):
            key = (ref, code)
            hit = self._covers_memo.get(key)
            if hit is None:
                if len(self._covers_memo) >= 500_000:
                    self._covers_memo.clear()
                hit = self._covers_memo[key] = self.covers(CodeRef.parse(ref), code)
            return hit
        idx = self._idx()
        r = ref
        entry = self.get(code)
        if entry is None:
            return False
        seq = idx.span[entry.parent if entry.seventh and entry.parent else entry.code][0]
        lo, hi = idx.span.get(r.first), idx.span.get(r.last)
        bare = entry.undotted
        first, last = r.first.replace(".", ""), r.last.replace(".", "")
        above = seq >= lo[0] if lo else bare[:len(first)] >= first
        below = seq <= hi[1] if hi else bare[:len(last)] <= last
        return above and below

    # -- notes and 7th characters --------------------------------------------------------------------

    def seventh_characters(self, code: str) -> dict[str, str]:
        """7th characters valid for ``code`` and what they mean; empty when none applies."""
        entry = self.require(code, billable=False)
        idx = self._idx()
        base = idx.entries[entry.parent] if entry.seventh and entry.parent else entry
        return dict(self._allowed(idx, base))

    def notes(self, code: str, *, inherited: bool = True,
              kinds: frozenset[str] | None = None, memo: bool = True) -> list[Note]:
        """Notes that apply to ``code``, nearest level first, each saying where it was printed.

        With ``inherited`` the notes of every parent code, block(s) and chapter are added (kinds in
        INHERITED_KINDS). 7th-character definitions come only from the nearest level that defines
        them: S12.8's replaces S12's. ``memo=False`` skips the per-code memo, for a caller that keeps its
        own per-code result (the claim edits): a second copy per code only adds objects for the garbage
        collector to walk.
        """
        if not memo:
            return self._notes(code, inherited, kinds)
        key = (code, inherited, kinds)
        found = self._notes_memo.get(key)
        if found is None:
            found = self._notes_memo[key] = tuple(self._notes(code, inherited, kinds))
        return list(found)

    def note_owner(self, code: str) -> str:
        """The printed code whose notes and place in Tabular order ``code`` has: ``code`` itself (dotted), or
        for a 7th-character code the code it extends (``S39.012A`` -> ``S39.012``). Raises like
        ``require(code, billable=False)``. Lets a caller that sorts notes per code share that work among a
        code's 7th-character extensions; only ``sevenChrDef`` notes differ between them."""
        idx = self._index or self._idx()
        if (code not in idx.entries and code not in idx.by_bare and code not in self._made
                and len(norm := normalize_icd10cm(code)) == 8 and norm not in idx.entries):
            # A 7th-character code seen for the first time: its owner without synthesising its entry (``get``
            # would build one only for this answer).
            base = self._base_of(idx, norm.replace(".", ""))
            if base is not None and norm[-1] in self._allowed(idx, base):
                return base.code
        entry = self.require(code, billable=False)
        return entry.parent if entry.seventh and entry.parent else entry.code

    def owner_place(self, code: str) -> tuple[str, int] | None:
        """(``note_owner(code)``, ``position(code)``) of a code spelled as ``normalize_icd10cm`` returns it, or None
        when it is not a Tabular code (where ``note_owner`` raises). One step for a caller that asks both of
        many codes it has already normalised (claim edits): no second normalisation, and no 7th-character entry
        synthesised only to be asked its parent."""
        idx = self._index or self._idx()
        entry = idx.entries.get(code)
        if entry is None:
            if len(code) != 8:
                return None
            entry = self._seventh_base(idx, code)
            if entry is None:
                return None
        return entry.code, idx.span[entry.code][0]

    def _seventh_base(self, idx: _Index, code: str) -> TabularEntry | None:
        """The printed code that the dotted 8-character ``code`` extends when its 7th character is valid there, else
        None (``_base_of`` and ``_allowed``). Why not those alone: claims bring new 7th-character codes all the
        time, and the printed code is usually the code's first 7 characters (``S39.012A``: one look-up, only a
        placeholder X as in ``O40.1XX0`` needs ``_base_of``'s walk), and its allowed characters are memoised per
        printed code where ``_allowed`` works them out again at each call."""
        base = idx.entries.get(code[:7])
        if base is None:
            base = self._base_of(idx, code.replace(".", ""))
            if base is None:
                return None
        elif not base.needs_seventh:
            return None
        allowed = self._sevenths.get(base.code)
        if allowed is None:
            allowed = self._sevenths[base.code] = self._allowed(idx, base)
        return base if code[-1] in allowed else None

    def prints_notes(self, code: str, kinds: frozenset[str]) -> bool:
        """Whether the printed code ``code`` (dotted, as in the book) itself prints a note of one of ``kinds``.

        A code that prints none of some inherited kinds has exactly its parent's notes of those kinds (the same
        Note objects, in the same order): a caller sorting notes per code can take its parent's result."""
        return any(row[0] in kinds for row in self._note_rows().get(("code", code), ()))

    def _notes(self, code: str, inherited: bool, kinds: frozenset[str] | None) -> list[Note]:
        idx = self._idx()
        entry = self.require(code, billable=False)
        own = idx.entries[entry.parent] if entry.seventh and entry.parent else entry
        if kinds is not None and not self.prints_notes(own.code, kinds):
            out = []  # none of the kinds asked is printed here (most leaves print inclusion terms only)
        else:
            out = [note for note in self._notes_at("code", own.code, own.level)
                   if (kinds is None or note.kind in kinds)
                   and not (note.kind == "sevenChrDef" and own.code != entry.seventh_from)]
        if inherited:
            above = [*self._inherited_chain(idx, own.parent, kinds), *self._inherited_tail(own.block, own.chapter,
                                                                                        kinds)]
            out += [note for note in above if note.kind != "sevenChrDef" or note.source == entry.seventh_from]
        return out

    def _inherited_chain(self, idx: _Index, code: str | None, kinds: frozenset[str] | None) -> tuple[Note, ...]:
        """The inherited notes (of ``kinds``) printed at ``code`` and its parent codes, nearest first. Memoised
        per code: the codes below one category share it, so a new code costs its own notes only."""
        if code is None:
            return ()
        key = ("code", code, kinds)
        found = self._inherited_memo.get(key)
        if found is None:
            entry = idx.entries[code]
            here = tuple(note for note in self._notes_at("code", code, entry.level)
                         if note.kind in INHERITED_KINDS and (kinds is None or note.kind in kinds))
            found = self._inherited_memo[key] = here + self._inherited_chain(idx, entry.parent, kinds)
        return found

    def _inherited_tail(self, block: str | None, chapter: int, kinds: frozenset[str] | None) -> tuple[Note, ...]:
        """The inherited notes (of ``kinds``) printed at ``block``, its enclosing blocks and ``chapter``."""
        key = ("block", f"{block}|{chapter}", kinds)
        found = self._inherited_memo.get(key)
        if found is None:
            idx = self._idx()
            owners: list[tuple[str, str, NoteLevel]] = []
            while block is not None:
                owners.append(("block", idx.blocks[block].id, "block"))
                block = idx.blocks[block].parent
            owners.append(("chapter", str(idx.chapters[chapter].number), "chapter"))
            found = self._inherited_memo[key] = tuple(
                note for owner_kind, owner, level in owners for note in self._notes_at(owner_kind, owner, level)
                if note.kind in INHERITED_KINDS and (kinds is None or note.kind in kinds))
        return found

    def introduction(self) -> list[Note]:
        """The Tabular's own introduction (conventions: Includes, Excludes1/2, 7th characters ...)."""
        rows = self._conn.execute("SELECT DISTINCT owner FROM tabular_note WHERE owner_kind = 'introduction' "
                                  "ORDER BY seq").fetchall()
        return [n for (owner,) in rows for n in self._notes_at("introduction", owner, "introduction")]

    def _notes_at(self, owner_kind: str, owner: str, level: NoteLevel) -> tuple[Note, ...]:
        found = self._at_memo.get((owner_kind, owner, level))
        if found is None:
            found = self._at_memo[(owner_kind, owner, level)] = tuple(self._read_notes(owner_kind, owner, level))
        return found

    def _read_notes(self, owner_kind: str, owner: str, level: NoteLevel) -> list[Note]:
        rows = self._note_rows().get((owner_kind, owner), ())
        return [Note(kind=cast(NoteKind, kind), text=text, codes=tuple(json.loads(codes)), level=level,
                     source=owner, group=grp, character=char) for kind, text, codes, grp, char in rows]

    def _note_rows(self) -> dict[tuple[str, str], list[tuple[str, str, str, int, str | None]]]:
        """Every note row by owner, in printed order, read in one query once per release: a batch of claims
        asks about thousands of distinct codes, and one query per code and parent cost more than the table
        (~27,000 rows)."""
        if self._rows is None:
            rows: dict[tuple[str, str], list[tuple[str, str, str, int, str | None]]] = {}
            for owner_kind, owner, *row in self._conn.execute(
                    "SELECT owner_kind, owner, kind, text, codes, grp, character FROM tabular_note "
                    "ORDER BY owner_kind, owner, seq"):
                rows.setdefault((owner_kind, owner), []).append(cast(tuple[str, str, str, int, str | None],
                                                                     tuple(row)))
            self._rows = rows
        return self._rows

    # -- enumeration ---------------------------------------------------------------------------------

    def entries(self, *, level: Level | None = None) -> Iterator[TabularEntry]:
        """Every code printed in the Tabular, in Tabular order (7th-character codes are not printed)."""
        return (e for e in self._idx().order if level is None or e.level == level)

    def billable_codes(self) -> Iterator[TabularEntry]:
        """Every billable code in Tabular order, 7th-character codes right after the code they extend."""
        idx = self._idx()
        for entry in idx.order:
            if entry.billable:
                yield entry
            elif entry.needs_seventh:
                for char, title in self._allowed(idx, entry).items():
                    yield self._expansion(entry, char, title)

    def count(self, *, level: Level | None = None, billable: bool | None = None) -> int:
        """How many entries match, counting synthesised 7th-character codes (level ``code``, billable)."""
        idx = self._idx()
        n = sum(1 for e in idx.order if (level is None or e.level == level)
                and (billable is None or e.billable == billable))
        if level in (None, "code") and billable in (None, True):
            n += sum(len(self._allowed(idx, e)) for e in idx.order if e.needs_seventh)
        return n
