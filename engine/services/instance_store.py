"""Saving a workflow and its projections together, and the append-only event log.

Used by every service that changes an instance: the serialised state, ``human_task``, ``timer`` and
``message_wait`` rows and the events are written in the caller's transaction, so they never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import EduCaseError, NotFound
from ..models.workflow import (
    HumanTask,
    HumanTaskTeam,
    InstanceState,
    MessageWait,
    ProcessInstance,
    TaskState,
    Timer,
    WorkflowEvent,
)
from ..workflow.projections import Snapshot, take_snapshot
from ..workflow.runner import find_task

if TYPE_CHECKING:
    from ..context import Context


def get_instance(session: Session, instance_id: int, *, for_update: bool = False) -> ProcessInstance:
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if for_update:
        query = query.with_for_update(of=ProcessInstance)
    instance = session.scalar(query)
    if instance is None:
        raise NotFound(f"There is no process instance {instance_id}.")
    return instance


def open_workflow(ctx: Context, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    ctx.calendars.refresh(session)
    spec_pair = ctx.serializer.spec_from_dict(instance.process_version_id, instance.version.spec)
    return ctx.runner.load(instance.state_json, spec_pair)


def save(
    ctx: Context,
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    error: EduCaseError | None = None,
) -> Snapshot:
    """Write the workflow and bring every projection row in line with it."""
    now = clock.now()
    snapshot = take_snapshot(workflow, instance.version.task_meta)  # before dumps: it may set due dates
    instance.state_json = ctx.runner.dumps(workflow)
    instance.state = snapshot.state
    instance.updated_at = now
    instance.error = _error_info(error, snapshot) if snapshot.state == InstanceState.ERROR else None
    if snapshot.state in InstanceState.FINISHED and instance.ended_at is None:
        instance.ended_at = now
    if instance.id is None:
        session.add(instance)
        session.flush()
    _sync_tasks(session, instance, workflow, snapshot, now)
    _sync_timers(session, instance, workflow, snapshot, now)
    _sync_messages(session, instance, workflow, snapshot, now)
    session.flush()  # surfaces optimistic-lock conflicts here, inside the service
    return snapshot


def record(
    session: Session,
    kind: str,
    *,
    instance_id: int | None,
    actor: str | None,
    task: HumanTask | None = None,
    data: dict[str, Any] | None = None,
    form_version_id: int | None = None,
    at: datetime | None = None,
) -> WorkflowEvent:
    event = WorkflowEvent(
        instance_id=instance_id,
        at=at or clock.now(),
        actor=actor,
        kind=kind,
        task_guid=task.id if task else None,
        task_spec_id=task.task_spec_id if task else None,
        task_name=task.name if task else None,
        data=data,
        form_version_id=form_version_id,
    )
    session.add(event)
    return event


def _error_info(error: EduCaseError | None, snapshot: Snapshot) -> dict[str, Any]:
    info: dict[str, Any] = {"message": error.message if error else "A task is in error."}
    if error is not None:
        info.update({k: v for k, v in error.details.items() if v is not None})
        info["code"] = error.code
    if snapshot.error_task is not None:
        info.setdefault("task_guid", str(snapshot.error_task.id))
        info.setdefault("task_id", snapshot.error_task.task_spec.bpmn_id)
        info.setdefault("task_name", snapshot.error_task.task_spec.bpmn_name)
    info["task_guid"] = str(snapshot.error_task.id) if snapshot.error_task is not None else None
    return info


def _finished_state(workflow: BpmnWorkflow, guid: str) -> str:
    task = find_task(workflow, guid)
    return "done" if task is not None and task.has_state(SpiffState.COMPLETED) else "cancelled"


def _sync_tasks(
    session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, snap: Snapshot, now: datetime
) -> None:
    open_rows = {
        row.id: row
        for row in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
        )
    }
    for ready in snap.ready_tasks:
        row = open_rows.pop(ready.guid, None)
        if row is None:
            row = HumanTask(
                id=ready.guid,
                instance_id=instance.id,
                process_id=ready.process_id,
                business_key=instance.business_key,
                task_spec_id=ready.task_spec_id,
                name=ready.name,
                lane=ready.lane,
                form_ref=ready.form_ref,
                ui_form_ref=ready.ui_form_ref,
                state=TaskState.READY,
                created_at=now,
                teams=[HumanTaskTeam(team=t) for t in dict.fromkeys(ready.teams)],
            )
            session.add(row)
        row.due_at = ready.due_at
    for row in open_rows.values():
        if _finished_state(workflow, row.id) == "done":
            row.state = TaskState.COMPLETED
        else:
            row.state = TaskState.CANCELLED
        row.completed_at = row.completed_at or now


def _sync_timers(
    session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, snap: Snapshot, now: datetime
) -> None:
    waiting = {
        (row.task_guid, row.due_at): row
        for row in session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.state == "waiting")
        )
    }
    for timer in snap.timers:
        if waiting.pop((timer.guid, timer.due_at), None) is None:
            session.add(
                Timer(
                    instance_id=instance.id,
                    task_guid=timer.guid,
                    task_spec_id=timer.task_spec_id,
                    name=timer.name,
                    kind=timer.kind,
                    due_at=timer.due_at,
                    state="waiting",
                    created_at=now,
                )
            )
    still_waiting = {t.guid for t in snap.timers}
    for (guid, _due), row in waiting.items():
        # A cycle timer keeps its task but moves its due time: the old occurrence fired.
        fired = guid in still_waiting or _finished_state(workflow, guid) == "done"
        row.state = "fired" if fired else "cancelled"
        row.fired_at = now if fired else None


def _sync_messages(
    session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, snap: Snapshot, now: datetime
) -> None:
    waiting = {
        (row.task_guid, row.message_name): row
        for row in session.scalars(
            select(MessageWait).where(MessageWait.instance_id == instance.id, MessageWait.state == "waiting")
        )
    }
    for message in snap.messages:
        row = waiting.pop((message.guid, message.message_name), None)
        if row is None:
            session.add(
                MessageWait(
                    instance_id=instance.id,
                    task_guid=message.guid,
                    task_spec_id=message.task_spec_id,
                    message_name=message.message_name,
                    business_key=instance.business_key,
                    correlation=message.correlation,
                    state="waiting",
                    created_at=now,
                )
            )
        elif row.correlation != message.correlation:
            row.correlation = message.correlation
    for (guid, _name), row in waiting.items():
        received = _finished_state(workflow, guid) == "done"
        row.state = "received" if received else "cancelled"
        row.received_at = now if received else None
