"""One JSON error envelope for every error: ``{"error": {"code", "message", "where", "fix"}}``.

Why one shape: a hospital integration handles errors in one place; validation (422), unknown routes (404),
wrong methods (405), conflicts (409) and the unexpected (500) all read the same way (datasette's habit).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medcoder.api.schemas import ErrorEnvelope
from medcoder.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    EntityNotFoundError,
    MedcoderError,
)

log = logging.getLogger("medcoder.api")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in ((400, "The request is well-formed but cannot be done (E3xx, E5xx, E6xx)"),
                         (401, "No or invalid API key (E630, E631)"),
                         (403, "The key's role may not do this (E632)"),
                         (404, "No such encounter, suggestion or query (E61x)"),
                         (409, "Stale version or wrong state (E62x)"),
                         (422, "The request does not match the schema (E640)"))
}


def status_of(error: MedcoderError) -> int:
    if isinstance(error, AuthError):
        return 403 if error.code == "E632" else 401
    if isinstance(error, EntityNotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, ConfigError):
        return 500
    return 400


def envelope(code: str, message: str, *, where: str | None = None, fix: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "where": where, "fix": fix}}


def install(app: FastAPI) -> None:
    @app.exception_handler(MedcoderError)
    async def _medcoder(_request: Request, exc: MedcoderError) -> JSONResponse:
        status = status_of(exc)
        headers = {"WWW-Authenticate": "X-API-Key"} if status == 401 else None
        return JSONResponse(status_code=status, content={"error": exc.to_dict()}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors[:5])
        return JSONResponse(status_code=422, content=envelope(
            "E640", f"the request does not match the schema: {message}", where=where or None,
            fix="See the OpenAPI schema at /openapi.json"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "E614", 405: "E615"}.get(exc.status_code, f"E6{exc.status_code % 100:02d}")
        fix = {404: "See the routes in /openapi.json", 405: "See the allowed methods in /openapi.json"}.get(
            exc.status_code)
        return JSONResponse(status_code=exc.status_code, headers=getattr(exc, "headers", None),
                            content=envelope(code, str(exc.detail), fix=fix))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(status_code=500, content=envelope(
            "E699", f"internal error: {type(exc).__name__}", fix="Report it with the request; nothing was saved"))
