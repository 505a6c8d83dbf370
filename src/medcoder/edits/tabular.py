"""Rule set ``tabular``: the Tabular List's instructional notes, checked across the codes of one claim.

Why a separate rule set: these are conventions between codes, not properties of one code. Guideline
I.A.12.a: an Excludes1 note means "NOT CODED HERE", so the two codes are not reported together (unless
the two conditions are unrelated, the guideline's own exception, which only documentation can show: we
report and let the coder decide). Guideline I.A.13: a manifestation code ("code first" the underlying
condition) is sequenced after its etiology and never reported alone. "Use additional code" notes name a
companion code that the payer (and risk adjustment) expects; a missing one is advice, not an error.

Notes are read with the Tabular reader's inheritance (a category's Excludes1 applies to all its codes), so
each finding can name the note's text and the category, block or chapter it is printed under.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from medcoder.codesets.codesets import Codesets
from medcoder.codesets.icd10cm_tabular import Note, Tabular
from medcoder.edits.codes import DxView, dx_view, dx_windows, listing, release_label
from medcoder.model.claim import Claim
from medcoder.model.findings import EditFinding, Severity
from medcoder.model.memo import IdentityMemo, remember

RULE_SET = "tabular"
_KINDS = frozenset({"excludes1", "codeFirst", "useAdditionalCode"})
_MANIFESTATION_TITLE = "diseases classified elsewhere"


@dataclass(frozen=True, slots=True)
class _Refs:
    """A note's code references as Tabular-order intervals, so "does this note cover code X" is one binary search
    per code of the claim; references whose ends are not Tabular codes stay text for ``Tabular.covers``."""

    starts: tuple[int, ...]
    """Merged, disjoint intervals in Tabular order: ``starts[i]..ends[i]``."""
    ends: tuple[int, ...]
    other: tuple[str, ...]
    low: int
    """``starts[0]``, and ``high`` is ``ends[-1]`` (``low > high`` without intervals): a claim's code outside this
    span is rejected by two comparisons, without the binary search (nearly every code, for nearly every note)."""
    high: int

    @classmethod
    def of(cls, tabular: Tabular, refs: Sequence[str]) -> _Refs:
        return cls.merged([_ref_bounds(tabular, ref) for ref in refs])

    @classmethod
    def merged(cls, parts: Sequence[_RefBounds]) -> _Refs:
        """The references whose bounds are ``parts`` (``_ref_bounds`` of each, in order) as one ``_Refs``."""
        spans: list[tuple[int, int]] = []
        other: list[str] = []
        for bounds, ref in parts:
            if bounds is not None:
                spans.append(bounds)
            elif ref is not None:
                other.append(ref)
        if not spans:
            return cls((), (), tuple(other), 0, -1)
        spans.sort()
        starts, ends = [spans[0][0]], [spans[0][1]]
        for lo, hi in spans[1:]:
            if lo <= ends[-1] + 1:
                if hi > ends[-1]:
                    ends[-1] = hi
            else:
                starts.append(lo)
                ends.append(hi)
        return cls(tuple(starts), tuple(ends), tuple(other), starts[0], ends[-1])

    def cover(self, tabular: Tabular, position: int | None, code: str) -> bool:
        """Whether any reference includes ``code`` (at ``position``, from ``Tabular.position``): one code, so no
        loop or list (it runs per pair of codes for Excludes1 and "code first" notes)."""
        if position is not None and self.low <= position <= self.high:
            if position <= self.ends[bisect_right(self.starts, position) - 1]:  # an index >= 0: position >= low
                return True
        return bool(self.other) and self._cover_other(tabular, code)

    def cover_any(self, tabular: Tabular, coded: Sequence[tuple[int | None, str]], skip: str | None = None) -> bool:
        """Whether any reference includes one of ``coded`` ((position, code) pairs) other than ``skip``: the
        interval search over the references' Tabular-order spans, then the references only ``Tabular.covers`` can
        answer. A loop returning at the first match, no list built: it runs for every "use additional code" note
        of every code of every claim."""
        starts, ends, other, low, high = self.starts, self.ends, self.other, self.low, self.high
        for position, code in coded:
            if code == skip:
                continue
            if position is not None and low <= position <= high:
                if position <= ends[bisect_right(starts, position) - 1]:  # an index >= 0: position >= low
                    return True
            if other and self._cover_other(tabular, code):
                return True
        return False

    def covered(self, tabular: Tabular, coded: Sequence[tuple[int | None, str]]) -> set[str]:
        """The codes of ``coded`` ((position, code) pairs) that some reference includes (the checks of
        ``cover_any``, for every code)."""
        starts, ends, other, low, high = self.starts, self.ends, self.other, self.low, self.high
        found: set[str] = set()
        if not (starts or other):
            return found
        for position, code in coded:
            if position is not None and low <= position <= high:
                if position <= ends[bisect_right(starts, position) - 1]:  # an index >= 0: position >= low
                    found.add(code)
                    continue
            if other and self._cover_other(tabular, code):
                found.add(code)
        return found

    def _cover_other(self, tabular: Tabular, code: str) -> bool:
        for ref in self.other:
            try:
                if tabular.covers(ref, code):
                    return True
            except (ValueError, LookupError):
                continue
        return False


@dataclass(frozen=True, slots=True)
class _CodeNotes:
    """One code's instructional notes, sorted by use. Shared by every code with the same note list (a code that
    prints none of ``_KINDS`` has its parent's object): the code's place in Tabular order is kept apart, in
    ``_ReaderMemo.position``, so a new code costs two dictionary entries and no new object."""

    excludes1: tuple[tuple[Note, _Refs], ...]
    excluded: _Refs
    """Every Excludes1 reference of the code at once: most pairs of codes on a claim are rejected with it."""
    first: tuple[Note, ...]
    """The "code first" notes; ``first_refs`` are the codes they name, in order."""
    first_refs: tuple[str, ...]
    first_match: _Refs
    first_under: str
    """``where_printed`` of the first "code first" note ("" without one), worked out with the notes, not per claim."""
    first_text: str
    """What the first note asks to code first (its lead line, or the codes it names), as findings quote it."""
    first_texts: tuple[str, ...]
    """The "code first" notes' texts."""
    additional: tuple[tuple[_Refs, str], ...]
    """Per "use additional code" group with references: (the codes it names, its text)."""


_NO_REFS = _Refs((), (), (), 0, -1)
_NO_NOTES = _CodeNotes((), _NO_REFS, (), (), _NO_REFS, "", "", (), ())


_RefBounds = tuple[tuple[int, int] | None, str | None]
"""A reference's Tabular-order interval, or (None, the reference) when only ``Tabular.covers`` can answer, or
(None, None) for a reference the parser cannot read."""

_Placed = tuple[int | None, _CodeNotes]
"""A code's place in Tabular order (``Tabular.position``; None when not a Tabular code) and its sorted notes."""


@dataclass(slots=True)
class _ReaderMemo:
    """What the rule set keeps per Tabular reader (the reader is kept with it, so ids stay valid): each
    reference's bounds; each note's references' bounds, by the note's identity (the reader hands out the same
    Note objects for every code that inherits them, so a block's Excludes1 list is parsed once, not once per code
    below it); each code's place in Tabular order with its sorted notes, each owner code's sorted notes, and
    sorted notes shared by siblings with the same note list."""

    tabular: Tabular
    refs: dict[str, _RefBounds] = field(default_factory=dict)
    notes: IdentityMemo[Note, tuple[_RefBounds, ...]] = field(default_factory=lambda: IdentityMemo(1 << 20))
    known: dict[str, _Placed] = field(default_factory=dict)
    """Every printed code's and every 7th-character code's place and notes, filled once per reader
    (``_fill_owners``): a claim's code is nearly always one of them, so a code never seen before costs one
    look-up."""
    others: dict[str, _Placed] = field(default_factory=dict)
    """The same for the other codes claims brought (unknown codes, unusual spellings), filled as they come."""
    by_owner: dict[str, _CodeNotes] = field(default_factory=dict)
    shared: dict[tuple[int, ...], tuple[list[Note], _CodeNotes]] = field(default_factory=dict)
    filled: bool = False
    """Whether ``_fill_owners`` has run (or is running) for this reader."""


_MEMOS: IdentityMemo[Tabular, _ReaderMemo] = IdentityMemo(64)
"""Per Tabular reader (a batch shares a few): readers are not hashable by value."""


def _memo(tabular: Tabular) -> _ReaderMemo:
    memo = _MEMOS.get(tabular, _ReaderMemo)
    if not memo.filled:  # remembered before it is filled: the fill reads the notes' bounds through this memo
        memo.filled = True
        _fill_owners(memo)
    return memo


def _fill_owners(memo: _ReaderMemo) -> None:
    """Every printed code's sorted notes, in ``memo.by_owner``, and every billable code's place and notes, in
    ``memo.known``, once per Tabular reader (about 0.7 s for the 47,000 printed and 51,000 7th-character codes,
    twice as long as loading the Tabular itself). Why all at once: claims bring codes not seen before all the time
    (a batch of fresh claims, mostly), and walking up to the nearest code whose notes are known cost more per new
    code than the rest of the rule set; in Tabular order a parent comes before its children, so each printed code
    here costs one step (``_placed`` fills ``memo.by_owner`` as it goes)."""
    known, tabular = memo.known, memo.tabular
    for entry in tabular.entries():
        known[entry.code] = _placed(memo, entry.code)
    for entry in tabular.billable_codes():  # the printed billable codes again, and the 7th-character codes
        if entry.code not in known:
            known[entry.code] = _placed(memo, entry.code)


def _ref_bounds(tabular: Tabular, ref: str) -> _RefBounds:
    refs = _memo(tabular).refs
    hit = refs.get(ref)
    if hit is None:
        try:
            bounds = tabular.bounds(ref)
        except (ValueError, LookupError):
            hit = (None, None)  # a reference the parser cannot read ("E00-E03.-" variants): no match, no crash
        else:
            hit = (bounds, None if bounds is not None else ref)
        refs[ref] = hit
    return hit


def _note_bounds(tabular: Tabular, note: Note) -> tuple[_RefBounds, ...]:
    return _memo(tabular).notes.get(note, lambda n: tuple([_ref_bounds(tabular, ref) for ref in n.codes]))


_MEMO_MAX = 131_072


def _code_notes(memo: _ReaderMemo, code: str) -> _Placed:
    """``_placed`` for a code that ``memo.known`` lacks, memoised per Tabular reader in ``memo.others``."""
    others = memo.others
    hit = others.get(code)
    if hit is None:
        hit = remember(others, code, _placed(memo, code), _MEMO_MAX)
    return hit


def _placed(memo: _ReaderMemo, code: str) -> _Placed:
    """The place in Tabular order and the sorted notes of ``code`` (dotted, as ``DxView.coded`` has it): a
    7th-character code has its owner's notes and place (``_KINDS`` has no ``sevenChrDef``)."""
    found = memo.tabular.owner_place(code)
    if found is None:
        return None, _NO_NOTES  # not a Tabular code: the validity rule set reports it
    owner, position = found
    return position, memo.by_owner.get(owner) or _owner_notes(memo, owner)


def _owner_notes(memo: _ReaderMemo, owner: str) -> _CodeNotes:
    """The ``_CodeNotes`` of ``owner``, a printed code (``Tabular.note_owner``), recorded in ``memo.by_owner``."""
    tabular = memo.tabular
    entry = tabular.get(owner)
    parent = entry.parent if entry is not None else None
    if parent is not None and not tabular.prints_notes(owner, _KINDS):
        # Guideline I.A.12: a code that prints none of these notes has its parent's, all inherited (every kind
        # of _KINDS is an inherited kind): the parent's object itself.
        above = memo.by_owner.get(parent)
        hit = above if above is not None else _owner_notes(memo, parent)
    else:
        notes = tabular.notes(owner, kinds=_KINDS, memo=False)
        # Most codes print none of these notes themselves and inherit all of them from their category, block
        # and chapter, so siblings share one list: sort it out once per list (by the notes' identities, which
        # the value keeps alive, so an id cannot be reused while its entry exists).
        key = tuple(map(id, notes))
        shared = memo.shared.get(key)
        if shared is None:
            shared = memo.shared[key] = (notes, _CodeNotes(*_sort_notes(tabular, notes)))
        hit = shared[1]
    memo.by_owner[owner] = hit
    return hit


def _sort_notes(tabular: Tabular, notes: list[Note]) -> tuple[Any, ...]:
    """``_CodeNotes``'s fields, from a code's notes."""
    first: list[Note] = []
    excludes1: list[Note] = []
    groups: dict[tuple[str, int], list[Note]] = {}
    for note in notes:
        if note.kind == "codeFirst":
            first.append(note)
        elif note.kind == "excludes1":
            excludes1.append(note)
        elif note.kind == "useAdditionalCode":
            groups.setdefault((note.source, note.group), []).append(note)
    additional = tuple((_Refs.merged([b for n in group for b in _note_bounds(tabular, n)]),
                        " ".join(n.text for n in group)) for group in groups.values()
                       if any(n.codes for n in group))
    first_refs = tuple(r for n in first for r in n.codes)
    under = text = ""
    if first:
        # The note's lead line ("the underlying physiological condition, such as:") and the codes it names.
        under = where_printed(tabular, first[0])
        text = listing(list(first_refs), 8)
        if not first[0].codes:
            text = f"{first[0].text.lstrip(' ,;:')} {text}"
    return (tuple((n, _Refs.merged(_note_bounds(tabular, n))) for n in excludes1),
            _Refs.merged([b for n in excludes1 for b in _note_bounds(tabular, n)]), tuple(first), first_refs,
            _Refs.merged([b for n in first for b in _note_bounds(tabular, n)]), under, text,
            tuple(n.text for n in first), additional)


@lru_cache(maxsize=65_536)
def where_printed(tabular: Tabular, note: Note) -> str:
    """``category E11 (Type 2 diabetes mellitus)``: where a note is printed, for a coder to find it."""
    title: str | None = None
    if note.level == "block":
        block = tabular.block(note.source)
        title = block.title if block else None
    elif note.level == "chapter":
        chapter = tabular.chapter(int(note.source)) if note.source.isdigit() else None
        title = chapter.title if chapter else None
    elif note.level != "introduction":
        entry = tabular.get(note.source)
        title = entry.title if entry else None
    return f"{note.level} {note.source}" + (f" ({title})" if title else "")


def check_tabular(claim: Claim, codesets: Codesets) -> list[EditFinding]:
    """Excludes1 pairs, "code first" order and omissions, and "use additional code" hints on one claim."""
    tabular = codesets.tabular
    view = dx_view(claim)
    coded = view.coded
    memo = _memo(tabular)
    known = memo.known  # the common case, looked up here without a call per code
    notes: dict[str, _CodeNotes] = {}
    places: dict[str, int | None] = {}
    placed: list[tuple[int | None, str]] = []  # (place in Tabular order, code), in sequence order
    firsts: list[tuple[int, int, str]] = []  # the diagnoses (as in ``coded``) with a "code first" note
    companions: list[tuple[int, int, str]] = []  # those with a "use additional code" note
    for dx in coded:
        code = dx[2]
        position, hit = known.get(code) or _code_notes(memo, code)
        notes[code], places[code] = hit, position
        placed.append((position, code))
        if hit.first_refs:
            firsts.append(dx)
        if hit.additional:
            companions.append(dx)
    pointed = view.lines
    out: list[EditFinding] = []
    labels: tuple[str | None, dict[str, Any]] | None = None  # the release label and note, once a finding needs them

    def add(rule: str, severity: Severity, message: str, codes: tuple[str, ...], indexes: Sequence[int],
            fix: str, details: dict[str, Any]) -> None:
        nonlocal labels
        if labels is None:
            labels = release_label(codesets, "icd10cm-tabular")
        release, stand_in = labels
        if not pointed:
            lines: tuple[int, ...] = ()
        elif len(indexes) == 1:
            lines = pointed.get(indexes[0], ())  # already in line order
        else:
            lines = tuple(sorted({n for i in indexes for n in pointed.get(i, ())}))
        out.append(EditFinding(rule_set=RULE_SET, rule=rule, severity=severity, message=message, codes=codes,
                               lines=lines, release=release, fix=fix,
                               details={**details, **stand_in} if stand_in else details))

    # Guideline I.A.12.a: Excludes1, checked both ways and reported once per pair.
    # Most codes have no Excludes1 reference, and most claims no excluded pair: look at pairs only when one is.
    excluded: dict[str, set[str]] = {}
    if len(coded) > 1:  # a claim with one code has no pair
        for c, hit in notes.items():  # a loop, not a comprehension (a function built per claim)
            refs = hit.excluded
            if refs.starts or refs.other:
                found = refs.covered(tabular, placed)
                if found:
                    excluded[c] = found
    for pos, (i, _, a) in enumerate(coded if excluded else ()):
        for j, _, b in coded[pos + 1:]:
            if a == b:
                continue  # a repeated code is the MCE's "duplicate of PDX" / completeness's business
            if b not in excluded.get(a, ()) and a not in excluded.get(b, ()):
                continue
            hits = [(x, n) for x, y in ((a, b), (b, a)) for n, refs in notes[x].excludes1
                    if refs.cover(tabular, places[y], y)]
            if not hits:
                continue
            code, note = hits[0]
            other = b if code == a else a
            add("tabular.excludes1", "error",
                f"{a} and {b} are not coded together: Excludes1 under {where_printed(tabular, note)}: "
                f"\"{note.text}\" (Guideline I.A.12.a)", (a, b), (i, j),
                f"Keep the code the documentation supports and drop {other}; both stay only when the two "
                "conditions are unrelated (Guideline I.A.12.a exception), which the record must show",
                {"notes": [{"code": x, "under": where_printed(tabular, n), "text": n.text} for x, n in hits]})

    # Guideline I.A.13: etiology/manifestation ("code first") sequencing.
    manifestations = _manifestation_codes(codesets, view, firsts) if firsts else set()
    for i, sequence, code in firsts:
        hit = notes[code]
        match = hit.first_match
        is_manifestation = code in manifestations
        etiologies: list[tuple[int, int, str]] = []
        if match.starts or match.other:
            for j, s, c in coded:
                if c != code and match.cover(tabular, places[c], c):
                    etiologies.append((j, s, c))
        under, text = hit.first_under, hit.first_text  # worked out once per note list
        details = {"under": under, "code_first": list(hit.first_refs), "note": list(hit.first_texts)}
        if not etiologies:
            add("tabular.code-first-missing", "error" if is_manifestation else "info",
                f"{code} says \"code first\" {text} ({under}); none of these codes is on the claim"
                + (" (a manifestation code is never reported alone, Guideline I.A.13)" if is_manifestation else ""),
                (code,), (i,), "Add the underlying condition's code and list it before " + code, details)
        elif all(s > sequence for _, s, _ in etiologies):
            names = ", ".join(c for _, _, c in etiologies)
            add("tabular.code-first-order", "error" if is_manifestation else "warning",
                f"{code} is listed before its underlying condition {names}; the Tabular says \"code first\" "
                f"({under}, Guideline I.A.13)", (code, *(c for _, _, c in etiologies)),
                (i, *(j for j, _, _ in etiologies)), f"Sequence {names} before {code}", details)

    # "Use additional code": a companion the note names and the claim lacks (advice only).
    for i, _, code in companions:
        missing: list[str] = []
        for add_refs, text in notes[code].additional:
            if add_refs.cover_any(tabular, placed, code):
                continue
            if text not in missing:
                missing.append(text)
        if missing:
            add("tabular.use-additional", "info",
                f"{code}: the Tabular says \"use additional {' / '.join(missing)}\", and no such code is on the "
                "claim", (code,), (i,),
                "Add the code the note names when the record documents it", {"instructions": missing})
    return out


def _manifestation_codes(codesets: Codesets, view: DxView, coded: Sequence[tuple[int, int, str]]) -> set[str]:
    """The codes of ``coded`` (entries of ``view.coded``) that are manifestations: the MCE attribute on the edit day,
    else the Tabular title's wording. The windows on that day are the claim's ``dx_windows``, which the validity
    and MCE rule sets look up too."""
    found: set[str] = set()
    on_day = dx_windows(view, codesets.mce).on_day if view.day is not None and "mce" in codesets.choices else None
    for index, _, code in coded:
        if on_day is not None:
            window = on_day[index]
            if window is not None:
                if "manifestation" in window.attributes:
                    found.add(code)
                continue
        entry = codesets.tabular.get(code)
        if entry is not None and _MANIFESTATION_TITLE in entry.title.lower():
            found.add(code)
    return found
