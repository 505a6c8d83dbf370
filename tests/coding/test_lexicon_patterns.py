"""The lexicon's alternations grouped by first letter match exactly what the flat alternation of the same keys does.

Why: ``lexicon.alternation`` groups the ~300 abbreviation and synonym keys (and the context cues) by their first
character so the regex engine tries only the keys that can start at a position. Python's alternation takes the
first alternative that matches, so the grouping must keep, at every position, the same first match (longest key
first, then the lexicon's order) as the flat pattern — including where the boundary after a key fails and the
engine falls back to a shorter key.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from medcoder.coding.lexicon import alternation, lexicon
from medcoder.coding.terms import expand

_KEYS = sorted(lexicon().replacements, key=len, reverse=True)
_FLAT = re.compile(r"(?<![\w/-])(" + "|".join(re.escape(k) for k in _KEYS) + r")(?![\w/-])", re.IGNORECASE)
_GROUPED = lexicon().replace_pattern


def _marked(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: f"<{m.group(0)}>", text)


_pieces = st.sampled_from([*_KEYS, "x", "-", "/", "+", "the", "ER", "Er+", "and", ",", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=8), st.sampled_from([" ", "", "-", "/", ", "]), st.booleans())
def test_grouped_alternation_matches_like_the_flat_one(pieces: list[str], glue: str, upper: bool) -> None:
    text = glue.join(pieces)
    text = text.upper() if upper else text
    assert _marked(_GROUPED, text) == _marked(_FLAT, text)


def test_longest_key_wins_and_a_failed_boundary_falls_back() -> None:
    # "ckd 3a" is a key and so is "ckd": the longer one is taken when it ends at a boundary.
    assert "ckd 3a" in _KEYS and "ckd" in _KEYS
    assert _marked(_GROUPED, "CKD 3a and HTN") == _marked(_FLAT, "CKD 3a and HTN") == "<CKD 3a> and <HTN>"
    # "ckd 3ab": "ckd 3a" fails its boundary, "ckd" still matches.
    assert _marked(_GROUPED, "ckd 3ab") == "<ckd> 3ab"
    assert expand("CKD 3a") != "CKD 3a"


def test_alternation_groups_keys_by_first_character() -> None:
    grouped = alternation(["abc", "ab", "b"])
    assert grouped == "a(?:bc|b)|b(?:)"
    assert re.fullmatch(grouped, "ab") and re.fullmatch(grouped, "b") and not re.fullmatch(grouped, "a")
