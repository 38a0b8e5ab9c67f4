"""Use cases on process instances: start, show, cancel, suspend, resume, retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..errors import InstanceChanged, InstanceNotRunning, InvalidInput, NotFound
from ..models.workflow import (
    HumanTask,
    InstanceState,
    MessageWait,
    ProcessInstance,
    ProcessVersion,
    Timer,
    WorkflowEvent,
)
from ..workflow.runner import advance, retry_task
from . import instance_store as store

if TYPE_CHECKING:
    from ..context import Context


@dataclass
class InstanceView:
    """An instance as callers see it (never the raw serialised workflow)."""

    id: int
    process_id: str
    version: int
    business_key: str | None
    state: str
    suspended: bool
    started_at: datetime
    started_by: str | None
    ended_at: datetime | None
    error: dict[str, Any] | None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(self.__dict__)


def latest_version(session: Session, process_id: str) -> ProcessVersion:
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(
            f"No process '{process_id}' is deployed. Deploy it with `educase process deploy FILE` "
            "(see `educase process list`)."
        )
    return version


def start_instance(
    ctx: Context,
    process_id: str,
    *,
    data: dict[str, Any] | None = None,
    business_key: str | None = None,
    actor: str | None = None,
    version: int | None = None,
) -> InstanceView:
    """Start the latest (or a given) version of a process and run it to its first wait."""
    if data is not None and not isinstance(data, dict):
        raise InvalidInput('Initial data must be a JSON object, e.g. {"upn": "..."}.')
    with ctx.db.transaction() as session:
        spec_version = _version(session, process_id, version)
        instance = start_in_session(ctx, session, spec_version, data or {}, business_key, actor)
        return _view(session, instance)


def start_in_session(
    ctx: Context,
    session: Session,
    version: ProcessVersion,
    data: dict[str, Any],
    business_key: str | None,
    actor: str | None,
) -> ProcessInstance:
    """Create and advance an instance inside the caller's transaction (messages use this too)."""
    ctx.calendars.refresh(session)
    now = clock.now()
    spec_pair = ctx.serializer.spec_from_dict(version.id, version.spec)
    workflow = ctx.runner.create(spec_pair, data)
    instance = ProcessInstance(
        process_version_id=version.id,
        process_id=version.process_id,
        business_key=business_key,
        state=InstanceState.RUNNING,
        suspended=False,
        state_json="{}",
        started_at=now,
        started_by=actor,
        updated_at=now,
    )
    instance.version = version
    session.add(instance)
    session.flush()
    store.record(
        session,
        "started",
        instance_id=instance.id,
        actor=actor,
        data={"business_key": business_key, "version": version.version, "data": data},
    )
    error = advance(workflow)
    store.save(ctx, session, instance, workflow, error=error)
    if error is not None:
        store.record(session, "error", instance_id=instance.id, actor=None, data=error.as_dict())
    return instance


def show_instance(ctx: Context, instance_id: int) -> InstanceView:
    with ctx.db.transaction() as session:
        return _view(session, store.get_instance(session, instance_id), with_history=True)


def cancel_instance(ctx: Context, instance_id: int, *, actor: str | None, reason: str = "") -> InstanceView:
    def change(session: Session, instance: ProcessInstance, workflow: Any) -> None:
        workflow.cancel()
        store.save(ctx, session, instance, workflow)
        instance.state = InstanceState.CANCELLED
        store.record(session, "cancelled", instance_id=instance.id, actor=actor, data={"reason": reason})

    return _change(ctx, instance_id, change, allow_suspended=True)


def suspend_instance(ctx: Context, instance_id: int, *, actor: str | None, reason: str = "") -> InstanceView:
    with ctx.db.transaction() as session:
        instance = _running(session, instance_id, allow_suspended=False)
        instance.suspended = True
        instance.updated_at = clock.now()
        store.record(session, "suspended", instance_id=instance.id, actor=actor, data={"reason": reason})
        return _view(session, instance)


def resume_instance(ctx: Context, instance_id: int, *, actor: str | None) -> InstanceView:
    """Resume a suspended instance; timers that fell due meanwhile fire now."""

    def change(session: Session, instance: ProcessInstance, workflow: Any) -> None:
        if not instance.suspended:
            raise InstanceNotRunning(f"Instance {instance.id} is not suspended.")
        instance.suspended = False
        store.record(session, "resumed", instance_id=instance.id, actor=actor)
        _advance_and_save(ctx, session, instance, workflow)

    return _change(ctx, instance_id, change, allow_suspended=True)


def retry_instance(
    ctx: Context, instance_id: int, *, actor: str | None, data_changes: dict[str, Any] | None = None
) -> InstanceView:
    """Run the task in error again, after correcting data (an administrator's repair)."""

    def change(session: Session, instance: ProcessInstance, workflow: Any) -> None:
        if instance.state != InstanceState.ERROR or not instance.error:
            raise InstanceNotRunning(f"Instance {instance.id} is not in error; there is nothing to retry.")
        retry_task(workflow, instance.error["task_guid"], data_changes or {})
        store.record(session, "retried", instance_id=instance.id, actor=actor, data=data_changes or {})
        _advance_and_save(ctx, session, instance, workflow)

    return _change(ctx, instance_id, change, allow_suspended=False, allow_error=True)


# --- helpers ------------------------------------------------------------------------------------------


def _advance_and_save(ctx: Context, session: Session, instance: ProcessInstance, workflow: Any) -> None:
    error = advance(workflow)
    store.save(ctx, session, instance, workflow, error=error)
    if error is not None:
        store.record(session, "error", instance_id=instance.id, actor=None, data=error.as_dict())


def _change(
    ctx: Context, instance_id: int, change: Any, *, allow_suspended: bool, allow_error: bool = True
) -> InstanceView:
    try:
        with ctx.db.transaction() as session:
            instance = _running(session, instance_id, allow_suspended=allow_suspended)
            if instance.state == InstanceState.ERROR and not allow_error:
                raise InstanceNotRunning(f"Instance {instance_id} is in error: retry it first.")
            workflow = store.open_workflow(ctx, session, instance)
            change(session, instance, workflow)
            session.flush()
            return _view(session, instance)
    except StaleDataError:
        raise InstanceChanged(
            f"Instance {instance_id} was changed by someone else while you worked; reload it and try again."
        )


def _running(session: Session, instance_id: int, *, allow_suspended: bool) -> ProcessInstance:
    instance = store.get_instance(session, instance_id, for_update=True)
    if instance.state in InstanceState.FINISHED:
        raise InstanceNotRunning(
            f"Instance {instance_id} has ended ({instance.state}); nothing can change it."
        )
    if instance.suspended and not allow_suspended:
        raise InstanceNotRunning(f"Instance {instance_id} is suspended: resume it first.")
    return instance


def _version(session: Session, process_id: str, version: int | None) -> ProcessVersion:
    if version is None:
        return latest_version(session, process_id)
    found = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"Process '{process_id}' has no version {version}.")
    return found


def _view(session: Session, instance: ProcessInstance, *, with_history: bool = False) -> InstanceView:
    view = InstanceView(
        id=instance.id,
        process_id=instance.process_id,
        version=instance.version.version,
        business_key=instance.business_key,
        state=instance.state,
        suspended=instance.suspended,
        started_at=instance.started_at,
        started_by=instance.started_by,
        ended_at=instance.ended_at,
        error=instance.error,
    )
    tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.created_at)
    )
    view.tasks = [_task_dict(t) for t in tasks]
    timers = session.scalars(select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.id))
    view.timers = [
        {
            "task_id": t.task_spec_id,
            "name": t.name,
            "kind": t.kind,
            "due_at": t.due_at,
            "state": t.state,
            "fired_at": t.fired_at,
        }
        for t in timers
    ]
    waits = session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id))
    view.messages = [
        {"task_id": m.task_spec_id, "message": m.message_name, "correlation": m.correlation, "state": m.state}
        for m in waits
    ]
    if with_history:
        events = session.scalars(
            select(WorkflowEvent).where(WorkflowEvent.instance_id == instance.id).order_by(WorkflowEvent.id)
        )
        view.events = [
            {
                "at": e.at,
                "actor": e.actor,
                "kind": e.kind,
                "task": e.task_name or e.task_spec_id,
                "data": e.data,
            }
            for e in events
        ]
    return view


def _task_dict(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "task_id": task.task_spec_id,
        "name": task.name,
        "state": task.state,
        "teams": task.team_names,
        "assignee": task.assignee,
        "form": task.form_ref,
        "due_at": task.due_at,
        "completed_by": task.completed_by,
        "completed_at": task.completed_at,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
