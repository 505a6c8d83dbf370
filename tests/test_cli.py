"""The command line on the real built knowledge base: output a coder reads, and errors that say what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medcoder.cli import app
from medcoder.settings import Settings

runner = CliRunner()


@pytest.fixture()
def env(kb_settings: Settings) -> dict[str, str]:
    return {"MEDCODER_HOME": str(kb_settings.home), "MEDCODER_MIRROR": str(kb_settings.mirror)}


@pytest.mark.parametrize(("args", "expected"), [
    (["lookup", "E11.22", "--date", "2026-05-01"], ["Type 2 diabetes mellitus with diabetic chronic kidney disease",
                                                     "valid on 2026-05-01", "N18.1-N18.6", "notes of category E11"]),
    (["lookup", "s39012a"], ["S39.012A", "initial encounter", "A initial encounter"]),
    (["lookup", "0DTJ4ZZ"], ["Resection", "Appendix", "Percutaneous Endoscopic"]),
    (["lookup", "E11.2"], ["not billable", "E11.21, E11.22, E11.29"]),
    (["index", "Diabetes", "type 2", "with", "chronic kidney disease"], ["E11.22", "full path matched"]),
    (["index", "Abdominalgia"], ["see", "Pain", "R10.9"]),
    (["index", "--book", "drug", "Oxycodone"], ["T40.2X1", "T40.2X5", "Underdosing"]),
    (["index", "--book", "neoplasm", "liver"], ["C22.9", "C78.7"]),
    (["search", "lateral", "epicondylitis", "right"], ["M77.11"]),
    (["data", "status"], ["icd10cm-tabular/FY2026-APR", "bracketed manifestation", "79,115"]),
])
def test_cli_shows_what_a_coder_needs(env: dict[str, str], args: list[str], expected: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


@pytest.mark.parametrize(("args", "code"), [
    (["lookup", "E11."], "E304"),
    (["lookup", "S39.012", "--date", "2014-02-01"], "E401"),
    (["lookup", "E11.22", "--date", "2030-01-01"], "E402"),
    (["lookup", "E11.22", "--date", "01/02/2026"], "E404"),
    (["lookup", "E11.99"], "E501"),
    (["index", "--book", "nope", "x"], "E506"),
    (["search", "!!"], "E501"),
])
def test_cli_errors_name_the_problem(env: dict[str, str], args: list[str], code: str) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert f"[{code}]" in result.output, result.output


@pytest.mark.parametrize("args", [["lookup", "--json", "E11.22"], ["index", "--json", "Strain", "back"],
                                  ["data", "status", "--json"], ["search", "--json", "asthma"]])
def test_cli_json_output_parses(env: dict[str, str], args: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


@pytest.mark.parametrize("lines", [["code\tdescriptor", "99999\tSynthetic descriptor for tests one",
                                    "0001F\tSynthetic descriptor for tests two"]])
def test_cli_load_cpt(tmp_path: Path, lines: list[str]) -> None:
    file = tmp_path / "my_cpt.tsv"
    file.write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"
    home.mkdir()
    result = runner.invoke(app, ["data", "load-cpt", str(file), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "2 CPT codes loaded" in result.output
    assert (home / "kb" / "cpt" / "user.sqlite").exists()


@pytest.mark.parametrize("args", [["quickstart"]])
def test_cli_quickstart_runs_main_job(env: dict[str, str], args: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output and "E11.22" in result.output and "0DTJ4ZZ" in result.output
    # The bundled synthetic visit is coded (Guideline I.C.9.a.2: HTN with CKD -> I12.9; E11.22 + N18.31 + Z79.4)
    # and the bundled office-visit claim is checked and priced (99214 + 93000 national: 135.61 + 15.36).
    for text in ("SAMPLE-VISIT-1", "I12.9", "N18.31", "Z79.4", "M25.561", "Medicare PFS total: 150.97"):
        assert text in result.output, text
    assert "R07.9" not in result.output and "C50" not in result.output  # denied, and the mother's


CODE_NOTE = "ASSESSMENT AND PLAN\n1. Type 2 diabetes with stage 3a chronic kidney disease.\n2. Right knee pain.\n" \
            "PLAN\nReturn if fever or chest pain.\n"


@pytest.mark.parametrize(("as_json", "expected", "absent"), [
    (False, ["E11.22", "N18.31", "M25.561", "Pain > joint > knee", "@"], ["R50.9", "R07.9"]),
    (True, ['"code": "E11.22"', '"code": "M25.561"', '"start": 23'], ['"R50.9"']),
])
def test_cli_code_file_shows_codes_with_evidence(env: dict[str, str], tmp_path: Path, as_json: bool,
                                                 expected: list[str], absent: list[str]) -> None:
    note = tmp_path / "visit.txt"
    note.write_text(CODE_NOTE)
    result = runner.invoke(app, ["code", str(note), *(["--json"] if as_json else [])], env=env)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output, (text, result.output)
    for text in absent:
        assert text not in result.output, (text, result.output)
    if as_json:
        payload = json.loads(result.output)
        for code in payload["codes"]:
            for span in code["evidence"]:
                assert CODE_NOTE[span["start"]:span["end"]] == span["text"]


@pytest.mark.parametrize(("content", "code"), [(None, "E601"), (b"", "E60")])
def test_cli_code_reports_unreadable_records(env: dict[str, str], tmp_path: Path, content: bytes | None,
                                             code: str) -> None:
    path = tmp_path / "note.txt"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["code", str(path)], env=env)
    assert result.exit_code == 2 and code in result.output, result.output
