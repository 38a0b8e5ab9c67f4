"""Scenario runner: prove a process behaves, step by step, on a fresh in-memory database.

A scenario (YAML or JSON) names a process, an optional school calendar, how the instance starts, and
steps. Each step acts or checks; the run stops at the first unmet expectation and says which step
failed and why::

    process: attendance_legal_route
    calendar: {terms: [{start: 2025-09-03, end: 2026-07-22}], closures: [2026-02-16]}
    start: {at: "2026-03-02T09:00:00Z", key: "B801200005001", data: {...}}
    steps:
      - complete: {task: <task id in the BPMN>, data: {...}, at: "...", as: ewo}
      - complete: {task: issue_notice, data: {...}, expect_error: "third penalty notice"}
      - advance_to: "2026-03-30T09:00:00Z"      # fires every timer due by then
      - message: {name: penalty_paid, correlation: {...}, payload: {...}}
      - expect_task: {task: <task id>, due: 2026-03-23, team: attendance}
      - expect_no_task: {task: <task id>}
      - expect_timer: {task: <timer event id>, due: "2026-03-24T00:00:00Z"}
      - expect_data: {path: penalty.amount, equals: 160}
      - expect_data: {path: plan.review_date, equals: 2026-04-20, task: review_plan}   # that task's data
      - expect_state: complete                   # or waiting / user_input_required / error
      - start_process: {process: panel_meeting, name: meeting, key: "IYFAP-2026-03", data: {...}}
      - complete: {task: record_decisions, instance: meeting, data: {...}}     # steps act on "main"
      - expect_state: {state: complete, instance: meeting}                     # unless they name one

Times without an offset are UTC. The clock stays where the last step put it; ``at`` on a step moves
it forward first (and fires timers due on the way, as a running scheduler would).
Without ``calendar`` the LA example term dates shipped with EduCase are used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from . import clock
from .config import load_settings
from .context import Context, create_context
from .db import Database
from .errors import EduCaseError
from .models.calendar import LA_CALENDAR, CalendarRecord
from .models.workflow import HumanTask, TaskState, Timer
from .services import instance_store, instances, messages, processes, tasks, timers
from .workflow.deadlines import due_date
from .workflow.runner import find_task

DEFAULT_CALENDAR = Path(__file__).parent / "data" / "term-dates-example-2025-26.json"


class ScenarioFailed(Exception):
    """An expectation was not met (or a step could not run)."""


@dataclass
class ScenarioResult:
    file: str
    process: str
    steps_run: int = 0
    log: list[str] = field(default_factory=list)
    instances: dict[str, int] = field(default_factory=dict)


def load_scenario(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ScenarioFailed(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {error}")
    if not isinstance(data, dict) or "process" not in data or "steps" not in data:
        raise ScenarioFailed(f"{path}: a scenario needs 'process' and 'steps'")
    return data


def run_scenario(
    path: Path,
    *,
    process_library: Path | None = None,
    form_library: Path | None = None,
    echo: Callable[[str], None] | None = None,
    ctx: Context | None = None,
) -> ScenarioResult:
    """Run one scenario file on a fresh in-memory database (or on ``ctx``, whose database must have
    the process library deployed and no calendar yet). Raises ScenarioFailed on the first miss."""
    scenario = load_scenario(path)
    result = ScenarioResult(str(path), scenario["process"])
    own = ctx is None
    ctx = ctx or fresh_context(process_library, form_library)
    try:
        runner = _Runner(ctx, scenario, result, echo or (lambda _line: None))
        try:
            runner.start()
        except EduCaseError as error:
            raise ScenarioFailed(f"the instance could not start: {error.message}") from None
        for number, step in enumerate(scenario["steps"] or [], start=1):
            runner.step(number, step)
            result.steps_run = number
        result.instances = dict(runner.instances)
    finally:
        if own:
            ctx.db.dispose()
    return result


def fresh_context(process_library: Path | None, form_library: Path | None) -> Context:
    db = Database("sqlite://")
    db.create_all()
    settings = load_settings(
        database_url="sqlite://",
        process_library_path=process_library,
        form_library_path=form_library,
        live_workflow_cache_size=0,
    )
    ctx = create_context(settings, database=db)
    processes.deploy_sources(ctx, processes.read_sources([ctx.process_library_path]), actor="scenario")
    return ctx


class _Runner:
    def __init__(
        self, ctx: Context, scenario: dict[str, Any], result: ScenarioResult, echo: Callable[[str], None]
    ) -> None:
        self.ctx, self.scenario, self.result, self.echo = ctx, scenario, result, echo
        self.instances: dict[str, int] = {}
        self.now = datetime(2026, 1, 5, 9, tzinfo=UTC)

    # --- set-up -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._load_calendar(self.scenario.get("calendar"))
        start = self.scenario.get("start") or {}
        self.now = _instant(start.get("at", self.now))
        self._start("main", self.scenario["process"], start)

    def _start(self, name: str, process: str, start: dict[str, Any]) -> None:
        with clock.frozen_at(self.now):
            view = instances.start_instance(
                self.ctx,
                process,
                data=start.get("data") or {},
                business_key=start.get("key"),
                actor=start.get("as", "scenario"),
            )
        self.instances[name] = view.id
        self._say(
            f"started {process} as instance {view.id} ({name}) at {self.now:%Y-%m-%d %H:%M}: {view.state}"
        )

    def _iid(self, args: Any) -> int:
        name = args.get("instance", "main") if isinstance(args, dict) else "main"
        if name not in self.instances:
            raise ScenarioFailed(f"no instance named '{name}' (started: {', '.join(self.instances)})")
        return self.instances[name]

    def _load_calendar(self, calendar: dict[str, Any] | None) -> None:
        from .calendar import SchoolCalendar

        data = (
            SchoolCalendar.from_dict(calendar).to_dict()
            if calendar
            else (SchoolCalendar.from_json_file(DEFAULT_CALENDAR).to_dict())
        )
        with self.ctx.db.transaction() as session:
            session.add(
                CalendarRecord(
                    scope=LA_CALENDAR,
                    terms=data["terms"],
                    closures=data["closures"],
                    loaded_at=clock.now(),
                    source="scenario",
                )
            )
        self.ctx.calendars.invalidate()

    # --- steps --------------------------------------------------------------------------------------
    def step(self, number: int, step: Any) -> None:
        if not isinstance(step, dict) or len(step) != 1:
            raise ScenarioFailed(f"step {number}: each step is one action, e.g. '- complete: {{...}}'")
        ((kind, args),) = step.items()
        handler = getattr(self, f"_do_{kind}", None)
        if handler is None:
            raise ScenarioFailed(f"step {number}: unknown step '{kind}'")
        try:
            handler(args)
        except ScenarioFailed as failure:
            raise ScenarioFailed(f"step {number} ({kind} {_brief(args)}) failed: {failure}") from None
        except EduCaseError as error:
            raise ScenarioFailed(f"step {number} ({kind} {_brief(args)}) failed: {error.message}") from None

    def _move_clock(self, at: Any) -> None:
        if at is None:
            return
        moment = _instant(at)
        if moment < self.now:
            raise ScenarioFailed(
                f"time goes backwards: {moment.isoformat()} is before {self.now.isoformat()}"
            )
        self.now = moment
        fired = timers.run_due_timers(self.ctx, now=moment)
        for entry in fired.fired:
            self._say(f"  timer {entry['timer']} fired (due {entry['due_at']})")

    def _do_start_process(self, args: dict[str, Any]) -> None:
        self._move_clock(args.get("at"))
        self._start(str(args.get("name") or args["process"]), args["process"], args)

    def _do_complete(self, args: dict[str, Any]) -> None:
        self._move_clock(args.get("at"))
        task = self._ready_task(args["task"], self._iid(args))
        expected_error = args.get("expect_error")
        with clock.frozen_at(self.now):
            try:
                outcome = tasks.complete_task(
                    self.ctx,
                    task["id"],
                    args.get("data") or {},
                    actor=args.get("as", "scenario"),
                    override_assignee=True,
                )
            except EduCaseError as error:
                if expected_error and expected_error.lower() in error.message.lower():
                    self._say(f"completing {args['task']} was refused as expected: {error.message}")
                    return
                raise
        if expected_error:
            raise ScenarioFailed(f"expected an error containing '{expected_error}', but the task completed")
        self._say(f"completed {args['task']}; instance is {outcome['instance_state']}")

    def _do_advance_to(self, args: Any) -> None:
        self._move_clock(args)
        self._say(f"advanced to {self.now:%Y-%m-%d %H:%M}")

    def _do_message(self, args: dict[str, Any]) -> None:
        self._move_clock(args.get("at"))
        with clock.frozen_at(self.now):
            sent = messages.send_message(
                self.ctx,
                args["name"],
                correlation=args.get("correlation") or {},
                payload=args.get("payload"),
                actor=args.get("as", "scenario"),
            )
        self._say(f"message {args['name']} delivered to {sent.delivered_to or sent.started}")

    def _do_expect_task(self, args: dict[str, Any]) -> None:
        task = self._ready_task(args["task"], self._iid(args))
        if "due" in args:
            actual = due_date(_parse_dt(task["due_at"])) if task["due_at"] else None
            if str(actual) != str(_date(args["due"])):
                raise ScenarioFailed(f"'{args['task']}' is due {actual}, expected {_date(args['due'])}")
        if "team" in args and args["team"] not in task["teams"]:
            raise ScenarioFailed(f"'{args['task']}' is offered to {task['teams']}, not {args['team']}")
        self._say(f"task {args['task']} is open" + (f", due {args['due']}" if "due" in args else ""))

    def _do_expect_no_task(self, args: dict[str, Any]) -> None:
        open_ids = self._open_task_ids(self._iid(args))
        if args["task"] in open_ids:
            raise ScenarioFailed(f"'{args['task']}' is open but should not be")
        self._say(f"task {args['task']} is not open")

    def _do_expect_timer(self, args: dict[str, Any]) -> None:
        with self.ctx.db.transaction() as session:
            rows = session.scalars(
                select(Timer).where(
                    Timer.instance_id == self._iid(args),
                    Timer.task_spec_id == args["task"],
                    Timer.state == "waiting",
                )
            )
            dues = [r.due_at for r in rows]
        if not dues:
            raise ScenarioFailed(f"no timer '{args['task']}' is waiting")
        if "due" in args and _instant(args["due"]) not in dues:
            raise ScenarioFailed(
                f"timer '{args['task']}' is due {[d.isoformat() for d in dues]}, expected {args['due']}"
            )
        self._say(f"timer {args['task']} waits until {dues[0].isoformat()}")

    def _do_expect_data(self, args: dict[str, Any]) -> None:
        value = self._value(self._iid(args), args.get("task"), str(args["path"]))
        if "equals" in args and value != args["equals"] and str(value) != str(args["equals"]):
            raise ScenarioFailed(f"{args['path']} is {value!r}, expected {args['equals']!r}")
        self._say(f"{args['path']} = {value!r}")

    def _do_expect_state(self, args: Any) -> None:
        expected = args.get("state") if isinstance(args, dict) else args
        view = instances.show_instance(self.ctx, self._iid(args))
        if view.state != expected:
            reason = f" ({view.error.get('message')})" if view.error else ""
            raise ScenarioFailed(f"the instance is {view.state}{reason}, expected {expected}")
        self._say(f"instance is {view.state}")

    # --- reading ------------------------------------------------------------------------------------
    def _open_task_ids(self, instance_id: int) -> list[str]:
        rows = tasks.list_tasks(self.ctx, tasks.TaskQuery(instance_id=instance_id, limit=1000))
        return [t["task_id"] for t in rows]

    def _ready_task(self, task_id: str, instance_id: int) -> dict[str, Any]:
        rows = tasks.list_tasks(self.ctx, tasks.TaskQuery(instance_id=instance_id, limit=1000))
        for row in rows:
            if row["task_id"] == task_id:
                return row
        view = instances.show_instance(self.ctx, instance_id)
        state = f"{view.state}: {view.error['message']}" if view.error else view.state
        raise ScenarioFailed(
            f"'{task_id}' is not open (open tasks: {[r['task_id'] for r in rows] or 'none'}; "
            f"instance {state})"
        )

    def _value(self, instance_id: int, task_id: str | None, path: str) -> Any:
        """The value at ``path`` as a caseworker would see it now: in the named open task, else in the
        open tasks (they must agree), else in the data of the task that ran last."""
        sources = self._instance_data(instance_id, task_id)
        found = {name: _lookup(data, path) for name, data in sources.items() if _has(data, path)}
        if not found:
            raise ScenarioFailed(
                f"{path}: there is no such value in the instance data ({', '.join(sources)})"
            )
        values = list(found.values())
        if any(v != values[0] for v in values):
            raise ScenarioFailed(f"{path} differs between the open tasks {found}: say which with 'task:'")
        return values[0]

    def _instance_data(self, instance_id: int, task_id: str | None) -> dict[str, dict[str, Any]]:
        with self.ctx.db.transaction() as session:
            row = instance_store.load(self.ctx, session, instance_id)
            workflow = instance_store.open_instance(self.ctx, session, row).workflow
            query = select(HumanTask.id, HumanTask.task_spec_id).where(
                HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY
            )
            if task_id:
                query = query.where(HumanTask.task_spec_id == task_id)
            ready = list(session.execute(query))
        if task_id and not ready:
            raise ScenarioFailed(f"'{task_id}' is not open, so its data cannot be read")
        tasks_data = {spec: dict(task.data) for guid, spec in ready if (task := find_task(workflow, guid))}
        if tasks_data:
            return tasks_data
        last = workflow.last_task
        return {"last task": dict(last.data) if last is not None else dict(workflow.data)}

    def _say(self, line: str) -> None:
        self.result.log.append(line)
        self.echo(line)


def _has(data: Any, path: str) -> bool:
    try:
        _lookup(data, path)
    except ScenarioFailed:
        return False
    return True


def _lookup(data: Any, path: str) -> Any:
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise ScenarioFailed(f"{path}: there is no '{part}' in the instance data")
    return current


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return _parse_dt(str(value))


def _parse_dt(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _brief(args: Any) -> str:
    if isinstance(args, dict):
        for key in ("task", "name", "path"):
            if key in args:
                return str(args[key])
        return ""
    return str(args)
