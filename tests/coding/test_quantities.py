"""Index subterms printed as ranges ("40.0-44.9", "1500-1749 grams") and the documented values that name them."""

from __future__ import annotations

import pytest

from medcoder.coding.quantities import quantities, quantity_forms
from medcoder.coding.terms import tokens


def _forms(title: str) -> tuple[frozenset[str], ...]:
    return (frozenset(tokens(title)) - {"or", "and", "with", "of"},)


@pytest.mark.parametrize(("title", "documented", "expected"), [
    # Body > mass index > adult > 40.0-44.9 (Z68.41) for "BMI 42".
    ("40.0-44.9", "bmi 42", {"42"}),
    # A decimal value arrives split into tokens ("19.5" -> "19", "5"): the largest number inside is the value.
    ("19.9 or less", "bmi 19.5", {"19"}),
    ("70 and over", "age 75", {"75"}),
    # Low > birthweight > with weight of > 1500-1749 grams (P07.15) for "1600 grams": the unit must be documented.
    ("1500-1749 grams", "birth weight 1600 grams", {"1600", "gram"}),
    ("1500-1749 grams", "birth weight 1600", set(tokens("1500-1749 grams"))),
    # The range written as printed names the subterm as it is.
    ("80-89 percent", "extent 80-89 percent", set(tokens("80-89 percent"))),
    # No number inside: the printed words stay.
    ("40.0-44.9", "bmi 38", set(tokens("40.0-44.9"))),
])
def test_quantity_forms_replace_a_range_by_the_documented_value(title: str, documented: str,
                                                                 expected: set[str]) -> None:
    forms = _forms(title)
    ranges = quantities(title, title, forms)
    assert ranges, title
    assert quantity_forms(forms, ranges, frozenset(tokens(documented))) == (frozenset(expected),)


def test_quantities_reads_bounds_and_units() -> None:
    whole = quantities("19.9 or less", "19.9 or less", _forms("19.9 or less"))
    assert [(q.low, q.high, q.unit) for q in whole] == [(float("-inf"), 19.9, None)]
    two = quantities("4000 grams to 4499 grams", "4000 grams to 4499 grams", _forms("4000 grams to 4499 grams"))
    assert [(q.low, q.high, q.unit) for q in two] == [(4000.0, 4499.0, "gram")]
    assert quantities("Hypertension", "Hypertension", _forms("Hypertension")) == ()
