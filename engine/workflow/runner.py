"""Driving SpiffWorkflow: create, restore, advance, complete, deliver events — with our rules applied.

This module knows SpiffWorkflow; it knows nothing of the database. Every error SpiffWorkflow raises is
turned into an :mod:`engine.errors` error that names the process, the task and the line (trap 11).
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from ..errors import EduCaseError, ScriptError, TaskNotReady, WorkflowError
from .serializer import SpecPair, WorkflowSerializer


class WorkflowRunner:
    """Creates and restores workflows with the sandboxed script engine attached."""

    def __init__(self, serializer: WorkflowSerializer, script_engine: Any) -> None:
        self.serializer = serializer
        self.script_engine = script_engine

    def create(self, spec_pair: SpecPair, data: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = spec_pair
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        workflow.data.update(copy.deepcopy(data))
        # Initial data goes to the start task so every later task inherits it.
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.set_data(**copy.deepcopy(data))
        return workflow

    def load(self, state_json: str, spec_pair: SpecPair) -> BpmnWorkflow:
        workflow = self.serializer.loads(state_json, spec_pair)
        workflow.script_engine = self.script_engine
        return workflow

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return self.serializer.dumps(workflow)


def advance(workflow: BpmnWorkflow) -> EduCaseError | None:
    """Fire due timers and run engine tasks until people or events are needed.

    A failing script leaves its task in ERROR (the instance goes to the error state) and the error is
    returned, not raised: the caller saves what happened so nothing already done is lost.
    """
    try:
        workflow.refresh_timers()  # trap 4: before do_engine_steps
        workflow.do_engine_steps()
    except (SpiffWorkflowException, EduCaseError) as exc:
        return translate(exc, workflow)
    return None


def find_task(workflow: BpmnWorkflow, guid: str) -> Any | None:
    try:
        return workflow.get_task_from_id(UUID(guid))
    except (TaskNotFoundException, ValueError):
        return None


def run_user_task(workflow: BpmnWorkflow, guid: str, data: dict[str, Any]) -> Any:
    """Complete a READY manual task of *this* workflow with ``data`` (trap 5: check before run)."""
    task = find_task(workflow, guid)
    if task is None:
        raise TaskNotReady(f"Task {guid} does not belong to this process instance.")
    if not task.task_spec.manual:
        raise TaskNotReady(
            f"'{task.task_spec.bpmn_name or task.task_spec.bpmn_id}' is not a task for people."
        )
    if task.state != TaskState.READY:
        raise TaskNotReady(
            f"'{task.task_spec.bpmn_name or task.task_spec.bpmn_id}' cannot be completed: it is "
            f"{TaskState.get_name(task.state).lower()}, not ready."
        )
    task.set_data(**copy.deepcopy(data))  # trap 6: never add_data_from_form
    task.run()
    return task


def deliver(workflow: BpmnWorkflow, task: Any | None, event_definition: Any, payload: Any) -> None:
    """Hand a message to the one waiting task it was matched to.

    Delivering through the workflow's event manager would reach *every* wait for a message of that
    name in the instance (two penalty notices would both be paid). ``task`` None means the message
    starts an event subprocess of ``workflow``, which only the workflow can do.
    """
    event = BpmnEvent(event_definition, payload=payload, correlations=copy.deepcopy(workflow.correlations))
    if task is None:
        workflow.send_event(event)
        return
    task.task_spec.catch(task, event)
    task.task_spec._update(task)


def deliver_to_start_event(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Give a new workflow the message its start event waits for.

    Without a ``messageVariable`` on the message the payload's fields become task data.
    """
    for task in list(workflow.event_manager.tasks.values()):
        for definition in getattr(
            task.task_spec.event_definition, "event_definitions", [task.task_spec.event_definition]
        ):
            if getattr(definition, "name", None) == name and isinstance(definition, MessageEventDefinition):
                if getattr(definition, "message_var", None) is None:
                    task.set_data(**copy.deepcopy(payload))
                deliver(workflow, task, definition, payload)
                return
    raise WorkflowError(f"The process '{workflow.spec.name}' does not start with message '{name}'.")


def retry_task(workflow: BpmnWorkflow, guid: str, data_changes: dict[str, Any]) -> None:
    """Put a task in ERROR back to READY, with its inherited data plus ``data_changes``."""
    task = find_task(workflow, guid)
    if task is None or task.state != TaskState.ERROR:
        raise TaskNotReady("Only a task in error can be retried.")
    task.reset_branch(None)  # back to READY; it re-inherits its parent's data
    task.set_data(**copy.deepcopy(data_changes))  # after the reset, or inheritance would undo it


def translate(exc: BaseException, workflow: BpmnWorkflow | None = None) -> EduCaseError:
    """Turn a SpiffWorkflow exception into one of ours, naming process, task and line."""
    if isinstance(exc, EduCaseError):
        return exc
    task = getattr(exc, "task", None)
    process_id = workflow.spec.name if workflow is not None else None
    task_id = task.task_spec.bpmn_id if task is not None else getattr(exc, "task_id", None)
    task_name = task.task_spec.bpmn_name if task is not None else getattr(exc, "task_name", None)
    cause = getattr(exc, "exception", None) or exc.__cause__
    if isinstance(cause, ScriptError):
        return type(cause)(
            cause.message,
            process_id=process_id,
            task_id=task_id,
            task_name=task_name,
            line=getattr(exc, "line_number", None) or cause.details.get("line"),
        )
    if isinstance(exc, WorkflowTaskException):
        return ScriptError(
            _plain_message(exc),
            process_id=process_id,
            task_id=task_id,
            task_name=task_name,
            line=getattr(exc, "line_number", None) or None,
        )
    where = f" at '{task_name or task_id}'" if (task_name or task_id) else ""
    return WorkflowError(
        f"The process '{process_id}' cannot go on{where}: {_plain_message(exc)}",
        process_id=process_id,
        task_id=task_id,
        task_name=task_name,
    )


def _plain_message(exc: BaseException) -> str:
    text = str(getattr(exc, "error_line", "") and exc) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
