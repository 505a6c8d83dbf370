"""The service handle: the working database, the coding engine and the secrets, built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from medcoder.service.coder import Coder
from medcoder.settings import Settings
from medcoder.store.db import Database, open_database

TitleOf = Callable[[str, str], str | None]
"""``(system, code) -> title``, or None when the code does not exist in the knowledge base."""


@dataclass(kw_only=True)
class Service:
    db: Database
    coder: Coder
    pepper: str = "development-pepper"
    """Server secret mixed into API-key hashes (``MEDCODER_SECRET``)."""
    title_of: TitleOf | None = field(default=None)

    def close(self) -> None:
        self.db.dispose()


def open_service(url: str, *, coder: Coder, pepper: str = "development-pepper", title_of: TitleOf | None = None,
                 migrate: bool = True) -> Service:
    """Open (and migrate) the database at ``url`` and bind it to a coding engine."""
    return Service(db=open_database(url, migrate=migrate), coder=coder, pepper=pepper, title_of=title_of)


def kb_title_of(settings: Settings) -> TitleOf:
    """Titles from the newest built ICD-10-CM Tabular (other systems: format checks only)."""
    from medcoder.service.coder import KB_LOCK, shared_codesets

    def title_of(system: str, code: str) -> str | None:
        if system != "ICD-10-CM":
            return ""
        with KB_LOCK:
            entry = shared_codesets(settings, None).tabular.get(code)
        return entry.title if entry is not None else None

    return title_of


def default_db_url(settings: Settings) -> str:
    """The embedded default working database: ``$MEDCODER_HOME/medcoder.sqlite``."""
    from medcoder.store.db import default_url

    return default_url(settings.home)
