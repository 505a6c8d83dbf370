"""Load and validate the rule files of ``nlp/rules/``: section headers and ConText cues.

Why validate by hand on load: rules are data that clinicians and coders edit; a typo ("negation" for
"negated", a header claimed by two sections) must fail at once with the rule named and the fix stated, not
silently change what gets coded. Every rule has an id so evidence can cite it ("negated by neg.denies").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

from medcoder.errors import MedcoderError
from medcoder.model.note import (
    CATEGORIES,
    SECTION_NAMES,
    SECTION_ROLES,
    Category,
    SectionContext,
    SectionName,
    SectionRole,
)
from medcoder.nlp.tokens import MAX_EXPANSIONS, PhraseError, expand, words_of

DIRECTIONS: tuple[str, ...] = ("forward", "backward", "bidirectional", "terminate", "pseudo")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class RuleError(MedcoderError):
    """A rule file of ``medcoder.nlp`` is malformed (E90x); the message names the file and the rule."""

    code = "E900"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextRule:
    """A ConText cue: its phrases, the category it sets and in which direction its scope runs."""

    id: str
    direction: str
    category: Category | None
    """None for ``terminate`` and ``pseudo`` rules, which set no category."""
    phrases: tuple[str, ...]
    sequences: tuple[tuple[str, ...], ...]
    """Every word sequence the phrases stand for (expanded once at load)."""
    max_scope: int | None = None
    """At most this many words on the scope's side(s); None: to the end of the sentence or a terminator."""
    back_scope: int | None = None
    """At most this many words before the cue (backward and bidirectional rules), when not ``max_scope``."""
    terminates: tuple[Category, ...] = ()
    """For ``terminate`` rules: the categories whose scope ends here."""
    terminated_by: tuple[Category, ...] = ()
    """Cues of these other categories also end this rule's scope."""
    why: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderRule:
    """Header variants of one canonical section (``"PMH"``, ``"Past Medical History"`` ...)."""

    id: str
    section: SectionName
    variants: tuple[str, ...]
    keys: tuple[str, ...]
    """Normalised word strings of the variants, as a header line is normalised before lookup."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionRules:
    sections: dict[str, SectionContext]
    headers: dict[str, HeaderRule]
    """Normalised header key -> rule."""


def _fail(file: str, where: str, message: str, fix: str, code: str = "E902") -> RuleError:
    return RuleError(message, code=code, where=f"nlp/rules/{file} {where}", fix=fix)


def _read(file: str) -> dict[str, Any]:
    try:
        text = resources.files("medcoder.nlp").joinpath(f"rules/{file}").read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as e:
        raise _fail(file, "", f"cannot read the rule file: {e}", "Reinstall medcoder or fix the JSON syntax",
                    code="E901") from e
    if not isinstance(data, dict):
        raise _fail(file, "", "the rule file must hold one JSON object", "Restore the file's top-level object",
                    code="E901")
    return data


def _list(file: str, where: str, value: Any, name: str, *, allow: tuple[str, ...] | None = None) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(file, where, f"'{name}' must be a list of non-empty strings", f"Write '{name}' as [\"...\"]")
    if allow is not None:
        for v in value:
            if v not in allow:
                raise _fail(file, where, f"unknown {name} value {v!r}", "Use one of " + ", ".join(allow))
    return list(value)


def _scope(file: str, where: str, raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise _fail(file, where, f"{name} must be a positive number of words or null (got {value!r})",
                    f"Write e.g. \"{name}\": 6")
    return value


def _rule_where(index: int, raw: Any) -> str:
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    return f"rule #{index + 1}" + (f" {rule_id!r}" if rule_id else "")


def parse_context_rules(data: dict[str, Any], *, file: str = "context.json") -> tuple[ContextRule, ...]:
    """Validate and build the ConText rules of a parsed rule file."""
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(file, "", "the file needs a non-empty 'rules' list", "Add the rules under \"rules\"",
                    code="E901")
    rules: list[ContextRule] = []
    ids: set[str] = set()
    owners: dict[tuple[str, ...], str] = {}
    for index, raw in enumerate(raw_rules):
        where = _rule_where(index, raw)
        if not isinstance(raw, dict):
            raise _fail(file, where, "a rule must be a JSON object", "Write the rule as {\"id\": ..., ...}")
        unknown = set(raw) - {"id", "direction", "category", "phrases", "max_scope", "back_scope", "terminates",
                              "terminated_by", "why"}
        if unknown:
            raise _fail(file, where, f"unknown field(s) {sorted(unknown)}", "Remove them or fix their spelling")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise _fail(file, where, f"bad or missing id {rule_id!r}",
                        "Give the rule an id like \"neg.denies\" (lower case, dotted)")
        if rule_id in ids:
            raise _fail(file, where, f"id {rule_id!r} is used twice", "Give each rule its own id", code="E903")
        ids.add(rule_id)
        direction = raw.get("direction")
        if direction not in DIRECTIONS:
            raise _fail(file, where, f"unknown direction {direction!r}", "Use one of " + ", ".join(DIRECTIONS))
        category = raw.get("category")
        if direction in ("terminate", "pseudo"):
            if category is not None:
                raise _fail(file, where, f"a {direction} rule sets no category (got {category!r})",
                            "Remove 'category'; use 'terminates' to limit which scopes a terminator ends")
        elif category not in CATEGORIES:
            raise _fail(file, where, f"unknown category {category!r}", "Use one of " + ", ".join(CATEGORIES))
        max_scope = _scope(file, where, raw, "max_scope")
        back_scope = _scope(file, where, raw, "back_scope")
        if back_scope is not None and direction not in ("backward", "bidirectional"):
            raise _fail(file, where, "'back_scope' belongs to backward and bidirectional rules",
                        "Use 'max_scope' for a forward rule")
        terminates = _list(file, where, raw.get("terminates"), "terminates", allow=CATEGORIES)
        if terminates and direction != "terminate":
            raise _fail(file, where, "'terminates' belongs to terminate rules only",
                        "Use 'terminated_by' on a rule whose scope other categories end")
        terminated_by = _list(file, where, raw.get("terminated_by"), "terminated_by", allow=CATEGORIES)
        phrases = _list(file, where, raw.get("phrases"), "phrases")
        if not phrases:
            raise _fail(file, where, "the rule has no phrases", "Add at least one phrase")
        sequences: list[tuple[str, ...]] = []
        for phrase in phrases:
            try:
                expanded = expand(phrase)
            except PhraseError as e:
                raise _fail(file, where, f"bad phrase: {e}",
                            "Write words, [a|b] alternatives and [a|b]? optional groups, standing for at most "
                            f"{MAX_EXPANSIONS} word sequences", code="E905") from e
            for words in expanded:
                if owners.get(words) == rule_id:
                    continue  # two phrases of one rule may overlap
                if words in owners:
                    raise _fail(file, where, f"phrase {' '.join(words)!r} is also matched by rule "
                                f"{owners[words]!r}", "Keep each phrase in one rule", code="E904")
                owners[words] = rule_id
                sequences.append(words)
        why = raw.get("why", "")
        rules.append(ContextRule(
            id=rule_id, direction=direction, category=cast(Category | None, category), phrases=tuple(phrases),
            sequences=tuple(sequences), max_scope=max_scope, back_scope=back_scope,
            terminates=cast(tuple[Category, ...], tuple(terminates or (CATEGORIES if direction == "terminate"
                                                                      else ()))),
            terminated_by=cast(tuple[Category, ...], tuple(terminated_by)), why=str(why)))
    return tuple(rules)


_OUTER = frozenset("#*:.=>~`|")


def header_key(text: str) -> str:
    """How a header line and a header variant are compared: normalised words, outer punctuation and
    markdown marks dropped (``"## Past Medical History:"`` -> ``"past medical history"``)."""
    words = list(words_of(text))
    while words and words[0] in _OUTER:
        words.pop(0)
    while words and words[-1] in _OUTER:
        words.pop()
    return " ".join(words)



def parse_section_rules(data: dict[str, Any], *, file: str = "sections.json") -> SectionRules:
    """Validate and build the section table and header rules of a parsed rule file."""
    raw_sections = data.get("sections")
    raw_headers = data.get("headers")
    if not isinstance(raw_sections, list) or not isinstance(raw_headers, list) or not raw_headers:
        raise _fail(file, "", "the file needs 'sections' and 'headers' lists", "Restore both lists", code="E901")
    sections: dict[str, SectionContext] = {}
    ids: set[str] = set()

    def claim(where: str, rule_id: Any, pattern: str) -> str:
        if not isinstance(rule_id, str) or not _ID.match(rule_id) or not rule_id.startswith(pattern):
            raise _fail(file, where, f"bad or missing id {rule_id!r}", f"Give it an id like \"{pattern}hpi\"")
        if rule_id in ids:
            raise _fail(file, where, f"id {rule_id!r} is used twice", "Give each rule its own id", code="E903")
        ids.add(rule_id)
        return rule_id

    for index, raw in enumerate(raw_sections):
        where = "section " + _rule_where(index, raw)
        if not isinstance(raw, dict):
            raise _fail(file, where, "a section must be a JSON object", "Write {\"id\": ..., \"name\": ...}")
        rule_id = claim(where, raw.get("id"), "sec.")
        name, role = raw.get("name"), raw.get("role")
        if name not in SECTION_NAMES:
            raise _fail(file, where, f"unknown section name {name!r}", "Use one of " + ", ".join(SECTION_NAMES))
        if name in sections:
            raise _fail(file, where, f"section {name!r} is described twice", "Keep one entry", code="E903")
        if role not in SECTION_ROLES:
            raise _fail(file, where, f"unknown role {role!r}", "Use one of " + ", ".join(SECTION_ROLES))
        implies = _list(file, where, raw.get("implies"), "implies", allow=CATEGORIES)
        sections[name] = SectionContext(name=cast(SectionName, name), role=cast(SectionRole, role),
                                        implies=cast(tuple[Category, ...], tuple(implies)), rule_id=rule_id,
                                        why=str(raw.get("why", "")))
    missing = [n for n in SECTION_NAMES if n not in sections]
    if missing:
        raise _fail(file, "sections", f"no entry for section(s) {missing}", "Describe every canonical section")
    headers: dict[str, HeaderRule] = {}
    for index, raw in enumerate(raw_headers):
        where = "header " + _rule_where(index, raw)
        if not isinstance(raw, dict):
            raise _fail(file, where, "a header rule must be a JSON object", "Write {\"id\": ..., \"section\": ...}")
        rule_id = claim(where, raw.get("id"), "hdr.")
        section = raw.get("section")
        if section not in SECTION_NAMES:
            raise _fail(file, where, f"unknown section {section!r}", "Use one of " + ", ".join(SECTION_NAMES))
        variants = _list(file, where, raw.get("variants"), "variants")
        if not variants:
            raise _fail(file, where, "the rule has no variants", "Add at least one header variant")
        keys = []
        for variant in variants:
            key = header_key(variant)
            if not key:
                raise _fail(file, where, f"variant {variant!r} has no words", "Remove it", code="E905")
            if key in headers:
                raise _fail(file, where, f"variant {variant!r} is also claimed by {headers[key].id!r}",
                            "Keep each header variant in one rule", code="E904")
            keys.append(key)
        rule = HeaderRule(id=rule_id, section=cast(SectionName, section), variants=tuple(variants),
                          keys=tuple(keys))
        for key in keys:
            headers[key] = rule
    return SectionRules(sections=sections, headers=headers)


@cache
def context_rules() -> tuple[ContextRule, ...]:
    """The packaged ConText rules (``nlp/rules/context.json``), validated once per process."""
    return parse_context_rules(_read("context.json"))


@cache
def section_rules() -> SectionRules:
    """The packaged section table and header rules (``nlp/rules/sections.json``), validated once."""
    return parse_section_rules(_read("sections.json"))
