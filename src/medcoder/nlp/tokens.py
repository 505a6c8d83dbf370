"""Words of a sentence with their offsets, and the small phrase language the rule files are written in.

Why our own tokenizer: cue matching needs only lower-cased words and punctuation with character offsets,
which one compiled regular expression gives at a few microseconds per sentence (spaCy's tokenizer builds a
Doc with a vocabulary, far more than ConText needs). Hyphens are dropped, so "gram-negative" and "gram
negative" are the same words; contractions are split ("doesn't" -> "does not", "cannot" -> "can not") and
the possessive dropped ("mother's" -> "mother"), so one rule covers each spelling.

Phrase language (``rules/context.json``): words separated by spaces; ``[a|b c|d]`` is one of several
alternatives (each may be several words); a ``?`` right after ``]`` makes the group optional. Each phrase is
expanded once, at load time, into every word sequence it stands for.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

# A word (letters/digits, inner apostrophes kept) or one punctuation mark; hyphens and underscores are
# neither and vanish.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s-]")
_NEGATED_STEMS = {"ca": "can", "wo": "will", "sha": "shall"}
_SPLIT = {"cannot": ("can", "not")}
MAX_EXPANSIONS = 2048
"""More word sequences than this from one phrase is a mistake in the rule file, not a wish."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of one stretch of text: normalised forms and absolute character offsets (parallel)."""

    norms: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.norms)

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """Token range [i, j) of the words overlapping characters [start, end); empty when none does."""
        i = bisect.bisect_right(self.ends, start)
        j = bisect.bisect_left(self.starts, end, lo=i)
        return i, j


def _normal(word: str) -> tuple[str, ...]:
    word = word.lower().replace("’", "'")
    if "'" in word:
        if word.endswith("n't") and len(word) > 3:
            stem = word[:-3]
            return (_NEGATED_STEMS.get(stem, stem), "not")
        if word.endswith("'s"):
            return (word[:-2],)
    return _SPLIT.get(word, (word,))


def tokenize(text: str, start: int = 0, end: int | None = None) -> Tokens:
    """Words of ``text[start:end]`` with offsets into ``text``."""
    norms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _TOKEN.finditer(text, start, len(text) if end is None else end):
        a, b = match.span()
        word = match.group().lower()
        if "'" in word or "’" in word or word in _SPLIT:
            for norm in _normal(word):
                norms.append(norm)
                starts.append(a)
                ends.append(b)
        else:
            norms.append(word)
            starts.append(a)
            ends.append(b)
    return Tokens(tuple(norms), tuple(starts), tuple(ends))


def words_of(text: str) -> tuple[str, ...]:
    """Normalised words of a literal (a phrase alternative, a header variant)."""
    return tokenize(text).norms


class PhraseError(ValueError):
    """A phrase of a rule file does not follow the phrase language (the caller names the rule)."""


def _groups(phrase: str) -> Iterator[list[tuple[str, ...]]]:
    """The phrase as slots, each a list of word sequences (an empty one when the slot is optional)."""
    for match in re.finditer(r"\[([^\[\]]*)\](\?)?|[^\s\[\]]+|(\S)", phrase):
        if match.group(3) is not None:
            raise PhraseError(f"unbalanced bracket at character {match.start()} of {phrase!r}")
        if match.group(1) is not None:
            options = [words_of(option) for option in match.group(1).split("|")]
            if any(not words for words in options):
                raise PhraseError(f"empty alternative in {match.group(0)!r} of {phrase!r}")
            if match.group(2):
                options.append(())
            yield options
        else:
            words = words_of(match.group(0))
            if words:
                yield [words]


def expand(phrase: str) -> list[tuple[str, ...]]:
    """Every word sequence a phrase stands for, without repeats, in a stable order."""
    slots = list(_groups(phrase))
    if not slots:
        raise PhraseError(f"phrase {phrase!r} has no words")
    total = 1
    for slot in slots:
        total *= len(slot)
    if total > MAX_EXPANSIONS:
        raise PhraseError(f"phrase {phrase!r} stands for {total} word sequences (more than {MAX_EXPANSIONS})")
    seen: dict[tuple[str, ...], None] = {}
    for combination in itertools.product(*slots):
        words = tuple(word for part in combination for word in part)
        if words:
            seen.setdefault(words, None)
    if not seen:
        raise PhraseError(f"phrase {phrase!r} can match nothing (every group optional)")
    return list(seen)
