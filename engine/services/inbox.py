"""The task inbox: three lists of open tasks (mine, my teams', unassigned), their counts, filters and
sorting, read from the ``human_task`` projection only.

Every list goes through ``engine.access.restrict_tasks``. The queries follow the projection's indexes:
"mine" walks ``human_task(assignee, state, due_at)``, unassigned tasks of every team
``human_task(assignee=NULL, state, due_at)``, one team's tasks ``human_task_team(team, state, due_at)``
(the team rows carry their task's state and due date), several teams' ``human_task(state, due_at)``
with a probe of the team's primary key. Counts stop at
:data:`COUNT_LIMIT`: an inbox says "200+" rather than scanning a million rows to say how many more.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, func, select

from .. import clock
from ..access import Principal, restrict_tasks, task_teams_for
from ..models.access import InstanceEstablishment, Team
from ..models.workflow import HumanTask, HumanTaskTeam, ProcessVersion, TaskState
from .casefile import names_in

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

HT, HTT, IE = HumanTask.__table__, HumanTaskTeam.__table__, InstanceEstablishment.__table__
PAGE_SIZE = 25
COUNT_LIMIT = 200
ALL_TEAMS = "all"


class Tab(StrEnum):
    MINE = "mine"
    TEAMS = "team"
    UNASSIGNED = "unassigned"


class Due(StrEnum):
    ANY = ""
    OVERDUE = "overdue"
    WEEK = "week"  # due in the next 7 days, or overdue


@dataclass(frozen=True)
class InboxFilters:
    """What a person narrowed the inbox to. ``team``: one team, ``all`` (managers) or empty for
    one's own teams. ``pupil``: a UPN or case reference (the business key)."""

    process_id: str = ""
    establishment: str = ""
    pupil: str = ""
    due: Due = Due.ANY
    team: str = ""
    newest_due_first: bool = False
    page: int = 1

    def active(self) -> bool:
        return any((self.process_id, self.establishment, self.pupil, self.due, self.team))


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool  # there are more than COUNT_LIMIT

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


@dataclass
class InboxPage:
    tab: Tab
    filters: InboxFilters
    tasks: list[dict[str, Any]]
    counts: dict[Tab, Count]
    has_next: bool
    teams: tuple[str, ...] | None  # the teams the lists cover (None: every team)
    now: datetime
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # assignees' names

    def process_name(self, process_id: str) -> str:
        return dict(self.options.get("processes", [])).get(process_id, process_id)


def inbox(ctx: Context, principal: Principal, tab: Tab, filters: InboxFilters) -> InboxPage:
    """One page of ``tab`` with the counts of all three tabs, for ``principal``."""
    now = clock.now()
    filters = replace(filters, page=max(1, filters.page))
    teams = scope_teams(principal, filters.team)
    with ctx.db.transaction() as session:
        offset = (filters.page - 1) * PAGE_SIZE
        candidates = _tab_query(principal, tab, teams, filters, now)
        page = _ordered(candidates, filters, _due_column(tab, teams)).limit(PAGE_SIZE + 1).offset(offset)
        rows = list(session.connection().execute(_ordered(_guarded(principal, page), filters)).mappings())
        counts = {t: _count(session, principal, _tab_query(principal, t, teams, filters, now)) for t in Tab}
        tasks = _with_teams(session, [dict(r) for r in rows[:PAGE_SIZE]])
        options = {"processes": process_names(session), "teams": _team_options(session, principal)}
        people = names_in(session, [t["assignee"] for t in tasks if t["assignee"]])
    return InboxPage(tab, filters, tasks, counts, len(rows) > PAGE_SIZE, teams, now, options, people)


def scope_teams(principal: Principal, team: str) -> tuple[str, ...] | None:
    """The teams whose tasks the team and unassigned tabs show (None: every team, for managers)."""
    own = tuple(sorted(task_teams_for(principal)))
    if principal.sees_everything:
        if team == ALL_TEAMS or (not team and not own):
            return None
        return (team,) if team else own
    return (team,) if team in own else own


def _tab_query(
    principal: Principal, tab: Tab, teams: tuple[str, ...] | None, filters: InboxFilters, now: datetime
) -> Select[Any]:
    query = select(HT).where(HT.c.state == TaskState.READY)
    if tab == Tab.MINE:
        query = query.where(HT.c.assignee == principal.username)
    else:
        if teams is not None and len(teams) == 1:  # one team: its own rows, in due order
            query = query.join(HTT, HTT.c.task_id == HT.c.id).where(
                HTT.c.team == teams[0], HTT.c.state == TaskState.READY
            )
            if filters.process_id:  # (team, state, process_id, due_at): one process's, in due order
                query = query.where(HTT.c.process_id == filters.process_id)
        elif teams is not None:
            query = query.where(exists().where(HTT.c.task_id == HT.c.id, HTT.c.team.in_(teams)))
        if tab == Tab.UNASSIGNED:
            query = query.where(HT.c.assignee.is_(None))
    query = _filtered(query, filters, now, _due_column(tab, teams))
    # A tab's own condition is already within what an LA member may see (their tasks, their teams'
    # tasks); a school user's also needs the case to be their school's, so it is restricted here.
    return restrict_tasks(principal, query) if principal.is_school else query


def _due_column(tab: Tab, teams: tuple[str, ...] | None) -> Any:
    """The due date a list is filtered and sorted on: one team's list reads it from the team's rows
    (``human_task_team(team, state, due_at)``), so a page costs a few of that team's index entries."""
    return HTT.c.due_at if tab != Tab.MINE and teams is not None and len(teams) == 1 else HT.c.due_at


def _guarded(principal: Principal, candidates: Select[Any]) -> Select[Any]:
    """The rows of ``candidates`` (a limited query) that ``engine.access.restrict_tasks`` lets
    ``principal`` see. Applied to the page's few rows rather than to the whole projection, so that the
    check costs a primary-key probe per row shown, not a pass over every task of the person's teams."""
    chosen = candidates.with_only_columns(HT.c.id).subquery()
    return restrict_tasks(principal, select(HT).where(HT.c.id.in_(select(chosen.c.id))))


def _filtered(
    query: Select[Any], filters: InboxFilters, now: datetime, due: Any = HT.c.due_at
) -> Select[Any]:
    if filters.process_id:
        query = query.where(HT.c.process_id == filters.process_id)
    if filters.pupil:
        query = query.where(HT.c.business_key == filters.pupil)
    if filters.establishment:
        # as a set of cases (an establishment's few hundred), so the planner can start from them
        query = query.where(
            HT.c.instance_id.in_(select(IE.c.instance_id).where(IE.c.laestab == filters.establishment))
        )
    if filters.due == Due.OVERDUE:
        query = query.where(due <= now)
    elif filters.due == Due.WEEK:
        query = query.where(due < now + timedelta(days=7))
    return query


def _ordered(query: Select[Any], filters: InboxFilters, due: Any = HT.c.due_at) -> Select[Any]:
    # No deadline counts as the latest of all: last when the soonest come first, first otherwise. Both
    # orders are the (state, due_at) and (assignee, state, due_at) indexes read forwards or backwards
    # (PostgreSQL's default), so a page costs a few index entries, however many tasks there are. Equal
    # deadlines come in the index's own order (a tie-breaker column would force a sort of every tie).
    if filters.newest_due_first:
        return query.order_by(due.desc().nulls_first())
    return query.order_by(due.asc().nulls_last())


def _count(session: Session, principal: Principal, query: Select[Any]) -> Count:
    limited = _guarded(principal, query.limit(COUNT_LIMIT + 1)).with_only_columns(HT.c.id).subquery()
    value = session.scalar(select(func.count()).select_from(limited)) or 0
    return Count(min(value, COUNT_LIMIT), value > COUNT_LIMIT)


def _with_teams(session: Session, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {t["id"]: {**t, "teams": []} for t in tasks}
    if by_id:
        rows = session.execute(select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_(list(by_id))))
        for task_id, team in rows:
            by_id[task_id]["teams"].append(team)
    return list(by_id.values())


def process_names(session: Session) -> list[tuple[str, str]]:
    """(process id, name of its latest version) of every deployed process, by name."""
    pv = ProcessVersion.__table__
    latest = (
        select(pv.c.process_id, func.max(pv.c.version).label("version")).group_by(pv.c.process_id).subquery()
    )
    rows = session.execute(
        select(pv.c.process_id, pv.c.name).join(
            latest, (latest.c.process_id == pv.c.process_id) & (latest.c.version == pv.c.version)
        )
    )
    return sorted(((r.process_id, r.name or r.process_id) for r in rows), key=lambda p: p[1].lower())


def _team_options(session: Session, principal: Principal) -> list[tuple[str, str]]:
    """The teams a person may pick: their own; managers any team."""
    names = {row[0]: row[1] for row in session.execute(select(Team.slug, Team.name))}
    slugs = sorted(names) if principal.sees_everything else sorted(task_teams_for(principal))
    return [(slug, names.get(slug, slug)) for slug in slugs]
