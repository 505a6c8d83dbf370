"""``medcoder check / price / claim`` on the sample claim documents and the real knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medcoder.claim import sample_path
from medcoder.cli import app
from medcoder.settings import Settings

runner = CliRunner()
OFFICE = str(sample_path("office_visit"))
INPATIENT = str(sample_path("inpatient_pneumonia"))


@pytest.fixture()
def env(kb_settings: Settings) -> dict[str, str]:
    return {"MEDCODER_HOME": str(kb_settings.home), "MEDCODER_MIRROR": str(kb_settings.mirror)}


@pytest.mark.parametrize(("args", "expected"), [
    (["check", OFFICE], ["PCLM-1001", "0 error(s)", "tabular.use-additional"]),
    (["price", OFFICE], ["99214", "135.61", "15.36", "PFS total 150.97", "RAF", "HCC 38"]),
    (["price", INPATIENT], ["MS-DRG 194", "5441.93", "CC E871"]),
    (["claim", INPATIENT, "--format", "837i", "--phone", "4105550134"], ["ISA*", "005010X223A2", "CLM*ICLM-1001"]),
    (["claim", OFFICE, "--format", "fhir"], ['"resourceType": "Claim"']),
])
def test_cli_claims_show_results(env: dict[str, str], args: list[str], expected: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


@pytest.mark.parametrize(("command", "key"), [("check", "findings"), ("price", "pfs")])
def test_cli_claims_json(env: dict[str, str], command: str, key: str) -> None:
    result = runner.invoke(app, [command, OFFICE, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert key in json.loads(result.stdout)


@pytest.mark.parametrize("code", ["E11"])
def test_cli_check_exits_1_on_error_finding(env: dict[str, str], tmp_path: Path, code: str) -> None:
    document = json.loads(sample_path("office_visit").read_text(encoding="utf-8"))
    document["diagnoses"][0] = code
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path), "--json"], env=env)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["counts"]["error"] >= 1


@pytest.mark.parametrize(("args", "text", "code"), [
    (["check"], '{"kind": "professional"}', "E802"),
    (["price"], "[1, 2]", "E801"),
    (["claim", "--format", "837p"], "{nope", "E801"),
])
def test_cli_claims_errors_name_the_problem(env: dict[str, str], tmp_path: Path, args: list[str], text: str,
                                            code: str) -> None:
    path = tmp_path / "claim.json"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, [*args[:1], str(path), *args[1:]], env=env)
    assert result.exit_code == 2, result.output
    assert f"[{code}]" in result.output, result.output


@pytest.mark.parametrize(("fmt", "phone", "code"), [("837i", "4105550134", "E805"), ("837p", None, "E805")])
def test_cli_claim_refuses_wrong_format(env: dict[str, str], fmt: str, phone: str | None, code: str) -> None:
    args = ["claim", OFFICE, "--format", fmt] + (["--phone", phone] if phone else [])
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2 and f"[{code}]" in result.output, result.output


@pytest.mark.parametrize("fmt", ["837p"])
def test_cli_claim_writes_file(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "out.x12"
    result = runner.invoke(app, ["claim", OFFICE, "--format", fmt, "--phone", "4105550134", "--out", str(target)],
                           env=env)
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("ISA*") and "SV1*HC:99214" in target.read_text()


@pytest.mark.parametrize("encounter", [999])
def test_cli_claim_from_missing_encounter(env: dict[str, str], tmp_path: Path, encounter: int) -> None:
    db = f"sqlite:///{tmp_path / 'work.sqlite'}"
    result = runner.invoke(app, ["claim", "--encounter", str(encounter), "--billing", OFFICE, "--db", db], env=env)
    assert result.exit_code == 2 and "[E61" in result.output, result.output
