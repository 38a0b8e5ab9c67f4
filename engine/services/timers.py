"""Firing due timers. The ``timer`` table says what is due; this wakes exactly those instances.

Safe with several scheduler processes: on PostgreSQL each instance is taken with
``FOR UPDATE SKIP LOCKED`` (another process skips it), on SQLite writers are serialised by
``BEGIN IMMEDIATE``; in both cases the timer row is re-checked inside the transaction, so a timer fires
exactly once. After downtime every overdue timer is found by the same query and fires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import InstanceChanged
from ..models.workflow import InstanceState, ProcessInstance, Timer
from . import instance_store as store
from .instances import advance_and_save

if TYPE_CHECKING:
    from ..context import Context

MAX_CATCH_UP_ROUNDS = 400  # a daily cycle timer after a year of downtime


@dataclass
class TimerRun:
    now: datetime
    fired: list[dict[str, object]] = field(default_factory=list)
    instances: set[int] = field(default_factory=set)
    errors: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "now": self.now.isoformat(),
            "fired": self.fired,
            "instances": sorted(self.instances),
            "errors": self.errors,
        }


def next_due_at(ctx: Context) -> datetime | None:
    """When the earliest waiting timer of a running instance falls due (for the scheduler)."""
    with ctx.db.transaction() as session:
        return session.scalar(
            select(Timer.due_at)
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(Timer.state == "waiting", ProcessInstance.suspended.is_(False))
            .order_by(Timer.due_at)
            .limit(1)
        )


def run_due_timers(ctx: Context, *, now: datetime | None = None, batch_size: int | None = None) -> TimerRun:
    """Fire every timer due at ``now`` (default: the clock), one instance per transaction."""
    moment = clock.as_utc(now) if now is not None else clock.now()
    run = TimerRun(moment)
    batch = batch_size or ctx.settings.timer_batch_size
    skipped: set[int] = set()
    with clock.frozen_at(moment):
        while True:
            due = _due_instances(ctx, moment, batch, skipped)
            if not due:
                return run
            for instance_id in due:
                if not _wake(ctx, instance_id, moment, run):
                    skipped.add(instance_id)


def _due_instances(ctx: Context, now: datetime, batch: int, skipped: set[int]) -> list[int]:
    with ctx.db.transaction() as session:
        query = (
            select(Timer.instance_id)
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(
                Timer.state == "waiting",
                Timer.due_at <= now,
                ProcessInstance.suspended.is_(False),
                ProcessInstance.state.not_in([InstanceState.ERROR, *InstanceState.FINISHED]),
            )
            .group_by(Timer.instance_id)
            .order_by(Timer.instance_id)
        )
        if skipped:
            query = query.where(Timer.instance_id.not_in(skipped))
        return list(session.scalars(query.limit(batch)))


def _wake(ctx: Context, instance_id: int, now: datetime, run: TimerRun) -> bool:
    """Fire this instance's due timers. False when another process holds it or nothing was due."""
    try:
        with ctx.db.transaction() as session:
            locked = store.load(ctx, session, instance_id, skip_locked=True)
            if locked.suspended or locked.state in (InstanceState.ERROR, *InstanceState.FINISHED):
                return False
            due_rows = _due_rows(session, instance_id, now)
            if not due_rows:
                return False  # another process fired them between our query and our lock
            opened = store.open_instance(ctx, session, locked)
            for _ in range(MAX_CATCH_UP_ROUNDS):
                snapshot = advance_and_save(ctx, session, opened)
                if locked.state == InstanceState.ERROR or not any(t.due_at <= now for t in snapshot.timers):
                    break
            _record_fired(session, locked.id, due_rows, run)
            if locked.state == InstanceState.ERROR:
                run.errors.append({"instance": instance_id, **(locked.error or {})})
            return True
    except InstanceChanged:
        return False  # another process holds or just changed it; its timers are not ours to fire


def _due_rows(session: Session, instance_id: int, now: datetime) -> list[Any]:
    return list(
        session.execute(
            select(Timer.id, Timer.task_spec_id, Timer.name, Timer.due_at).where(
                Timer.instance_id == instance_id, Timer.state == "waiting", Timer.due_at <= now
            )
        )
    )


def _record_fired(session: Session, instance_id: int, rows: list[Any], run: TimerRun) -> None:
    """Report what fired in this wake-up (the history events are written by the save itself)."""
    fired = session.execute(
        select(Timer.task_spec_id, Timer.name, Timer.due_at)
        .where(Timer.instance_id == instance_id, Timer.state == "fired", Timer.fired_at == run.now)
        .order_by(Timer.due_at)
    )
    for timer, name, due_at in fired:
        run.fired.append(
            {"instance": instance_id, "timer": timer, "name": name, "due_at": due_at.isoformat()}
        )
        run.instances.add(instance_id)
