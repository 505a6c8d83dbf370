"""Look a code up the way an encoder shows it: title, billable, validity on the date, notes, hierarchy.

Why one function across code systems: a coder types ``J11.00``, ``J1100``, ``0DTJ4ZZ`` or ``99213``
without saying which book it is from. We try every system whose syntax fits and show each that knows the
code, so ambiguous values (``J1100`` is both an ICD-10-CM code written without its dot and a HCPCS code)
are visible rather than silently resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from medcoder.codesets.codesets import Codesets
from medcoder.errors import CodeFormatError, MedcoderError, NotFoundError, ReleaseError
from medcoder.model.code import is_icd10cm, normalize_icd10cm

SYSTEMS = ("ICD-10-CM", "ICD-10-PCS", "HCPCS", "CPT")
_PCS = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeLookup:
    system: str
    code: str
    title: str
    billable: bool
    release: str
    level: str | None = None
    valid_on: bool | None = None
    """Valid on the date of service asked (from the MCE validity table); None when no date was given."""
    validity: tuple[dict[str, str], ...] = ()
    attributes: tuple[str, ...] = ()
    hierarchy: tuple[dict[str, str], ...] = ()
    children: tuple[dict[str, str], ...] = ()
    notes: tuple[dict[str, Any], ...] = ()
    seventh: dict[str, str] = field(default_factory=dict)
    axes: tuple[dict[str, Any], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _validity(cs: Codesets, code: str, system: str) -> tuple[bool | None, tuple[dict[str, str], ...],
                                                               tuple[str, ...]]:
    if "mce" not in cs.choices:
        return None, (), ()
    windows = cs.mce.windows(code, system=system)
    spans = tuple({"from": w.valid_from.isoformat(), "to": w.valid_to.isoformat(),
                   "attributes": "|".join(w.attributes)} for w in windows)
    day = cs.day
    current = next((w for w in windows if day and w.valid_from <= day <= w.valid_to), None)
    attrs = current.attributes if current else (windows[-1].attributes if windows else ())
    return (current is not None) if day else None, spans, attrs


def _release_warning(cs: Codesets, kind: str) -> tuple[str, ...]:
    choice = cs.choices.get(kind)
    return (choice.note,) if choice and choice.note and cs.day else ()


def _icd10cm(cs: Codesets, text: str) -> CodeLookup | None:
    tab = cs.tabular
    entry = tab.get(text)
    if entry is None:
        return None
    valid_on, spans, attrs = _validity(cs, entry.code, "cm")
    warnings = list(_release_warning(cs, "icd10cm-tabular"))
    if entry.billable and cs.day and valid_on is False:
        warnings.append(f"{entry.code} is not valid on {cs.day.isoformat()}: "
                        + (f"valid {', '.join(s['from'] + '..' + s['to'] for s in spans)}" if spans
                           else "no validity window in the MCE table"))
    if not entry.billable:
        try:
            tab.require(entry.code)
        except NotFoundError as e:
            warnings.append(str(e))
    hierarchy = []
    for a in tab.ancestors(entry.code):
        ident = getattr(a, "code", None) or getattr(a, "id", None) or f"chapter {getattr(a, 'number', '')}"
        hierarchy.append({"code": str(ident), "title": a.title})
    children = ({"code": c.code, "title": c.title} for c in tab.children(entry.code))
    notes = tuple({"kind": n.kind, "text": n.text, "codes": list(n.codes), "from": f"{n.level} {n.source}",
                   "character": n.character} for n in tab.notes(entry.code))
    return CodeLookup(
        system="ICD-10-CM", code=entry.code, title=entry.title, billable=entry.billable,
        release=f"icd10cm-tabular/{cs.release('icd10cm-tabular').id}", level=entry.level,
        valid_on=valid_on if entry.billable else (False if cs.day else None), validity=spans,
        attributes=attrs, hierarchy=tuple(hierarchy), children=tuple(children), notes=notes,
        seventh=tab.seventh_characters(entry.code), warnings=tuple(warnings),
    )


def _icd10pcs(cs: Codesets, text: str) -> CodeLookup | None:
    explanation = cs.pcs.explain(text)
    if not explanation.valid and not (cs.day and cs.mce.is_valid(explanation.code, cs.day, system="pcs")):
        return None
    valid_on, spans, attrs = _validity(cs, explanation.code, "pcs")
    axes = tuple({"position": a.position, "name": a.name, "character": a.character, "label": a.label,
                  "definition": a.definition} for a in explanation.axes)
    warnings = list(_release_warning(cs, "icd10pcs"))
    if not explanation.valid:
        warnings.append(f"{explanation.code} is valid on {cs.day} per the MCE table but is not in the "
                        f"{cs.release('icd10pcs').id} PCS tables")
    return CodeLookup(
        system="ICD-10-PCS", code=explanation.code, title=cs.pcs.description(explanation.code)
        if explanation.valid else "", billable=True, release=f"icd10pcs/{cs.release('icd10pcs').id}",
        valid_on=valid_on, validity=spans, attributes=attrs, axes=axes, warnings=tuple(warnings),
    )


def _hcpcs(cs: Codesets, text: str) -> CodeLookup | None:
    entry = cs.hcpcs.get(text) if _HCPCS.match(text) else cs.hcpcs.modifier(text)
    if entry is None:
        return None
    details = {name: getattr(entry, name) for name in (
        "short_description", "add_date", "action_effective_date", "termination_date", "action_code", "betos",
        "type_of_service", "coverage", "pricing")}
    active = cs.hcpcs.is_active(entry.code, cs.day) if cs.day else None
    title = entry.long_description or entry.short_description or ""
    warnings = list(_release_warning(cs, "hcpcs"))
    if not title:
        # A codes-only release: take the words from the newest release that has them, and say so.
        described = _described_hcpcs(cs, entry.code, entry.is_modifier)
        if described is not None:
            title, source = described
            warnings.append(f"{cs.release('hcpcs').id} lists codes only; description from HCPCS {source}")
    return CodeLookup(
        system="HCPCS", code=entry.code, title=title,
        billable=not entry.is_modifier, release=f"hcpcs/{cs.release('hcpcs').id}", level="modifier"
        if entry.is_modifier else "code", valid_on=active, details=details, warnings=tuple(warnings),
    )


def _described_hcpcs(cs: Codesets, code: str, is_modifier: bool) -> tuple[str, str] | None:
    from medcoder.codesets.build import kb_path
    from medcoder.codesets.hcpcs import Hcpcs
    from medcoder.codesets.kbfile import open_kb
    from medcoder.codesets.sources import catalog

    for release in sorted((r for r in catalog() if r.kind == "hcpcs"), key=lambda r: r.effective_from,
                          reverse=True):
        path = kb_path(release, cs.settings)
        if release == cs.release("hcpcs") or not path.exists():
            continue
        conn = open_kb(path)
        try:
            reader = Hcpcs(conn)
            entry = reader.modifier(code) if is_modifier else reader.get(code)
            if entry is not None and (entry.long_description or entry.short_description):
                return entry.long_description or entry.short_description or "", release.id
        finally:
            conn.close()
    return None


def _cpt(cs: Codesets, text: str) -> CodeLookup | None:
    cpt = cs.cpt
    entry = cpt.get(text) if cpt else None
    if entry is None:
        return None
    return CodeLookup(system="CPT", code=entry.code, title=entry.descriptor, billable=True,
                      release="cpt/user-supplied")


def lookup(cs: Codesets, text: str, *, system: str | None = None) -> list[CodeLookup]:
    """Every system's entry for ``text``; raise the most helpful error when none has it."""
    raw = text.strip().upper()
    if not raw:
        raise CodeFormatError("empty code", code="E301", where="lookup", fix="Give a code, e.g. E11.22")
    undotted = raw.replace(".", "")
    attempts: list[tuple[str, Any]] = []
    if system in (None, "ICD-10-CM") and is_icd10cm(raw):
        attempts.append(("ICD-10-CM", lambda: _icd10cm(cs, raw)))
    if system in (None, "ICD-10-PCS") and "." not in raw and _PCS.match(undotted) and "icd10pcs" in cs.choices:
        attempts.append(("ICD-10-PCS", lambda: _icd10pcs(cs, undotted)))
    if system in (None, "HCPCS") and "." not in raw and (_HCPCS.match(raw) or _MODIFIER.match(raw)) \
            and "hcpcs" in cs.choices:
        attempts.append(("HCPCS", lambda: _hcpcs(cs, raw)))
    if system in (None, "CPT") and _CPT.match(raw):
        attempts.append(("CPT", lambda: _cpt(cs, raw)))
    if system is not None and system not in SYSTEMS:
        raise MedcoderError(f"unknown code system {system!r}", code="E506", where="--system",
                            fix=f"Use one of {', '.join(SYSTEMS)}")
    found: list[CodeLookup] = []
    for _, attempt in attempts:
        result = attempt()
        if result is not None:
            found.append(result)
    if found:
        return found
    if system in (None, "ICD-10-CM") and (is_icd10cm(raw) or not attempts):
        cs.tabular.require(normalize_icd10cm(raw), billable=False)  # raises the helpful E5xx/E3xx error
    names = ", ".join(name for name, _ in attempts) or "no code system"
    raise NotFoundError(f"{raw} is not a code in {names}", code="E500", where=raw,
                        fix="Check the code, or use 'medcoder search' to find it by words")


def lookup_for_date(text: str, *, day: date | None, system: str | None = None) -> tuple[Codesets,
                                                                                           list[CodeLookup]]:
    cs = Codesets.for_date(day) if day else Codesets.newest()
    try:
        return cs, lookup(cs, text, system=system)
    except ReleaseError:
        raise
