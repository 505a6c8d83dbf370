"""Two memo shapes the claim edits and pricers share: bounded by clearing, and keyed by an object's identity.

Why bounded by clearing: a batch meets codes, pairs and rate cells without end, and a memo must not grow with
the batch; an LRU's bookkeeping costs more per hit than the rare full rebuild after a ``clear`` (hits are the
common case: a batch repeats most of what it meets).

Why by identity: some answers are worked out from an object that is costly or impossible to hash by value
(a ``Codesets``, a release choice, a fee breakdown) and that a batch shares among thousands of claims. An
entry keyed by ``id(obj)`` keeps the object with the answer, so the id cannot be reused by another object while
the entry exists, and a look-up checks the object is the one remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["IdentityMemo", "remember"]

K = TypeVar("K")
V = TypeVar("V")
O = TypeVar("O")  # noqa: E741 -- the object an identity memo is keyed by


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key`` and return it, emptying ``memo`` first when it holds ``limit`` entries."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value


class IdentityMemo(Generic[O, V]):
    """Answers worked out from objects, one per object (by identity), at most ``limit`` of them.

    ``get(obj, make)`` returns the answer remembered for this very object, else ``make(obj)`` remembered."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        if limit < 1:
            raise ValueError(f"an identity memo needs room for one entry at least, not {limit}")
        self._entries: dict[int, tuple[O, V]] = {}
        self._limit = limit

    def get(self, obj: O, make: Callable[[O], V]) -> V:
        hit = self._entries.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = remember(self._entries, id(obj), (obj, make(obj)), self._limit)
        return hit[1]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
