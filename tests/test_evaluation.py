"""Scoring against gold files (shared/CONTRACTS.md) on hand-made sets with hand-computed figures, and the
``medcoder eval`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medcoder.cli import app
from medcoder.evaluation import (
    EvaluationError,
    GoldRecord,
    Predicted,
    chapter_of,
    evaluate,
    normalize,
    pcs_prefix_view,
    predicted_record,
    read_gold,
)

ACI = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci_bench_dev.jsonl"
runner = CliRunner()


def gold(record_id: str, cm: list[str], pcs: list[str] | None = None, negated: list[str] | None = None, *,
         source: str = "aci-bench", split: str = "train") -> GoldRecord:
    return GoldRecord(id=record_id, source=source, split=split, icd10cm=frozenset(normalize(c) for c in cm),
                      icd10pcs=frozenset(normalize(c) for c in pcs or []),
                      negated_only=frozenset(normalize(c) for c in negated or []))


def pred(cm: list[str], pcs: list[str] | None = None) -> Predicted:
    return Predicted(icd10cm=frozenset(normalize(c) for c in cm), icd10pcs=frozenset(normalize(c) for c in pcs or []))


@pytest.mark.parametrize(("golds", "preds", "exact", "category"), [
    # One document: E11.9 right, E11.65 wrong (same category), I10 missed.
    ([gold("a", ["E11.9", "I10"])], {"a": pred(["E11.9", "E11.65"])},
     (1, 1, 1, 0.5, 0.5, 0.5), (1, 0, 1, 1.0, 0.5, 2 / 3)),
    # Micro over two documents: the second predicts nothing.
    ([gold("a", ["E11.9", "I10"]), gold("b", ["J18.9"])], {"a": pred(["E11.9", "E11.65"])},
     (1, 1, 2, 0.5, 1 / 3, 0.4), (1, 0, 2, 1.0, 1 / 3, 0.5)),
    # Case and dots do not matter.
    ([gold("a", ["S39.012A"])], {"a": pred(["s39012a"])}, (1, 0, 0, 1.0, 1.0, 1.0), (1, 0, 0, 1.0, 1.0, 1.0)),
    # Nothing right.
    ([gold("a", ["I10"])], {"a": pred(["R69"])}, (0, 1, 1, 0.0, 0.0, 0.0), (0, 1, 1, 0.0, 0.0, 0.0)),
])
def test_evaluation_micro_figures(golds: list[GoldRecord], preds: dict[str, Predicted],
                                  exact: tuple[float, ...], category: tuple[float, ...]) -> None:
    result = evaluate(golds, preds)
    for counts, expected in ((result.icd10cm.exact, exact), (result.icd10cm.category, category)):
        assert (counts.tp, counts.fp, counts.fn) == expected[:3]
        assert (counts.precision, counts.recall, counts.f1) == pytest.approx(expected[3:])


@pytest.mark.parametrize(("gold_pcs", "pred_pcs", "exact", "prefix"), [
    # BN20 is truncated gold: two predictions under it count once; 3E0234Z is a plain false positive.
    (["BN20", "0DTJ4ZZ"], ["BN20ZZZ", "BN2000Z", "0DTJ4ZZ", "3E0234Z"], (1, 3, 1), (2, 1, 0)),
    (["0DTJ4ZZ"], ["0DTJ4ZZ"], (1, 0, 0), (1, 0, 0)),
    (["BW03"], [], (0, 0, 1), (0, 0, 1)),
    (["BW03", "BW03ZZZ"], ["BW03ZZZ"], (1, 0, 1), (1, 0, 1)),   # an exact match stays exact
])
def test_evaluation_pcs_prefix_rule(gold_pcs: list[str], pred_pcs: list[str], exact: tuple[int, int, int],
                                    prefix: tuple[int, int, int]) -> None:
    result = evaluate([gold("a", [], gold_pcs, source="codiesp")], {"a": pred([], pred_pcs)})
    assert (result.pcs_exact.tp, result.pcs_exact.fp, result.pcs_exact.fn) == exact
    assert (result.pcs_prefix.tp, result.pcs_prefix.fp, result.pcs_prefix.fn) == prefix


@pytest.mark.parametrize(("gold_set", "predicted"), [(frozenset({"BN20"}), frozenset({"BN20ZZZ", "BN2000Z"}))])
def test_evaluation_pcs_prefix_view(gold_set: frozenset[str], predicted: frozenset[str]) -> None:
    assert pcs_prefix_view(gold_set, predicted) == frozenset({"BN20"})


@pytest.mark.parametrize("negated", [["I83.90"]])
def test_evaluation_codiesp_without_negated_only(negated: list[str]) -> None:
    golds = [gold("c", ["R50.9", "I83.90"], negated=negated, source="codiesp", split="dev"),
             gold("a", ["I10"], negated=["I10"])]   # negated-only is a CodiEsp figure only
    result = evaluate(golds, {"c": pred(["R50.9", "I83.90"]), "a": pred(["I10"])})
    assert (result.icd10cm.exact.tp, result.icd10cm.exact.fp) == (3, 0)
    without = result.codiesp_without_negated.exact
    assert (without.tp, without.fp, without.fn) == (1, 1, 0)
    assert result.to_dict()["codiesp_without_negated_only"]["exact"]["precision"] == 0.5


@pytest.mark.parametrize("_", [None])
def test_evaluation_breakdowns_and_patterns(_: Any) -> None:
    golds = [gold("a", ["E11.9", "I10"], split="train"), gold("b", ["E11.9", "S52.501A"], split="valid"),
             gold("c", ["R50.9"], source="codiesp", split="dev")]
    preds = {"a": pred(["E11.65"]), "b": pred(["E11.9", "S52.502A"]), "c": pred(["R50.9"])}
    result = evaluate(golds, preds)
    summary = result.to_dict()
    assert summary["by_source"]["aci-bench"]["exact"]["tp"] == 1
    assert summary["by_split"]["valid"]["exact"] == {"tp": 1, "fp": 1, "fn": 1, "precision": 0.5, "recall": 0.5,
                                                     "f1": 0.5}
    assert summary["by_source_split"]["codiesp/dev"]["exact"]["f1"] == 1.0
    chapters = summary["by_chapter"]
    assert chapters["04 Endocrine, nutritional and metabolic (E00-E89)"]["tp"] == 1
    assert chapters["04 Endocrine, nutritional and metabolic (E00-E89)"]["fp"] == 1
    assert chapters["19 Injury, poisoning, external-cause consequences (S00-T88)"]["fn"] == 1
    assert dict(summary["top_false_negatives"])["E119"] == 1
    assert ["E1165", "E119", 1] in summary["top_near_misses"]
    assert ["S52502A", "S52501A", 1] in summary["top_near_misses"]
    report = result.to_markdown(title="Test")
    assert "# Test" in report and "| all, exact |" in report and "Near misses" in report


@pytest.mark.parametrize(("code", "chapter"), [
    ("A41.9", "01"), ("D49.9", "02"), ("D50.0", "03"), ("H60.1", "08"), ("O9A.11", "15"), ("S39.012A", "19"),
    ("T88.7", "19"), ("V43.52XA", "20"), ("U07.1", "22"), ("Z99.2", "21"), ("1234", "unknown"),
])
def test_evaluation_chapter_of(code: str, chapter: str) -> None:
    assert chapter_of(code).startswith(chapter)


@pytest.mark.parametrize(("line", "record_id", "cm", "pcs", "error"), [
    ({"id": "x", "codes": [{"system": "ICD-10-CM", "code": "E11.9"}, {"system": "ICD-10-PCS", "code": "0DTJ4ZZ"},
                           {"system": "HCPCS", "code": "J1100"}]}, "x", {"E119"}, {"0DTJ4ZZ"}, None),
    ({"id": "y", "line": 3, "error": {"code": "E601", "message": "no text"}}, "y", set(), set(), "no text"),
    ({"codes": []}, None, set(), set(), None),
])
def test_evaluation_reads_code_batch_output(line: dict[str, Any], record_id: str | None, cm: set[str],
                                            pcs: set[str], error: str | None) -> None:
    found_id, found = predicted_record(line)
    assert (found_id, set(found.icd10cm), set(found.icd10pcs), found.error) == (record_id, cm, pcs, error)


@pytest.mark.parametrize(("content", "code"), [
    ("{not json\n", "E913"), ('{"id": "a"}\n', "E911"), ('{"id": "a", "gold": {"icd10cm": "E11.9"}}\n', "E911"),
])
def test_evaluation_bad_gold_file(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvaluationError) as caught:
        read_gold(path)
    assert caught.value.code == code and str(path) in str(caught.value)


def _slice(tmp_path: Path, count: int) -> tuple[Path, list[dict[str, Any]]]:
    if not ACI.exists():
        pytest.fail(f"evaluation data not found at {ACI}")
    records = [json.loads(line) for line in ACI.read_text(encoding="utf-8").splitlines()[:count]]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path, records


@pytest.mark.parametrize("count", [3])
def test_evaluation_cli_with_predictions(tmp_path: Path, count: int) -> None:
    gold_path, records = _slice(tmp_path, count)
    # First record: all gold codes; second: one wrong code; third: missing.
    lines = [{"id": records[0]["id"], "codes": [{"system": "ICD-10-CM", "code": c}
                                                for c in records[0]["gold"]["icd10cm"]]},
             {"id": records[1]["id"], "codes": [{"system": "ICD-10-CM", "code": "R69"}]}]
    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = tmp_path / "report.md"
    result = runner.invoke(app, ["eval", str(gold_path), "--pred", str(pred_path), "--report", str(report)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    right = len(records[0]["gold"]["icd10cm"])
    missed = len(records[1]["gold"]["icd10cm"]) + len(records[2]["gold"]["icd10cm"])
    assert summary["records"] == count and summary["missing_predictions"] == 1
    exact = summary["icd10cm"]["exact"]
    assert (exact["tp"], exact["fp"], exact["fn"]) == (right, 1, missed)
    assert "## ICD-10-PCS" in report.read_text(encoding="utf-8")


class _StubCoder:
    """Codes every record with I10, so the eval command's coding path runs without a knowledge base."""

    def __call__(self, request: Any, /) -> Any:
        from medcoder.model.suggestion import CodeSuggestion
        from medcoder.service.coder import CodingResult

        return CodingResult(suggestions=(CodeSuggestion(system="ICD-10-CM", code="I10", title="Essential "
                                                        "(primary) hypertension", sequence=1, confidence=1.0),),
                            pipeline_version="stub")


@pytest.mark.parametrize("count", [3])
def test_evaluation_cli_codes_gold_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    gold_path, records = _slice(tmp_path, count)
    monkeypatch.setattr("medcoder.cli._coder", lambda settings, which: _StubCoder())
    saved = tmp_path / "saved.jsonl"
    result = runner.invoke(app, ["eval", str(gold_path), "--limit", "2", "--save-pred", str(saved)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["records"] == 2 and summary["predicted"] == 2
    assert summary["icd10cm"]["exact"]["tp"] + summary["icd10cm"]["exact"]["fp"] == 2
    assert [json.loads(line)["codes"][0]["code"] for line in saved.read_text().splitlines()] == ["I10", "I10"]
    assert "# Evaluation of gold.jsonl" in result.stderr


@pytest.mark.parametrize(("args", "code"), [(["--split", "nope"], "E914")])
def test_evaluation_cli_errors_name_the_problem(tmp_path: Path, args: list[str], code: str) -> None:
    gold_path, _ = _slice(tmp_path, 2)
    result = runner.invoke(app, ["eval", str(gold_path), "--pred", str(gold_path), *args])
    assert result.exit_code == 2 and code in result.output
