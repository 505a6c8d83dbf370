"""Read the official ICD-10-CM Tabular List XML into plain rows, checking its structure as it goes.

Why a separate step from writing SQLite: parsing is where the official file can surprise us (truncated
download, a new element, a code that breaks the hierarchy), so every such surprise becomes a coded
:class:`~medcoder.errors.BuildError` naming the file, the line and the code; the writer then only copies
rows. The element names and nesting follow the CMS schema ``icd-10-cm-tabular-2025.xsd``:
``chapter > section > diag > diag ...``, with note elements (``includes``, ``excludes1`` ...) at every
level and ``sevenChrDef`` on the category or subcategory whose descendants take a 7th character.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from medcoder.errors import BuildError, CodeFormatError, SourceError
from medcoder.model.code import find_code_refs, normalize_icd10cm

NOTE_ELEMENTS = ("inclusionTerm", "includes", "excludes1", "excludes2", "codeFirst", "useAdditionalCode",
                 "codeAlso", "notes", "sevenChrNote")
"""Note elements of the XSD (``noteType``) found on chapters, sections and diags, in schema order."""

_RANGE_TITLE = re.compile(r"^(?P<title>.*?)\s*\((?P<first>[A-Z0-9]{3})(?:-(?P<last>[A-Z0-9]{3}))?\)\s*$",
                          re.DOTALL)
# Chapter 19, category S06: "7th characters D and S do not apply to codes in category S06 with 6th
# character 7 - death due to brain injury ..., or 8 - death due to other cause ...". The only rule in the
# Tabular that removes 7th characters; it is printed as prose, so it is read from the prose.
_SEVENTH_RULE = re.compile(r"7th characters? (?P<chars>.+?) do(?:es)? not apply to codes in category "
                           r"(?P<category>[A-Z][0-9A-Z]{2}) with 6th character (?P<sixth>.+)")


# Row types mirror the tables of ``icd10cm_tabular.SCHEMA`` one to one, so writing is a plain copy.


@dataclass(frozen=True, slots=True, kw_only=True)
class ChapterRow:
    number: int
    title: str
    first: str
    last: str
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockRow:
    id: str
    title: str
    first: str
    last: str
    chapter: int
    parent: str | None
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeRow:
    """One ``diag`` element. ``seq`` is document order; ``seq_end`` the last seq of its subtree."""

    code: str
    title: str
    level: str
    parent: str | None
    block: str
    chapter: int
    leaf: bool
    seventh_from: str | None
    placeholder: bool
    seq: int
    seq_end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteRow:
    owner_kind: str
    owner: str
    kind: str
    grp: int
    seq: int
    text: str
    codes: tuple[str, ...]
    character: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeventhRow:
    owner: str
    character: str
    title: str
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SeventhRuleRow:
    category: str
    sixth: str
    excluded: str
    note: str


@dataclass(slots=True, kw_only=True)
class ParsedTabular:
    """Everything the Tabular XML says, as rows ready for SQLite."""

    version: str
    chapters: list[ChapterRow] = field(default_factory=list)
    blocks: list[BlockRow] = field(default_factory=list)
    codes: list[CodeRow] = field(default_factory=list)
    notes: list[NoteRow] = field(default_factory=list)
    seventh: list[SeventhRow] = field(default_factory=list)
    seventh_rules: list[SeventhRuleRow] = field(default_factory=list)
    unknown_refs: int = 0


def read_tree(path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse the XML with expat so that every element keeps its line number for error messages."""
    if not path.is_file():
        raise SourceError(f"ICD-10-CM Tabular XML not found: {path}", code="E101", where=str(path),
                          fix="Install simple-icd-10-cm==1.5.0 or point files['tabular_xml'] at the "
                              "official icd10cm-tabular XML")
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        with path.open("rb") as f:
            parser.ParseFile(f)
        root = builder.close()
    except OSError as e:
        raise SourceError(f"cannot read the Tabular XML: {e}", code="E102", where=str(path),
                          fix="Check the file's permissions, or re-download it") from e
    except expat.ExpatError as e:
        raise BuildError(f"the Tabular XML is malformed or truncated: {expat.errors.messages[e.code]}",
                         code="E201", where=f"{path}:{e.lineno}:{e.offset}",
                         fix="Re-download the file and check its sha256 against the source catalog") from e
    return root, lines


def text_of(el: ET.Element | None) -> str:
    """All text of a mixed-content element with whitespace collapsed (the XML indents with tabs)."""
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


class _Parser:
    """Walks the tree once; keeps counters and the file/line context for errors."""

    def __init__(self, path: Path, root: ET.Element, lines: dict[ET.Element, int]) -> None:
        self.path = path
        self.lines = lines
        self.root = root
        self.seq = 0
        self.out = ParsedTabular(version=text_of(root.find("version")))
        self.raw_notes: list[tuple[str, str, str, int, int, str, str | None]] = []
        self.grp = 0
        self.seen: set[str] = set()
        self.defines_seventh: set[str] = set()

    def fail(self, message: str, el: ET.Element, *, code: str, fix: str) -> BuildError:
        return BuildError(message, code=code, where=f"{self.path}:{self.lines.get(el, 0)}", fix=fix)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def run(self) -> ParsedTabular:
        if self.root.tag != "ICD10CM.tabular":
            raise self.fail(f"root element is <{self.root.tag}>, expected <ICD10CM.tabular>", self.root,
                            code="E202", fix="Pass the Tabular List XML, not the Index or another file")
        self.introduction()
        for chapter in self.root.findall("chapter"):
            self.chapter(chapter)
        if not self.out.chapters or not self.out.codes:
            raise self.fail("no <chapter> with codes found", self.root, code="E203",
                            fix="The file is incomplete; re-download the official Tabular XML")
        self.resolve_notes()
        self.nest_blocks()
        return self.out

    def introduction(self) -> None:
        for section in self.root.iterfind("introduction/introSection"):
            title = text_of(section.find("title")) or section.get("type", "")
            for instruction in section.findall("instruction"):
                self.notes_of(instruction, "introduction", title, "instruction")

    def ranged(self, el: ET.Element, what: str) -> tuple[str, str, str]:
        desc = text_of(el.find("desc"))
        m = _RANGE_TITLE.match(desc)
        if m is None:
            raise self.fail(f"{what} title {desc!r} does not end with its code range, e.g. '(A00-B99)'", el,
                            code="E204", fix="The file does not follow the CMS Tabular schema; check it")
        return m["title"], m["first"], m["last"] or m["first"]

    def chapter(self, el: ET.Element) -> None:
        name = text_of(el.find("name"))
        if not name.isdigit():
            raise self.fail(f"chapter <name> {name!r} is not a chapter number", el, code="E204",
                            fix="The file does not follow the CMS Tabular schema; check it")
        number = int(name)
        title, first, last = self.ranged(el, f"chapter {number}")
        self.out.chapters.append(ChapterRow(number=number, title=title, first=first, last=last,
                                            seq=self.next_seq()))
        self.annotations(el, "chapter", str(number))
        for section in el.findall("section"):
            self.section(section, number)

    def section(self, el: ET.Element, chapter: int) -> None:
        title, first, last = self.ranged(el, "section")
        block = el.get("id") or (first if first == last else f"{first}-{last}")
        if any(b.id == block for b in self.out.blocks):
            raise self.fail(f"block {block} appears twice", el, code="E207",
                            fix="The file is corrupt or mixes two releases; re-download it")
        self.out.blocks.append(BlockRow(id=block, title=title, first=first, last=last, chapter=chapter,
                                        parent=None, seq=self.next_seq()))
        self.annotations(el, "block", block)
        for diag in el.findall("diag"):
            self.diag(diag, parent=None, block=block, chapter=chapter, seventh_from=None)

    def diag(self, el: ET.Element, *, parent: str | None, block: str, chapter: int,
             seventh_from: str | None) -> int:
        """Record one diag and its subtree; return the last seq used (for range containment)."""
        raw = text_of(el.find("name"))
        where = f"under {parent}" if parent else f"in block {block}"
        try:
            code = normalize_icd10cm(raw)
        except CodeFormatError as e:
            raise self.fail(f"<diag> {where} has an invalid code name {raw!r}: {e.message}", el,
                            code="E205", fix="The file does not follow the CMS Tabular schema") from e
        bare = code.replace(".", "")
        if parent is not None and not (bare.startswith(parent.replace(".", ""))
                                       and len(bare) > len(parent.replace(".", ""))):
            raise self.fail(f"code {code} is nested under {parent} but does not extend it", el,
                            code="E206", fix="The hierarchy of the file is broken; re-download it")
        if parent is None and len(bare) != 3:
            raise self.fail(f"code {code} sits directly in block {block} but is not a category", el,
                            code="E206", fix="The hierarchy of the file is broken; re-download it")
        if code in self.seen:
            raise self.fail(f"code {code} appears twice", el, code="E207",
                            fix="The file is corrupt or mixes two releases; re-download it")
        self.seen.add(code)
        title = text_of(el.find("desc"))
        if not title:
            raise self.fail(f"code {code} has no <desc> title", el, code="E205",
                            fix="The file does not follow the CMS Tabular schema; check it")
        seq = self.next_seq()
        self.annotations(el, "code", code)
        if code in self.defines_seventh:
            seventh_from = code
        children = el.findall("diag")
        seq_end = seq
        for child in children:
            seq_end = self.diag(child, parent=code, block=block, chapter=chapter, seventh_from=seventh_from)
        level = "category" if len(bare) == 3 else ("subcategory" if children else "code")
        self.out.codes.append(CodeRow(code=code, title=title, level=level, parent=parent, block=block,
                                      chapter=chapter, leaf=not children, seventh_from=seventh_from,
                                      placeholder=el.get("placeholder") == "true", seq=seq,
                                      seq_end=seq_end))
        return seq_end

    def seventh_def(self, definition: ET.Element, code: str) -> None:
        """Store a ``sevenChrDef``; its loose ``<note>`` lines belong to the extension printed above them."""
        self.grp += 1
        last: str | None = None
        chars: set[str] = set()
        for item in definition:
            text = text_of(item)
            if item.tag == "extension":
                char = (item.get("char") or "").strip().upper()
                if len(char) != 1 or not char.isalnum() or not text:
                    raise self.fail(f"7th character definition of {code} has an invalid extension "
                                    f"char={char!r} text={text!r}", item, code="E208",
                                    fix="The file does not follow the CMS Tabular schema; check it")
                if char in chars:
                    raise self.fail(f"7th character {char} is defined twice for {code}", item, code="E208",
                                    fix="The file is corrupt; re-download it")
                self.out.seventh.append(SeventhRow(owner=code, character=char, title=text,
                                                   seq=self.next_seq()))
                self.raw_notes.append(("code", code, "sevenChrDef", self.grp, self.next_seq(), text, char))
                last = char
                chars.add(char)
            elif item.tag == "note" and text:
                self.raw_notes.append(("code", code, "sevenChrDef", self.grp, self.next_seq(), text, last))
        if chars:
            self.defines_seventh.add(code)

    def annotations(self, el: ET.Element, owner_kind: str, owner: str) -> None:
        """Record the notes printed on a chapter, block or code, in document order."""
        for child in el:
            if child.tag == "sevenChrDef":
                if owner_kind != "code":
                    raise self.fail(f"a 7th-character definition on {owner_kind} {owner} is not supported",
                                    child, code="E208",
                                    fix="Only categories and subcategories carry sevenChrDef in the CMS "
                                        "files; extend the parser if a release changes this")
                self.seventh_def(child, owner)
            elif child.tag in NOTE_ELEMENTS:
                self.notes_of(child, owner_kind, owner, child.tag)
            elif child.tag == "visualImpairment":
                self.visual_impairment(child, owner_kind, owner)

    def notes_of(self, el: ET.Element, owner_kind: str, owner: str, kind: str) -> None:
        self.grp += 1
        for note in el.findall("note"):
            text = text_of(note)
            if text:
                self.raw_notes.append((owner_kind, owner, kind, self.grp, self.next_seq(), text, None))

    def visual_impairment(self, el: ET.Element, owner_kind: str, owner: str) -> None:
        """Flatten the H54 visual-impairment table to one line per category, keeping its headings."""
        self.grp += 1
        rows = el.findall("visCategory")
        heads = rows[0] if rows and rows[0].find("value") is None else None
        label = text_of(heads.find("heading")) if heads is not None else "Category"
        ranges = heads.findall("visRange") if heads is not None else []
        max_head = text_of(ranges[0].find("visMax/heading")) if ranges else "Maximum less than:"
        min_head = text_of(ranges[0].find("visMin/heading")) if ranges else "Minimum equal to or better than:"
        for row in rows:
            value = text_of(row.find("value"))
            if not value:
                continue
            maxima = ", ".join(text_of(r.find("visMax/value")) for r in row.findall("visRange"))
            minima = ", ".join(text_of(r.find("visMin/value")) for r in row.findall("visRange"))
            text = f"{label} {value}: {max_head} {maxima}; {min_head} {minima}".replace(":;", ";")
            self.raw_notes.append((owner_kind, owner, "visualImpairment", self.grp, self.next_seq(),
                                   text, None))

    def resolve_notes(self) -> None:
        """Turn raw notes into rows with code references, keeping only references to real categories."""
        categories = {c.code for c in self.out.codes if c.level == "category"}
        for owner_kind, owner, kind, grp, seq, text, char in self.raw_notes:
            refs = []
            for ref in find_code_refs(text):
                if ref.first[:3] in categories:
                    refs.append(str(ref))
                else:
                    self.out.unknown_refs += 1
            self.out.notes.append(NoteRow(owner_kind=owner_kind, owner=owner, kind=kind, grp=grp, seq=seq,
                                          text=text, codes=tuple(refs), character=char))
            if kind == "notes" and owner_kind == "code" and "do not apply" in text:
                self.seventh_rule(owner, text)

    def seventh_rule(self, owner: str, text: str) -> None:
        m = _SEVENTH_RULE.search(text)
        if m is None:
            return
        excluded = "".join(re.findall(r"\b([A-Z0-9])\b", m["chars"]))
        sixths = re.findall(r"(?:^|,? or )([0-9A-Z]) -", m["sixth"])
        if not excluded or not sixths or m["category"] != owner:
            raise BuildError(f"cannot read the 7th-character restriction at {owner}: {text!r}", code="E209",
                             where=f"{self.path}: code {owner}",
                             fix="The wording of the note changed; update _SEVENTH_RULE in "
                                 "icd10cm_tabular_parse.py")
        for sixth in sixths:
            self.out.seventh_rules.append(SeventhRuleRow(category=owner, sixth=sixth, excluded=excluded,
                                                         note=text))

    def nest_blocks(self) -> None:
        """Give each block its enclosing block: the Tabular lists "super-blocks" (C00-C96, T20-T32,
        V00-X58) as empty sections before the blocks they contain, and their notes apply to those codes.

        Containment is by document order, not by string order, because C7A/D3A/M1A sit between
        categories that sort differently (C7A is printed after C75, but "C7A" > "C80" as text).
        """
        seq = {c.code: (c.seq, c.seq_end) for c in self.out.codes if c.level == "category"}

        def span(b: BlockRow) -> tuple[int, int] | None:
            if b.first in seq and b.last in seq:
                return seq[b.first][0], seq[b.last][1]
            return None

        spans = {b.id: span(b) for b in self.out.blocks}
        nested = []
        for b in self.out.blocks:
            inner = spans[b.id]
            parent: BlockRow | None = None
            for p in self.out.blocks:
                outer = spans[p.id]
                if p is b or p.chapter != b.chapter or inner is None or outer is None:
                    continue
                if outer[0] <= inner[0] and inner[1] <= outer[1] and outer != inner:
                    p_span = spans[parent.id] if parent else None
                    if p_span is None or outer[1] - outer[0] < p_span[1] - p_span[0]:
                        parent = p
            nested.append(BlockRow(id=b.id, title=b.title, first=b.first, last=b.last, chapter=b.chapter,
                                   parent=parent.id if parent else None, seq=b.seq))
        self.out.blocks = nested


def parse_tabular(path: Path) -> ParsedTabular:
    """Read and check the whole Tabular XML; raises SourceError (E1xx) or BuildError (E2xx)."""
    root, lines = read_tree(path)
    return _Parser(path, root, lines).run()
