"""What a workflow looks like from outside: its state, ready human tasks, waiting timers and messages.

Computed from a live SpiffWorkflow object after every step and written to the projection tables in the
same transaction as the serialised state, so readers never need to open a workflow blob.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from ..models.workflow import InstanceState
from .deadlines import deadline_instant
from .timers import ENGINE_TIMER_CLASSES, timer_due_at

log = logging.getLogger(__name__)


def spec_id(task: Any) -> str:
    return f"{task.workflow.spec.name}/{task.task_spec.bpmn_id}"


@dataclass(frozen=True)
class ReadyTask:
    guid: str
    task_spec_id: str
    process_id: str
    name: str
    lane: str | None
    teams: tuple[str, ...]
    form_ref: str | None
    ui_form_ref: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class WaitingTimer:
    guid: str
    task_spec_id: str
    name: str | None
    kind: str
    due_at: datetime
    period_seconds: float | None = None  # a repeating timer's interval
    cycles_left: int | None = None  # a repeating timer's remaining occurrences (-1: for ever)


@dataclass(frozen=True)
class WaitingMessage:
    guid: str
    task_spec_id: str
    message_name: str
    correlation: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    state: str
    ready_tasks: list[ReadyTask]
    timers: list[WaitingTimer]
    messages: list[WaitingMessage]
    error_task: Any | None


def take_snapshot(workflow: BpmnWorkflow, task_meta: dict[str, Any]) -> Snapshot:
    """Read everything the projections need from ``workflow``. ``task_meta``: {process_id: {task_id: meta}}."""
    timers, messages = _waiting_events(workflow)
    ready_tasks, error_task = [], None
    for task in _all_tasks(workflow):  # one flat pass; tree iterators cost far more
        if task.state == TaskState.READY and task.task_spec.manual:
            ready_tasks.append(task)
        elif task.state == TaskState.ERROR and error_task is None:
            error_task = task
    ready = [_ready_task(t, task_meta, timers) for t in ready_tasks]
    if error_task is not None:
        state = InstanceState.ERROR
    elif ready:
        state = InstanceState.USER_INPUT_REQUIRED
    elif workflow.is_completed():
        state = InstanceState.COMPLETE
    else:
        state = InstanceState.WAITING
    return Snapshot(state, ready, timers, messages, error_task)


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    return tasks


def _waiting_events(workflow: BpmnWorkflow) -> tuple[list[WaitingTimer], list[WaitingMessage]]:
    timers: list[WaitingTimer] = []
    messages: list[WaitingMessage] = []
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        definition = task.task_spec.event_definition
        if _is_timer(definition):
            due = timer_due_at(task)
            if due is not None:
                timers.append(_timer(task, definition, due))
        for message in _message_definitions(definition):
            messages.append(
                WaitingMessage(
                    str(task.id), task.task_spec.bpmn_id, message.name, _correlation(task, message)
                )
            )
    return timers, messages + _event_subprocess_waits(workflow)


EVENT_SUBPROCESS_PREFIX = "event-subprocess:"


def _event_subprocess_waits(workflow: BpmnWorkflow) -> list[WaitingMessage]:
    """Message start events of the process's event subprocesses: a running instance always listens.

    They have no waiting task in SpiffWorkflow (the workflow starts the subprocess when it catches the
    message), so their wait is named ``event-subprocess:<subprocess>:<start event>``.
    """
    triggers = getattr(workflow.spec.start, "trigger_specs", [])
    if not triggers or workflow.is_completed():  # most processes have none: skip the task walk
        return []
    waits = []
    data = dict(workflow.last_task.data) if workflow.last_task is not None else dict(workflow.data)
    for name in triggers:
        spec = workflow.subprocess_specs.get(name)
        for start in getattr(spec, "bpmn_start_events", []):
            for message in _message_definitions(start.event_definition):
                environment = workflow.script_engine.environment
                values = {
                    p.name: environment.evaluate(p.retrieval_expression, dict(data))
                    for p in getattr(message, "process_correlations", [])
                }
                waits.append(
                    WaitingMessage(
                        f"{EVENT_SUBPROCESS_PREFIX}{name}:{start.bpmn_id}",
                        start.bpmn_id,
                        message.name,
                        values,
                    )
                )
    return waits


def event_subprocess_start(workflow: BpmnWorkflow, wait_guid: str, message_name: str) -> Any | None:
    """The message definition of the event-subprocess start named by ``wait_guid``."""
    name, _, start_id = wait_guid.removeprefix(EVENT_SUBPROCESS_PREFIX).partition(":")
    spec = workflow.subprocess_specs.get(name)
    for start in getattr(spec, "bpmn_start_events", []):
        if start.bpmn_id == start_id:
            for message in _message_definitions(start.event_definition):
                if message.name == message_name:
                    return message
    return None


def _is_timer(definition: Any) -> bool:
    inner = getattr(definition, "event_definitions", [definition])
    return any(isinstance(d, ENGINE_TIMER_CLASSES) for d in inner)


_TIMER_KINDS = {"EngineTimeDate": "date", "EngineDuration": "duration", "EngineCycle": "cycle"}


def _timer(task: Any, definition: Any, due: datetime) -> WaitingTimer:
    kind = _TIMER_KINDS.get(type(definition).__name__, "multiple")
    value = task._get_internal_data("event_value")
    cycle = value if kind == "cycle" and isinstance(value, dict) else {}
    return WaitingTimer(
        str(task.id),
        task.task_spec.bpmn_id,
        task.task_spec.bpmn_name,
        kind,
        due,
        cycle.get("duration"),
        cycle.get("cycles"),
    )


def _message_definitions(definition: Any) -> list[MessageEventDefinition]:
    inner = getattr(definition, "event_definitions", [definition])
    return [d for d in inner if isinstance(d, MessageEventDefinition)]


def _correlation(task: Any, message: MessageEventDefinition) -> dict[str, Any]:
    """The values this waiting task expects, from spiffworkflow:processVariableCorrelation expressions."""
    environment = task.workflow.script_engine.environment
    values: dict[str, Any] = {}
    for prop in getattr(message, "process_correlations", []):
        values[prop.name] = environment.evaluate(prop.retrieval_expression, dict(task.data))
    return values


def _ready_task(task: Any, task_meta: dict[str, Any], timers: list[WaitingTimer]) -> ReadyTask:
    spec = task.task_spec
    process_id, meta = _owner_and_meta(task_meta, task.workflow.spec.name, spec.bpmn_id)
    return ReadyTask(
        guid=str(task.id),
        task_spec_id=spec.bpmn_id,
        process_id=process_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=meta.get("lane") or spec.lane,
        teams=tuple(meta.get("teams") or ((spec.lane,) if spec.lane else ())),
        form_ref=meta.get("form_ref"),
        ui_form_ref=meta.get("ui_form_ref"),
        due_at=_due_at(task, meta, timers),
    )


def _owner_and_meta(
    task_meta: dict[str, Any], workflow_name: str, task_id: str
) -> tuple[str, dict[str, Any]]:
    """The process a task belongs to (its own, or a called one) and the details recorded for it.

    Tasks inside an embedded subprocess run in a workflow named after the subprocess, but belong to
    (and are recorded under) the process that contains them; element ids are unique per file.
    """
    if task_id in task_meta.get(workflow_name, {}):
        return workflow_name, task_meta[workflow_name][task_id]
    for owner, tasks in task_meta.items():
        if task_id in tasks:
            return owner, tasks[task_id]
    return workflow_name, {}


def _due_at(task: Any, meta: dict[str, Any], timers: list[WaitingTimer]) -> datetime | None:
    """A due date from the BPMN: a ``dueDate`` expression, else the earliest boundary timer."""
    expression = meta.get("due_expression")
    if expression:
        stored = task._get_internal_data("educase_due_at")
        if stored is None:
            try:
                stored = deadline_instant(task.workflow.script_engine.evaluate(task, expression)).isoformat()
            except Exception:  # a broken due date must not stop the case; the task shows no due date
                log.warning(
                    "due date %r of task %s could not be worked out", expression, spec_id(task), exc_info=True
                )
                return None
            task._set_internal_data(educase_due_at=stored)
        return datetime.fromisoformat(stored)
    boundary_ids = set(meta.get("boundary_timer_ids") or ())
    siblings = {str(s.id) for s in task.parent.children} if task.parent is not None else set()
    dues = [t.due_at for t in timers if t.task_spec_id in boundary_ids and t.guid in siblings]
    return min(dues) if dues else None
