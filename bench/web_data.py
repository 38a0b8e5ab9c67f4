"""The web benchmark's database: a synthetic LA (engine.services.demo), its alerts, and many cases made
quickly by cloning real ones.

Real instances are run first through the services ("templates"): every prefix of every demo case in
process_library/demo_cases.json, each started at several past moments so that deadlines spread from
overdue to next week. Clones copy a template's serialised state with every task guid replaced by a
fresh one (and its pupil's UPN by the clone's), so each clone is a real, completable workflow; its
projection rows (``human_task``, ``human_task_team``, ``timer``, ``message_wait``,
``instance_establishment``) are the template's with the same substitution. Completed task rows are
added to reach the requested number of task rows (a case's history). Rows go in with
``engine.attendance.bulk.insert_rows`` (COPY on PostgreSQL).

For the concurrent-completion run, the open tasks whose next step the demo case knows the answers to
are given to the bench's caseworkers, each with a draft holding those answers (so the task page shows
the form filled in, as for a person who saved a draft).
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

import process_library
from engine import clock
from engine.attendance.bulk import insert_rows, next_id
from engine.context import Context
from engine.errors import EduCaseError
from engine.models.access import InstanceEstablishment, Role
from engine.models.alerts import Alert
from engine.models.drafts import TaskDraft
from engine.models.people import Enrolment, Establishment, Pupil
from engine.models.workflow import (
    HumanTask,
    HumanTaskTeam,
    InstanceState,
    MessageWait,
    ProcessInstance,
    Timer,
)
from engine.services import alerts, instances, tasks, users
from engine.services.attendance import last_school_day

PI, HT, HTT = ProcessInstance.__table__, HumanTask.__table__, HumanTaskTeam.__table__
TM, MW, IE = Timer.__table__, MessageWait.__table__, InstanceEstablishment.__table__
PASSWORD = "bench-password-2026"
MANAGER = "bench.manager"
WORKER_TEAMS = ("attendance", "cme", "inclusion", "ep", "send")
OFFSET_DAYS = (0, 2, 5, 9, 30)  # templates start this many days ago: due soon ... long overdue
ASSIGNED_SHARE = 0.6  # open tasks of the workers' teams held by one of them; the rest are unassigned
QUEUE_CAP = 1500  # completable tasks (with a draft) per worker
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BATCH = 2000

PI_COLUMNS = ("id", "process_version_id", "process_id", "business_key", "state", "suspended", "state_json",
              "lock_version", "error", "started_at", "started_by", "updated_at", "ended_at")  # fmt: skip
HT_COLUMNS = ("id", "instance_id", "process_id", "business_key", "task_spec_id", "name", "lane", "assignee",
              "form_ref", "ui_form_ref", "due_at", "state", "created_at", "completed_at", "completed_by")  # fmt: skip
TM_COLUMNS = (
    "instance_id",
    "task_guid",
    "task_spec_id",
    "name",
    "kind",
    "due_at",
    "state",
    "created_at",
    "fired_at",
)
MW_COLUMNS = ("instance_id", "task_guid", "task_spec_id", "message_name", "business_key", "correlation", "state",
              "created_at", "received_at")  # fmt: skip


@dataclass
class Template:
    """A real instance to clone: its rows, and its state split around the tokens a clone replaces."""

    row: dict[str, Any]
    tasks: list[dict[str, Any]]
    teams: dict[str, list[str]]  # task guid -> teams
    timers: list[dict[str, Any]]
    waits: list[dict[str, Any]]
    laestabs: list[str]
    pieces: list[str]  # state_json = pieces[0] + token(slots[0]) + pieces[1] + ...
    slots: list[int]  # index into guids, or -1 for the pupil's UPN
    guids: list[str]
    next_task: str | None = None  # the open task a worker can complete with ``answers``
    answers: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.row["state"] in InstanceState.FINISHED


@dataclass
class Built:
    workers: dict[str, str] = field(default_factory=dict)  # username -> team
    queues: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # username -> task ids
    pupils: list[tuple[str, str]] = field(default_factory=list)  # (UPN, LAESTAB)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- pupils and alerts ------------------------------------------------------------------------------------


def pupils_on_roll(ctx: Context) -> list[tuple[str, str]]:
    """(UPN, LAESTAB of a school the pupil is enrolled at) of every pupil with a UPN."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Pupil.upn, Establishment.laestab)
            .join(Enrolment, Enrolment.pupil_id == Pupil.id)
            .join(Establishment, Establishment.id == Enrolment.establishment_id)
            .where(Pupil.upn.is_not(None))
        ).all()
    return list(dict(rows).items())


def raise_alerts(ctx: Context, seed: int) -> dict[str, Any]:
    """Evaluate every default rule as of today, then spread the alerts over the last 12 weeks and close
    about a third of them (an LA's alerts are raised and closed over time, not in one night)."""
    summary = alerts.evaluate(ctx, last_school_day(ctx, clock.now().date()), trigger="bench")
    rng, now = random.Random(seed), clock.now()
    with ctx.db.transaction() as session:
        ids = list(session.scalars(select(Alert.id)))
        changes = []
        for alert_id in ids:
            raised = now - timedelta(days=rng.uniform(0, 84))
            closed = raised + timedelta(days=rng.uniform(0, 20)) if rng.random() < 0.35 else None
            closed = closed if closed is not None and closed < now else None
            changes.append({"b_id": alert_id, "created_at": raised, "state": "closed" if closed else "open",
                            "state_changed_at": closed})  # fmt: skip
        table = Alert.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(created_at=bindparam("created_at"), state=bindparam("state"),
                    state_changed_at=bindparam("state_changed_at"))
        )  # fmt: skip
        for start in range(0, len(changes), 5000):
            session.connection().execute(statement, changes[start : start + 5000])
    return {"alerts": len(ids), "seconds": summary.get("seconds", {}).get("total")}


# --- people ---------------------------------------------------------------------------------------------


def make_people(ctx: Context, templates: list[Template], count: int) -> dict[str, str]:
    """The manager and ``count`` caseworkers, shared among the teams in proportion to the completable
    tasks each has (every team with any gets at least one)."""
    for slug, name in users.LANES.items():
        users.ensure_team(ctx, slug, name)
    users.create_user(ctx, MANAGER, "Bench Manager", Role.MANAGER, PASSWORD, ["managers"])
    demand: dict[str, int] = defaultdict(int)
    for template in templates:
        for team in _worker_teams(template, template.next_task):
            demand[team] += 1
    teams = sorted(demand, key=lambda t: -demand[t]) or ["attendance"]
    share = {team: 1 for team in teams[:count]}
    while sum(share.values()) < count:
        team = max(teams, key=lambda t: demand[t] / share[t])
        share[team] += 1
    workers = {}
    for team, n in share.items():
        for k in range(1, n + 1):
            username = f"bench.{team}.{k}"
            users.create_user(ctx, username, f"{team.title()} Worker {k}", Role.CASEWORKER, PASSWORD, [team])
            workers[username] = team
    return workers


# --- templates -----------------------------------------------------------------------------------------


def make_templates(ctx: Context) -> list[Template]:
    """Every prefix of every demo case, run at each of OFFSET_DAYS in the past; plus a cancelled case."""
    now = clock.now()
    cases = json.loads((process_library.PATH / "demo_cases.json").read_text())
    made: list[Template] = []
    for n, case in enumerate(cases):
        steps = case.get("complete", [])
        for k in range(len(steps) + 1):
            answers = _completable(ctx, case, k, now - timedelta(days=1)) if k < len(steps) else None
            for offset in OFFSET_DAYS:
                moment = now - timedelta(days=offset, minutes=7 * n + k)
                instance_id = _replay(ctx, case, k, moment)
                if instance_id is None:
                    break
                template = read_template(ctx, instance_id, case.get("key"))
                if answers is not None and steps[k]["task"] in {t["task_spec_id"] for t in _ready(template)}:
                    template.next_task, template.answers = steps[k]["task"], answers
                made.append(template)
    cancelled = _replay(ctx, cases[0], 0, now - timedelta(days=20))
    if cancelled is not None:
        instances.cancel_instance(ctx, cancelled, actor=MANAGER, reason="Bench: closed without action")
        made.append(read_template(ctx, cancelled, cases[0].get("key")))
    return made


def _replay(ctx: Context, case: dict[str, Any], steps: int, moment: datetime) -> int | None:
    """Start the case at ``moment`` and complete its first ``steps`` steps; None if that fails."""
    try:
        with clock.frozen_at(moment):
            view = instances.start_instance(ctx, case["process"], data=case.get("data", {}),
                                            business_key=case.get("key"), actor="bench")  # fmt: skip
            for step in case.get("complete", [])[:steps]:
                if not _complete_step(ctx, view.id, step):
                    return None
        return view.id
    except EduCaseError:
        return None


def _complete_step(ctx: Context, instance_id: int, step: dict[str, Any]) -> bool:
    open_tasks = tasks.list_tasks(ctx, tasks.TaskQuery(instance_id=instance_id))
    task = next((t for t in open_tasks if t["task_id"] == step["task"]), None)
    if task is None:
        return False
    tasks.complete_task(
        ctx, task["id"], step.get("data", {}), actor=step.get("as", "bench"), override_assignee=True
    )
    return True


def _completable(ctx: Context, case: dict[str, Any], k: int, moment: datetime) -> dict[str, Any] | None:
    """The answers of step ``k`` if completing it now, on a case replayed to it, succeeds."""
    instance_id = _replay(ctx, case, k, moment)
    step = case["complete"][k]
    try:
        return (
            step.get("data", {})
            if instance_id is not None and _complete_step(ctx, instance_id, step)
            else None
        )
    except EduCaseError:
        return None


def read_template(ctx: Context, instance_id: int, upn: str | None) -> Template:
    with ctx.db.transaction() as session:
        row = dict(session.execute(select(PI).where(PI.c.id == instance_id)).mappings().one())
        task_rows = [
            dict(r) for r in session.execute(select(HT).where(HT.c.instance_id == instance_id)).mappings()
        ]
        teams: dict[str, list[str]] = defaultdict(list)
        ids = [t["id"] for t in task_rows]
        for task_id, team in session.execute(select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_(ids))):
            teams[task_id].append(team)
        timers = [
            dict(r) for r in session.execute(select(TM).where(TM.c.instance_id == instance_id)).mappings()
        ]
        waits = [
            dict(r) for r in session.execute(select(MW).where(MW.c.instance_id == instance_id)).mappings()
        ]
        laestabs = list(session.scalars(select(IE.c.laestab).where(IE.c.instance_id == instance_id)))
    pieces, slots, guids = _split(row.pop("state_json"), upn)
    return Template(row, task_rows, dict(teams), timers, waits, laestabs, pieces, slots, guids)


def _split(state: str, upn: str | None) -> tuple[list[str], list[int], list[str]]:
    pattern = UUID.pattern + (f"|{re.escape(upn)}" if upn else "")
    pieces, slots, guids, index = [], [], [], {}
    last = 0
    for match in re.finditer(pattern, state):
        pieces.append(state[last : match.start()])
        token = match.group(0)
        if token == upn:
            slots.append(-1)
        else:
            slots.append(index.setdefault(token, len(index)))
            if len(guids) < len(index):
                guids.append(token)
        last = match.end()
    pieces.append(state[last:])
    return pieces, slots, guids


def _ready(template: Template) -> list[dict[str, Any]]:
    return [t for t in template.tasks if t["state"] == "ready"]


def _worker_teams(template: Template, task_spec_id: str | None) -> list[str]:
    if task_spec_id is None:
        return []
    task = next((t for t in _ready(template) if t["task_spec_id"] == task_spec_id), None)
    return [team for team in template.teams.get(task["id"], []) if team in WORKER_TEAMS] if task else []


# --- clones ---------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    instances: list[tuple[Any, ...]] = field(default_factory=list)
    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    teams: list[tuple[Any, ...]] = field(default_factory=list)
    timers: list[tuple[Any, ...]] = field(default_factory=list)
    waits: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    drafts: list[tuple[Any, ...]] = field(default_factory=list)


class Cloner:
    """Makes clones of templates, for pupils, with tasks held by the workers of their teams."""

    def __init__(self, templates: list[Template], workers: dict[str, str], pupils: list[tuple[str, str]],
                 history_per_case: float, seed: int) -> None:  # fmt: skip
        self.rng = random.Random(seed)
        self.now = clock.now()
        self.open = [t for t in templates if not t.finished]
        self.complete = [t for t in templates if t.row["state"] == InstanceState.COMPLETE]
        self.cancelled = [t for t in templates if t.row["state"] == InstanceState.CANCELLED]
        self.by_team: dict[str, list[str]] = defaultdict(list)
        for username, team in workers.items():
            self.by_team[team].append(username)
        self.workers = sorted(workers)
        self.pupils = pupils
        self.history_per_case = history_per_case
        self.history = _history_tasks(templates)
        self.queues: dict[str, list[str]] = defaultdict(list)
        self.task_rows = 0

    def template_tasks_per_case(self) -> float:
        """How many task rows a clone brings from its template, on average (see :meth:`pick`)."""

        def mean(group: list[Template]) -> float:
            return sum(len(t.tasks) for t in group) / len(group) if group else 0.0

        shares = (0.12 if self.complete else 0.0, 0.08 if self.cancelled else 0.0)
        return (
            shares[0] * mean(self.complete)
            + shares[1] * mean(self.cancelled)
            + (1 - sum(shares)) * mean(self.open)
        )

    def pick(self) -> Template:
        roll = self.rng.random()
        if roll < 0.12 and self.complete:
            return self.rng.choice(self.complete)
        if roll < 0.2 and self.cancelled:
            return self.rng.choice(self.cancelled)
        return self.rng.choice(self.open)

    def clone(self, template: Template, instance_id: int, batch: _Batch) -> None:
        upn, laestab = self.rng.choice(self.pupils)
        key = upn if template.row["business_key"] else None
        mapping = [str(uuid.uuid4()) for _ in template.guids]
        state = "".join(
            piece + ((upn if slot < 0 else mapping[slot]) if k < len(template.slots) else "")
            for k, (piece, slot) in enumerate(zip(template.pieces, [*template.slots, 0], strict=True))
        )
        guid = dict(zip(template.guids, mapping, strict=True))
        started, ended = self._times(template)
        row = template.row
        batch.instances.append((instance_id, row["process_version_id"], row["process_id"], key, row["state"],
                                False, state, row["lock_version"], row["error"], started, row["started_by"],
                                ended or started, ended))  # fmt: skip
        for task in template.tasks:
            self._task(template, task, guid.get(task["id"], str(uuid.uuid4())), instance_id, key, batch)
        self._history(template, instance_id, key, started, batch)
        for t in template.timers:
            batch.timers.append((instance_id, guid.get(t["task_guid"], t["task_guid"]), t["task_spec_id"], t["name"],
                                 t["kind"], t["due_at"], t["state"], t["created_at"], t["fired_at"]))  # fmt: skip
        for w in template.waits:
            correlation = json.loads(json.dumps(w["correlation"]).replace(row["business_key"] or "\0", upn))
            batch.waits.append((instance_id, guid.get(w["task_guid"], w["task_guid"]), w["task_spec_id"],
                                w["message_name"], key, correlation, w["state"], w["created_at"], w["received_at"]))  # fmt: skip
        if template.laestabs:
            for code in dict.fromkeys([laestab, *template.laestabs[1:]]):
                batch.links.append((instance_id, code))

    def _times(self, template: Template) -> tuple[datetime, datetime | None]:
        if not template.finished:
            return template.row["started_at"] - timedelta(minutes=self.rng.uniform(0, 180)), None
        started = self.now - timedelta(days=self.rng.uniform(1, 90))
        ended = min(self.now - timedelta(minutes=5), started + timedelta(days=self.rng.uniform(0, 20)))
        return started, ended

    def _task(self, template: Template, task: dict[str, Any], task_id: str, instance_id: int, key: str | None,
              batch: _Batch) -> None:  # fmt: skip
        teams = template.teams.get(task["id"], [])
        assignee = task["assignee"]
        if task["state"] == "ready":
            assignee = self._holder(teams)
            if assignee and template.answers is not None and task["task_spec_id"] == template.next_task:
                queue = self.queues[assignee]
                if len(queue) < QUEUE_CAP:
                    queue.append(task_id)
                    batch.drafts.append((task_id, assignee, template.answers, self.now))
        batch.tasks.append((task_id, instance_id, task["process_id"], key, task["task_spec_id"], task["name"],
                            task["lane"], assignee, task["form_ref"], task["ui_form_ref"], task["due_at"],
                            task["state"], task["created_at"], task["completed_at"], task["completed_by"]))  # fmt: skip
        batch.teams.extend((task_id, team, task["state"], task["due_at"], task["process_id"]) for team in teams)
        self.task_rows += 1

    def _holder(self, teams: list[str]) -> str | None:
        candidates = [u for team in teams for u in self.by_team.get(team, [])]
        return self.rng.choice(candidates) if candidates and self.rng.random() < ASSIGNED_SHARE else None

    def _history(self, template: Template, instance_id: int, key: str | None, started: datetime,
                 batch: _Batch) -> None:  # fmt: skip
        """Completed task rows (earlier work on the case), ``history_per_case`` on average."""
        count = int(self.history_per_case) + (self.rng.random() < self.history_per_case % 1)
        options = self.history.get(template.row["process_id"]) or []
        for _ in range(count if options else 0):
            spec, name, lane = self.rng.choice(options)
            task_id = str(uuid.uuid4())
            done = started + timedelta(hours=self.rng.uniform(1, 200))
            batch.tasks.append((task_id, instance_id, template.row["process_id"], key, spec, name, lane, None, None,
                                None, None, "completed", started, min(done, self.now), self.rng.choice(self.workers)))  # fmt: skip
            if lane:
                batch.teams.append((task_id, lane, "completed", None, template.row["process_id"]))
            self.task_rows += 1


def _history_tasks(templates: list[Template]) -> dict[str, list[tuple[str, str, str | None]]]:
    found: dict[str, set[tuple[str, str, str | None]]] = defaultdict(set)
    for template in templates:
        for task in template.tasks:
            found[task["process_id"]].add((task["task_spec_id"], task["name"], task["lane"]))
    return {process: sorted(items, key=str) for process, items in found.items()}


def populate(ctx: Context, cloner: Cloner, count: int, progress: Any = print) -> None:
    """Insert ``count`` clones in batches."""
    with ctx.db.transaction() as session:
        first = next_id(session, PI)
    started = time.perf_counter()
    for offset in range(0, count, BATCH):
        batch = _Batch()
        for n in range(offset, min(count, offset + BATCH)):
            cloner.clone(cloner.pick(), first + n, batch)
        with ctx.db.transaction() as session:
            insert_rows(session, PI, PI_COLUMNS, batch.instances)
            insert_rows(session, HT, HT_COLUMNS, batch.tasks)
            insert_rows(session, HTT, ("task_id", "team", "state", "due_at", "process_id"), batch.teams)
            insert_rows(session, TM, TM_COLUMNS, batch.timers)
            insert_rows(session, MW, MW_COLUMNS, batch.waits)
            insert_rows(session, IE, ("instance_id", "laestab"), batch.links)
            insert_rows(
                session, TaskDraft.__table__, ("task_id", "username", "data", "saved_at"), batch.drafts
            )
        done = min(count, offset + BATCH)
        if done % (BATCH * 10) == 0 or done == count:
            progress(f"  {done:,} cases cloned ({time.perf_counter() - started:.0f} s)")
