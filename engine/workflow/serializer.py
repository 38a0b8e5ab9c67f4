"""Serialising workflows with the spec stored once per process version, not in every instance.

SpiffWorkflow embeds the whole process spec in each serialised workflow (about 60 % of its size). Here
an instance's JSON holds only its tasks and data; the spec comes from the deployed version, restored
once and cached in memory (specs are never mutated by running workflows).

Each task is stored as SpiffWorkflow stores it, less what :func:`expand` puts back when loading: its
id (already the key it is stored under), its type name, and the fields that hold their defaults (not
triggered, no internal data, no data of its own, data unchanged from its parent's). Most tasks are
in that case, and leaving it out makes the stored state a third smaller (4.7 KB to 3.0 KB on the
engine benchmark's process), so it fits in one page of the database. States stored in full (before
this) load as they are: :func:`expand` only adds what is missing.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from .. import jsontext
from .timers import ENGINE_TIMER_CLASSES, use_engine_clock

SpecPair = tuple[Any, dict[str, Any]]


def _workflow_dict(converter: Any, workflow: Any) -> dict[str, Any]:
    """SpiffWorkflow's ``WorkflowConverter.to_dict``, with the tasks converted without the registry walk."""
    registry = converter.registry
    task_converter: LeanTaskConverter = registry.lean_task_converter
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": _text(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": task_converter.tasks_dict(workflow.tasks),
        "root": _text(workflow.task_tree.id),
    }


_TEXTS: dict[int, str] = {}  # task ids as text: a task is saved at every step, its id never changes


def _text(task_id: Any) -> str:
    number = task_id.int  # the UUID's value: hashed in C, where a UUID's own __hash__ is Python
    text = _TEXTS.get(number)
    if text is None:
        if len(_TEXTS) >= 200_000:
            _TEXTS.clear()
        text = _TEXTS[number] = str(task_id)
    return text


class SpecByReferenceConverter(BpmnWorkflowConverter):
    """Leaves the spec out when saving; takes it from the caller when restoring."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a workflow stored by reference needs its spec to be restored")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid(), workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid()(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class LeanSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess's tasks, converted as the top workflow's are."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


class LeanTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, minus the generic registry walk where it changes nothing.

    The stored form is exactly SpiffWorkflow's (data as a delta from the parent's); only the work is
    less: empty ``internal_data`` (most tasks) skips the registry, and the delta is computed once.
    """

    def __init__(self, target_class: Any, registry: Any, typename: str | None = None) -> None:
        super().__init__(target_class, registry, typename)
        registry.lean_task_converter = self  # for the workflow converters' direct calls

    def tasks_dict(self, tasks: dict[Any, Any]) -> dict[str, dict[str, Any]]:
        """A workflow's tasks in their stored (compact) form, in one loop; see :func:`expand`."""
        convert = self.registry.convert
        return {_text(task_id): _compact_task_dict(task, tasks, convert) for task_id, task in tasks.items()}

    def to_dict(self, task: Any) -> dict[str, Any]:
        """One task in full, as SpiffWorkflow's converter makes it (the registry adds the typename)."""
        dct = _compact_task_dict(task, task.workflow.tasks, self.registry.convert)
        _expand_task(_text(task.id), dct, self.typename)
        dct.pop("typename")
        return dct


def _compact_task_dict(task: Any, tasks: dict[Any, Any], convert: Any) -> dict[str, Any]:
    """SpiffWorkflow's ``TaskConverter.to_dict`` for ``task``, less its id, typename and defaults."""
    parent_id = task._parent
    parent = tasks.get(parent_id) if parent_id is not None else None
    dct: dict[str, Any] = {
        "parent": _text(parent_id) if parent is not None else None,
        "children": [_text(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
    }
    if task.triggered:
        dct["triggered"] = True
    internal = task.internal_data
    if internal:
        dct["internal_data"] = convert(internal)
    if parent is None:
        if task.data:
            dct["data"] = task.data
        return dct
    before, after = parent.data, task.data
    if not after:  # a task not reached yet holds no data: everything is deleted
        if before:
            dct["delta"] = {"updates": {}, "deletions": list(before)}
    elif after != before:  # (most tasks hold the data they inherited, unchanged: no delta)
        dct["delta"] = {
            "updates": {k: v for k, v in after.items() if k not in before or before[k] != v},
            "deletions": [k for k in before if k not in after],
        }
    return dct


def expand(dct: dict[str, Any], typename: str = "Task") -> dict[str, Any]:
    """Put back in a stored workflow (and its subprocesses) what the compact form leaves out."""
    for key, task in dct.get("tasks", {}).items():
        _expand_task(key, task, typename)
    for subprocess in dct.get("subprocesses", {}).values():
        expand(subprocess, typename)
    return dct


def _expand_task(key: str, task: dict[str, Any], typename: str) -> None:
    task.setdefault("id", key)
    task.setdefault("triggered", False)
    task.setdefault("internal_data", {})
    task.setdefault("data", {})
    if "delta" not in task:
        task["delta"] = {} if task["parent"] is None else {"updates": {}, "deletions": []}
    task.setdefault("typename", typename)


def _uuid() -> type:
    from uuid import UUID

    return UUID


def _build_registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecByReferenceConverter
    config[Task] = LeanTaskConverter
    config[BpmnSubWorkflow] = LeanSubWorkflowConverter
    for timer_class in ENGINE_TIMER_CLASSES:
        config[timer_class] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer.configure(config)


class WorkflowSerializer:
    """Dump/load workflows and specs; restored specs are cached by process-version id."""

    def __init__(self, cache_size: int = 256) -> None:
        self._serializer = BpmnWorkflowSerializer(_build_registry())
        self._registry = self._serializer.registry
        self._cache: OrderedDict[int, SpecPair] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # --- specs -----------------------------------------------------------------------------------
    def spec_to_dict(self, spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
        return {
            "spec": self._registry.convert(spec),
            "subprocess_specs": {name: self._registry.convert(s) for name, s in subprocess_specs.items()},
        }

    def cached_spec(self, version_id: int) -> SpecPair | None:
        with self._lock:
            cached = self._cache.get(version_id)
            if cached is not None:
                self._cache.move_to_end(version_id)
            return cached

    def spec_from_dict(self, version_id: int, dct: dict[str, Any]) -> SpecPair:
        with self._lock:
            cached = self._cache.get(version_id)
            if cached is not None:
                self._cache.move_to_end(version_id)
                return cached
        spec = self._registry.restore(json.loads(json.dumps(dct["spec"])))
        subs = {
            n: self._registry.restore(json.loads(json.dumps(s))) for n, s in dct["subprocess_specs"].items()
        }
        use_engine_clock(spec, *subs.values())
        with self._lock:
            self._cache[version_id] = (spec, subs)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return spec, subs

    # --- workflows -------------------------------------------------------------------------------
    def dumps(self, workflow: BpmnWorkflow) -> str:
        dct = self._registry.convert(workflow)
        dct[BpmnWorkflowSerializer.VERSION_KEY] = self._serializer.VERSION
        return jsontext.dumps(dct)

    def loads(self, text: str, spec_pair: SpecPair) -> BpmnWorkflow:
        dct = expand(jsontext.loads(text), self._registry.lean_task_converter.typename)
        dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        spec, subs = spec_pair
        return self._registry.restore(dct, spec=spec, subprocess_specs=subs)
