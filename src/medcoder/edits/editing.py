"""``Shared``: what the rule sets work out from one object (a claim, its diagnoses' view) and share while one
``check_claims`` call edits its claims.

Why per call: ``check_claims`` runs each rule set over all its claims in turn, so the validity, Tabular and MCE
rule sets ask for the same claim's view a whole chunk apart. A one-entry memo would miss, and a module-wide memo
would keep views alive after their claims are done (and hand the garbage collector more to walk). Each
``Shared`` holds its entries in a context variable that ``editing`` sets for the call and resets after it, so
threads and tasks editing at the same time keep their own. Outside a block (one claim checked, a rule set
called on its own) the last answer is kept instead: the rule sets run one after the other on that claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

__all__ = ["Shared", "editing"]

K = TypeVar("K")
V = TypeVar("V")

_ALL: list[Shared[object, object]] = []


class Shared(Generic[K, V]):
    """Answers worked out from objects, one per object (by identity), kept for the running ``editing`` block."""

    __slots__ = ("_entries", "_last")

    def __init__(self, name: str) -> None:
        self._entries: ContextVar[dict[int, tuple[K, object, V]] | None] = ContextVar(f"medcoder_shared_{name}",
                                                                                      default=None)
        """The block's answers by ``id(key)``, each kept with its key (so the id cannot be reused while the entry
        exists) and with ``other``; None outside a block."""
        self._last: tuple[K, object, V] | None = None
        """Outside a block: the last answer (replaced in one assignment: threads at worst recompute it)."""
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self, key: K, make: Callable[[K], V], other: object = None) -> V:
        """The answer remembered for this very ``key`` (and this very ``other``, when the answer depends on one
        more object), else ``make(key)``, remembered."""
        entries = self._entries.get()
        if entries is None:
            last = self._last
            if last is None or last[0] is not key or last[1] is not other:
                last = self._last = (key, other, make(key))
            return last[2]
        hit = entries.get(id(key))
        if hit is None or hit[0] is not key or hit[1] is not other:
            hit = entries[id(key)] = (key, other, make(key))
        return hit[2]


@contextmanager
def editing() -> Iterator[None]:
    """A block in which every ``Shared`` remembers its answers; they are dropped when it ends."""
    tokens = [(shared, shared._entries.set({})) for shared in _ALL]
    try:
        yield
    finally:
        for shared, token in tokens:
            shared._entries.reset(token)
