"""Index subterms printed as a range of values, named by a documented value inside the range.

Why: the Index lists measurements by range ("Body mass index > adult > 40.0-44.9", "Low birthweight > with
weight of > 1500-1749 grams", "Age > 70 and over") and a coder reads "BMI 42" or "1,600 grams" as naming the
subterm whose range holds the value. One parser reads every printed form (a whole-title range without a unit,
ranges with units anywhere in the title) into the same shape, and one matcher replaces the range's printed words
by the documented value (and unit), so the walk matches the subterm like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder.coding.terms import stem, tokens

_WHOLE_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")
_WHOLE_BOUND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+(?:or|and)\s+(less|under|below|more|over|greater|above)\s*$",
                          re.IGNORECASE)
_UNIT_RANGE = re.compile(r"(\d+)\s*(?:-|to|through)\s*(\d+)\s+([a-z]+)|(\d+)\s+([a-z]+)\s+to\s+(\d+)\s+([a-z]+)"
                         r"|(\d+)\s+([a-z]+)\s+or\s+(less|more)", re.IGNORECASE)
_BELOW = ("less", "under", "below")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A range a title prints: its bounds, its unit (None for a bare number: BMI, age) and the title's words
    that print it (replaced by the documented value when one falls inside)."""

    low: float
    high: float
    unit: str | None
    printed: frozenset[str]


def quantities(title: str, printed: str, forms: tuple[frozenset[str], ...]) -> tuple[Quantity, ...]:
    """The ranges of a subterm: ``title`` as a whole ("40.0-44.9", "19.9 or less", "70 and over"), or ranges with a
    unit inside ``printed`` (the title without its nonessential modifiers: "1500-1749 grams", "4000 grams to 4499
    grams", "499 grams or less")."""
    found: list[Quantity] = []
    for match in _UNIT_RANGE.finditer(printed):
        if match.group(1):
            low, high, unit = float(match.group(1)), float(match.group(2)), match.group(3)
        elif match.group(4):
            low, high, unit = float(match.group(4)), float(match.group(6)), match.group(7)
        else:
            bound = float(match.group(8))
            low, high = (0.0, bound) if match.group(10).lower() == "less" else (bound, float("inf"))
            unit = match.group(9)
        found.append(Quantity(low, high, stem(unit.lower()), frozenset(tokens(match.group(0)))))
    if found:
        return tuple(found)
    whole = _whole(title)
    if whole is None:
        return ()
    # The whole title is the range: every word of it is the range's.
    return (Quantity(whole[0], whole[1], None, frozenset().union(*forms)),)


def _whole(title: str) -> tuple[float, float] | None:
    found = _WHOLE_RANGE.match(title)
    if found:
        return float(found.group(1)), float(found.group(2))
    bound = _WHOLE_BOUND.match(title)
    if bound:
        value = float(bound.group(1))
        return (float("-inf"), value) if bound.group(2).lower() in _BELOW else (value, float("inf"))
    return None


def quantity_forms(forms: tuple[frozenset[str], ...], ranges: tuple[Quantity, ...],
                   words: frozenset[str]) -> tuple[frozenset[str], ...]:
    """``forms`` with each range's printed words replaced by the documented value inside it (and its unit, which
    must be documented too), as a coder reads the subterm. Words are tokens, so a decimal value arrives split
    ("19.5" is "19" and "5"): the largest documented number inside the range is the value."""
    for quantity in ranges:
        if (quantity.unit is not None and quantity.unit not in words) or quantity.printed <= words:
            continue  # no unit documented, or the range written as printed ("80-89 percent") names it as it is
        inside = [(value, word) for word in words if (value := _number(word)) is not None
                  and quantity.low <= value <= quantity.high]
        if not inside:
            continue
        value_word = max(inside)[1]
        named = frozenset({value_word} if quantity.unit is None else {value_word, quantity.unit})
        forms = tuple((form - quantity.printed) | named for form in forms)
    return forms


def _number(word: str) -> float | None:
    if not word[:1].isdigit():
        return None
    try:
        return float(word)
    except ValueError:
        return None
