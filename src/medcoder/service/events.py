"""The audit trail: an append-only chain of events, each carrying the hash of the one before.

Why a hash chain: editing, deleting or inserting any past event changes a hash that a later event
recorded, so ``verify_chain`` finds the first event that no longer fits. Appends are serialized (SQLite's
write lock; a PostgreSQL advisory lock) and ``prev_hash`` is unique, so the chain cannot fork.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from medcoder.store import repo
from medcoder.store.tables import AuditEvent

GENESIS = "0" * 64


def plain(value: Any) -> Any:
    """JSON-native copy (dates as ISO strings), so that what is hashed is exactly what is stored."""
    return None if value is None else json.loads(json.dumps(value, default=str, sort_keys=True))


def _timestamp(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(*, prev_hash: str, at: datetime, actor: str, action: str, entity_type: str,
               entity_id: int | None, encounter_id: int | None, before: Any, after: Any) -> str:
    body = json.dumps({"at": _timestamp(at), "actor": actor, "action": action, "entity_type": entity_type,
                       "entity_id": entity_id, "encounter_id": encounter_id, "before": before, "after": after},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def record_event(session: Session, *, actor: str, action: str, entity_type: str, entity_id: int | None,
                 encounter_id: int | None, before: Any = None, after: Any = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    repo.lock_audit_chain(session)
    last = repo.last_audit_event(session)
    prev_hash = last.hash if last is not None else GENESIS
    at = datetime.now(UTC).replace(tzinfo=None)
    before, after = plain(before), plain(after)
    digest = event_hash(prev_hash=prev_hash, at=at, actor=actor, action=action, entity_type=entity_type,
                        entity_id=entity_id, encounter_id=encounter_id, before=before, after=after)
    return repo.add_audit_event(session, at=at, actor=actor, action=action, entity_type=entity_type,
                                entity_id=entity_id, encounter_id=encounter_id, before=before, after=after,
                                prev_hash=prev_hash, hash=digest)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    ok: bool
    events: int
    head: str
    """Hash of the last event: keep it elsewhere to detect removal of events at the end of the chain."""
    bad_event: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": self.head, "bad_event": self.bad_event,
                "reason": self.reason}


def verify_events(session: Session) -> ChainReport:
    prev = GENESIS
    count = 0
    for event in repo.audit_events(session):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(ok=False, events=count, head=prev, bad_event=event.id,
                               reason="prev_hash does not match the previous event: an event was removed, "
                                      "inserted or reordered before this one")
        expected = event_hash(prev_hash=event.prev_hash, at=event.at, actor=event.actor, action=event.action,
                              entity_type=event.entity_type, entity_id=event.entity_id,
                              encounter_id=event.encounter_id, before=event.before, after=event.after)
        if expected != event.hash:
            return ChainReport(ok=False, events=count, head=prev, bad_event=event.id,
                               reason="content does not match its hash: the event was changed")
        prev = event.hash
    return ChainReport(ok=True, events=count, head=prev)


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": _timestamp(event.at) + "Z", "actor": event.actor, "action": event.action,
            "entity_type": event.entity_type, "entity_id": event.entity_id, "encounter_id": event.encounter_id,
            "before": event.before, "after": event.after, "prev_hash": event.prev_hash, "hash": event.hash}
