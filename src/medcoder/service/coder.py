"""What the service asks of a coding engine, and the baseline engine used until the full pipeline lands.

``Coder`` is any callable from a ``CodingRequest`` to a ``CodingResult``. The default is the encounter
pipeline ``medcoder.coding.pipeline.code_text`` when that module exists; otherwise ``SearchCoder``, a real
and measurable **baseline coder**: it cuts each sentence into noun-phrase-like chunks (runs of words between
stop words), walks the Alphabetic Index with each chunk (head word as main term, the rest as subterm), falls
back to the ranked Tabular title search, and keeps only billable ICD-10-CM codes. It has no context model
beyond skipping sentences with negation, uncertainty or family-history cues.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from medcoder.model.suggestion import CodeSuggestion, DocumentationQuery, Evidence
from medcoder.settings import Settings

BASELINE_VERSION = "baseline-search/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class CodingRequest:
    text: str
    setting: str = "outpatient"
    age: int | None = None
    sex: str | None = None
    date_of_service: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodingResult:
    suggestions: tuple[CodeSuggestion, ...] = ()
    queries: tuple[DocumentationQuery, ...] = ()
    releases: dict[str, str] = field(default_factory=dict)
    """Release id used per knowledge-base kind, e.g. ``{"icd10cm-tabular": "FY2026-APR"}``."""
    pipeline_version: str = BASELINE_VERSION


class Coder(Protocol):
    def __call__(self, request: CodingRequest, /) -> CodingResult: ...


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
_SENTENCE = re.compile(r"[^.!?;:\n]+")
_STOP = frozenset("""
a an the and or of in on at to for from by with without as is was are were be been being has have had do does
did he she they it we you i his her their its our your him them this that these those there here which who whom
whose what when where why how not no nor but if then than so very also some any all each both more most other
such only own same too can will just should would could may might must shall patient pt mr mrs ms dr today
yesterday now currently recently presents presented reports reported states stated notes noted complains
complaint complaints chief history present illness year years old male female man woman well good doing
about after before over under up down out into again further once per since until while during due
""".split())
# Sentences with these cues are not coded by the baseline (negated, uncertain, family or hypothetical).
_SKIP = re.compile(r"\b(no|not|denies|denied|negative|without|free of|rule out|r/o|possible|probable|"
                   r"suspected|likely|family history|mother|father|sister|brother|if|return)\b", re.IGNORECASE)
_MAX_CHUNK = 5
_MAX_CODES = 15


@dataclass(frozen=True, slots=True, kw_only=True)
class _Chunk:
    words: tuple[str, ...]
    start: int
    end: int


_HEADER = re.compile(r"^[ \t]*([A-Z][A-Z /&-]{3,60}|[A-Za-z][A-Za-z /&-]{3,40}:)[ \t]*$", re.MULTILINE)
# Sections whose findings are not diagnoses of the visit (ROS negatives, exam, vitals, family/social history).
_SKIP_SECTION = re.compile(r"review of systems|\bros\b|exam|vital|family|social|medication|allerg|result|"
                           r"surgical|instruction", re.IGNORECASE)


def _coded_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges outside the sections the baseline skips."""
    spans, start, keep = [], 0, True
    for header in _HEADER.finditer(text):
        if keep and header.start() > start:
            spans.append((start, header.start()))
        start, keep = header.end(), not _SKIP_SECTION.search(header.group())
    if keep:
        spans.append((start, len(text)))
    return spans


def chunks(text: str) -> list[_Chunk]:
    """Runs of consecutive non-stop words inside each sentence, with their character offsets."""
    out: list[_Chunk] = []
    sentences = [s for a, b in _coded_spans(text) for s in _SENTENCE.finditer(text, a, b)]
    for sentence in sentences:
        if _SKIP.search(sentence.group()):
            continue
        run: list[re.Match[str]] = []
        for match in [*_WORD.finditer(sentence.group()), None]:
            if match is not None and match.group().lower() not in _STOP:
                run.append(match)
                continue
            if run and any(len(m.group()) >= 4 for m in run):
                run = run[-_MAX_CHUNK:]
                out.append(_Chunk(words=tuple(m.group().lower() for m in run),
                                  start=sentence.start() + run[0].start(), end=sentence.start() + run[-1].end()))
            run = []
    return out


# Opened knowledge bases, shared by every SearchCoder of the process (the readers load lookup tables on first
# use, about a second): keyed by (home, releases chosen). The lock makes one coding call at a time use them.
_CODESETS: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
KB_LOCK = threading.RLock()


def shared_codesets(settings: Settings, day: date | None) -> Any:
    """The process's ``Codesets`` for a date of service (None: the newest releases), opened once per set of
    releases: all the dates of one fiscal year share one (their readers load lookup tables on first use)."""
    from medcoder.codesets.codesets import Codesets

    chosen = Codesets.for_date(day, settings=settings) if day else Codesets.newest(settings=settings)
    key = (str(settings.home), tuple(sorted((kind, c.release.id) for kind, c in chosen.choices.items())))
    with KB_LOCK:
        if key not in _CODESETS:
            _CODESETS[key] = chosen
        return _CODESETS[key]


class SearchCoder:
    """The baseline coder over a built knowledge base (see the module docstring). Picklable: a worker
    process reopens the knowledge base lazily on its first record."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _codesets(self, day: date | None) -> Any:
        return shared_codesets(self.settings, day)

    def __call__(self, request: CodingRequest, /) -> CodingResult:
        with KB_LOCK:
            return self._code(request)

    def _code(self, request: CodingRequest) -> CodingResult:
        from medcoder.codesets.search import search

        cs = self._codesets(request.date_of_service)
        release = cs.release("icd10cm-tabular").id
        found: dict[str, CodeSuggestion] = {}
        for chunk in chunks(request.text):
            if len(found) >= _MAX_CODES:
                break
            code, how = self._index_code(cs, chunk.words)
            if code is None and len(chunk.words) > 1:
                hits = search(cs, " ".join(chunk.words), limit=3, kinds=("icd10cm-tabular",))
                for hit in hits:
                    title_words = {w.lower() for w in _WORD.findall(hit.text)}
                    if (hit.kind == "title" and len(title_words) <= len(chunk.words) + 2
                            and all(w in title_words for w in chunk.words if len(w) >= 3)):
                        code, how = hit.code, f"search: title '{hit.text}' contains every word"
                        break
            if code is None or code in found:
                continue
            entry = cs.tabular.get(code)
            if entry is None or not entry.billable:
                continue
            evidence = Evidence(start=chunk.start, end=chunk.end, text=request.text[chunk.start:chunk.end])
            found[code] = CodeSuggestion(
                system="ICD-10-CM", code=entry.code, title=entry.title, sequence=len(found) + 1,
                confidence=0.6 if how.startswith("index") else 0.4, evidence=(evidence,),
                rationale=(how, f"tabular: {entry.code} billable in {release}", f"coder: {BASELINE_VERSION}"))
        releases = {use.kind: use.release for use in cs.uses()}
        return CodingResult(suggestions=tuple(found.values()), releases=releases,
                            pipeline_version=BASELINE_VERSION)

    @staticmethod
    def _index_code(cs: Any, words: tuple[str, ...]) -> tuple[str | None, str]:
        paths = [[words[-1], " ".join(words[:-1])]] if len(words) > 1 else [[words[0]]]
        paths.append([" ".join(words)])
        for path in paths:
            result = cs.index.walk(path, follow_see=True).final
            if result.matched and result.code and not result.incomplete:
                return result.code, "index: " + " > ".join(path) + f" -> {result.code}"
        return None, ""


def search_coder(settings: Settings) -> SearchCoder:
    """The baseline coder over the knowledge base in ``settings``."""
    return SearchCoder(settings)


PIPELINE_MODULE = "medcoder.coding.pipeline"


def default_coder(settings: Settings) -> Coder:
    """The encounter pipeline when it is installed (``medcoder.coding.pipeline.code_text``), else the baseline.

    ``code_text`` is called as ``code_text(text, setting=..., age=..., sex=..., date_of_service=...,
    settings=...)`` and may return anything with ``suggestions``, ``queries``, ``releases`` and
    ``pipeline_version`` attributes (missing ones default).
    """
    if importlib.util.find_spec("medcoder.coding") is None or importlib.util.find_spec(PIPELINE_MODULE) is None:
        return search_coder(settings)
    module = importlib.import_module(PIPELINE_MODULE)
    code_text = getattr(module, "code_text", None)
    if code_text is None:
        return search_coder(settings)
    return PipelineCoder(code_text, settings)


class PipelineCoder:
    """Adapts ``medcoder.coding.pipeline.code_text`` to the ``Coder`` protocol."""

    def __init__(self, code_text: Callable[..., Any], settings: Settings) -> None:
        self.code_text = code_text
        self.settings = settings

    def __call__(self, request: CodingRequest, /) -> CodingResult:
        result = self.code_text(request.text, setting=request.setting, age=request.age, sex=request.sex,
                                date_of_service=request.date_of_service, settings=self.settings)
        return CodingResult(suggestions=tuple(getattr(result, "suggestions", ())),
                            queries=tuple(getattr(result, "queries", ())),
                            releases=dict(getattr(result, "releases", {}) or {}),
                            pipeline_version=str(getattr(result, "pipeline_version", PIPELINE_MODULE)))
