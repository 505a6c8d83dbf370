"""The index round trip through the whole encoder, on a fixed sample of coded Alphabetic Index entries.

The plain index walk returns each entry's own code for 99.97 % of entries (bench/bench_index.py); through
the encoder, which reads free text (clauses, synonyms, context, Tabular completion), the bar is lower and is
a ratchet: raise ``FLOOR`` when the engine improves. Full figure: bench/bench_engine_roundtrip.py.
"""

from __future__ import annotations

import random

import pytest

from medcoder.codesets.codesets import Codesets
from medcoder.coding.encoder import Encoder
from medcoder.coding.index_search import statement_for_path
from medcoder.settings import Settings

FLOOR = 0.93


@pytest.mark.parametrize("sample", [1500])
def test_engine_roundtrip_keeps_index_paths(kb_settings: Settings, sample: int) -> None:
    cs = Codesets.newest(settings=kb_settings)
    encoder = Encoder(cs)
    terms, _ = cs.index.tree(book="index")
    coded = random.Random(11).sample([t for t in terms.values() if t.code], sample)
    ok = 0
    for term in coded:
        statement = statement_for_path([t.title for t in cs.index.path(term.id)])
        want = (term.code or "").rstrip("-").rstrip(".").replace(".", "")
        ok += any(c.code.replace(".", "").startswith(want) for c in encoder.encode(statement).codes)
    assert ok / sample >= FLOOR, f"engine round trip {ok}/{sample} = {ok / sample:.2%}"
