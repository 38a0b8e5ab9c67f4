"""Use cases on human tasks: list, claim, unclaim, assign, complete.

Listing reads the ``human_task`` projection only. Completing validates the submission against the
task's form, keeps only the fields the form declares, and records which form version it was made on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..errors import (
    Conflict,
    InstanceChanged,
    InstanceNotRunning,
    NotFound,
    TaskAlreadyCompleted,
    TaskNotReady,
)
from ..forms import filter_data, raise_if_invalid, register_form_version
from ..models.workflow import HumanTask, HumanTaskTeam, InstanceState, TaskState
from ..workflow.runner import advance, find_task, run_user_task
from . import instance_store as store

if TYPE_CHECKING:
    from ..context import Context


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
    with ctx.db.transaction() as session:
        rows = session.scalars(_select(query).limit(query.limit).offset(query.offset)).all()
        return [task_dict(t) for t in rows]


def count_tasks(ctx: Context, query: TaskQuery) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(_select(query).order_by(None).subquery())) or 0


def _select(query: TaskQuery) -> Select[tuple[HumanTask]]:
    stmt = select(HumanTask)
    teams = (query.team,) if query.team else query.teams
    if teams:
        stmt = stmt.join(HumanTaskTeam, HumanTaskTeam.task_id == HumanTask.id).where(
            HumanTaskTeam.team.in_(teams)
        )
        if len(teams) > 1:
            stmt = stmt.distinct()
    if query.state:
        stmt = stmt.where(HumanTask.state == query.state)
    for column, value in (
        (HumanTask.instance_id, query.instance_id),
        (HumanTask.assignee, query.assignee),
        (HumanTask.process_id, query.process_id),
        (HumanTask.business_key, query.business_key),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.unassigned:
        stmt = stmt.where(HumanTask.assignee.is_(None))
    if query.due_before is not None:
        stmt = stmt.where(HumanTask.due_at < query.due_before)
    if query.overdue:
        stmt = stmt.where(HumanTask.due_at <= clock.now())
    return stmt.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)


def get_task(ctx: Context, task_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        return task_dict(_task(session, task_id))


def claim_task(ctx: Context, task_id: str, *, user: str) -> dict[str, Any]:
    """Take a task for oneself. A task someone else holds must be released or reassigned first."""
    with ctx.db.transaction() as session:
        task = _open_task(session, task_id)
        if task.assignee not in (None, user):
            raise Conflict(f"'{task.name}' is already claimed by {task.assignee}.", assignee=task.assignee)
        return _set_assignee(session, task, user, actor=user, kind="claimed")


def unclaim_task(ctx: Context, task_id: str, *, user: str, override: bool = False) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        task = _open_task(session, task_id)
        if task.assignee != user and not override:
            raise Conflict(f"Only {task.assignee or 'its assignee'} or a manager can release '{task.name}'.")
        return _set_assignee(session, task, None, actor=user, kind="unclaimed")


def assign_task(ctx: Context, task_id: str, *, assignee: str | None, actor: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        return _set_assignee(session, _open_task(session, task_id), assignee, actor=actor, kind="assigned")


def complete_task(
    ctx: Context,
    task_id: str,
    data: dict[str, Any],
    *,
    actor: str | None,
    instance_id: int | None = None,
    override_assignee: bool = False,
) -> dict[str, Any]:
    """Validate ``data`` against the task's form and complete it; return the task and instance state."""
    try:
        outcome = _complete(ctx, task_id, data, actor, instance_id, override_assignee)
    except StaleDataError:
        # Someone else completed or closed it while we worked: say who; nothing of ours was written.
        with ctx.db.transaction() as session:
            _raise_closed(_task(session, task_id))
        raise InstanceChanged("The case changed while you were working on it; reload it and submit again.")
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
        task = _task(session, task_id)
        if instance_id is not None and task.instance_id != instance_id:
            raise TaskNotReady(f"Task {task_id} does not belong to instance {instance_id}.")
        _raise_closed(task)
        if task.assignee and actor and task.assignee != actor and not override_assignee:
            raise Conflict(
                f"'{task.name}' is assigned to {task.assignee}; ask them or a manager to reassign it."
            )
        instance = store.get_instance(session, task.instance_id, for_update=True)
        if instance.suspended:
            raise InstanceNotRunning(
                f"The case is suspended; '{task.name}' cannot be completed until it resumes."
            )
        workflow = store.open_workflow(ctx, session, instance)
        late = _fire_due_timers_first(ctx, session, instance, workflow, task)
        if late is not None:
            return late  # the timer's effects are committed; the caller reports the late submission
        clean, form_version_id = _validated(ctx, session, task, data)
        run_user_task(workflow, task.id, clean)
        task.completed_by, task.completed_at = actor, clock.now()
        error = advance(workflow)
        store.save(ctx, session, instance, workflow, error=error)
        store.record(
            session,
            "task_completed",
            instance_id=instance.id,
            actor=actor,
            task=task,
            data=clean,
            form_version_id=form_version_id,
        )
        if error is not None:
            store.record(session, "error", instance_id=instance.id, actor=None, data=error.as_dict())
        return {**task_dict(task), "instance_state": instance.state, "instance_error": instance.error}


def _fire_due_timers_first(
    ctx: Context, session: Session, instance: Any, workflow: Any, task: HumanTask
) -> Exception | None:
    """Trap 5: a timer may have closed this task since the form was opened. Fire it, then re-check."""
    workflow.refresh_timers()
    spiff_task = find_task(workflow, task.id)
    if spiff_task is not None and spiff_task.state == SpiffState.READY:
        return None
    error = advance(workflow)
    store.save(ctx, session, instance, workflow, error=error)
    store.record(session, "timer_fired", instance_id=instance.id, actor=None, data={"before_task": task.id})
    return TaskNotReady(
        f"'{task.name}' closed before your submission arrived because its deadline passed; "
        "your data was not saved to the case. Copy anything you need and check the case's current step."
    )


def _validated(
    ctx: Context, session: Session, task: HumanTask, data: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    if not isinstance(data, dict):
        raise TaskNotReady("Task data must be a JSON object.")
    if not task.form_ref:
        return data, None
    form = ctx.forms.get(task.form_ref, task.ui_form_ref)
    raise_if_invalid(form.schema, data, task.form_ref)
    version = register_form_version(session, form, now=clock.now())
    return filter_data(form.schema, data), version.id


def _raise_closed(task: HumanTask) -> None:
    if task.state == TaskState.COMPLETED:
        who = task.completed_by or "someone else"
        when = task.completed_at.strftime("%d %b %Y %H:%M") if task.completed_at else ""
        raise TaskAlreadyCompleted(
            f"'{task.name}' was already completed by {who}{' at ' + when if when else ''}; your submission "
            "was not applied.",
            completed_by=task.completed_by,
        )
    if task.state == TaskState.CANCELLED:
        raise TaskNotReady(
            f"'{task.name}' is no longer open (the process moved on); your submission was not applied."
        )


def _task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"There is no task {task_id}.")
    return task


def _open_task(session: Session, task_id: str) -> HumanTask:
    task = _task(session, task_id)
    _raise_closed(task)
    instance = store.get_instance(session, task.instance_id)
    if instance.state in InstanceState.FINISHED:
        raise InstanceNotRunning(f"The case for '{task.name}' has ended.")
    return task


def _set_assignee(
    session: Session, task: HumanTask, assignee: str | None, *, actor: str, kind: str
) -> dict[str, Any]:
    previous, task.assignee = task.assignee, assignee
    store.record(
        session,
        kind,
        instance_id=task.instance_id,
        actor=actor,
        task=task,
        data={"assignee": assignee, "previous": previous},
    )
    return task_dict(task)


def task_dict(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_id": task.process_id,
        "business_key": task.business_key,
        "task_id": task.task_spec_id,
        "name": task.name,
        "lane": task.lane,
        "teams": task.team_names,
        "assignee": task.assignee,
        "form": task.form_ref,
        "ui_form": task.ui_form_ref,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "state": task.state,
        "created_at": task.created_at.isoformat(),
        "completed_by": task.completed_by,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }
