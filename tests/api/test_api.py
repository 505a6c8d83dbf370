"""The REST API on SQLite and PostgreSQL: every route, each error in the one envelope, and each role."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from medcoder.api.app import create_app
from medcoder.api.config import DEFAULT_SECRET, ApiConfig
from medcoder.errors import ConfigError
from medcoder.service.auth import create_api_key
from medcoder.settings import Settings
from tests.service.test_ingest import FHIR, HL7
from tests.service.test_review import _QueryingCoder

NOTE = "ASSESSMENT AND PLAN\nEssential hypertension.\nLateral epicondylitis, right elbow.\n"
SECRET = "test-pepper-0123456789"


@pytest.fixture()
def client(service: Any, kb_settings: Settings) -> Iterator[TestClient]:
    service.coder = _QueryingCoder(service.coder)
    config = ApiConfig(settings=kb_settings, db_url=service.db.url, secret=SECRET, environment="test")
    with TestClient(create_app(config, service=service)) as test_client:
        test_client.keys = {role: create_api_key(service, name=f"{role}-1", role=role)  # type: ignore[attr-defined]
                            for role in ("coder", "auditor", "admin")}
        yield test_client


def _h(client: TestClient, role: str) -> dict[str, str]:
    return {"X-API-Key": client.keys[role]}  # type: ignore[attr-defined]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "where", "fix"}, body
    assert body["error"]["code"] == code, body
    return dict(body["error"])


def _submit(client: TestClient, **body: Any) -> dict[str, Any]:
    payload = {"content": NOTE, "id": "R1", "date_of_service": "2026-05-01", "patient": {"age": 57, "sex": "M"},
               **body}
    response = client.post("/v1/records", json=payload, headers=_h(client, "coder"))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.mark.parametrize(("environment", "secret", "refused"), [
    ("production", DEFAULT_SECRET, True), ("test", DEFAULT_SECRET, True), ("production", "short", True),
    ("production", SECRET, False), ("development", DEFAULT_SECRET, False), ("staging", SECRET, True)])
def test_api_refuses_default_secret_outside_development(service: Any, kb_settings: Settings, environment: str,
                                                        secret: str, refused: bool) -> None:
    config = ApiConfig(settings=kb_settings, db_url=service.db.url, secret=secret, environment=environment)
    if refused:
        with pytest.raises(ConfigError) as info:
            create_app(config, service=service)
        assert info.value.code in ("E650", "E651")
    else:
        assert create_app(config, service=service).openapi()["info"]["title"] == "medcoder"


@pytest.mark.parametrize("fmt", ["text", "fhir", "hl7v2", "base64"])
def test_api_submit_formats_and_read_back(client: TestClient, fmt: str) -> None:
    content = {"text": NOTE, "fhir": json.dumps(FHIR), "hl7v2": HL7, "base64": NOTE}[fmt]
    body: dict[str, Any] = ({"content_base64": base64.b64encode(content.encode()).decode()} if fmt == "base64"
                            else {"content": content, "format": fmt})
    first = client.post("/v1/records", json=body, headers=_h(client, "coder"))
    assert first.status_code == 201, first.text
    again = client.post("/v1/records", json=body, headers=_h(client, "coder"))
    assert again.status_code == 200 and again.json()["encounter_id"] == first.json()["encounter_id"]
    eid = first.json()["encounter_id"]
    detail = client.get(f"/v1/encounters/{eid}", headers=_h(client, "auditor")).json()
    assert {"I10", "M77.11"} <= {s["code"] for s in detail["suggestions"]}
    for s in detail["suggestions"]:
        assert s["evidence"] and s["rationale"] and detail["document"]["text"][
            s["evidence"][0]["start"]:s["evidence"][0]["end"]] == s["evidence"][0]["text"]
    original = client.get(f"/v1/encounters/{eid}/document", headers=_h(client, "coder"))
    assert original.status_code == 200 and original.content == content.encode()


@pytest.mark.parametrize("flow", ["full"])
def test_api_review_workflow_and_export(client: TestClient, flow: str) -> None:
    coder, auditor = _h(client, "coder"), _h(client, "auditor")
    eid = _submit(client)["encounter_id"]
    detail = client.get(f"/v1/encounters/{eid}", headers=coder).json()
    s = {x["code"]: x for x in detail["suggestions"]}
    r = client.post(f"/v1/suggestions/{s['I10']['id']}/accept", json={"version": s["I10"]["version"]}, headers=coder)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    _error(client.post(f"/v1/suggestions/{s['I10']['id']}/reject", json={"version": s["I10"]["version"]},
                       headers=coder), 409, "E620")
    r = client.post(f"/v1/suggestions/{s['M77.11']['id']}/modify",
                    json={"version": s["M77.11"]["version"], "code": "M77.12", "note": "left"}, headers=coder)
    assert r.status_code == 200 and (r.json()["code"], r.json()["original_code"]) == ("M77.12", "M77.11")
    version = client.get(f"/v1/encounters/{eid}", headers=coder).json()["version"]
    r = client.post(f"/v1/encounters/{eid}/codes", json={"version": version, "system": "ICD-10-CM", "code": "E78.5",
                                                         "evidence": [{"start": 0, "end": 10, "text": "ASSESSMENT"}]},
                    headers=coder)
    assert r.status_code == 201 and r.json()["status"] == "added-by-coder"
    query = detail["queries"][0]
    r = client.post(f"/v1/queries/{query['id']}/answer", json={"version": query["version"], "answer": "right"},
                    headers=coder)
    assert r.status_code == 200 and r.json()["status"] == "answered"
    r = client.post(f"/v1/encounters/{eid}/recode", headers=coder)
    assert r.status_code == 201 and r.json()["pipeline_version"] == "baseline-search/1"
    current = client.get(f"/v1/encounters/{eid}", headers=coder).json()
    for x in current["suggestions"]:
        if x["status"] == "suggested":
            client.post(f"/v1/suggestions/{x['id']}/reject", json={"version": x["version"]}, headers=coder)
    version = client.get(f"/v1/encounters/{eid}", headers=coder).json()["version"]
    r = client.post(f"/v1/encounters/{eid}/complete", json={"version": version}, headers=coder)
    assert r.status_code == 200 and r.json()["status"] == "coded"
    _error(client.post(f"/v1/encounters/{eid}/approve", json={"version": r.json()["version"]}, headers=coder),
           403, "E632")  # a coder cannot approve an audit
    r = client.post(f"/v1/encounters/{eid}/return", json={"version": r.json()["version"], "note": "check"},
                    headers=auditor)
    assert r.status_code == 200 and r.json()["status"] == "in-review"
    r = client.post(f"/v1/encounters/{eid}/complete", json={"version": r.json()["version"]}, headers=coder)
    r = client.post(f"/v1/encounters/{eid}/approve", json={"version": r.json()["version"]}, headers=auditor)
    assert r.status_code == 200 and r.json()["status"] == "audited"
    export = client.get(f"/v1/encounters/{eid}/export", headers=auditor).json()
    assert [c["code"] for c in export["codes"]] == ["I10", "M77.12", "E78.5"] and export["final"]
    history = client.get(f"/v1/encounters/{eid}/audit", headers=auditor).json()
    assert history[0]["action"] == "record.submit" and history[-1]["action"] == "encounter.approve"
    assert all(h["prev_hash"] for h in history)
    chain = client.get("/v1/audit/verify", headers=auditor).json()
    assert chain["ok"] and chain["events"] > len(history)  # plus key creation events


@pytest.mark.parametrize("count", [5])
def test_api_worklist_filters_and_pages(client: TestClient, count: int) -> None:
    for n in range(count):
        _submit(client, id=f"W{n}", content=f"{NOTE}Visit {n}.", date_of_service=f"2026-05-0{n + 1}",
                setting="inpatient" if n % 2 else "outpatient")
    coder = _h(client, "coder")
    page = client.get("/v1/encounters", params={"page_size": 2, "page": 2}, headers=coder).json()
    assert page["total"] == count and [i["external_id"] for i in page["items"]] == ["W2", "W3"]
    assert page["items"][0]["codes"] == {"suggested": 2}
    assert client.get("/v1/encounters", params={"setting": "inpatient"}, headers=coder).json()["total"] == 2
    got = client.get("/v1/encounters", params={"date_from": "2026-05-02", "date_to": "2026-05-03"}, headers=coder)
    assert [i["external_id"] for i in got.json()["items"]] == ["W1", "W2"]
    first = client.get("/v1/encounters", headers=coder).json()["items"][0]
    sid = client.get(f"/v1/encounters/{first['id']}", headers=coder).json()["suggestions"][0]
    client.post(f"/v1/suggestions/{sid['id']}/accept", json={"version": sid["version"]}, headers=coder)
    mine = client.get("/v1/encounters", params={"coder": "coder-1", "status": "in-review"}, headers=coder).json()
    assert [i["external_id"] for i in mine["items"]] == ["W0"]
    assert client.get("/v1/encounters", params={"status": "audited"}, headers=coder).json()["total"] == 0


# Every route with a body that passes validation; {e} is a real encounter, {s} a suggestion, {q} a query.
ROUTES = [
    ("post", "/v1/records", {"content": "ASSESSMENT\nGout.\n"}, {"coder": 201, "auditor": 403, "admin": 201}),
    ("get", "/v1/encounters", None, {"coder": 200, "auditor": 200, "admin": 200}),
    ("get", "/v1/encounters/{e}", None, {"coder": 200, "auditor": 200, "admin": 200}),
    ("get", "/v1/encounters/{e}/document", None, {"coder": 200, "auditor": 200, "admin": 200}),
    ("post", "/v1/encounters/{e}/recode", None, {"coder": 201, "auditor": 403, "admin": 201}),
    ("post", "/v1/suggestions/{s}/accept", {"version": 1}, {"coder": 200, "auditor": 403, "admin": 200}),
    ("post", "/v1/suggestions/{s}/reject", {"version": 1}, {"coder": 200, "auditor": 403, "admin": 200}),
    ("post", "/v1/suggestions/{s}/modify", {"version": 1, "code": "I11.9"}, {"coder": 200, "auditor": 403,
                                                                             "admin": 200}),
    ("post", "/v1/encounters/{e}/codes", {"version": 1, "system": "ICD-10-CM", "code": "E78.5"},
     {"coder": 201, "auditor": 403, "admin": 201}),
    ("post", "/v1/queries/{q}/answer", {"version": 1, "answer": "right"}, {"coder": 200, "auditor": 403,
                                                                           "admin": 200}),
    ("post", "/v1/encounters/{e}/complete", {"version": 1}, {"coder": 409, "auditor": 403, "admin": 409}),
    ("post", "/v1/encounters/{e}/approve", {"version": 1}, {"coder": 403, "auditor": 409, "admin": 409}),
    ("post", "/v1/encounters/{e}/return", {"version": 1}, {"coder": 403, "auditor": 409, "admin": 409}),
    ("get", "/v1/encounters/{e}/audit", None, {"coder": 200, "auditor": 200, "admin": 200}),
    ("get", "/v1/encounters/{e}/export", None, {"coder": 200, "auditor": 200, "admin": 200}),
    ("get", "/v1/audit/verify", None, {"coder": 403, "auditor": 200, "admin": 200}),
    ("post", "/v1/api-keys", {"name": "x", "role": "coder"}, {"coder": 403, "auditor": 403, "admin": 201}),
]


def _fill(client: TestClient, path: str, tag: str) -> str:
    """``path`` with placeholders filled from a fresh encounter (``tag`` makes its document unique)."""
    eid = _submit(client, content=f"{NOTE}{tag} {path}", id=None)["encounter_id"]
    detail = client.get(f"/v1/encounters/{eid}", headers=_h(client, "coder")).json()
    return path.format(e=eid, s=detail["suggestions"][0]["id"], q=detail["queries"][0]["id"])


@pytest.mark.parametrize(("method", "path", "body", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_api_every_route_for_each_role(client: TestClient, method: str, path: str, body: Any,
                                       expected: dict[str, int]) -> None:
    for role, status in expected.items():
        url = _fill(client, path, role)
        if path == "/v1/records":
            body = {"content": f"ASSESSMENT\nGout.\nSent by {role}.\n"}
        response = client.request(method, url, json=body, headers=_h(client, role))
        assert response.status_code == status, (role, response.text)
        if status == 403:
            _error(response, 403, "E632")
        if status == 409:
            assert response.json()["error"]["code"] in ("E620", "E626", "E627")
    url = _fill(client, path, "anonymous")
    _error(client.request(method, url, json=body), 401, "E630")  # unauthenticated
    _error(client.request(method, url, json=body, headers={"X-API-Key": "mck_0000_nope"}), 401, "E631")
    _error(client.request(method, url, json=body, headers={"X-API-Key": "garbage"}), 401, "E631")


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("get", "/v1/nothing-here", None, 404, "E614"),
    ("delete", "/v1/encounters", None, 405, "E615"),
    ("get", "/v1/encounters/0", None, 422, "E640"),
    ("get", "/v1/encounters/abc", None, 422, "E640"),
    ("get", "/v1/encounters?page_size=1000", None, 422, "E640"),
    ("get", "/v1/encounters/999999", None, 404, "E610"),
    ("get", "/v1/encounters/999999/document", None, 404, "E610"),
    ("get", "/v1/encounters/999999/audit", None, 404, "E610"),
    ("get", "/v1/encounters/999999/export", None, 404, "E610"),
    ("post", "/v1/encounters/999999/recode", None, 404, "E610"),
    ("post", "/v1/suggestions/999999/accept", {"version": 1}, 404, "E611"),
    ("post", "/v1/queries/999999/answer", {"version": 1, "answer": "x"}, 404, "E612"),
    ("post", "/v1/encounters/999999/codes", {"version": 1, "system": "ICD-10-CM", "code": "I10"}, 404, "E610"),
    ("post", "/v1/suggestions/1/accept", {}, 422, "E640"),
    ("post", "/v1/suggestions/1/accept", {"version": 0}, 422, "E640"),
    ("post", "/v1/suggestions/1/accept", {"version": 1, "extra": 1}, 422, "E640"),
    ("post", "/v1/records", {}, 400, "E602"),
    ("post", "/v1/records", {"content": "x", "content_base64": "eA=="}, 400, "E602"),
    ("post", "/v1/records", {"content_base64": "***"}, 400, "E602"),
    ("post", "/v1/records", {"content": "   "}, 400, "E605"),
    ("post", "/v1/records", {"content": "{\"resourceType\": \"Bundle\"}", "format": "fhir"}, 400, "E605"),
    ("post", "/v1/records", {"content": "MSH|^~\\&|X", "format": "hl7v2"}, 400, "E605"),
    ("post", "/v1/records", {"content": "{", "format": "jsonl"}, 400, "E601"),
    ("post", "/v1/records", {"content": "a\u0000b"}, 422, "E640"),
    ("post", "/v1/records", {"content_base64": base64.b64encode(b"\xff\xfe").decode()}, 400, "E609"),
    ("post", "/v1/records", {"content": "x", "setting": "ward"}, 422, "E640"),
    ("post", "/v1/api-keys", {"name": "x", "role": "root"}, 422, "E640"),
])
def test_api_errors_use_one_envelope(client: TestClient, method: str, path: str, body: Any, status: int,
                                     code: str) -> None:
    _error(client.request(method, path, json=body, headers=_h(client, "admin")), status, code)


@pytest.mark.parametrize(("code", "status", "error"), [("E11.", 400, "E304"), ("Q99.99", 400, "E502"),
                                                       ("I10", 409, "E624")])
def test_api_bad_codes_are_refused(client: TestClient, code: str, status: int, error: str) -> None:
    eid = _submit(client)["encounter_id"]
    version = client.get(f"/v1/encounters/{eid}", headers=_h(client, "coder")).json()["version"]
    r = client.post(f"/v1/encounters/{eid}/codes", json={"version": version, "system": "ICD-10-CM", "code": code},
                    headers=_h(client, "coder"))
    assert _error(r, status, error)["fix"]


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/v1/health"])
def test_api_public_pages(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    if path == "/openapi.json":
        paths = response.json()["paths"]
        assert len(paths) >= 15 and "X-API-Key" in json.dumps(response.json()["components"])
