"""Score predicted codes against a gold evaluation file, exactly as ``shared/CONTRACTS.md`` says.

Per document, the predicted and gold code sets are compared after upper-casing and removing dots; true
positives, false positives and false negatives are summed over all documents (micro average) and precision,
recall and F1 reported — on full codes and on 3-character categories, overall, per source, per split, per
ICD-10-CM chapter; for CodiEsp also with the ``icd10cm_negated_only`` codes removed from the gold (US
guidelines do not code negated findings); ICD-10-PCS separately.

CodiEsp's PCS gold truncates some codes to their first characters (its guideline: code only as far as the
text documents). Besides the exact figure we report a *prefix* figure: a predicted full code that starts
with a truncated gold code of the same document is read at that gold code's length, so it counts as a true
positive, and several predictions under one truncated code count once.

Why a pure module: the CLI (``medcoder eval``), the tests and any script score the same way, from files or
from objects, without a knowledge base.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medcoder.errors import MedcoderError
from medcoder.model.scores import PrecisionRecall


class EvaluationError(MedcoderError, ValueError):
    """A gold or prediction file cannot be scored (E91x)."""

    code = "E910"


# ICD-10-CM chapters by 3-character category range (FY2026 Tabular List). O9A sorts after O99 in ASCII.
CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "01 Infectious and parasitic diseases (A00-B99)"),
    ("C00", "D49", "02 Neoplasms (C00-D49)"),
    ("D50", "D89", "03 Blood and immune mechanism (D50-D89)"),
    ("E00", "E89", "04 Endocrine, nutritional and metabolic (E00-E89)"),
    ("F01", "F99", "05 Mental and behavioral (F01-F99)"),
    ("G00", "G99", "06 Nervous system (G00-G99)"),
    ("H00", "H59", "07 Eye and adnexa (H00-H59)"),
    ("H60", "H95", "08 Ear and mastoid (H60-H95)"),
    ("I00", "I99", "09 Circulatory system (I00-I99)"),
    ("J00", "J99", "10 Respiratory system (J00-J99)"),
    ("K00", "K95", "11 Digestive system (K00-K95)"),
    ("L00", "L99", "12 Skin and subcutaneous tissue (L00-L99)"),
    ("M00", "M99", "13 Musculoskeletal and connective tissue (M00-M99)"),
    ("N00", "N99", "14 Genitourinary system (N00-N99)"),
    ("O00", "O9A", "15 Pregnancy, childbirth and the puerperium (O00-O9A)"),
    ("P00", "P96", "16 Perinatal period (P00-P96)"),
    ("Q00", "Q99", "17 Congenital malformations (Q00-Q99)"),
    ("R00", "R99", "18 Symptoms, signs, abnormal findings (R00-R99)"),
    ("S00", "T88", "19 Injury, poisoning, external-cause consequences (S00-T88)"),
    ("U00", "U85", "22 Codes for special purposes (U00-U85)"),
    ("V00", "Y99", "20 External causes of morbidity (V00-Y99)"),
    ("Z00", "Z99", "21 Factors influencing health status (Z00-Z99)"),
)
PCS_LENGTH = 7
TOP = 15


def normalize(code: str) -> str:
    """Upper case, dots and spaces removed (``e11.22`` -> ``E1122``)."""
    return code.upper().replace(".", "").replace(" ", "").strip()


def chapter_of(code: str) -> str:
    """The ICD-10-CM chapter of a (normalised) code, or ``"unknown"``."""
    category = normalize(code)[:3]
    for first, last, title in CHAPTERS:
        if first <= category <= last:
            return title
    return "unknown"


@dataclass(frozen=True, slots=True)
class Counts(PrecisionRecall):
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def compare(gold: Iterable[str], predicted: Iterable[str]) -> Counts:
    """Counts for one document's code sets."""
    g, p = set(gold), set(predicted)
    return Counts(len(g & p), len(p - g), len(g - p))


def categories(codes: Iterable[str]) -> frozenset[str]:
    return frozenset(code[:3] for code in codes)


def pcs_prefix_view(gold: frozenset[str], predicted: frozenset[str]) -> frozenset[str]:
    """Predicted PCS codes read at the length of a truncated gold code they start with (longest first); a
    prediction equal to a gold code stays as it is."""
    truncated = sorted((g for g in gold if len(g) < PCS_LENGTH), key=len, reverse=True)
    if not truncated:
        return predicted
    return frozenset(p if p in gold else next((t for t in truncated if p.startswith(t)), p) for p in predicted)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldRecord:
    id: str
    source: str
    split: str
    icd10cm: frozenset[str]
    icd10pcs: frozenset[str]
    negated_only: frozenset[str] = frozenset()
    setting: str = "outpatient"
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Predicted:
    icd10cm: frozenset[str] = frozenset()
    icd10pcs: frozenset[str] = frozenset()
    error: str | None = None


def _codes(values: Any, where: str, name: str) -> frozenset[str]:
    if values is None:
        return frozenset()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise EvaluationError(f"'{name}' must be a list of code strings", code="E911", where=where,
                              fix="Write the codes as a JSON list of strings")
    return frozenset(normalize(v) for v in values if v.strip())


def gold_record(data: Mapping[str, Any], *, where: str = "gold") -> GoldRecord:
    """A gold record from its JSON object (``shared/CONTRACTS.md`` evaluation file shape)."""
    record_id, gold = data.get("id"), data.get("gold")
    if not isinstance(record_id, str) or not isinstance(gold, dict):
        raise EvaluationError("a gold record needs an 'id' string and a 'gold' object", code="E911", where=where,
                              fix="Use the evaluation file shape of shared/CONTRACTS.md")
    return GoldRecord(id=record_id, source=str(data.get("source", "unknown")), split=str(data.get("split", "all")),
                      icd10cm=_codes(gold.get("icd10cm"), where, "icd10cm"),
                      icd10pcs=_codes(gold.get("icd10pcs"), where, "icd10pcs"),
                      negated_only=_codes(gold.get("icd10cm_negated_only"), where, "icd10cm_negated_only"),
                      setting=str(data.get("setting", "outpatient")), text=str(data.get("text", "")))


def _json_lines(path: Path, kind: str) -> Iterable[tuple[int, Any]]:
    try:
        stream = path.open(encoding="utf-8")
    except OSError as e:
        raise EvaluationError(f"cannot open the {kind} file: {e}", code="E912", where=str(path),
                              fix=f"Give the path of an existing {kind} JSONL file") from e
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as e:
                raise EvaluationError(f"line {number} is not JSON: {e}", code="E913", where=f"{path}:{number}",
                                      fix=f"Fix or remove the line; a {kind} file holds one JSON object per line"
                                      ) from e


def read_gold(path: Path, *, split: str | None = None, limit: int | None = None) -> list[GoldRecord]:
    """Gold records of an evaluation file, optionally of one split and at most ``limit`` of them."""
    records: list[GoldRecord] = []
    for number, data in _json_lines(path, "gold"):
        record = gold_record(data, where=f"{path}:{number}")
        if split is not None and record.split != split:
            continue
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    if split is not None and not records:
        raise EvaluationError(f"no gold record has split {split!r}", code="E914", where=str(path),
                              fix="Use a split the file has (train, valid, dev) or leave --split out")
    return records


def predicted_record(data: Mapping[str, Any]) -> tuple[str | None, Predicted]:
    """Codes of one ``code-batch`` output line (``codes`` with ``system`` and ``code``)."""
    record_id = data.get("id")
    if "error" in data:
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        return (record_id if isinstance(record_id, str) else None), Predicted(error=str(message))
    cm: set[str] = set()
    pcs: set[str] = set()
    for item in data.get("codes") or ():
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        system = item.get("system", "ICD-10-CM")
        if system == "ICD-10-CM":
            cm.add(normalize(item["code"]))
        elif system == "ICD-10-PCS":
            pcs.add(normalize(item["code"]))
    return (record_id if isinstance(record_id, str) else None), Predicted(icd10cm=frozenset(cm),
                                                                          icd10pcs=frozenset(pcs))


def read_predictions(path: Path) -> dict[str, Predicted]:
    found: dict[str, Predicted] = {}
    for number, data in _json_lines(path, "prediction"):
        if not isinstance(data, dict):
            raise EvaluationError(f"line {number} is not a JSON object", code="E913", where=f"{path}:{number}",
                                  fix="Use the code-batch output shape of shared/CONTRACTS.md")
        record_id, predicted = predicted_record(data)
        if record_id is not None:
            found[record_id] = predicted
    return found


@dataclass(kw_only=True)
class _Tally:
    exact: Counts = field(default_factory=Counts)
    category: Counts = field(default_factory=Counts)

    def add(self, gold: frozenset[str], predicted: frozenset[str]) -> None:
        self.exact += compare(gold, predicted)
        self.category += compare(categories(gold), categories(predicted))

    def to_dict(self) -> dict[str, Any]:
        return {"exact": self.exact.to_dict(), "category": self.category.to_dict()}


@dataclass(kw_only=True)
class Evaluation:
    """Every figure of one scoring run; ``to_dict`` is the JSON summary, ``to_markdown`` the report."""

    records: int = 0
    predicted: int = 0
    missing: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    icd10cm: _Tally = field(default_factory=_Tally)
    by_source: dict[str, _Tally] = field(default_factory=dict)
    by_split: dict[str, _Tally] = field(default_factory=dict)
    by_source_split: dict[str, _Tally] = field(default_factory=dict)
    by_chapter: dict[str, Counts] = field(default_factory=dict)
    codiesp_without_negated: _Tally = field(default_factory=_Tally)
    codiesp_records: int = 0
    pcs_exact: Counts = field(default_factory=Counts)
    pcs_prefix: Counts = field(default_factory=Counts)
    pcs_by_source: dict[str, tuple[Counts, Counts]] = field(default_factory=dict)
    false_positives: Counter[str] = field(default_factory=Counter)
    false_negatives: Counter[str] = field(default_factory=Counter)
    category_false_positives: Counter[str] = field(default_factory=Counter)
    category_false_negatives: Counter[str] = field(default_factory=Counter)
    near_misses: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(predicted, gold) pairs of one document sharing a category, neither matched: specificity errors."""
    pcs_false_positives: Counter[str] = field(default_factory=Counter)
    pcs_false_negatives: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records, "predicted": self.predicted, "missing_predictions": len(self.missing),
            "errors": len(self.errors),
            "icd10cm": self.icd10cm.to_dict(),
            "by_source": {k: v.to_dict() for k, v in sorted(self.by_source.items())},
            "by_split": {k: v.to_dict() for k, v in sorted(self.by_split.items())},
            "by_source_split": {k: v.to_dict() for k, v in sorted(self.by_source_split.items())},
            "by_chapter": {k: v.to_dict() for k, v in sorted(self.by_chapter.items())},
            "codiesp_without_negated_only": (self.codiesp_without_negated.to_dict() if self.codiesp_records
                                             else None),
            "icd10pcs": {"exact": self.pcs_exact.to_dict(), "prefix": self.pcs_prefix.to_dict(),
                         "by_source": {k: {"exact": e.to_dict(), "prefix": p.to_dict()}
                                       for k, (e, p) in sorted(self.pcs_by_source.items())}},
            "top_false_positives": self.false_positives.most_common(TOP),
            "top_false_negatives": self.false_negatives.most_common(TOP),
            "top_category_false_positives": self.category_false_positives.most_common(TOP),
            "top_category_false_negatives": self.category_false_negatives.most_common(TOP),
            "top_near_misses": [[p, g, n] for (p, g), n in self.near_misses.most_common(TOP)],
            "top_pcs_false_positives": self.pcs_false_positives.most_common(TOP),
            "top_pcs_false_negatives": self.pcs_false_negatives.most_common(TOP),
        }

    def to_markdown(self, *, title: str = "Evaluation") -> str:
        return markdown(self, title=title)


def evaluate(gold: Iterable[GoldRecord], predictions: Mapping[str, Predicted]) -> Evaluation:
    """Score ``predictions`` (by record id) against ``gold``; a record without a prediction predicts nothing."""
    result = Evaluation()
    for record in gold:
        result.records += 1
        predicted = predictions.get(record.id)
        if predicted is None:
            result.missing.append(record.id)
            predicted = Predicted()
        else:
            result.predicted += 1
            if predicted.error is not None:
                result.errors[record.id] = predicted.error
        _score_cm(result, record, predicted.icd10cm)
        _score_pcs(result, record, predicted.icd10pcs)
    return result


def _score_cm(result: Evaluation, record: GoldRecord, predicted: frozenset[str]) -> None:
    gold = record.icd10cm
    result.icd10cm.add(gold, predicted)
    for table, key in ((result.by_source, record.source), (result.by_split, record.split),
                       (result.by_source_split, f"{record.source}/{record.split}")):
        table.setdefault(key, _Tally()).add(gold, predicted)
    for code in gold | predicted:
        chapter = chapter_of(code)
        hit = Counts(tp=1) if code in gold and code in predicted else Counts(fp=1) if code in predicted \
            else Counts(fn=1)
        result.by_chapter[chapter] = result.by_chapter.get(chapter, Counts()) + hit
    if record.source == "codiesp":
        result.codiesp_records += 1
        result.codiesp_without_negated.add(gold - record.negated_only, predicted)
    fps, fns = predicted - gold, gold - predicted
    result.false_positives.update(fps)
    result.false_negatives.update(fns)
    gold_categories, predicted_categories = categories(gold), categories(predicted)
    result.category_false_positives.update(predicted_categories - gold_categories)
    result.category_false_negatives.update(gold_categories - predicted_categories)
    for fp in fps:
        for fn in fns:
            if fp[:3] == fn[:3]:
                result.near_misses[(fp, fn)] += 1


def _score_pcs(result: Evaluation, record: GoldRecord, predicted: frozenset[str]) -> None:
    gold = record.icd10pcs
    exact = compare(gold, predicted)
    viewed = pcs_prefix_view(gold, predicted)
    prefix = compare(gold, viewed)
    result.pcs_exact += exact
    result.pcs_prefix += prefix
    before = result.pcs_by_source.get(record.source, (Counts(), Counts()))
    result.pcs_by_source[record.source] = (before[0] + exact, before[1] + prefix)
    result.pcs_false_positives.update(viewed - gold)
    result.pcs_false_negatives.update(gold - viewed)


# -- the markdown report ---------------------------------------------------------------------------------

_HEAD = "| scope | precision | recall | F1 | TP | FP | FN |\n|---|---:|---:|---:|---:|---:|---:|"


def _line(scope: str, c: Counts) -> str:
    return f"| {scope} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.tp} | {c.fp} | {c.fn} |"


def _counts_table(rows: list[tuple[str, Counts]]) -> list[str]:
    return [_HEAD, *(_line(scope, c) for scope, c in rows)]


def _top(counter: Counter[str], heading: str) -> list[str]:
    items = counter.most_common(TOP)
    if not items:
        return []
    return [f"**{heading}**: " + ", ".join(f"{code} ({n})" for code, n in items), ""]


def markdown(result: Evaluation, *, title: str = "Evaluation") -> str:
    """The human report: every figure of ``result`` as markdown tables."""
    out = [f"# {title}", "",
           f"{result.records} gold records; {result.predicted} with a prediction, {len(result.missing)} without "
           f"(scored as predicting nothing), {len(result.errors)} with a coding error.", "",
           "Micro average over documents: per document, predicted and gold code sets are compared after "
           "upper-casing and removing dots (shared/CONTRACTS.md); *category* compares 3-character categories.",
           "", "## ICD-10-CM", ""]
    rows = [("all, exact", result.icd10cm.exact), ("all, category", result.icd10cm.category)]
    for name, table in (("source", result.by_source), ("split", result.by_split),
                        ("source/split", result.by_source_split)):
        if len(table) > 1 or name == "source/split":
            for key, tally in sorted(table.items()):
                rows += [(f"{name} {key}, exact", tally.exact), (f"{name} {key}, category", tally.category)]
    if result.codiesp_records:
        rows += [("codiesp without negated-only gold, exact", result.codiesp_without_negated.exact),
                 ("codiesp without negated-only gold, category", result.codiesp_without_negated.category)]
    out += _counts_table(rows)
    if result.codiesp_records:
        out += ["", "CodiEsp's gold codes some findings that its text negates (`icd10cm_negated_only`); US "
                "guidelines do not code them, so the figure without them is the one to compare with US coding."]
    out += ["", "## ICD-10-CM by chapter (exact codes)", ""]
    out += _counts_table(sorted(result.by_chapter.items()))
    out += ["", "## ICD-10-PCS", ""]
    pcs_rows = [("all, exact", result.pcs_exact), ("all, prefix", result.pcs_prefix)]
    for key, (exact, prefix) in sorted(result.pcs_by_source.items()):
        if exact.tp + exact.fp + exact.fn:
            pcs_rows += [(f"source {key}, exact", exact), (f"source {key}, prefix", prefix)]
    out += _counts_table(pcs_rows)
    out += ["", "CodiEsp's PCS gold truncates codes the text does not document fully (e.g. `BN20`). *prefix*: a "
            "predicted 7-character code that starts with a truncated gold code of the same document is read at "
            "that length (a true positive; several predictions under one truncated code count once). *exact* "
            "compares the codes as written.", "", "## Largest error patterns", ""]
    out += _top(result.false_positives, "ICD-10-CM false positives (predicted, not in gold)")
    out += _top(result.false_negatives, "ICD-10-CM false negatives (gold, not predicted)")
    out += _top(result.category_false_positives, "Categories predicted, not in gold")
    out += _top(result.category_false_negatives, "Categories in gold, not predicted")
    misses = result.near_misses.most_common(TOP)
    if misses:
        out += ["**Near misses** (right category, wrong code; predicted -> gold): "
                + ", ".join(f"{p} -> {g} ({n})" for (p, g), n in misses), ""]
    out += _top(result.pcs_false_positives, "ICD-10-PCS false positives (after the prefix rule)")
    out += _top(result.pcs_false_negatives, "ICD-10-PCS false negatives (after the prefix rule)")
    if result.errors:
        out += ["## Records with a coding error", ""]
        out += [f"- {record_id}: {message}" for record_id, message in sorted(result.errors.items())[:20]]
    return "\n".join(out).rstrip() + "\n"
