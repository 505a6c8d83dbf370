"""``editing.Shared``: what the rule sets share about a claim lives for one ``check_claims`` call, per thread."""

from __future__ import annotations

import threading

from medcoder.edits.editing import Shared, editing


class Key:
    """An unhashable-by-value stand-in for a claim: answers are by identity."""

    def __init__(self, name: str) -> None:
        self.name = name


def _counted(shared: Shared[Key, str]) -> tuple[list[str], object]:
    made: list[str] = []

    def make(key: Key) -> str:
        made.append(key.name)
        return key.name.upper()

    return made, make


def test_a_block_works_each_answer_out_once_and_drops_them_at_its_end() -> None:
    shared: Shared[Key, str] = Shared("test_block")
    made, make = _counted(shared)
    a, b = Key("a"), Key("b")
    with editing():
        assert [shared.get(k, make) for k in (a, b, a, b, a)] == ["A", "B", "A", "B", "A"]  # type: ignore[arg-type]
        assert made == ["a", "b"]
        assert shared.get(a, make, other=b) == "A" and made == ["a", "b", "a"]  # type: ignore[arg-type]
    shared.get(b, make)  # type: ignore[arg-type]
    assert made == ["a", "b", "a", "b"]  # nothing kept after the block: no claim or view outlives the call


def test_outside_a_block_the_last_answer_is_kept() -> None:
    shared: Shared[Key, str] = Shared("test_last")
    made, make = _counted(shared)
    a, b = Key("a"), Key("b")
    for key in (a, a, a, b, b, a):
        shared.get(key, make)  # type: ignore[arg-type]
    assert made == ["a", "b", "a"]


def test_threads_keep_their_own_block() -> None:
    shared: Shared[Key, str] = Shared("test_threads")
    key = Key("t")
    seen: dict[str, object] = {}
    started, checked = threading.Barrier(2), threading.Event()

    def in_block() -> None:
        with editing():
            shared.get(key, lambda k: k.name)
            started.wait()
            checked.wait()
            seen["inside"] = shared.get(key, lambda k: "made again")

    thread = threading.Thread(target=in_block)
    thread.start()
    started.wait()
    seen["other thread"] = shared.get(key, lambda k: "made here")  # this thread is in no block
    checked.set()
    thread.join()
    assert seen == {"other thread": "made here", "inside": "t"}
