"""Reading clinical notes: sections, sentences and assertion context (ConText), without spaCy.

The pipeline calls ``read_note(text)`` and asks the result for the context of each mention
(``ReadNote.context_of(start, end)``); single sentences can be read with ``context_of``/``contexts_of``.
Rules are data in ``nlp/rules/`` (``sections.json``, ``context.json``), validated on first use.
"""

from medcoder.nlp.context import analyze_sentence, context_of, contexts_of
from medcoder.nlp.reader import ReadNote, read_note
from medcoder.nlp.sections import find_sections, section_context
from medcoder.nlp.sentences import split_sentences

__all__ = ["ReadNote", "analyze_sentence", "context_of", "contexts_of", "find_sections", "read_note",
           "section_context", "split_sentences"]
