"""``create_app``: the FastAPI application over one service handle, with its OpenAPI schema at /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from medcoder import __version__
from medcoder.api import errors
from medcoder.api.config import ApiConfig
from medcoder.api.routes import audit, records, review
from medcoder.service.coder import Coder, default_coder
from medcoder.service.context import Service, kb_title_of, open_service

PREFIX = "/v1"


def create_app(config: ApiConfig, *, service: Service | None = None, coder: Coder | None = None) -> FastAPI:
    """The API app. Refuses (E650) a default secret outside development. ``service`` is opened from
    ``config`` (database migrated) unless given; the caller then owns its lifetime."""
    config.check()
    owned = service is None
    if service is None:
        service = open_service(config.db_url, coder=coder or default_coder(config.settings), pepper=config.secret,
                               title_of=kb_title_of(config.settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            service.close()

    app = FastAPI(title="medcoder", version=__version__, lifespan=lifespan,
                  description="Local-first medical coding: submit records, review suggested codes with their "
                              "evidence, answer documentation queries, audit, export the final code set. "
                              "Every error is `{\"error\": {\"code\", \"message\", \"where\", \"fix\"}}`.")
    app.state.service = service
    app.state.config = config
    errors.install(app)
    for module in (records, review, audit):
        app.include_router(module.router, prefix=PREFIX)
    return app
