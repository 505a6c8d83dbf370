"""Claim documents: the samples read into the claims the money stages expect; every bad field names its path."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from medcoder.claim import claim_from_dict, load_claim, sample_path
from medcoder.errors import ClaimError


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads(sample_path(name).read_text(encoding="utf-8")))


@pytest.mark.parametrize(("name", "kind", "dx", "lines", "first_day"), [
    ("office_visit", "professional", ("E11.9", "I10", "E78.5"), ("99214", "93000"), date(2026, 2, 10)),
    ("inpatient_pneumonia", "institutional", ("J18.9", "E87.1", "E11.9", "I10"), ("", "71046", ""),
     date(2026, 1, 5)),
])
def test_parse_samples_read_whole(name: str, kind: str, dx: tuple[str, ...], lines: tuple[str, ...],
                                  first_day: date) -> None:
    claim = load_claim(sample_path(name))
    assert claim.kind == kind
    assert tuple(d.code for d in claim.diagnoses) == dx
    assert [d.sequence for d in claim.diagnoses] == list(range(1, len(dx) + 1))
    assert tuple(line.code for line in claim.lines) == lines
    assert [line.number for line in claim.lines] == list(range(1, len(lines) + 1))
    assert claim.first_service_date == first_day
    assert claim.billing_provider.npi is not None and claim.patient.birth_date is not None


@pytest.mark.parametrize("name", ["office_visit"])
def test_parse_professional_fields(name: str) -> None:
    claim = load_claim(sample_path(name))
    first = claim.lines[0]
    assert (first.charge, first.units, first.diagnosis_pointers) == (Decimal("185.00"), Decimal(1), (1, 2, 3))
    assert claim.rendering_provider is not None and claim.rendering_provider.is_person
    assert claim.patient.sex == "F" and claim.payer.kind == "medicare" and claim.place_of_service == "11"
    assert claim.billing_provider.address is not None and claim.billing_provider.address.line2 == "Suite 400"


@pytest.mark.parametrize("name", ["inpatient_pneumonia"])
def test_parse_inpatient_fields(name: str) -> None:
    claim = load_claim(sample_path(name))
    assert claim.setting == "inpatient" and claim.discharge_date == date(2026, 1, 9)
    assert [d.poa for d in claim.diagnoses] == ["Y"] * 4
    assert claim.lines[0].revenue_code == "0120" and claim.lines[0].units == Decimal(4)
    assert (claim.type_of_bill, claim.admission_type, claim.admission_source) == ("0111", "1", "7")
    assert claim.admitting_diagnosis == "J18.9"


@pytest.mark.parametrize(("data", "code", "where"), [
    ([], "E801", "claim"),
    ({"patient": "Jane"}, "E801", "claim.patient"),
    ({"diagnoses": "J18.9"}, "E801", "claim.diagnoses"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10", "modifiers": [True]}]}, "E801",
     "claim.lines[0].modifiers[0]"),
    ({"lines": [None]}, "E801", "claim.lines[0]"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10", "diagnosis_pointers": ["1"]}]}, "E801",
     "claim.lines[0].diagnosis_pointers[0]"),
    ({"claim_id": None}, "E802", "claim.claim_id"),
    ({"kind": None}, "E802", "claim.kind"),
    ({"billing_provider": None}, "E802", "claim.billing_provider"),
    ({"billing_provider": {"npi": "1234567893"}}, "E802", "claim.billing_provider.name"),
    ({"payer": {"name": "Medicare"}}, "E802", "claim.payer.payer_id"),
    ({"patient": {"first_name": "Jane"}}, "E802", "claim.patient.last_name"),
    ({"diagnoses": []}, "E802", "claim.diagnoses"),
    ({"diagnoses": [{"poa": "Y"}]}, "E802", "claim.diagnoses[0].code"),
    ({"lines": [{"code": "99214"}]}, "E802", "claim.lines[0].service_date"),
    ({"lines": [{"service_date": "2026-02-10"}]}, "E802", "claim.lines[0].code"),
    ({"lines": [], "procedures": []}, "E802", "claim.lines"),
    ({"setting": "inpatient"}, "E802", "claim.discharge_date"),
    ({"kind": "dental"}, "E803", "claim.kind"),
    ({"setting": "home"}, "E803", "claim.setting"),
    ({"patient": {"last_name": "Doe", "first_name": "Jane", "sex": "X"}}, "E803", "claim.patient.sex"),
    ({"patient": {"last_name": "Doe", "first_name": "Jane", "birth_date": "06/14/1951"}}, "E803",
     "claim.patient.birth_date"),
    ({"payer": {"name": "X", "payer_id": "1", "kind": "hmo"}}, "E803", "claim.payer.kind"),
    ({"billing_provider": {"name": "X", "npi": "12345"}}, "E803", "claim.billing_provider.npi"),
    ({"diagnoses": [{"code": "J18.9", "poa": "Q"}]}, "E803", "claim.diagnoses[0].poa"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-31"}]}, "E803", "claim.lines[0].service_date"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10"}, {"code": "93000", "service_date": "2026-02-10",
                                                                 "units": "two"}]}, "E803", "claim.lines[1].units"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10", "charge": -5}]}, "E803", "claim.lines[0].charge"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10", "charge": "NaN"}]}, "E803", "claim.lines[0].charge"),
    ({"lines": [{"code": "99214", "service_date": "2026-02-10", "diagnosis_pointers": [9]}]}, "E803",
     "claim.lines[0].diagnosis_pointers[0]"),
    ({"procedures": [{"code": "5A1955Z", "performed_on": "yesterday"}]}, "E803", "claim.procedures[0].performed_on"),
])
def test_parse_bad_input_names_its_path(data: Any, code: str, where: str) -> None:
    document: Any = data
    if isinstance(data, dict):
        document = copy.deepcopy(_sample("office_visit"))
        for key, value in data.items():
            if value is None:
                document.pop(key)
            else:
                document[key] = value
    with pytest.raises(ClaimError) as info:
        claim_from_dict(document, where="claim")
    assert (info.value.code, info.value.where) == (code, where), str(info.value)
    assert info.value.fix


@pytest.mark.parametrize(("text", "code", "where"), [
    ("{not json", "E801", "claim.json"),
    ('{"claim_id": "X", "kind": "professional", "diagnoses": ["I10"]}', "E802", "claim.json:patient"),
])
def test_parse_file_errors_name_file_and_path(tmp_path: Path, text: str, code: str, where: str) -> None:
    path = tmp_path / "claim.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClaimError) as info:
        load_claim(path)
    assert info.value.code == code and (info.value.where or "").endswith(where)


@pytest.mark.parametrize("units", ["2", 2, 2.5])
def test_parse_file_where_uses_the_file_name(tmp_path: Path, units: Any) -> None:
    document = _sample("office_visit")
    document["lines"][1]["units"] = units
    document["lines"][1]["service_date"] = "2026-13-01"
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ClaimError) as info:
        load_claim(path)
    assert info.value.where == "claim.json:lines[1].service_date"
    document["lines"][1]["service_date"] = "2026-02-10"
    assert claim_from_dict(document).lines[1].units == Decimal(str(units))
