"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): no input gives a 500.

Bounded: a few examples per operation, on SQLite, authenticated as admin so requests reach the service
(unauthenticated requests stop at the key check, which ``test_api`` covers for every route).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from medcoder.api.app import create_app
from medcoder.api.config import ApiConfig
from medcoder.ingest.detect import read_record
from medcoder.service import process
from medcoder.service.auth import SYSTEM, create_api_key
from medcoder.service.coder import search_coder
from medcoder.service.context import kb_title_of, open_service
from medcoder.settings import Settings

SECRET = "fuzz-secret-0123456789"
_STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, kb_settings: Settings) -> Iterator[Any]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.sqlite'}"
    service = open_service(url, coder=search_coder(kb_settings), title_of=kb_title_of(kb_settings), pepper=SECRET)
    for n in range(3):  # real rows for ids 1..3 so that fuzzed ids reach the review code, not only 404s
        process.submit_record(service, record=read_record(f"ASSESSMENT\nEssential hypertension. Gout. {n}".encode()),
                              actor=SYSTEM)
    _STATE["key"] = create_api_key(service, name="fuzzer", role="admin")
    app = create_app(ApiConfig(settings=kb_settings, db_url=url, secret=SECRET, environment="test"), service=service)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    service.close()


@pytest.mark.parametrize("examples", [25])
def test_fuzz_api_has_no_server_errors(api_schema: Any, examples: int) -> None:
    """Every operation of the published schema, fuzzed; the schemathesis pytest plugin is not used (it does
    not support pytest 9), so each operation's case strategy is run under hypothesis here."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 17

    for operation in operations:
        @settings(max_examples=examples, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers={"X-API-Key": _STATE["key"]})
            _STATE.setdefault("statuses", []).append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r} -> {response.status_code} "
                                f"{response.text[:200]}")
            else:
                assert "error" in response.json() if response.status_code >= 400 else True

        run()
    assert not failures, "\n".join(failures[:10])
    statuses = _STATE["statuses"]
    print(f"fuzz: {len(statuses)} requests, statuses {sorted(set(statuses))}")
    assert len(statuses) >= len(operations) * 3 and any(s < 300 for s in statuses)
