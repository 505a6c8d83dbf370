"""The final code set of an encounter in the batch-contract shape, the worklist, and the audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

from medcoder.service.auth import Actor
from medcoder.service.context import Service
from medcoder.service.events import ChainReport, event_view, verify_events
from medcoder.service.process import _encounter
from medcoder.service.views import FINAL_STATUSES, contract_code, encounter_view, query_view
from medcoder.store import repo


def contract_release(releases: dict[str, Any]) -> dict[str, Any]:
    """Releases used, keyed by knowledge-base kind, plus the contract's short ``icd10cm`` key."""
    out = dict(releases)
    if "icd10cm-tabular" in releases:
        out.setdefault("icd10cm", releases["icd10cm-tabular"])
    return out


def export_final(svc: Service, *, encounter_id: int, actor: Actor) -> dict[str, Any]:
    """What goes on the claim: codes accepted, modified or added by a coder, in sequence order."""
    actor.require("read")
    with svc.db.read() as session:
        encounter = _encounter(session, encounter_id)
        rows = repo.suggestions(session, encounter_id=encounter_id)
        final = [r for r in rows if r.status in FINAL_STATUSES]
        runs = repo.runs_of(session, encounter_id=encounter_id)
        return {
            "id": encounter.external_id or str(encounter.id), "encounter_id": encounter.id,
            "status": encounter.status, "final": encounter.status in ("coded", "audited"),
            "codes": [contract_code(r, n) for n, r in enumerate(final, start=1)],
            "pending": [contract_code(r, r.sequence) for r in rows if r.status == "suggested"],
            "rejected": [contract_code(r, r.sequence) for r in rows if r.status == "rejected"],
            "queries": [query_view(q) for q in repo.queries(session, encounter_id=encounter_id)],
            "release": contract_release(runs[-1].releases if runs else {}),
            "pipeline_version": runs[-1].pipeline_version if runs else None,
        }


def worklist(svc: Service, *, actor: Actor, status: str | None = None, setting: str | None = None,
             date_from: date | None = None, date_to: date | None = None, coder: str | None = None,
             page: int = 1, page_size: int = 50) -> dict[str, Any]:
    actor.require("read")
    with svc.db.read() as session:
        rows, total = repo.worklist(session, status=status, setting=setting, date_from=date_from, date_to=date_to,
                                    coder=coder, offset=(page - 1) * page_size, limit=page_size)
        counts = repo.count_active_codes(session, encounter_ids=[r.id for r in rows])
        items = []
        for row in rows:
            item = encounter_view(row)
            item["codes"] = counts.get(row.id, {})
            items.append(item)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


def audit_history(svc: Service, *, encounter_id: int, actor: Actor) -> list[dict[str, Any]]:
    actor.require("read")
    with svc.db.read() as session:
        _encounter(session, encounter_id)
        return [event_view(e) for e in repo.audit_events(session, encounter_id=encounter_id)]


def verify_chain(svc: Service, *, actor: Actor) -> ChainReport:
    actor.require("verify_audit")
    with svc.db.read() as session:
        return verify_events(session)
