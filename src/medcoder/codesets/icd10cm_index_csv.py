"""Read the derived, flattened Alphabetic Index CSV back into its tree.

Why this exists at all: the official ``icd10cm_index_2025.xml`` is not in the mirror; the only copy of the
Alphabetic Index is a third-party CSV (RowID, Letter, Level, Term, See, SeeAlso, NonEssModif, Code) in
document order. Its nesting survives as ``Level`` (0 = main term), so the tree is rebuilt from (order, Level)
and any row that breaks that contract is refused rather than attached to the wrong parent. What the CSV lost
(manif, subcat, seecat, warning, title text after a nemod) is described in the mirror's SOURCE.md and
cannot be recovered here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from medcoder.codesets.icd10cm_index_model import ParsedSource, ParsedTerm, collapse
from medcoder.errors import BuildError

CSV_COLUMNS: tuple[str, ...] = ("RowID", "Letter", "Level", "Term", "See", "SeeAlso", "NonEssModif", "Code")
MAX_LEVEL = 9
"""The index XSD allows ``term level="1".."9"`` below a main term."""

# Two rows of the FY2025 CSV have their code glued to the title and an empty Code column
# ("...during procedureT88.53", "angiomatousD18.00"): a concatenation artefact of the flattening.
_GLUED_CODE = re.compile(r"^(?P<title>.*[a-z)])(?P<code>[A-TV-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4}-?|\.-)?)$")

_FIX_CSV = "Restore the file from the mirror (see cms/icd10cm/SOURCE.md for its sha256)"


def _fail(message: str, *, code: str, path: Path, line: int) -> BuildError:
    return BuildError(message, code=code, where=f"{path}:{line}", fix=_FIX_CSV)


def parse_index_csv(path: Path) -> ParsedSource:
    """Parse the derived index CSV; raise :class:`BuildError` (E21x) naming the line of any malformed row."""
    terms: list[ParsedTerm] = []
    repaired = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise _fail("index CSV is empty: no header row", code="E210", path=path, line=1)
            missing = [name for name in CSV_COLUMNS if name not in header]
            if missing:
                raise _fail(f"index CSV header lacks column(s) {', '.join(missing)}; expected "
                            f"{','.join(CSV_COLUMNS)}", code="E210", path=path, line=1)
            col = {name: header.index(name) for name in CSV_COLUMNS}
            prev_level = -1
            prev_row = 0
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise _fail(f"row has {len(row)} fields, expected {len(header)} (truncated or "
                                f"mis-quoted line)", code="E215", path=path, line=line)
                try:
                    level = int(row[col["Level"]])
                    row_id = int(row[col["RowID"]])
                except ValueError as e:
                    raise _fail(f"RowID/Level must be integers, got {row[col['RowID']]!r}/"
                                f"{row[col['Level']]!r}", code="E211", path=path, line=line) from e
                if not 0 <= level <= MAX_LEVEL:
                    raise _fail(f"Level {level} is outside 0..{MAX_LEVEL}", code="E211", path=path, line=line)
                if level > prev_level + 1:
                    raise _fail(f"RowID {row_id} jumps from level {prev_level} to level {level}: the row "
                                f"has no parent at level {level - 1}", code="E212", path=path, line=line)
                if row_id <= prev_row:
                    raise _fail(f"RowID {row_id} is not after RowID {prev_row}: rows are out of document "
                                f"order", code="E213", path=path, line=line)
                title = collapse(row[col["Term"]])
                code = collapse(row[col["Code"]]) or None
                if code is None and (glued := _GLUED_CODE.match(title)):
                    title, code = glued.group("title").rstrip(), glued.group("code")
                    repaired += 1
                nemod = collapse(row[col["NonEssModif"]]) or None
                terms.append(ParsedTerm(
                    ordinal=row_id, line=line, level=level, letter=row[col["Letter"]].strip() or None,
                    title=title, nemod=nemod, printed=f"{title} {nemod}".strip() if nemod else title,
                    code=code, see=collapse(row[col["See"]]) or None,
                    see_also=collapse(row[col["SeeAlso"]]) or None,
                ))
                prev_level, prev_row = level, row_id
        except csv.Error as e:
            raise _fail(f"unreadable CSV: {e}", code="E216", path=path, line=reader.line_num) from e
    if not terms:
        raise _fail("index CSV has a header but no rows", code="E214", path=path, line=2)
    return ParsedSource(book="index", form="csv-derived", path=str(path), terms=tuple(terms),
                        repaired_codes=repaired)
