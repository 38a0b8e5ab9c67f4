"""Use cases on human tasks: list, claim, unclaim, assign, complete.

Listing reads the ``human_task`` projection only. Completing validates the submission against the
task's form, keeps only the fields the form declares, and records which form version it was made on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..errors import (
    Conflict,
    InstanceChanged,
    InstanceNotRunning,
    NotFound,
    TaskAlreadyCompleted,
    TaskNotReady,
)
from ..forms import filter_data, raise_if_invalid, register_form_version, submitted_data
from ..models.workflow import HumanTask, HumanTaskTeam, InstanceState, TaskState
from ..prepared import Prepared
from ..workflow.runner import find_task, run_user_task
from . import instance_store as store
from .instances import advance_and_save

if TYPE_CHECKING:
    from ..context import Context

HT, HTT = HumanTask.__table__, HumanTaskTeam.__table__
_SELECT_TASK = select(HT).where(HT.c.id == bindparam("id"))
_SELECT_TEAMS = select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_(bindparam("ids", expanding=True)))
PI = store.PI
_TASK_COLUMNS = [(f"t_{c.name}", c) for c in HT.c]
_INSTANCE_COLUMNS = [(f"i_{c.name}", c) for c in PI.c if c.name != "state_json"]  # state: read if not live
_TASK_AND_INSTANCE = Prepared(
    select(*[c.label(label) for label, c in _TASK_COLUMNS + _INSTANCE_COLUMNS])
    .join(PI, PI.c.id == HT.c.instance_id)
    .where(HT.c.id == bindparam("id"))
    .with_for_update(of=[PI, HT])  # both rows re-read after waiting for a colleague's change
)
_SET_ASSIGNEE = update(HT).where(HT.c.id == bindparam("b_id")).values(assignee=bindparam("assignee"))


@dataclass
class TaskRecord:
    """One ``human_task`` row and the teams it is offered to."""

    id: str
    instance_id: int
    process_id: str
    business_key: str | None
    task_spec_id: str
    name: str
    lane: str | None
    assignee: str | None
    form_ref: str | None
    ui_form_ref: str | None
    due_at: datetime | None
    state: str
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    teams: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        iso = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}
        return {**iso, "task_id": self.task_spec_id, "form": self.form_ref, "ui_form": self.ui_form_ref}


@dataclass(frozen=True)
class TaskQuery:
    """Filters for task lists; every one is answered from the projection's indexes."""

    instance_id: int | None = None
    team: str | None = None
    teams: tuple[str, ...] | None = None
    assignee: str | None = None
    unassigned: bool = False
    process_id: str | None = None
    business_key: str | None = None
    due_before: datetime | None = None
    overdue: bool = False
    state: str = TaskState.READY
    limit: int = 100
    offset: int = 0


def list_tasks(ctx: Context, query: TaskQuery) -> list[dict[str, Any]]:
    """Tasks matching ``query``, soonest due first (undated last)."""
    with ctx.db.transaction() as session:
        rows = session.connection().execute(_select(query).limit(query.limit).offset(query.offset)).mappings()
        return [t.as_dict() for t in _with_teams(session, [TaskRecord(**r) for r in rows])]


def count_tasks(ctx: Context, query: TaskQuery) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(_select(query).order_by(None).subquery())) or 0


def _select(query: TaskQuery) -> Select[Any]:
    stmt = select(HT)
    teams = (query.team,) if query.team else query.teams
    if teams:
        stmt = stmt.join(HTT, HTT.c.task_id == HT.c.id).where(HTT.c.team.in_(teams))
        if len(teams) > 1:
            stmt = stmt.distinct()
    if query.state:
        stmt = stmt.where(HT.c.state == query.state)
    for column, value in (
        (HT.c.instance_id, query.instance_id),
        (HT.c.assignee, query.assignee),
        (HT.c.process_id, query.process_id),
        (HT.c.business_key, query.business_key),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.unassigned:
        stmt = stmt.where(HT.c.assignee.is_(None))
    if query.due_before is not None:
        stmt = stmt.where(HT.c.due_at < query.due_before)
    if query.overdue:
        stmt = stmt.where(HT.c.due_at <= clock.now())
    return stmt.order_by(HT.c.due_at.is_(None), HT.c.due_at, HT.c.created_at, HT.c.id)


def get_task(ctx: Context, task_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        return load_task(session, task_id).as_dict()


def task_form_data(ctx: Context, task_id: str) -> dict[str, Any]:
    """What a person may see of a task's data: only the fields its form declares (trap 8).

    Task data hold every script variable of the process; callers must never receive it raw.
    A task without a form shows nothing.
    """
    with ctx.db.transaction() as session:
        task = load_task(session, task_id, with_teams=False)
        if not task.form_ref:
            return {}
        row = store.load(ctx, session, task.instance_id)
        workflow = ctx.runner.load(row.state_json, ctx.versions.spec(session, row.process_version_id))
    spiff_task = find_task(workflow, task_id)
    if spiff_task is None:
        return {}
    return filter_data(ctx.forms.get(task.form_ref, task.ui_form_ref).schema, dict(spiff_task.data))


def claim_task(ctx: Context, task_id: str, *, user: str) -> dict[str, Any]:
    """Take a task for oneself. A task someone else holds must be released or reassigned first."""
    with ctx.db.transaction() as session:
        task = _open_task(ctx, session, task_id)
        if task.assignee not in (None, user):
            raise Conflict(f"'{task.name}' is already claimed by {task.assignee}.", assignee=task.assignee)
        return _set_assignee(session, task, user, actor=user, kind="claimed")


def unclaim_task(ctx: Context, task_id: str, *, user: str, override: bool = False) -> dict[str, Any]:
    """Release a task; only its holder (or a manager, with ``override``) may."""
    with ctx.db.transaction() as session:
        task = _open_task(ctx, session, task_id)
        if task.assignee != user and not override:
            raise Conflict(f"Only {task.assignee or 'its assignee'} or a manager can release '{task.name}'.")
        return _set_assignee(session, task, None, actor=user, kind="unclaimed")


def assign_task(ctx: Context, task_id: str, *, assignee: str | None, actor: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        return _set_assignee(
            session, _open_task(ctx, session, task_id), assignee, actor=actor, kind="assigned"
        )


def complete_task(
    ctx: Context,
    task_id: str,
    data: dict[str, Any],
    *,
    actor: str | None,
    instance_id: int | None = None,
    override_assignee: bool = False,
) -> dict[str, Any]:
    """Validate ``data`` against the task's form and complete the task.

    Returns the task, the instance's new state and the ids of the tasks now open. Of two people
    completing the same task, exactly one succeeds; the other is told who did it.
    """
    try:
        outcome = _complete(ctx, task_id, data, actor, instance_id, override_assignee)
    except InstanceChanged:
        with ctx.db.transaction() as session:  # say who got there first, if that is what happened
            _raise_closed(load_task(session, task_id, with_teams=False))
        raise
    if isinstance(outcome, Exception):
        raise outcome  # raised only now, so the timer that closed the task stays committed
    return outcome


def _complete(
    ctx: Context,
    task_id: str,
    data: dict[str, Any],
    actor: str | None,
    instance_id: int | None,
    override_assignee: bool,
) -> dict[str, Any] | Exception:
    with ctx.db.transaction() as session:
        task, row = _task_and_locked_instance(ctx, session, task_id)
        if instance_id is not None and task.instance_id != instance_id:
            raise TaskNotReady(f"Task {task_id} does not belong to instance {instance_id}.")
        _raise_closed(task)  # read under the instance's lock: nobody can be finishing it now
        if task.assignee and actor and task.assignee != actor and not override_assignee:
            raise Conflict(f"'{task.name}' is assigned to {task.assignee}; ask them or a manager to reassign it.")
        if row.suspended:
            raise InstanceNotRunning(
                f"The case is suspended; '{task.name}' cannot be completed until it resumes."
            )
        opened = store.open_instance(ctx, session, row)
        late = _fire_due_timers_first(ctx, session, opened, task)
        if late is not None:
            return late
        clean, form_version_id = _validated(ctx, session, task, data)
        task.teams = next((list(t.teams) for t in opened.before.ready_tasks if t.guid == task.id), [])
        run_user_task(opened.workflow, task.id, clean)
        advance_and_save(ctx, session, opened, completed_by={task.id: actor})
        store.record(
            session,
            "task_completed",
            instance_id=row.id,
            actor=actor,
            task=task,
            data=clean,
            form_version_id=form_version_id,
        )
        now = clock.now()
        task.state, task.completed_by, task.completed_at = TaskState.COMPLETED, actor, now
        return {
            **task.as_dict(),
            "instance_state": row.state,
            "instance_error": row.error,
            "next_tasks": [t.guid for t in opened.before.ready_tasks],
        }  # after save: open now


def _fire_due_timers_first(
    ctx: Context, session: Session, opened: store.OpenInstance, task: TaskRecord
) -> Exception | None:
    """Trap 5: a timer may have fallen due since the form was opened, before any scheduler ran.

    Fire what is due (saving its effects), then accept the submission only if the task is still open.
    """
    if not any(timer.due_at <= clock.now() for timer in opened.before.timers):
        return None
    advance_and_save(ctx, session, opened)
    spiff_task = find_task(opened.workflow, task.id)
    if spiff_task is not None and spiff_task.state == SpiffState.READY:
        return None  # a non-interrupting timer fired; the task is still the person's to complete
    return TaskNotReady(
        f"'{task.name}' closed before your submission arrived because its deadline passed; "
        "your data was not saved to the case. Copy anything you need and check the case's current step."
    )


def _validated(
    ctx: Context, session: Session, task: TaskRecord, data: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    if not isinstance(data, dict):
        raise TaskNotReady("Task data must be a JSON object.")
    if not task.form_ref:
        return data, None
    form = ctx.forms.get(task.form_ref, task.ui_form_ref)
    raise_if_invalid(form.schema, data, task.form_ref)
    version = register_form_version(session, form, now=clock.now())
    return submitted_data(form.schema, data), version.id


def _raise_closed(task: TaskRecord) -> None:
    if task.state == TaskState.COMPLETED:
        who = task.completed_by or "someone else"
        when = f" at {task.completed_at:%d %b %Y %H:%M}" if task.completed_at else ""
        raise TaskAlreadyCompleted(
            f"'{task.name}' was already completed by {who}{when}; your submission was not applied.",
            completed_by=task.completed_by,
        )
    if task.state == TaskState.CANCELLED:
        raise TaskNotReady(
            f"'{task.name}' is no longer open (the process moved on); your submission was not applied."
        )


def _task_and_locked_instance(ctx: Context, session: Session, task_id: str) -> tuple[TaskRecord, store.InstanceRecord]:
    """The task and its instance in one read, the instance row locked (PostgreSQL) for the change."""
    row = _TASK_AND_INSTANCE.first(session.connection(), {"id": task_id})
    if row is None:
        raise NotFound(f"There is no task {task_id}.")
    task = TaskRecord(**{c.name: row[label] for label, c in _TASK_COLUMNS})
    values = {c.name: row[label] for label, c in _INSTANCE_COLUMNS}
    return task, store.InstanceRecord(**values, state_json=None, version=ctx.versions.info(session, values["process_version_id"]))


def load_task(session: Session, task_id: str, *, with_teams: bool = True) -> TaskRecord:
    row = session.connection().execute(_SELECT_TASK, {"id": task_id}).mappings().first()
    if row is None:
        raise NotFound(f"There is no task {task_id}.")
    task = TaskRecord(**row)
    return _with_teams(session, [task])[0] if with_teams else task


def _with_teams(session: Session, tasks: list[TaskRecord]) -> list[TaskRecord]:
    if tasks:
        by_id = {t.id: t for t in tasks}
        for task_id, team in session.connection().execute(_SELECT_TEAMS, {"ids": list(by_id)}):
            by_id[task_id].teams.append(team)
    return tasks


def _open_task(ctx: Context, session: Session, task_id: str) -> TaskRecord:
    task = load_task(session, task_id)
    _raise_closed(task)
    if store.load(ctx, session, task.instance_id).state in InstanceState.FINISHED:
        raise InstanceNotRunning(f"The case for '{task.name}' has ended.")
    return task


def _set_assignee(
    session: Session, task: TaskRecord, assignee: str | None, *, actor: str, kind: str
) -> dict[str, Any]:
    previous, task.assignee = task.assignee, assignee
    session.connection().execute(_SET_ASSIGNEE, {"b_id": task.id, "assignee": assignee})
    store.record(
        session,
        kind,
        instance_id=task.instance_id,
        actor=actor,
        task=task,
        data={"assignee": assignee, "previous": previous},
    )
    return task.as_dict()
