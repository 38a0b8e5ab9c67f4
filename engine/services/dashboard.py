"""The managers' dashboard: counts over the projections, never a workflow blob.

* open cases by process and stage: each open task (``human_task``) counts its case once under the
  process the task belongs to and the task's BPMN id; a case with no open task counts under its state
  (waiting for a date or message, stopped with an error);
* open tasks overdue, and deadlines at risk: task due dates and waiting timers falling after now and by
  the end of the 5th school day from today (:func:`deadline_horizon`), by team and by process;
* open alerts (not closed) by rule and by establishment, leaving out alerts that would reveal a shared
  flag the person may not see (as ``engine.services.alert_inbox`` does);
* caseload: open tasks held by each person;
* trends: cases started and completed, alerts raised and closed, in each of the last 12 weeks (Monday
  to Sunday, UK time).

Every figure is a GROUP BY over an indexed range; migration 0010 adds the indexes the plans needed.
The drill-down lists behind each figure are in :mod:`engine.services.dashboard_lists`; both use the
terms of :mod:`engine.services.dashboard_terms`, so a figure and its list always agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, select, union_all

from .. import clock
from ..access import Principal
from ..models.alerts import AlertState
from ..models.people import Establishment
from ..models.workflow import InstanceState, TaskState
from ..workflow.deadlines import uk_today
from .casefile import names_in
from .dashboard_terms import (
    AL,
    HT,
    HTT,
    NO_ESTABLISHMENT,
    PI,
    STAGE_STATES,
    STATE_STAGE,
    TM,
    Due,
    Horizon,
    deadline_horizon,
    may_see_scope,
    require_manager,
    rule_names,
    scope_text,
    scoped_rules,
    stage_names,
    task_due_condition,
    team_names,
    timer_at_risk_condition,
    week_bounds,
)
from .inbox import process_names

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

TREND_WEEKS = 12
SOONEST = 10


@dataclass(frozen=True)
class Figure:
    """One bar: what it counts (``key``: a team, person, rule, establishment or process id), its
    label, and the count."""

    key: str
    label: str
    value: int


@dataclass(frozen=True)
class StageFigure:
    """Open cases of one process at one stage (a task, or a state without an open task)."""

    process_id: str
    process_name: str
    stage: str  # a task's BPMN id, or STATE_STAGE + an instance state
    stage_name: str
    value: int


@dataclass(frozen=True)
class Deadline:
    """A task due date or a waiting timer, for the list of the soonest deadlines."""

    kind: str  # "task" / "timer"
    name: str
    due_at: datetime
    instance_id: int
    business_key: str | None
    process_id: str
    task_id: str | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class Week:
    """One week's trend figures (Monday to Sunday, UK time)."""

    monday: date
    started: int
    completed: int
    raised: int
    closed: int


@dataclass
class Dashboard:
    """Every figure of the dashboard, as of ``now``, with the names it is shown with."""

    now: datetime
    horizon: Horizon
    stages: list[StageFigure]
    overdue_by_team: list[Figure]
    at_risk_by_team: list[Figure]
    at_risk_timers: list[Figure]  # by process
    soonest: list[Deadline]
    alerts_by_rule: list[Figure]
    alerts_by_establishment: list[Figure]
    caseload: list[Figure]
    weeks: list[Week]
    processes: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)

    def process_name(self, process_id: str) -> str:
        return self.processes.get(process_id, process_id)


def dashboard(ctx: Context, principal: Principal) -> Dashboard:
    """Every figure of the dashboard, for a manager or administrator."""
    require_manager(principal)
    now = clock.now()
    with ctx.db.transaction() as session:
        horizon = deadline_horizon(ctx, session, now)
        teams = team_names(session)
        processes = dict(process_names(session))
        soonest = soonest_deadlines(session, now, horizon)
        caseload = _caseload(session)
        people = names_in(session, [f.key for f in caseload] + [d.assignee for d in soonest if d.assignee])
        rules, by_school = _alerts(session, principal)
        by_team = _tasks_by_team(session, now, horizon, teams)
        return Dashboard(
            now=now,
            horizon=horizon,
            stages=_stages(session, processes),
            overdue_by_team=by_team[Due.OVERDUE],
            at_risk_by_team=by_team[Due.AT_RISK],
            at_risk_timers=_timers_by_process(session, now, horizon, processes),
            soonest=soonest,
            alerts_by_rule=rules,
            alerts_by_establishment=by_school,
            caseload=[Figure(f.key, people.get(f.key, f.key), f.value) for f in caseload],
            weeks=_weeks(session, principal, now),
            processes=processes,
            people=people,
        )


# --- the figures -------------------------------------------------------------------------------------------


def _stages(session: Session, processes: dict[str, str]) -> list[StageFigure]:
    # Covered by ix_human_task_open_stage (state, process_id, task_spec_id, instance_id): one pass over
    # the open tasks' index entries, already in the order DISTINCT and GROUP BY need (no sort).
    cases = (
        select(HT.c.process_id, HT.c.task_spec_id, HT.c.instance_id)
        .where(HT.c.state == TaskState.READY)
        .distinct()
        .subquery()
    )
    by_task = session.execute(
        select(cases.c.process_id, cases.c.task_spec_id, func.count()).group_by(
            cases.c.process_id, cases.c.task_spec_id
        )
    ).all()
    names = stage_names(session)
    by_state = session.execute(
        select(PI.c.process_id, PI.c.state, func.count())
        .where(PI.c.state.in_(list(STAGE_STATES)))
        .group_by(PI.c.process_id, PI.c.state)
    ).all()
    figures = [StageFigure(p, processes.get(p, p), s, names.get((p, s), s), c) for p, s, c in by_task]
    figures += [
        StageFigure(p, processes.get(p, p), STATE_STAGE + s, STAGE_STATES[s], c) for p, s, c in by_state
    ]
    return sorted(figures, key=lambda f: (f.process_name.lower(), -f.value, f.stage_name))


def _tasks_by_team(
    session: Session, now: datetime, horizon: Horizon, teams: dict[str, str]
) -> dict[str, list[Figure]]:
    """Open tasks overdue, and due by the horizon, by team: one pass over the tasks due by the horizon
    (ix_human_task_state_due_id), joined to their teams."""
    counts = {
        due: func.sum(case((task_due_condition(due, now, horizon), 1), else_=0))
        for due in (Due.OVERDUE, Due.AT_RISK)
    }
    rows = session.execute(
        select(HTT.c.team, *counts.values())
        .select_from(HT.join(HTT, HTT.c.task_id == HT.c.id))
        .where(HT.c.state == TaskState.READY, HT.c.due_at <= horizon.instant)
        .group_by(HTT.c.team)
    ).all()
    return {
        due: _by_value([Figure(r[0], teams.get(r[0], r[0]), int(r[k])) for r in rows if r[k]])
        for k, due in enumerate(counts, start=1)
    }


def _timers_by_process(
    session: Session, now: datetime, horizon: Horizon, processes: dict[str, str]
) -> list[Figure]:
    rows = session.execute(
        select(PI.c.process_id, func.count())
        .select_from(TM.join(PI, PI.c.id == TM.c.instance_id))
        .where(timer_at_risk_condition(now, horizon))
        .group_by(PI.c.process_id)
    ).all()
    return _by_value([Figure(p, processes.get(p, p), n) for p, n in rows])


def soonest_deadlines(
    session: Session, now: datetime, horizon: Horizon, limit: int = SOONEST
) -> list[Deadline]:
    """The ``limit`` soonest task due dates and timers in the at-risk window, soonest first."""
    tasks = session.execute(
        select(
            HT.c.id,
            HT.c.name,
            HT.c.due_at,
            HT.c.instance_id,
            HT.c.business_key,
            HT.c.process_id,
            HT.c.assignee,
        )
        .where(HT.c.state == TaskState.READY, task_due_condition(Due.AT_RISK, now, horizon))
        .order_by(HT.c.due_at)
        .limit(limit)
    ).all()
    timers = session.execute(
        select(
            TM.c.name, TM.c.task_spec_id, TM.c.due_at, TM.c.instance_id, PI.c.business_key, PI.c.process_id
        )
        .join(PI, PI.c.id == TM.c.instance_id)
        .where(timer_at_risk_condition(now, horizon))
        .order_by(TM.c.due_at)
        .limit(limit)
    ).all()
    found = [Deadline("task", t.name, t.due_at, t.instance_id, t.business_key, t.process_id, t.id, t.assignee)
             for t in tasks]  # fmt: skip
    found += [Deadline("timer", t.name or t.task_spec_id, t.due_at, t.instance_id, t.business_key, t.process_id)
              for t in timers]  # fmt: skip
    return sorted(found, key=lambda d: d.due_at)[:limit]


def _caseload(session: Session) -> list[Figure]:
    rows = session.execute(
        select(HT.c.assignee, func.count())
        .where(HT.c.state == TaskState.READY, HT.c.assignee.is_not(None))
        .group_by(HT.c.assignee)
    ).all()
    return _by_value([Figure(who, who, n) for who, n in rows])


def _alerts(session: Session, principal: Principal) -> tuple[list[Figure], list[Figure]]:
    # Alerts of rules never scoped to a flag: covered by ix_alert_rule_establishment_state. Those of
    # scoped rules are grouped by their stored flags too, and kept only where the person may see them.
    scoped = scoped_rules(session)
    not_closed = AL.c.state != AlertState.CLOSED
    rows = session.execute(
        select(AL.c.rule_id, AL.c.establishment_id, func.count())
        .where(not_closed, AL.c.rule_id.not_in(scoped))
        .group_by(AL.c.rule_id, AL.c.establishment_id)
    ).all()
    if scoped:
        rows += [
            (rule_id, place, n)
            for rule_id, place, scope, n in session.execute(
                select(AL.c.rule_id, AL.c.establishment_id, scope_text(), func.count())
                .where(not_closed, AL.c.rule_id.in_(scoped))
                .group_by(AL.c.rule_id, AL.c.establishment_id, scope_text())
            )
            if may_see_scope(principal, scope)
        ]
    by_rule: dict[str, int] = defaultdict(int)
    by_school: dict[int | None, int] = defaultdict(int)
    for rule_id, establishment_id, n in rows:
        by_rule[rule_id] += n
        by_school[establishment_id] += n
    names = rule_names(session)
    schools = {
        e.id: (e.laestab, e.name)
        for e in session.execute(
            select(Establishment.id, Establishment.laestab, Establishment.name).where(
                Establishment.id.in_([i for i in by_school if i is not None])
            )
        )
    }
    rules = [Figure(r, names.get(r, r), n) for r, n in by_rule.items()]
    places = [
        Figure(*schools.get(i, (str(i), str(i))), n) if i is not None else Figure(NO_ESTABLISHMENT, "No establishment", n)
        for i, n in by_school.items()
    ]  # fmt: skip
    return _by_value(rules), _by_value(places)


def _weeks(session: Session, principal: Principal, now: datetime) -> list[Week]:
    this_monday = uk_today(now) - timedelta(days=uk_today(now).weekday())
    mondays = [this_monday - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    bounds = [week_bounds(m) for m in mondays]
    started = _per_week(session, PI.c.started_at, bounds)
    completed = _per_week(session, PI.c.ended_at, bounds, PI.c.state == InstanceState.COMPLETE)
    raised = _alerts_per_week(session, principal, AL.c.created_at, bounds)
    closed = _alerts_per_week(
        session, principal, AL.c.state_changed_at, bounds, AL.c.state == AlertState.CLOSED
    )
    return [Week(m, *counts) for m, *counts in zip(mondays, started, completed, raised, closed, strict=True)]


def _week_sums(column: Any, bounds: list[tuple[datetime, datetime]]) -> list[Any]:
    return [func.sum(case((and_(column >= a, column < b), 1), else_=0)) for a, b in bounds]


def _per_week(
    session: Session, column: Any, bounds: list[tuple[datetime, datetime]], *where: Any
) -> list[int]:
    """A count per week: one range count per week (on an index starting with ``column``, or with an
    equality then ``column``), all in one statement."""
    counts = [
        select(literal(k).label("week"), func.count().label("n"))
        .select_from(column.table)
        .where(*where, column >= start, column < end)
        for k, (start, end) in enumerate(bounds)
    ]
    found = dict(session.execute(union_all(*counts)).all())
    return [int(found.get(k) or 0) for k in range(len(bounds))]


def _alerts_per_week(
    session: Session, principal: Principal, column: Any, bounds: list[tuple[datetime, datetime]], *where: Any
) -> list[int]:
    """As :func:`_per_week`, leaving out the alerts whose scope flags ``principal`` may not see (the
    few alerts of rules scoped to a flag are counted apart, by their stored flags)."""
    scoped = scoped_rules(session)
    totals = _per_week(session, column, bounds, *where, AL.c.rule_id.not_in(scoped))
    if scoped:
        rows = session.execute(
            select(scope_text(), *_week_sums(column, bounds))
            .where(*where, AL.c.rule_id.in_(scoped), column >= bounds[0][0])
            .group_by(scope_text())
        )
        for scope, *counts in rows:
            if may_see_scope(principal, scope):
                totals = [t + int(c or 0) for t, c in zip(totals, counts, strict=True)]
    return totals


# --- helpers --------------------------------------------------------------------------------------------


def _by_value(figures: list[Figure]) -> list[Figure]:
    return sorted(figures, key=lambda f: (-f.value, f.label.lower()))
