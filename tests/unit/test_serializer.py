"""The stored workflow is SpiffWorkflow's own serialisation minus the spec, and restores to the same state.

``WorkflowSerializer.dumps`` builds the dict without SpiffWorkflow's registry walk, leaves out of each
task what ``expand`` puts back (its id, typename and default fields), and encodes it with orjson;
these tests hold the expanded form to SpiffWorkflow's serializer, field for field, at several points
of a run (a boundary timer waiting, data changed and deleted by scripts, a call activity's
subprocess), and load states stored in full, as they were before the compact form.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.workflow.library import load_bpmn
from engine.workflow.sandbox import SandboxScriptEngine
from engine.workflow.serializer import WorkflowSerializer, expand

ROOT = Path(__file__).resolve().parents[2]
SHAPE = ROOT / "bench" / "engine_shape.bpmn"
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"


def spiff_dict(workflow: BpmnWorkflow) -> dict:
    """SpiffWorkflow's own serialisation, without the spec parts we store once per version."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    dct = json.loads(serializer.serialize_json(workflow))
    for key in ("spec", "subprocess_specs", BpmnWorkflowSerializer.VERSION_KEY):
        dct.pop(key, None)
    return dct


def ours(serializer: WorkflowSerializer, workflow: BpmnWorkflow) -> dict:
    """What we store, expanded as loading expands it."""
    dct = expand(json.loads(serializer.dumps(workflow)))
    dct.pop(BpmnWorkflowSerializer.VERSION_KEY)
    return dct


def workflow_of(paths: list[Path], process_id: str) -> tuple[BpmnWorkflow, tuple]:
    bundle = load_bpmn([(p.name, p.read_bytes()) for p in paths])
    spec, subs = bundle.specs(process_id)
    return BpmnWorkflow(spec, subs, script_engine=SandboxScriptEngine()), (spec, subs)


def complete_next(workflow: BpmnWorkflow, **data: object) -> None:
    task = workflow.get_next_task(state=TaskState.READY, manual=True)
    task.set_data(**data)
    task.run()
    workflow.refresh_timers()
    workflow.do_engine_steps()


def test_the_bench_shape_is_stored_as_spiffworkflow_stores_it_at_every_step():
    serializer = WorkflowSerializer()
    workflow, _ = workflow_of([SHAPE], "bench_shape")
    workflow.get_next_task(state=TaskState.READY).set_data(sessions_missed=7, dropped="soon")
    workflow.do_engine_steps()
    assert ours(serializer, workflow) == spiff_dict(workflow)  # the boundary timer is waiting
    complete_next(workflow, done=True, notes=["a", "b"])
    assert ours(serializer, workflow) == spiff_dict(workflow)
    complete_next(workflow, done=False)
    assert workflow.is_completed()
    assert ours(serializer, workflow) == spiff_dict(workflow)


def test_a_call_activity_subprocess_is_stored_as_spiffworkflow_stores_it():
    serializer = WorkflowSerializer()
    workflow, _ = workflow_of([FIXTURES / "call_parent.bpmn", FIXTURES / "call_child.bpmn"], "call_parent")
    workflow.do_engine_steps()
    assert workflow.subprocesses, "the call activity should have started its subprocess"
    assert ours(serializer, workflow) == spiff_dict(workflow)


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_a_stored_workflow_restores_to_the_same_state(steps):
    serializer = WorkflowSerializer()
    workflow, spec_pair = workflow_of([SHAPE], "bench_shape")
    workflow.get_next_task(state=TaskState.READY).set_data(sessions_missed=7)
    workflow.do_engine_steps()
    for step in range(steps):
        complete_next(workflow, done=True, step=step)
    text = serializer.dumps(workflow)
    restored = serializer.loads(text, spec_pair)
    assert serializer.dumps(restored) == text
    assert {str(t.id): t.state for t in restored.get_tasks()} == {
        str(t.id): t.state for t in workflow.get_tasks()
    }
    assert restored.last_task.data == workflow.last_task.data


def test_what_orjson_refuses_is_written_by_json():
    serializer = WorkflowSerializer()
    workflow, spec_pair = workflow_of([SHAPE], "bench_shape")
    workflow.get_next_task(state=TaskState.READY).set_data(sessions_missed=7, big=2**70)
    workflow.do_engine_steps()
    text = serializer.dumps(workflow)
    assert str(2**70) in text
    assert serializer.loads(text, spec_pair).last_task.data["big"] == 2**70


def test_each_task_is_stored_without_what_loading_puts_back():
    serializer = WorkflowSerializer()
    workflow, _ = workflow_of([SHAPE], "bench_shape")
    workflow.get_next_task(state=TaskState.READY).set_data(sessions_missed=7)
    workflow.do_engine_steps()
    stored = json.loads(serializer.dumps(workflow))
    full = spiff_dict(workflow)
    assert stored["tasks"].keys() == full["tasks"].keys()
    for key, task in stored["tasks"].items():
        assert "id" not in task and "typename" not in task  # the key is the id; every task is a Task
        assert task.get("triggered", True) is True  # written only when it is
        assert task.get("internal_data") != {} and task.get("data") != {}  # absent when empty
        assert {k: v for k, v in full["tasks"][key].items() if k in task} == task  # the rest as it was
    with_delta = [t for t in stored["tasks"].values() if "delta" in t]
    assert with_delta and all(t["delta"] != {"updates": {}, "deletions": []} for t in with_delta)
    assert "internal_data" in stored["tasks"][next(k for k, t in full["tasks"].items() if t["internal_data"])]
    assert len(serializer.dumps(workflow)) < 0.75 * len(json.dumps(full, separators=(",", ":")))


def test_a_state_stored_in_full_before_the_compact_form_still_loads():
    serializer = WorkflowSerializer()
    workflow, spec_pair = workflow_of([SHAPE], "bench_shape")
    workflow.get_next_task(state=TaskState.READY).set_data(sessions_missed=7)
    workflow.do_engine_steps()
    complete_next(workflow, done=True)
    full = {**spiff_dict(workflow), BpmnWorkflowSerializer.VERSION_KEY: "1.5"}
    restored = serializer.loads(json.dumps(full), spec_pair)
    assert serializer.dumps(restored) == serializer.dumps(workflow)
    assert restored.last_task.data == workflow.last_task.data
    complete_next(restored, done=False)  # and it runs on
    assert restored.is_completed()
