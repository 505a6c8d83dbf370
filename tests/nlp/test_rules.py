"""Rule files are validated on load: each mistake is refused with the rule named and the fix stated."""

from __future__ import annotations

from typing import Any

import pytest

from medcoder.nlp.rules import RuleError, context_rules, parse_context_rules, parse_section_rules, section_rules
from medcoder.nlp.tokens import expand, tokenize


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": "neg.test", "direction": "forward", "category": "negated", "phrases": ["nix"]}
    rule.update(changes)
    return {k: v for k, v in rule.items() if v is not None}


@pytest.mark.parametrize(("rules", "code", "words"), [
    ([_rule(category="negation")], "E902", ["'neg.test'", "unknown category 'negation'"]),
    ([_rule(direction="sideways")], "E902", ["unknown direction"]),
    ([_rule(id="Bad Id")], "E902", ["bad or missing id"]),
    ([_rule(), _rule()], "E903", ["used twice"]),
    ([_rule(), _rule(id="neg.other")], "E904", ["'nix'", "also matched by rule 'neg.test'"]),
    ([_rule(phrases=["[no|not"])], "E905", ["unbalanced"]),
    ([_rule(phrases=[])], "E902", ["no phrases"]),
    ([_rule(max_scope=0)], "E902", ["max_scope"]),
    ([_rule(direction="terminate")], "E902", ["sets no category"]),
    ([_rule(terminates=["negated"])], "E902", ["terminate rules only"]),
    ([_rule(colour="red")], "E902", ["unknown field"]),
    ([_rule(back_scope=3)], "E902", ["back_scope"]),
])
def test_rules_context_errors_name_the_rule(rules: list[dict[str, Any]], code: str, words: list[str]) -> None:
    with pytest.raises(RuleError) as caught:
        parse_context_rules({"rules": rules})
    assert caught.value.code == code
    assert all(w in str(caught.value) for w in words), str(caught.value)
    assert "nlp/rules/context.json" in str(caught.value)


def _sections(**changes: Any) -> dict[str, Any]:
    from medcoder.model.note import SECTION_NAMES

    data: dict[str, Any] = {
        "sections": [{"id": f"sec.{n}", "name": n, "role": "narrative"} for n in SECTION_NAMES],
        "headers": [{"id": "hdr.hpi", "section": "hpi", "variants": ["HPI"]}],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("data", "code", "words"), [
    (_sections(headers=[{"id": "hdr.x", "section": "hpx", "variants": ["HPI"]}]), "E902", ["unknown section 'hpx'"]),
    (_sections(headers=[{"id": "hdr.a", "section": "hpi", "variants": ["HPI"]},
                        {"id": "hdr.b", "section": "plan", "variants": ["hpi:"]}]), "E904", ["'hdr.b'", "'hdr.a'"]),
    (_sections(sections=[{"id": "sec.hpi", "name": "hpi", "role": "narrative"}]), "E902", ["no entry"]),
    (_sections(headers=[]), "E901", ["'headers'"]),
])
def test_rules_section_errors_name_the_rule(data: dict[str, Any], code: str, words: list[str]) -> None:
    with pytest.raises(RuleError) as caught:
        parse_section_rules(data)
    assert caught.value.code == code
    assert all(w in str(caught.value) for w in words), str(caught.value)


@pytest.mark.parametrize("loader", [context_rules, section_rules])
def test_rules_packaged_files_load(loader: Any) -> None:
    assert loader()


@pytest.mark.parametrize(("phrase", "expected"), [
    ("no [new|other]? evidence", [("no", "new", "evidence"), ("no", "other", "evidence"), ("no", "evidence")]),
    ("should [the patient|he]", [("should", "the", "patient"), ("should", "he")]),
    ("gram-negative", [("gram", "negative")]),
    ("r/o", [("r", "/", "o")]),
])
def test_rules_phrase_expansion(phrase: str, expected: list[tuple[str, ...]]) -> None:
    assert expand(phrase) == expected


@pytest.mark.parametrize(("text", "norms"), [
    ("She doesn't have it", ("she", "does", "not", "have", "it")),
    ("cannot exclude", ("can", "not", "exclude")),
    ("won't", ("will", "not")),
    ("mother's cancer", ("mother", "cancer")),
    ("gram-negative rods", ("gram", "negative", "rods")),
])
def test_rules_tokens_normalised(text: str, norms: tuple[str, ...]) -> None:
    tokens = tokenize(text)
    assert tokens.norms == norms
    assert all(text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True))
