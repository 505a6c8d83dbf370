"""Settings of the API server, from the environment (``MEDCODER_DB_URL``, ``MEDCODER_SECRET``, ``MEDCODER_ENV``).

Why refuse a default secret: the secret peppers every API-key hash; a server on a hospital network running
with the well-known development value would accept keys anyone can forge from a stolen database. Outside
``development`` the server does not start until a real secret is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from medcoder.errors import ConfigError
from medcoder.settings import Settings, get_settings

DEFAULT_SECRET = "development-secret-change-me"
ENVIRONMENTS = ("development", "test", "production")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    settings: Settings
    db_url: str
    secret: str = DEFAULT_SECRET
    environment: str = "production"
    """``production`` unless said otherwise: the safe default."""

    def check(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"unknown environment {self.environment!r}", code="E651", where="MEDCODER_ENV",
                              fix="Use development, test or production")
        if self.environment != "development" and (self.secret == DEFAULT_SECRET or len(self.secret) < 16):
            raise ConfigError(f"refusing to serve in {self.environment} with the default or a short secret",
                              code="E650", where="MEDCODER_SECRET",
                              fix="Set MEDCODER_SECRET to a random value of 16+ characters "
                                  "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), "
                                  "or run with MEDCODER_ENV=development on a laptop")


def get_api_config(*, settings: Settings | None = None, db_url: str | None = None, secret: str | None = None,
                   environment: str | None = None) -> ApiConfig:
    """Explicit arguments win over ``MEDCODER_*`` environment variables, which win over defaults."""
    from medcoder.service.context import default_db_url

    settings = settings or get_settings()
    return ApiConfig(settings=settings,
                     db_url=db_url or os.environ.get("MEDCODER_DB_URL") or default_db_url(settings),
                     secret=secret or os.environ.get("MEDCODER_SECRET") or DEFAULT_SECRET,
                     environment=environment or os.environ.get("MEDCODER_ENV") or "production")
