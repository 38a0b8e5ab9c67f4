"""The audit trail: who saw or changed which record, and when. Append-only.

Record inside the caller's unit of work (pass its ``Session``) when the event belongs to a change, so
the change and its audit row commit together; pass the ``Context`` to write a standalone event (a
page view).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from .. import clock
from ..access import Principal
from ..db import LazySession
from ..models.access import AuditEvent

if TYPE_CHECKING:
    from ..context import Context

AE = AuditEvent.__table__


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str | None
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any] | None
    source_ip: str | None


def record(
    target: Context | Session,
    principal: Principal | str | None,
    action: str,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
    source_ip: str | None = None,
) -> None:
    """Append one event. ``principal`` may be a username (or ``None`` for an anonymous caller)."""
    values = {
        "at": clock.now(),
        "actor": principal.username if isinstance(principal, Principal) else principal,
        "action": action[:40],
        "object_type": object_type[:40],
        "object_id": str(object_id)[:100],
        "details": details,
        "source_ip": (source_ip or None) and source_ip[:64],
    }
    if isinstance(target, Session | LazySession):
        target.execute(insert(AE), [values])
        return
    with target.db.transaction() as session:
        session.execute(insert(AE), [values])


def trail(ctx: Context, object_type: str, object_id: object, limit: int = 500) -> list[AuditEntry]:
    """The events about one record, newest first."""
    with ctx.db.transaction() as session:
        return events(session, object_type, object_id, limit=limit)


def events(
    session: Session,
    object_type: str,
    object_id: object,
    *,
    actions: tuple[str, ...] = (),
    after: datetime | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """Events about one record, newest first; optionally only some ``actions``, only those after ``after``."""
    query = select(AE).where(AE.c.object_type == object_type, AE.c.object_id == str(object_id)[:100])
    if actions:
        query = query.where(AE.c.action.in_(actions))
    if after is not None:
        query = query.where(AE.c.at > after)
    return _entries(session, query.limit(limit))


def by_actor(ctx: Context, username: str, limit: int = 500) -> list[AuditEntry]:
    """What one person did or saw, newest first (for an administrator's review)."""
    with ctx.db.transaction() as session:
        return _entries(session, select(AE).where(AE.c.actor == username).limit(limit))


def _entries(session: Session, query: Select[Any]) -> list[AuditEntry]:
    rows = session.execute(query.order_by(AE.c.at.desc(), AE.c.id.desc()))
    return [
        AuditEntry(r.at, r.actor, r.action, r.object_type, r.object_id, r.details, r.source_ip) for r in rows
    ]
