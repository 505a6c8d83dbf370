"""Read an official ``<ICD10CM.index>`` XML file: Alphabetic Index, External Cause Index, Neoplasm or Drug table.

Why expat and not ElementTree: expat streams, and it knows the line of every element, so a malformed file
is refused with the line to look at ("E222 term level 3 under level 1 at ...:1234"). Why strict: the XSD is
the contract; an element the schema does not allow (or addenda markup in a full release) means the file is
not what we think it is, and guessing would put codes under the wrong term.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from xml.parsers import expat

from medcoder.codesets.icd10cm_index_model import Book, ParsedSource, ParsedTerm, clean_cell, collapse
from medcoder.errors import BuildError

ROOT = "ICD10CM.index"
FIELDS: dict[str, str] = {
    "see": "see", "seeAlso": "see_also", "code": "code", "seecat": "seecat", "subcat": "subcat",
    "manif": "manif", "warning": "warning",
}
"""termGroup elements holding one text value each (XSD: at most one of each per term)."""
CELL_COLUMNS = range(2, 8)
"""``<cell col=2..7>``: the six code columns; column 1 is the title itself."""
ADDENDA = frozenset({"diff", "old", "new", "unc"})
_FIX_XML = "Use the full official file from the CDC/CMS release (not an addenda file); check it is complete"


class _Frame:
    """A mainTerm/term being read (mutable while its element is open; frozen into a ParsedTerm at its end)."""

    __slots__ = ("ordinal", "line", "level", "title", "nemod", "printed", "fields", "cells", "has_title")

    def __init__(self, ordinal: int, line: int, level: int) -> None:
        self.ordinal = ordinal
        self.line = line
        self.level = level
        self.title: list[str] = []
        self.nemod: list[str] = []
        self.printed: list[str] = []
        self.fields: dict[str, str] = {}
        self.cells: dict[int, str] = {}
        self.has_title = False


class _IndexXmlReader:
    """Expat callbacks building ParsedTerms in document order."""

    def __init__(self, path: Path, book: Book) -> None:
        self.path = path
        self.book = book
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.elements: list[str] = []
        self.frames: list[_Frame] = []
        self.records: list[ParsedTerm | None] = []
        self.letter: str | None = None
        self.version: str | None = None
        self.doc_title: str | None = None
        self.headings: dict[int, str] = {}
        self.buffer: list[str] | None = None
        self.buffer_col = 0
        self.title_mode: Literal["", "term", "nemod"] = ""

    # --- helpers ------------------------------------------------------------------------------------------

    def fail(self, message: str, code: str) -> BuildError:
        return BuildError(message, code=code, where=f"{self.path}:{self.parser.CurrentLineNumber}", fix=_FIX_XML)

    def column(self, name: str, attrs: dict[str, str]) -> int:
        try:
            return int(attrs["col"])
        except (KeyError, ValueError) as e:
            raise self.fail(f"<{name}> needs an integer col attribute, got {attrs.get('col')!r}", "E225") from e

    # --- callbacks ----------------------------------------------------------------------------------------

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.elements[-1] if self.elements else None
        if parent is None and name != ROOT:
            raise self.fail(f"root element is <{name}>, expected <{ROOT}>", "E221")
        if name == ROOT:
            if parent is not None:
                raise self.fail(f"<{ROOT}> nested inside <{parent}>", "E221")
            if attrs.get("isAddenda") == "true":
                raise self.fail("this is an addenda file (isAddenda=\"true\"), not a full index", "E226")
        elif name in ADDENDA:
            raise self.fail(f"addenda markup <{name}> in a full index file", "E226")
        elif name in ("mainTerm", "term"):
            self.start_term(name, parent, attrs)
        elif name == "title":
            self.start_title(parent)
        elif name == "nemod":
            if parent != "title" and self.buffer is None:
                raise self.fail(f"<nemod> inside <{parent}>", "E223")
            if parent == "title" and self.title_mode == "term":
                self.title_mode = "nemod"
                frame = self.frames[-1]
                if frame.printed and not frame.printed[-1].endswith(" "):
                    frame.printed.append(" ")
        elif name in FIELDS or name == "cell":
            if parent not in ("mainTerm", "term"):
                raise self.fail(f"<{name}> outside a mainTerm/term (inside <{parent}>)", "E223")
            frame = self.frames[-1]
            if name == "cell":
                col = self.column(name, attrs)
                if col not in CELL_COLUMNS:
                    raise self.fail(f"<cell col=\"{col}\"> outside columns 2..7", "E225")
                if col in frame.cells:
                    raise self.fail(f"<cell col=\"{col}\"> appears twice in one term", "E224")
                self.buffer_col = col
            elif FIELDS[name] in frame.fields:
                raise self.fail(f"<{name}> appears twice in one term (the XSD allows one)", "E224")
            self.buffer = []
        elif name == "version" and parent == ROOT:
            self.buffer = []
        elif name == "head" and parent == "indexHeading":
            self.buffer_col = self.column(name, attrs)
            self.buffer = []
        elif name == "letter" and parent == ROOT:
            self.letter = None
        elif not (name == "indexHeading" and parent == ROOT):
            raise self.fail(f"unexpected element <{name}> inside <{parent}>", "E223")
        self.elements.append(name)

    def start_term(self, name: str, parent: str | None, attrs: dict[str, str]) -> None:
        if name == "mainTerm":
            if parent != "letter":
                raise self.fail(f"<mainTerm> inside <{parent}>, expected <letter>", "E222")
            level = 0
        else:
            if parent not in ("mainTerm", "term"):
                raise self.fail(f"<term> inside <{parent}>, expected <mainTerm> or <term>", "E222")
            try:
                level = int(attrs["level"])
            except (KeyError, ValueError) as e:
                raise self.fail(f"<term> needs an integer level, got {attrs.get('level')!r}", "E222") from e
            if level != self.frames[-1].level + 1:
                raise self.fail(f"<term level=\"{level}\"> directly under a level-{self.frames[-1].level} "
                                f"term", "E222")
        self.records.append(None)
        self.frames.append(_Frame(len(self.records), self.parser.CurrentLineNumber, level))

    def start_title(self, parent: str | None) -> None:
        if parent in ("mainTerm", "term"):
            frame = self.frames[-1]
            if frame.has_title:
                raise self.fail("a term with two <title> elements", "E224")
            frame.has_title = True
            self.title_mode = "term"
        elif parent in (ROOT, "letter"):
            self.buffer = []
        else:
            raise self.fail(f"<title> inside <{parent}>", "E223")

    def chars(self, data: str) -> None:
        if self.title_mode:
            frame = self.frames[-1]
            (frame.nemod if self.title_mode == "nemod" else frame.title).append(data)
            frame.printed.append(data)
        elif self.buffer is not None:
            self.buffer.append(data)

    def end(self, name: str) -> None:
        self.elements.pop()
        parent = self.elements[-1] if self.elements else None
        if name in ("mainTerm", "term"):
            self.end_term()
        elif name == "title":
            if self.title_mode:
                self.title_mode = ""
            elif self.buffer is not None:
                text = collapse("".join(self.buffer))
                if parent == "letter":
                    self.letter = text
                else:
                    self.doc_title = text
                self.buffer = None
        elif name == "nemod":
            if self.title_mode == "nemod":
                self.title_mode = "term"
                frame = self.frames[-1]
                frame.nemod.append(" ")
        elif self.buffer is not None and name in (*FIELDS, "cell", "version", "head"):
            text = collapse("".join(self.buffer))
            self.buffer = None
            if name == "cell":
                self.frames[-1].cells[self.buffer_col] = text
            elif name == "version":
                self.version = text
            elif name == "head":
                self.headings[self.buffer_col] = text
            else:
                self.frames[-1].fields[FIELDS[name]] = text

    def end_term(self) -> None:
        frame = self.frames.pop()
        if not frame.has_title:
            raise self.fail("a mainTerm/term without <title>", "E222")
        fields = frame.fields
        cells = (tuple(clean_cell(frame.cells.get(col)) for col in CELL_COLUMNS) if frame.cells else None)
        title = collapse("".join(frame.title))
        self.records[frame.ordinal - 1] = ParsedTerm(
            ordinal=frame.ordinal, line=frame.line, level=frame.level, letter=self.letter,
            title=title, nemod=collapse("".join(frame.nemod)) or None,
            printed=collapse("".join(frame.printed)),
            code=fields.get("code") or None, manif=fields.get("manif") or None, see=fields.get("see") or None,
            see_also=fields.get("see_also") or None, seecat=fields.get("seecat") or None,
            subcat=fields.get("subcat") or None, warning=fields.get("warning") or None, cells=cells,
        )


def parse_index_xml(path: Path, *, book: Book) -> ParsedSource:
    """Parse one ``<ICD10CM.index>`` file; raise :class:`BuildError` (E22x) with the line of any fault."""
    reader = _IndexXmlReader(path, book)
    try:
        with path.open("rb") as handle:
            reader.parser.ParseFile(handle)
    except expat.ExpatError as e:
        raise BuildError(f"malformed or truncated XML: {expat.errors.messages[e.code]}", code="E220",
                         where=f"{path}:{e.lineno}:{e.offset}", fix=_FIX_XML) from e
    terms = tuple(record for record in reader.records if record is not None)
    if len(terms) != len(reader.records):  # pragma: no cover - expat closes every element or raises
        raise BuildError("unclosed mainTerm/term elements", code="E220", where=str(path), fix=_FIX_XML)
    if not terms:
        raise BuildError(f"<{ROOT}> holds no mainTerm", code="E227", where=str(path), fix=_FIX_XML)
    return ParsedSource(book=book, form="xml-official", path=str(path), terms=terms, version=reader.version,
                        title=reader.doc_title, headings=dict(reader.headings))
