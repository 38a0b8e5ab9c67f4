"""Engine benchmark: persisted vs in-memory throughput, state size, and the team task list at scale.

    python bench/engine.py                      # defaults: 5 rounds of 300 instances, 100,000 open instances
    python bench/engine.py --instances 2000 --open-instances 100000 --postgres postgresql+psycopg://...

Prints figures; asserts nothing. The shape is the one in design.md: start -> script -> gateway ->
user task with a boundary timer -> user task -> end, each step persisted in its own transaction.

Throughput is measured in rounds that alternate in-memory and persisted runs of the same number of
instances, and the ratio is of the medians: the machine's speed drifts by 10-20 % over a minute (a
shared virtual machine), and a ratio of two figures taken a minute apart measured the drift too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import load_settings
from engine.context import Context, create_context
from engine.db import Database
from engine.migrate import upgrade
from engine.models.workflow import HumanTask, HumanTaskTeam, ProcessInstance
from engine.services import instances, processes, tasks
from engine.workflow.library import load_bpmn
from engine.workflow.sandbox import SandboxScriptEngine

SHAPE = Path(__file__).with_name("engine_shape.bpmn")
DATA = {"sessions_missed": 7}


def raw_throughput(n: int) -> float:
    """SpiffWorkflow alone, in memory, with the same sandboxed script engine: instances per second."""
    bundle = load_bpmn([(SHAPE.name, SHAPE.read_bytes())])
    spec, subs = bundle.specs("bench_shape")
    engine = SandboxScriptEngine()
    started = time.perf_counter()
    for _ in range(n):
        workflow = BpmnWorkflow(spec, subs, script_engine=engine)
        workflow.get_next_task(state=TaskState.READY).set_data(**DATA)
        workflow.do_engine_steps()
        for _step in range(2):
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.set_data(done=True)
            task.run()
            workflow.refresh_timers()
            workflow.do_engine_steps()
        assert workflow.is_completed()
    return n / (time.perf_counter() - started)


def embedded_size() -> int:
    """Bytes of one workflow serialised the SpiffWorkflow way (spec embedded), for comparison."""
    bundle = load_bpmn([(SHAPE.name, SHAPE.read_bytes())])
    spec, subs = bundle.specs("bench_shape")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxScriptEngine())
    workflow.get_next_task(state=TaskState.READY).set_data(**DATA)
    workflow.do_engine_steps()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    return len(serializer.serialize_json(workflow))


def make_context(url: str) -> Context:
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    ctx = create_context(load_settings(database_url=url), database=db)
    processes.deploy_sources(ctx, [(SHAPE.name, SHAPE.read_bytes())], actor="bench")
    return ctx


def persisted_throughput(ctx: Context, n: int) -> tuple[float, float]:
    """Start and complete n instances through the services; returns (instances/s, mean state bytes)."""
    started = time.perf_counter()
    for _ in range(n):
        view = instances.start_instance(ctx, "bench_shape", data=DATA, business_key="B801200005001", actor="bench")
        task_id = view.tasks[0]["id"]
        following = tasks.complete_task(ctx, task_id, {"done": True}, actor="bench")["next_tasks"][0]
        tasks.complete_task(ctx, following, {"done": True}, actor="bench")
    elapsed = time.perf_counter() - started
    with ctx.db.transaction() as session:
        sizes = [len(s) for s in session.scalars(text("SELECT state_json FROM process_instance LIMIT 50"))]
    return n / elapsed, statistics.mean(sizes)


def populate_open_instances(ctx: Context, count: int, teams: list[str]) -> None:
    """Bulk-insert ``count`` open instances (a real serialised state, cloned) with one task each."""
    view = instances.start_instance(ctx, "bench_shape", data=DATA, business_key="TEMPLATE")
    with ctx.db.transaction() as session:
        template = session.get(ProcessInstance, view.id)
        version_id, state_json = template.process_version_id, template.state_json
    base = datetime(2026, 1, 5, 9, tzinfo=UTC)
    batch = 10_000
    for offset in range(0, count, batch):
        rows, task_rows, team_rows = [], [], []
        for i in range(offset, min(count, offset + batch)):
            instance_id = 1_000_000 + i
            rows.append({"id": instance_id, "process_version_id": version_id, "process_id": "bench_shape",
                         "business_key": f"B80120000{i:05d}", "state": "user_input_required", "suspended": False,
                         "state_json": state_json, "lock_version": 1, "started_at": base, "updated_at": base})
            guid = str(uuid.UUID(int=i + 1))
            task_rows.append({"id": guid, "instance_id": instance_id, "process_id": "bench_shape",
                              "business_key": f"B80120000{i:05d}", "task_spec_id": "review", "name": "Review",
                              "lane": teams[i % len(teams)], "state": "ready", "created_at": base,
                              "due_at": base + timedelta(minutes=i % 50_000)})
            team_rows.append({"task_id": guid, "team": teams[i % len(teams)], "state": "ready",
                              "due_at": task_rows[-1]["due_at"], "process_id": "bench_shape"})
        with ctx.db.transaction() as session:
            session.execute(insert(ProcessInstance), rows)
            session.execute(insert(HumanTask), task_rows)
            session.execute(insert(HumanTaskTeam), team_rows)
    if ctx.db.is_postgres:
        with ctx.db.engine.begin() as c:
            c.execute(text("ANALYZE"))


def task_list_latency(ctx: Context, teams: list[str], runs: int) -> tuple[float, float]:
    timings = []
    for i in range(runs):
        query = tasks.TaskQuery(team=teams[i % len(teams)], limit=50, offset=(i % 5) * 50)
        started = time.perf_counter()
        tasks.list_tasks(ctx, query)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def compare(ctx: Context, n: int, rounds: int) -> tuple[float, float, float]:
    """Alternate in-memory and persisted runs; returns the medians (instances/s) and the state size."""
    persisted_throughput(ctx, min(n, 50))  # warm up: caches, the first pages of each table
    memory, persisted, sizes = [], [], []
    for _ in range(rounds):
        memory.append(raw_throughput(n))
        throughput, size = persisted_throughput(ctx, n)
        persisted.append(throughput)
        sizes.append(size)
    return statistics.median(memory), statistics.median(persisted), statistics.mean(sizes)


def run(label: str, url: str, args: argparse.Namespace) -> None:
    ctx = make_context(url)
    raw, throughput, state_bytes = compare(ctx, args.instances, args.rounds)
    print(f"{label}: in-memory {raw:8.1f} instances/s  persisted {throughput:8.1f} instances/s  "
          f"ratio {throughput / raw:6.1%}  (median of {args.rounds} alternating rounds of {args.instances}; "
          "3 transactions per instance)")
    print(f"{label}: serialised state {state_bytes:,.0f} bytes/instance (spec by reference)")
    teams = [f"team{i}" for i in range(args.teams)]
    started = time.perf_counter()
    populate_open_instances(ctx, args.open_instances, teams)
    print(f"{label}: populated {args.open_instances:,} open instances in {time.perf_counter() - started:.1f} s")
    p50, p95 = task_list_latency(ctx, teams, args.list_runs)
    print(f"{label}: task list for one team (50 rows, {args.open_instances:,} open): p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    ctx.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=300, help="instances per round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating throughput rounds (default 5)")
    parser.add_argument("--open-instances", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--list-runs", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    raw_throughput(50)  # warm up imports and caches
    print(f"embedded-spec serialisation (SpiffWorkflow default): {embedded_size():,} bytes/instance")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite    ", f"sqlite:///{tmp}/bench.sqlite", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
