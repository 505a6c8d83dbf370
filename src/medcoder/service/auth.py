"""Who is acting, and what each role may do; API keys hashed at rest with a per-key salt and a server pepper.

Why HMAC-SHA256 and not a slow password hash: keys are 256-bit random secrets, not memorable passwords, so
brute force is hopeless and a fast hash keeps every request cheap; the pepper (the server secret, never in the
database) makes a stolen database useless for forging keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medcoder.errors import AuthError, MedcoderError
from medcoder.store import repo

if TYPE_CHECKING:
    from medcoder.service.context import Service

ROLES = ("coder", "auditor", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "coder": frozenset({"read", "submit", "change_codes", "answer_queries", "complete"}),
    "auditor": frozenset({"read", "approve_audit", "verify_audit"}),
    "admin": frozenset({"read", "submit", "change_codes", "answer_queries", "complete", "approve_audit",
                        "verify_audit", "manage_keys"}),
}
KEY_PREFIX = "mck"


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise AuthError(f"role {self.role!r} may not {permission.replace('_', ' ')}", code="E632",
                            where=self.name, fix=f"Use a key whose role allows it ({_roles_with(permission)})")


SYSTEM = Actor(name="system", role="admin")


def _roles_with(permission: str) -> str:
    return ", ".join(role for role in ROLES if permission in PERMISSIONS[role])


def _digest(pepper: str, salt: str, secret: str) -> str:
    return hmac.new(pepper.encode(), f"{salt}:{secret}".encode(), hashlib.sha256).hexdigest()


def create_api_key(svc: Service, *, name: str, role: str, actor: Actor | None = None) -> str:
    """A new key; the full key is returned once and only its salted, peppered hash is stored.

    ``actor`` is who asks (an admin through the API); None means the operator at the command line."""
    actor = actor or SYSTEM
    actor.require("manage_keys")
    if role not in ROLES:
        raise MedcoderError(f"unknown role {role!r}", code="E633", where="role", fix="Use coder, auditor or admin")
    key_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(32), secrets.token_hex(16)
    with svc.db.write() as session:
        repo.add_api_key(session, key_id=key_id, name=name, role=role, salt=salt,
                         hash=_digest(svc.pepper, salt, secret))
        from medcoder.service.events import record_event

        record_event(session, actor=actor.name, action="apikey.create", entity_type="api_key", entity_id=None,
                     encounter_id=None, after={"key_id": key_id, "name": name, "role": role})
        session.commit()
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def authenticate(svc: Service, *, key: str | None) -> Actor:
    if not key:
        raise AuthError("no API key given", code="E630", where="X-API-Key",
                        fix="Send your key in the X-API-Key header (create one with 'medcoder apikey create')")
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise AuthError("malformed API key", code="E631", where="X-API-Key", fix="Send the key exactly as created")
    with svc.db.read() as session:
        row = repo.api_key_by_key_id(session, key_id=parts[1])
        if row is None or row.revoked_at is not None or not hmac.compare_digest(
                row.hash, _digest(svc.pepper, row.salt, parts[2])):
            raise AuthError("unknown or revoked API key", code="E631", where="X-API-Key",
                            fix="Ask an admin for a valid key")
        return Actor(name=row.name, role=row.role)
