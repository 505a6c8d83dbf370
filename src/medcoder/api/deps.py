"""Request dependencies: the service handle and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from medcoder.service.auth import Actor, authenticate
from medcoder.service.context import Service

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (medcoder apikey create)")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_actor(service: ServiceDep, key: Annotated[str | None, Security(api_key_header)] = None) -> Actor:
    return authenticate(service, key=key)


ActorDep = Annotated[Actor, Depends(get_actor)]
