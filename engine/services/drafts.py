"""Drafts: the answers a person saved on a task's form without sending them.

A draft is the person's own: it is not validated (they may stop halfway), nobody else sees it, and
it goes when the task is completed. Its data are still only what the form declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from .. import clock
from ..models.drafts import TaskDraft

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

TD = TaskDraft.__table__


@dataclass(frozen=True)
class Draft:
    task_id: str
    username: str
    data: dict[str, Any]
    saved_at: datetime


def save_draft(ctx: Context, task_id: str, username: str, data: dict[str, Any]) -> Draft:
    """Keep ``data`` as ``username``'s draft of ``task_id`` (replacing any earlier draft)."""
    now = clock.now()
    with ctx.db.transaction() as session:
        row = session.get(TaskDraft, (task_id, username))
        if row is None:
            session.add(TaskDraft(task_id=task_id, username=username, data=data, saved_at=now))
        else:
            row.data, row.saved_at = data, now
        return Draft(task_id, username, data, now)


def get_draft(ctx: Context, task_id: str, username: str) -> Draft | None:
    """``username``'s draft of ``task_id``, if they saved one."""
    with ctx.db.transaction() as session:
        return draft_in(session, task_id, username)


def draft_in(session: Session, task_id: str, username: str) -> Draft | None:
    row = session.execute(select(TD).where(TD.c.task_id == task_id, TD.c.username == username)).first()
    return Draft(row.task_id, row.username, row.data, row.saved_at) if row else None


def discard_drafts(ctx: Context, task_id: str) -> None:
    """Forget every draft of a task (it has been completed: nobody's draft can be sent any more)."""
    with ctx.db.transaction() as session:
        session.execute(delete(TD).where(TD.c.task_id == task_id))
