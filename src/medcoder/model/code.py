"""ICD-10-CM code syntax: parse, normalise and format codes, and read code references out of note text.

Why a pure module: every stage (ingest, coding, claim, edits) meets codes typed by people ("e1122",
"S39.012A ", "t402x1a") and must agree on one spelling before it looks anything up. The rules here are
syntax only: whether a well-formed code exists in a release is the Tabular's business
(``medcoder.codesets.icd10cm_tabular``).

ICD-10-CM syntax (Tabular List conventions, "Code structure"): 3 to 7 characters; the first is a letter;
characters 2-3 are digits or letters but never both letters (C4A, D3A, O9A, QA0); characters 4-7 are
digits or letters (X is the placeholder); a dot follows the third character when there is a fourth.
Blocks ("E08-E13") and the "all subdivisions" notation ("E11.-") are references, not codes: see
:class:`CodeRef`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medcoder.errors import CodeFormatError
from medcoder.model.frozen import quick_init
from medcoder.model.memo import remember

__all__ = [
    "CodeRef",
    "find_code_refs",
    "is_icd10cm",
    "normalize_icd10cm",
    "undotted",
]

# Fast path: one regex on the upper-cased, stripped text; anything it rejects is diagnosed slowly below.
_VALID = re.compile(r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])(?:\.?[0-9A-Z]{1,4})?")
_ALLOWED = re.compile(r"[0-9A-Z.]*")
_FIX_FORMAT = ("Write an ICD-10-CM code as 3 to 7 letters/digits, a letter first and a dot after the "
               "third character, e.g. E11.22, S39.012A or T40.2X1A")


# Accepted spellings already normalized (a pure function; claims repeat codes): bounded, cleared when full.
_NORMALIZED: dict[str, str] = {}
_NORMALIZED_MAX = 200_000


def normalize_icd10cm(text: str) -> str:
    """Return the dotted upper-case form of an ICD-10-CM code written in any common way.

    ``e1122`` -> ``E11.22``, ``S39012A`` -> ``S39.012A``, `` e11 `` -> ``E11``. Raises
    :class:`~medcoder.errors.CodeFormatError` (E301-E306) naming the input, what is wrong and how to fix
    it; never returns a half-cleaned string, so callers can use the result as a dictionary key.
    """
    if not isinstance(text, str):
        raise CodeFormatError(f"an ICD-10-CM code must be text, not {type(text).__name__}",
                              code="E301", where=repr(text), fix=_FIX_FORMAT)
    found = _NORMALIZED.get(text)
    if found is not None:
        return found
    s = text.strip().upper()
    if _VALID.fullmatch(s):
        return remember(_NORMALIZED, text, f"{s[:3]}.{s[3:]}" if len(s) > 3 and s[3] != "." else s, _NORMALIZED_MAX)
    raise _diagnose(text, s)


def _diagnose(text: str, s: str) -> CodeFormatError:
    """Say precisely why ``s`` (``text`` stripped and upper-cased) is not a code."""
    where = repr(text)
    if not s:
        return CodeFormatError("empty ICD-10-CM code", code="E301", where=where, fix=_FIX_FORMAT)
    if "-" in s:
        return CodeFormatError(
            f"{text.strip()!r} is a range or an 'all subdivisions' reference (with '-'), not a single code",
            code="E306", where=where,
            fix="Look blocks such as E08-E13 up with Tabular.block(), and resolve references such as "
                "E11.- with CodeRef.parse() and Tabular.covers()")
    if not _ALLOWED.fullmatch(s):
        bad = "".join(sorted({ch for ch in s if not (ch.isascii() and (ch.isalnum() or ch == "."))}))
        return CodeFormatError(f"{text.strip()!r} contains characters not allowed in a code: {bad!r}",
                               code="E302", where=where,
                               fix="Use only letters, digits and one dot (no spaces), e.g. E11.22")
    if s.count(".") > 1:
        return CodeFormatError(f"{text.strip()!r} has more than one dot", code="E304", where=where,
                               fix="Keep one dot, after the third character, e.g. S39.012A")
    if s.endswith("."):
        return CodeFormatError(f"{text.strip()!r} ends with a dot", code="E304", where=where,
                               fix=f"Drop the dot ({s[:-1]}) or add the characters after it "
                                   f"(e.g. {s[:-1]}.0)")
    if "." in s and s.index(".") != 3:
        return CodeFormatError(f"{text.strip()!r} has its dot after character {s.index('.')}, "
                               "not after the third character", code="E304", where=where,
                               fix=f"Move the dot after the category, e.g. {_redot(s)}")
    bare = s.replace(".", "")
    if not 3 <= len(bare) <= 7:
        return CodeFormatError(f"{text.strip()!r} has {len(bare)} characters; ICD-10-CM codes have 3 to 7",
                               code="E303", where=where, fix=_FIX_FORMAT)
    if not bare[0].isalpha():
        return CodeFormatError(f"{text.strip()!r} starts with {bare[0]!r}; ICD-10-CM codes start with a "
                               "letter", code="E305", where=where,
                               fix="Check for a mistyped first character (O and 0, I and 1 look alike) "
                                   "or an ICD-9 code")
    return CodeFormatError(f"{text.strip()!r}: characters 2-3 of an ICD-10-CM category cannot both be "
                           "letters", code="E305", where=where,
                           fix="A category is a letter then two characters with at least one digit "
                               "(E11, C4A, QA0)")


def _redot(s: str) -> str:
    bare = s.replace(".", "")
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def undotted(code: str) -> str:
    """Return the code without its dot (``S39.012A`` -> ``S39012A``), the form claims and CMS files use.

    Accepts anything :func:`normalize_icd10cm` accepts and validates it the same way. Memoised like it (the
    MS-DRG, HCC and claim-pricing steps ask for the same codes again and again, often already undotted).
    """
    found = _UNDOTTED.get(code) if isinstance(code, str) else None
    if found is not None:
        return found
    return remember(_UNDOTTED, code, normalize_icd10cm(code).replace(".", ""), _NORMALIZED_MAX)


_UNDOTTED: dict[str, str] = {}


def is_icd10cm(text: str) -> bool:
    """True when ``text`` is a well-formed ICD-10-CM code (existence is not checked)."""
    return isinstance(text, str) and _VALID.fullmatch(text.strip().upper()) is not None


# A code inside note text. Characters 2-3 cannot both be letters, which keeps out the acronyms that fill
# the Tabular's notes (NOS, NEC, HIV, ABO); acronyms that look like codes (B12, GM2) are filtered by the
# caller against the categories that exist.
_REF_CODE = r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])(?:\.[0-9A-Z]{1,4})?"
# Ranges are printed inconsistently: I10-I16, F10.- -F19.-, F10.--F19.-, F10.-F19.-, S00 - S09; after an
# endpoint's own "-" the range dash is optional.
_REF = re.compile(
    rf"(?<![0-9A-Za-z.])({_REF_CODE})(\.?-)?(?:(?:(?<=-)\s*|\s*-\s*)({_REF_CODE})\.?-?)?(?![0-9A-Za-z])"
)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CodeRef:
    """A reference to codes as printed in the Tabular: ``E11.22``, ``E11.-``, ``I70.21-``, ``I10-I16``.

    Why a type: Excludes1, Code First and Use Additional Code notes point at codes this way, and the
    edits and coding stages must ask "does this note cover code X" without re-parsing text. ``first`` and
    ``last`` are dotted codes (equal for a single reference); ``subdivisions`` is true for ``.-`` /
    ``-`` references and ranges, which by convention include every code below their endpoints.
    """

    first: str
    last: str
    subdivisions: bool

    @classmethod
    def parse(cls, text: str) -> CodeRef:
        """Parse one reference in any of the printed forms; raises CodeFormatError (E307) otherwise."""
        s = text.strip().upper()
        refs = find_code_refs(s)
        if len(refs) != 1 or _REF.fullmatch(s) is None:
            raise CodeFormatError(f"{text!r} is not a single code reference", code="E307", where=repr(text),
                                  fix="Write a code (E11.22), a code with subdivisions (E11.- or I70.21-) "
                                      "or a range (I10-I16)")
        return refs[0]

    def __str__(self) -> str:
        if self.first != self.last:
            return f"{self.first}-{self.last}"
        if self.subdivisions:
            return f"{self.first}.-" if len(self.first) == 3 else f"{self.first}-"
        return self.first


def find_code_refs(text: str) -> tuple[CodeRef, ...]:
    """Every code, ``code.-`` or range reference in note text, in order of appearance, without duplicates.

    ``"code to identify stage (N18.1-N18.6)"`` -> ``(CodeRef(N18.1, N18.6),)``. Existence is not
    checked: callers that know the release drop candidates whose category does not exist.
    """
    found: list[CodeRef] = []
    # Not upper-cased: codes are printed in capitals, and lower-case words ("type t2") are not codes.
    for m in _REF.finditer(text):
        first = normalize_icd10cm(m.group(1))
        if m.group(3):
            ref = CodeRef(first=first, last=normalize_icd10cm(m.group(3)), subdivisions=True)
        else:
            ref = CodeRef(first=first, last=first, subdivisions=m.group(2) is not None)
        if ref not in found:
            found.append(ref)
    return tuple(found)
