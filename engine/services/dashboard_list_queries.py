"""What each of the dashboard's lists selects: its filters, its columns, its query (with the same
conditions as the figure it lies behind, from ``engine.services.dashboard_terms``), its rows as shown
and exported, and its filters in words. Read from the projections, never from a workflow's state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select

from ..access import Principal
from ..models.alerts import AlertState
from ..models.people import Establishment, Pupil
from ..models.workflow import InstanceState, TaskState
from .casefile import names_in
from .dashboard_terms import (
    AL,
    HT,
    HTT,
    NO_ESTABLISHMENT,
    PI,
    STAGE_STATES,
    TM,
    Due,
    Horizon,
    alert_visibility,
    rule_names,
    stage_names,
    stage_of,
    task_due_condition,
    team_names,
    timer_at_risk_condition,
    week_bounds,
)
from .inbox import process_names

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TaskFilters:
    team: str = ""
    assignee: str = ""
    process_id: str = ""
    due: str = ""  # Due.OVERDUE, Due.AT_RISK or empty
    page: int = 1


@dataclass(frozen=True)
class InstanceFilters:
    process_id: str = ""
    stage: str = ""  # a task's BPMN id or "state:<state>"; empty: every open case
    completed_week: date | None = None  # the Monday of a week: cases completed that week
    page: int = 1


@dataclass(frozen=True)
class DeadlineFilters:
    """Waiting timers at risk (by the end of the 5th school day)."""

    process_id: str = ""
    page: int = 1


@dataclass(frozen=True)
class AlertFilters:
    rule_id: str = ""
    establishment: str = ""  # a LAESTAB, or "none"
    raised_week: date | None = None
    closed_week: date | None = None
    page: int = 1


Filters = TaskFilters | InstanceFilters | DeadlineFilters | AlertFilters


@dataclass(frozen=True)
class Column:
    key: str
    heading: str


TASK_COLUMNS = [
    Column("name", "Task"), Column("business_key", "Case reference"), Column("process", "Process"),
    Column("teams", "Teams"), Column("assignee", "Assigned to"), Column("due_at", "Due"),
    Column("task_id", "Task id"), Column("instance_id", "Case id"),
]  # fmt: skip
INSTANCE_COLUMNS = [
    Column("business_key", "Case reference"), Column("process", "Process"), Column("stage", "Stage"),
    Column("assignee", "Assigned to"), Column("due_at", "Due"), Column("started_at", "Started"),
    Column("ended_at", "Ended"), Column("instance_id", "Case id"),
]  # fmt: skip
DEADLINE_COLUMNS = [
    Column("name", "Deadline"), Column("business_key", "Case reference"), Column("process", "Process"),
    Column("due_at", "Due"), Column("instance_id", "Case id"),
]  # fmt: skip
ALERT_COLUMNS = [
    Column("rule", "Rule"), Column("upn", "UPN"), Column("pupil", "Pupil"), Column("establishment", "Establishment"),
    Column("laestab", "LAESTAB"), Column("team", "Team"), Column("state", "State"), Column("raised_at", "Raised"),
    Column("closed_at", "Closed"), Column("alert_id", "Alert id"),
]  # fmt: skip


@dataclass
class Names:
    """The names the rows and filters are shown with: processes, teams, rules, stages (tasks)."""

    processes: dict[str, str]
    teams: dict[str, str]
    rules: dict[str, str]
    stages: dict[tuple[str, str], str]

    @classmethod
    def load(cls, session: Session) -> Names:
        return cls(
            dict(process_names(session)), team_names(session), rule_names(session), stage_names(session)
        )

    def process(self, process_id: str) -> str:
        return self.processes.get(process_id, process_id)

    def stage(self, process_id: str, task_id: str) -> str:
        """A task's name (in any process that has a task of that id, when no process is given)."""
        found = self.stages.get((process_id, task_id))
        return found or next((n for (_, t), n in self.stages.items() if t == task_id), task_id)


@dataclass(frozen=True)
class Query:
    """A list's rows (unordered), their order, and a cheaper way to count them when there is one."""

    select: Select[Any]
    order: list[Any]
    count: Select[Any] | None = None


@dataclass(frozen=True)
class Kind:
    columns: list[Column]
    query: Callable[..., Query]
    rows: Callable[[Session, list[dict[str, Any]], Names], list[dict[str, Any]]]
    describe: Callable[[Session, Any, Names], list[tuple[str, str | date]]]


# --- tasks ------------------------------------------------------------------------------------------------


def _task_query(
    _session: Session, _principal: Principal, f: TaskFilters, now: datetime, horizon: Horizon
) -> Query:
    query = select(HT.c.id, HT.c.name, HT.c.business_key, HT.c.process_id, HT.c.assignee, HT.c.due_at,
                   HT.c.instance_id).where(HT.c.state == TaskState.READY)  # fmt: skip
    due = HT.c.due_at
    if f.team:  # the team's own rows, in due order: (team, state, due_at), as the inbox reads them
        query = query.join(HTT, HTT.c.task_id == HT.c.id).where(HTT.c.team == f.team, HTT.c.state == TaskState.READY)
        due = HTT.c.due_at
    if f.assignee:
        query = query.where(HT.c.assignee == f.assignee)
    if f.process_id:
        query = query.where(HT.c.process_id == f.process_id)
    if f.due in (Due.OVERDUE, Due.AT_RISK):
        query = query.where(due.is_not(None), task_due_condition(f.due, now, horizon, due))
    return Query(query, [due.asc().nulls_last(), HT.c.id])


def _task_rows(session: Session, found: list[dict[str, Any]], names: Names) -> list[dict[str, Any]]:
    teams: dict[str, list[str]] = {t["id"]: [] for t in found}
    for start in range(0, len(found), 1000):
        ids = [t["id"] for t in found[start : start + 1000]]
        for task_id, team in session.execute(select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_(ids))):
            teams[task_id].append(names.teams.get(team, team))
    people = names_in(session, sorted({t["assignee"] for t in found if t["assignee"]}))
    return [
        {"task_id": t["id"], "name": t["name"], "business_key": t["business_key"] or "",
         "process": names.process(t["process_id"]), "teams": ", ".join(sorted(teams[t["id"]])),
         "assignee": people.get(t["assignee"], t["assignee"]) if t["assignee"] else "", "due_at": t["due_at"],
         "instance_id": t["instance_id"]}
        for t in found
    ]  # fmt: skip


def _task_words(session: Session, f: TaskFilters, names: Names) -> list[tuple[str, str | date]]:
    words = []
    if f.team:
        words.append(("Team", names.teams.get(f.team, f.team)))
    if f.assignee:
        words.append(("Assigned to", names_in(session, [f.assignee]).get(f.assignee, f.assignee)))
    if f.process_id:
        words.append(("Process", names.process(f.process_id)))
    if f.due == Due.OVERDUE:
        words.append(("Due", "Overdue"))
    elif f.due == Due.AT_RISK:
        words.append(("Due", "In the next 5 school days"))
    return words


# --- cases --------------------------------------------------------------------------------------------------

_CASE = (PI.c.id.label("instance_id"), PI.c.business_key, PI.c.process_id, PI.c.state, PI.c.started_at,
         PI.c.ended_at)  # fmt: skip


def _instance_query(
    _session: Session, _principal: Principal, f: InstanceFilters, _now: datetime, _horizon: Horizon
) -> Query:
    kind, stage = stage_of(f.stage)
    if f.stage and kind == "task":
        at_stage = (
            select(HT.c.instance_id, func.min(HT.c.due_at).label("due_at"), func.min(HT.c.assignee).label("assignee"),
                   func.max(HT.c.process_id).label("stage_process"), func.max(HT.c.task_spec_id).label("stage_id"))
            .where(HT.c.state == TaskState.READY, HT.c.task_spec_id == stage)
            .group_by(HT.c.instance_id)
        )  # fmt: skip
        if f.process_id:
            at_stage = at_stage.where(HT.c.process_id == f.process_id)
        grouped = at_stage.subquery()
        query = select(
            *_CASE, grouped.c.due_at, grouped.c.assignee, grouped.c.stage_process, grouped.c.stage_id
        ).join(grouped, grouped.c.instance_id == PI.c.id)
        return Query(query, [grouped.c.due_at.asc().nulls_last(), PI.c.id])
    query = select(*_CASE)
    if f.process_id:
        query = query.where(PI.c.process_id == f.process_id)
    if f.completed_week is not None:
        start, end = week_bounds(f.completed_week)
        query = query.where(PI.c.state == InstanceState.COMPLETE, PI.c.ended_at >= start, PI.c.ended_at < end)
        return Query(query, [PI.c.ended_at.desc(), PI.c.id.desc()])
    if f.stage:
        query = query.where(PI.c.state == stage)
    else:
        query = query.where(PI.c.state.not_in(InstanceState.FINISHED))
    return Query(query, [PI.c.started_at.desc(), PI.c.id.desc()])


def _instance_rows(session: Session, found: list[dict[str, Any]], names: Names) -> list[dict[str, Any]]:
    people = names_in(session, sorted({r["assignee"] for r in found if r.get("assignee")}))
    return [
        {"instance_id": r["instance_id"], "business_key": r["business_key"] or "",
         "process": names.process(r["process_id"]),
         "stage": names.stage(r["stage_process"], r["stage_id"]) if r.get("stage_id") else
                  STAGE_STATES.get(r["state"]) or r["state"].replace("_", " ").capitalize(),
         "assignee": people.get(r["assignee"], r["assignee"]) if r.get("assignee") else "",
         "due_at": r.get("due_at"), "started_at": r["started_at"], "ended_at": r["ended_at"], "state": r["state"]}
        for r in found
    ]  # fmt: skip


def _instance_words(session: Session, f: InstanceFilters, names: Names) -> list[tuple[str, str | date]]:
    words = [("Process", names.process(f.process_id))] if f.process_id else []
    kind, stage = stage_of(f.stage)
    if f.stage and kind == "state":
        words.append(("Stage", STAGE_STATES.get(stage, stage)))
    elif f.stage:
        words.append(("Stage", names.stage(f.process_id, stage)))
    if f.completed_week is not None:
        words.append(("Completed in the week beginning", f.completed_week))
    return words or [("State", "Open")]


# --- deadlines (timers) ---------------------------------------------------------------------------------


def _deadline_query(
    _session: Session, _principal: Principal, f: DeadlineFilters, now: datetime, horizon: Horizon
) -> Query:
    query = (
        select(TM.c.id, TM.c.name, TM.c.task_spec_id, TM.c.due_at, TM.c.instance_id, PI.c.business_key, PI.c.process_id)
        .join(PI, PI.c.id == TM.c.instance_id)
        .where(timer_at_risk_condition(now, horizon))
    )  # fmt: skip
    if f.process_id:
        query = query.where(PI.c.process_id == f.process_id)
    return Query(query, [TM.c.due_at, TM.c.id])


def _deadline_rows(_session: Session, found: list[dict[str, Any]], names: Names) -> list[dict[str, Any]]:
    return [
        {"name": r["name"] or r["task_spec_id"], "business_key": r["business_key"] or "",
         "process": names.process(r["process_id"]), "due_at": r["due_at"], "instance_id": r["instance_id"]}
        for r in found
    ]  # fmt: skip


def _deadline_words(_session: Session, f: DeadlineFilters, names: Names) -> list[tuple[str, str | date]]:
    words = [("Process", names.process(f.process_id))] if f.process_id else []
    return [*words, ("Due", "In the next 5 school days")]


# --- alerts -------------------------------------------------------------------------------------------------


def _alert_query(
    session: Session, principal: Principal, f: AlertFilters, _now: datetime, _horizon: Horizon
) -> Query:
    conditions = []
    if f.raised_week is not None:
        start, end = week_bounds(f.raised_week)
        conditions += [AL.c.created_at >= start, AL.c.created_at < end]
    if f.closed_week is not None:
        start, end = week_bounds(f.closed_week)
        conditions += [
            AL.c.state == AlertState.CLOSED,
            AL.c.state_changed_at >= start,
            AL.c.state_changed_at < end,
        ]
    if f.raised_week is None and f.closed_week is None:
        conditions.append(AL.c.state != AlertState.CLOSED)
    if f.rule_id:
        conditions.append(AL.c.rule_id == f.rule_id)
    if f.establishment == NO_ESTABLISHMENT:
        conditions.append(AL.c.establishment_id.is_(None))
    elif f.establishment:
        school = select(Establishment.id).where(Establishment.laestab == f.establishment).scalar_subquery()
        conditions.append(AL.c.establishment_id == school)
    conditions += alert_visibility(session, principal, conditions)
    query = (
        select(AL.c.id, AL.c.rule_id, AL.c.team, AL.c.state, AL.c.created_at, AL.c.state_changed_at, Pupil.upn,
               Pupil.forename, Pupil.preferred_forename, Pupil.surname, Establishment.laestab,
               Establishment.name.label("establishment"))
        .join(Pupil, Pupil.id == AL.c.pupil_id)
        .outerjoin(Establishment, Establishment.id == AL.c.establishment_id)
        .where(*conditions)
    )  # fmt: skip
    # Every alert has its pupil: the count needs no join (and the indexes on alert cover it).
    return Query(query, [AL.c.id.desc()], select(func.count()).select_from(AL).where(*conditions))


def _alert_rows(_session: Session, found: list[dict[str, Any]], names: Names) -> list[dict[str, Any]]:
    return [
        {"alert_id": r["id"], "rule": names.rules.get(r["rule_id"], r["rule_id"]), "upn": r["upn"] or "",
         "pupil": f"{r['preferred_forename'] or r['forename']} {r['surname']}",
         "establishment": r["establishment"] or "No establishment", "laestab": r["laestab"] or "",
         "team": names.teams.get(r["team"], r["team"]), "state": r["state"].capitalize(),
         "raised_at": r["created_at"],
         "closed_at": r["state_changed_at"] if r["state"] == AlertState.CLOSED else None}
        for r in found
    ]  # fmt: skip


def _alert_words(session: Session, f: AlertFilters, names: Names) -> list[tuple[str, str | date]]:
    words = [("Rule", names.rules.get(f.rule_id, f.rule_id))] if f.rule_id else []
    if f.establishment == NO_ESTABLISHMENT:
        words.append(("Establishment", "No establishment"))
    elif f.establishment:
        name = session.scalar(select(Establishment.name).where(Establishment.laestab == f.establishment))
        words.append(("Establishment", f"{name or 'Unknown'} ({f.establishment})"))
    if f.raised_week is not None:
        words.append(("Raised in the week beginning", f.raised_week))
    if f.closed_week is not None:
        words.append(("Closed in the week beginning", f.closed_week))
    if f.raised_week is None and f.closed_week is None:
        words.append(("State", "Not closed"))
    return words


KINDS: dict[type, Kind] = {
    TaskFilters: Kind(TASK_COLUMNS, _task_query, _task_rows, _task_words),
    InstanceFilters: Kind(INSTANCE_COLUMNS, _instance_query, _instance_rows, _instance_words),
    DeadlineFilters: Kind(DEADLINE_COLUMNS, _deadline_query, _deadline_rows, _deadline_words),
    AlertFilters: Kind(ALERT_COLUMNS, _alert_query, _alert_rows, _alert_words),
}
