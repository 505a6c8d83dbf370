"""The shared memo shapes: bounded by clearing, and by identity (an entry keeps its object, so ids stay unique)."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcoder.model.memo import IdentityMemo, remember


class Box:
    """Equal by value, so an identity memo must still tell two equal boxes apart."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def test_remember_returns_the_value_and_clears_when_full() -> None:
    memo: dict[str, int] = {}
    assert remember(memo, "a", 1, 2) == 1
    assert remember(memo, "b", 2, 2) == 2
    assert memo == {"a": 1, "b": 2}
    assert remember(memo, "c", 3, 2) == 3  # full: emptied first, then the new entry
    assert memo == {"c": 3}


@given(st.lists(st.integers(min_value=0, max_value=9), max_size=60), st.integers(min_value=1, max_value=5))
def test_identity_memo_answers_for_the_object_asked_and_stays_bounded(picks: list[int], limit: int) -> None:
    boxes = [Box(i % 3) for i in range(10)]  # equal boxes in threes: value equality must not share entries
    memo: IdentityMemo[Box, tuple[int, int]] = IdentityMemo(limit)
    made: list[int] = []

    def make(box: Box) -> tuple[int, int]:
        made.append(id(box))
        return id(box), box.value

    for i in picks:
        assert memo.get(boxes[i], make) == (id(boxes[i]), boxes[i].value)
        assert len(memo) <= limit
    if limit >= 10:
        assert len(made) == len(set(picks))  # room for all: each object made once


def test_identity_memo_makes_once_per_object_until_cleared() -> None:
    memo: IdentityMemo[Box, int] = IdentityMemo(8)
    box, calls = Box(1), list[int]()

    def make(b: Box) -> int:
        calls.append(b.value)
        return b.value

    for _ in range(3):
        memo.get(box, make)
    assert calls == [1]
    memo.clear()
    memo.get(box, make)
    assert calls == [1, 1]


def test_identity_memo_keeps_its_objects_alive_until_the_entry_goes() -> None:
    memo: IdentityMemo[Box, int] = IdentityMemo(1)
    box = Box(5)
    ref = weakref.ref(box)
    memo.get(box, lambda b: b.value)
    del box
    gc.collect()
    assert ref() is not None  # the entry holds it: its id cannot be taken by another object
    memo.get(Box(6), lambda b: b.value)  # full: the first entry is dropped
    gc.collect()
    assert ref() is None


def test_identity_memo_refuses_no_room() -> None:
    with pytest.raises(ValueError, match="at least"):
        IdentityMemo(0)
