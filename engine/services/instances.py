"""Use cases on process instances: start, show, cancel, suspend, resume, retry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..documents.rendering import collecting_documents
from ..errors import InstanceNotRunning, InvalidInput, NotFound
from ..forms import raise_if_invalid
from ..models.workflow import HumanTask, InstanceState, MessageWait, ProcessVersion, Timer, WorkflowEvent
from ..workflow.projections import Snapshot
from ..workflow.runner import advance, deliver_to_start_event, retry_task
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


_PV = ProcessVersion.__table__
_GIVEN = select(_PV.c.id).where(
    _PV.c.process_id == bindparam("process_id"), _PV.c.version == bindparam("version")
)


def latest_version_id(ctx: Context, session: Session, process_id: str, version: int | None = None) -> int:
    """The id of the latest (or the given) version of a deployed process."""
    if version is None:
        found = ctx.versions.latest_id(session, process_id)
    else:
        found = session.connection().execute(_GIVEN, {"process_id": process_id, "version": version}).scalar()
    if found is None:
        if version is not None:
            raise NotFound(f"Process '{process_id}' has no version {version}.")
        raise NotFound(
            f"No process '{process_id}' is deployed. Deploy it with `educase process deploy FILE` "
            "(see `educase process list`)."
        )
    return int(found)


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
        version_id = latest_version_id(ctx, session, process_id, version)
        opened = start_in_session(ctx, session, version_id, data or {}, business_key, actor)
        return _view_of_new(opened)


def start_in_session(
    ctx: Context,
    session: Session,
    version_id: int,
    data: dict[str, Any],
    business_key: str | None,
    actor: str | None,
    *,
    message: tuple[str, dict[str, Any]] | None = None,
) -> store.OpenInstance:
    """Create and advance an instance inside the caller's transaction.

    ``message`` (name, payload) starts it through its message start event, as a message sent to
    the process does: the payload reaches the event's ``messageVariable``.
    """
    ctx.calendars.refresh(session)
    version = ctx.versions.info(session, version_id)
    if version.start_form_ref:  # e.g. a school's referral: refuse what the form would refuse
        raise_if_invalid(ctx.forms.get(version.start_form_ref).schema, data, version.start_form_ref)
    workflow = ctx.runner.create(ctx.versions.spec(session, version_id), data)
    opened = store.new_instance(version, workflow, business_key, actor)
    with collecting_documents() as documents:
        error = advance(workflow)
        if message is not None and error is None:
            deliver_to_start_event(workflow, *message)
            error = advance(workflow)
    thrown = workflow.get_events()  # taken out before saving, so they are routed exactly once
    store.save(ctx, session, opened, error=error, documents=documents)  # inserts the row
    store.record(
        session,
        "started",
        instance_id=opened.row.id,
        actor=actor,
        data={"business_key": business_key, "version": version.version, "data": data},
    )
    store.link_establishments(session, opened.row.id, establishments_in(data))
    if error is not None:
        store.record(session, "error", instance_id=opened.row.id, actor=None, data=error.as_dict())
    _route(ctx, session, thrown, opened.row.id)
    return opened


# Where a case's start data name the establishments it concerns (their school users may see it).
ESTABLISHMENT_PATHS = (
    ("laestab",), ("establishment",), ("school", "laestab"), ("pupil", "school_laestab"),
    ("pupil", "laestab"), ("home_school", "laestab"), ("receiving_school", "laestab"),
    ("provider", "laestab"),
)


def establishments_in(data: dict[str, Any]) -> list[str]:
    """The LAESTABs a case concerns, from the documented places in its start data."""
    found: list[str] = []
    for path in ESTABLISHMENT_PATHS:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str | int) and str(value).isdigit() and len(str(value)) == 7:
            found.append(str(value))
    return list(dict.fromkeys(found))


def show_instance(ctx: Context, instance_id: int) -> InstanceView:
    with ctx.db.transaction() as session:
        return _view(session, store.load(ctx, session, instance_id), with_history=True)


def cancel_instance(ctx: Context, instance_id: int, *, actor: str | None, reason: str = "") -> InstanceView:
    def change(session: Session, opened: store.OpenInstance) -> None:
        opened.workflow.cancel()
        store.save(ctx, session, opened, state=InstanceState.CANCELLED)
        store.record(session, "cancelled", instance_id=opened.row.id, actor=actor, data={"reason": reason})

    return _change(ctx, instance_id, change, allow_suspended=True)


def suspend_instance(ctx: Context, instance_id: int, *, actor: str | None, reason: str = "") -> InstanceView:
    """Stop an instance: no task can be completed and no timer fires until it is resumed."""
    with ctx.db.transaction() as session:
        row = _running(ctx, session, instance_id, allow_suspended=False)
        row.suspended = True
        store.write_row(session.connection(), row)
        store.record(session, "suspended", instance_id=row.id, actor=actor, data={"reason": reason})
        return _view(session, row)


def resume_instance(ctx: Context, instance_id: int, *, actor: str | None) -> InstanceView:
    """Resume a suspended instance; timers that fell due meanwhile fire now."""

    def change(session: Session, opened: store.OpenInstance) -> None:
        if not opened.row.suspended:
            raise InstanceNotRunning(f"Instance {opened.row.id} is not suspended.")
        opened.row.suspended = False
        store.record(session, "resumed", instance_id=opened.row.id, actor=actor)
        advance_and_save(ctx, session, opened)

    return _change(ctx, instance_id, change, allow_suspended=True)


def retry_instance(
    ctx: Context, instance_id: int, *, actor: str | None, data_changes: dict[str, Any] | None = None
) -> InstanceView:
    """Run the task in error again, after correcting data (an administrator's repair)."""

    def change(session: Session, opened: store.OpenInstance) -> None:
        row = opened.row
        if row.state != InstanceState.ERROR or not row.error:
            raise InstanceNotRunning(f"Instance {row.id} is not in error; there is nothing to retry.")
        if not row.error.get("task_guid"):
            raise InstanceNotRunning(
                f"Instance {row.id} stopped without a task in error ({row.error.get('message')}); "
                "it cannot be retried: correct the process and start a new case, or cancel this one."
            )
        retry_task(opened.workflow, row.error["task_guid"], data_changes or {})
        store.record(session, "retried", instance_id=row.id, actor=actor, data=data_changes or {})
        advance_and_save(ctx, session, opened)

    return _change(ctx, instance_id, change, allow_suspended=False)


def advance_and_save(
    ctx: Context,
    session: Session,
    opened: store.OpenInstance,
    *,
    completed_by: dict[str, str | None] | None = None,
) -> Snapshot:
    """Run the engine to its next wait and save; a failing script puts the instance in error, saved."""
    with collecting_documents() as documents:
        error = advance(opened.workflow)
    thrown = opened.workflow.get_events()  # taken out before saving, so they are routed exactly once
    snapshot = store.save(ctx, session, opened, error=error, completed_by=completed_by, documents=documents)
    if error is not None:
        store.record(session, "error", instance_id=opened.row.id, actor=None, data=error.as_dict())
    _route(ctx, session, thrown, opened.row.id)
    return snapshot


def _route(ctx: Context, session: Session, thrown: list[Any], sender_id: int) -> None:
    """Send on the messages an instance threw to other instances (inside the same transaction)."""
    if thrown:
        from .messages import route_thrown  # messages starts instances too: import here, not at the top

        route_thrown(ctx, session, thrown, sender_id)


# --- helpers ------------------------------------------------------------------------------------------


def _change(
    ctx: Context,
    instance_id: int,
    change: Callable[[Session, store.OpenInstance], None],
    *,
    allow_suspended: bool,
) -> InstanceView:
    with ctx.db.transaction() as session:
        row = _running(ctx, session, instance_id, allow_suspended=allow_suspended)
        opened = store.open_instance(ctx, session, row)
        change(session, opened)
        return _view(session, opened.row)


def _running(
    ctx: Context, session: Session, instance_id: int, *, allow_suspended: bool
) -> store.InstanceRecord:
    row = store.load(ctx, session, instance_id, lock=True)
    if row.state in InstanceState.FINISHED:
        raise InstanceNotRunning(f"Instance {instance_id} has ended ({row.state}); nothing can change it.")
    if row.suspended and not allow_suspended:
        raise InstanceNotRunning(f"Instance {instance_id} is suspended: resume it first.")
    return row


def _header(row: store.InstanceRecord) -> InstanceView:
    return InstanceView(
        id=row.id,
        process_id=row.process_id,
        version=row.version.version,
        business_key=row.business_key,
        state=row.state,
        suspended=row.suspended,
        started_at=row.started_at,
        started_by=row.started_by,
        ended_at=row.ended_at,
        error=row.error,
    )


def _view_of_new(opened: store.OpenInstance) -> InstanceView:
    """A just-started instance, from its snapshot: what is open now (no history to read yet)."""
    view, snap = _header(opened.row), opened.before
    view.tasks = [
        {
            "id": t.guid,
            "task_id": t.task_spec_id,
            "name": t.name,
            "state": "ready",
            "teams": list(t.teams),
            "assignee": None,
            "form": t.form_ref,
            "due_at": t.due_at,
            "completed_by": None,
            "completed_at": None,
        }
        for t in snap.ready_tasks
    ]
    view.timers = [
        {
            "task_id": t.task_spec_id,
            "name": t.name,
            "kind": t.kind,
            "due_at": t.due_at,
            "state": "waiting",
            "fired_at": None,
        }
        for t in snap.timers
    ]
    view.messages = [
        {
            "task_id": m.task_spec_id,
            "message": m.message_name,
            "correlation": m.correlation,
            "state": "waiting",
        }
        for m in snap.messages
    ]
    return view


def _view(session: Session, row: store.InstanceRecord, *, with_history: bool = False) -> InstanceView:
    """An instance with every task, timer and message it has had (and its events, if asked)."""
    view = _header(row)
    tasks = session.scalars(
        select(HumanTask)
        .options(selectinload(HumanTask.teams))
        .where(HumanTask.instance_id == row.id)
        .order_by(HumanTask.created_at)
    )
    view.tasks = [_task_dict(t) for t in tasks]
    timers = session.scalars(select(Timer).where(Timer.instance_id == row.id).order_by(Timer.id))
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
    waits = session.scalars(
        select(MessageWait).where(MessageWait.instance_id == row.id).order_by(MessageWait.id)
    )
    view.messages = [
        {"task_id": m.task_spec_id, "message": m.message_name, "correlation": m.correlation, "state": m.state}
        for m in waits
    ]
    if with_history:
        events = session.scalars(
            select(WorkflowEvent).where(WorkflowEvent.instance_id == row.id).order_by(WorkflowEvent.id)
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
