"""The audit trail, the final code set, API keys and health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from medcoder import __version__
from medcoder.api.deps import ActorDep, ServiceDep
from medcoder.api.errors import ERROR_RESPONSES
from medcoder.api.schemas import MAX_ID, ApiKeyIn, ApiKeyOut, AuditEventOut, ChainOut, ExportOut, HealthOut
from medcoder.service import auth, export

router = APIRouter(responses=ERROR_RESPONSES)
EncounterId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


@router.get("/encounters/{encounter_id}/audit", response_model=list[AuditEventOut], tags=["audit"])
def history(encounter_id: EncounterId, service: ServiceDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Every event of the encounter in order: who did what, when, with the state before and after."""
    return export.audit_history(service, encounter_id=encounter_id, actor=actor)


@router.get("/encounters/{encounter_id}/export", response_model=ExportOut, tags=["records"])
def export_codes(encounter_id: EncounterId, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """The final code set (accepted, modified and added codes) in the batch-contract shape."""
    return export.export_final(service, encounter_id=encounter_id, actor=actor)


@router.get("/audit/verify", response_model=ChainOut, tags=["audit"])
def verify(service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Check the whole audit chain (auditor or admin): ``ok`` false names the first event that fails."""
    return export.verify_chain(service, actor=actor).to_dict()


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201, tags=["admin"])
def create_key(body: ApiKeyIn, service: ServiceDep, actor: ActorDep) -> dict[str, Any]:
    """Create an API key (admin only); the key is shown once."""
    return {"key": auth.create_api_key(service, name=body.name, role=body.role, actor=actor), "name": body.name,
            "role": body.role}


@router.get("/health", response_model=HealthOut, tags=["admin"])
def health() -> dict[str, Any]:
    """Liveness (no key needed)."""
    return {"status": "ok", "version": __version__}
