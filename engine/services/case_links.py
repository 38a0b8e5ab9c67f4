"""The cases (process instances) about a pupil or an establishment that a person may see, each with
the open tasks of it that this person may open: for the pupil record and the establishment page.

Who may see a case is :func:`engine.access.may_see_instance`, asked with the facts of many cases read
in a few queries (not a few queries per case). Managers open a case's own page; others reach it
through its tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import access
from ..access import Principal
from ..models.access import InstanceEstablishment
from ..models.workflow import HumanTask, HumanTaskTeam, ProcessInstance, ProcessVersion, TaskState

PI, PV = ProcessInstance.__table__, ProcessVersion.__table__
HT, HTT, IE = HumanTask.__table__, HumanTaskTeam.__table__, InstanceEstablishment.__table__
#: At most this many cases are listed on a page about a pupil or an establishment (newest first).
LIST_LIMIT = 100


@dataclass(frozen=True)
class OpenTask:
    id: str
    name: str
    process_id: str
    element: str  # the BPMN element id of the task
    due_at: datetime | None
    assignee: str | None


@dataclass(frozen=True)
class CaseLink:
    instance_id: int
    process_id: str
    process_name: str
    business_key: str | None
    state: str
    suspended: bool
    started_at: datetime
    ended_at: datetime | None
    may_open_case: bool  # the case's own page (managers); others open its tasks
    open_tasks: list[OpenTask] = field(default_factory=list)


@dataclass
class _Facts:
    establishments: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)


def cases_by_business_key(session: Session, principal: Principal, key: str) -> list[CaseLink]:
    """The visible cases whose business key is ``key`` (a pupil's UPN), newest first."""
    ids = session.scalars(
        select(PI.c.id).where(PI.c.business_key == key).order_by(PI.c.started_at.desc()).limit(LIST_LIMIT)
    )
    return visible_cases(session, principal, list(ids))


def cases_at_establishment(
    session: Session, principal: Principal, laestab: str, process_ids: Iterable[str] | None = None
) -> list[CaseLink]:
    """The visible cases concerning an establishment (optionally of some processes), newest first."""
    query = select(PI.c.id).join(IE, IE.c.instance_id == PI.c.id).where(IE.c.laestab == laestab)
    if process_ids is not None:
        query = query.where(PI.c.process_id.in_(sorted(process_ids)))
    ids = session.scalars(query.order_by(PI.c.started_at.desc()).limit(LIST_LIMIT))
    return visible_cases(session, principal, list(ids))


def visible_cases(session: Session, principal: Principal, instance_ids: list[int]) -> list[CaseLink]:
    """The cases among ``instance_ids`` that ``principal`` may see, in the order given."""
    if not instance_ids:
        return []
    facts = _facts(session, instance_ids)
    seen = [i for i in instance_ids if _may_see(principal, facts[i])]
    if not seen:
        return []
    rows = {
        r.id: r
        for r in session.execute(
            select(
                PI.c.id,
                PI.c.process_id,
                PI.c.business_key,
                PI.c.state,
                PI.c.suspended,
                PI.c.started_at,
                PI.c.ended_at,
                PV.c.name,
            )
            .join(PV, PV.c.id == PI.c.process_version_id)
            .where(PI.c.id.in_(seen))
        )
    }
    tasks = _open_tasks(session, principal, seen, facts)
    return [
        CaseLink(
            instance_id=i,
            process_id=rows[i].process_id,
            process_name=rows[i].name or rows[i].process_id,
            business_key=rows[i].business_key,
            state=rows[i].state,
            suspended=rows[i].suspended,
            started_at=rows[i].started_at,
            ended_at=rows[i].ended_at,
            may_open_case=access.may_manage_instance(principal),
            open_tasks=tasks.get(i, []),
        )
        for i in seen
    ]


def _may_see(principal: Principal, facts: _Facts) -> bool:
    return access.may_see_instance(
        principal, establishments=facts.establishments, task_teams=facts.teams, assignees=facts.people
    )


def _facts(session: Session, ids: list[int]) -> dict[int, _Facts]:
    found: dict[int, _Facts] = defaultdict(_Facts)
    for instance_id, laestab in session.execute(
        select(IE.c.instance_id, IE.c.laestab).where(IE.c.instance_id.in_(ids))
    ):
        found[instance_id].establishments.add(laestab)
    teams = (
        select(HT.c.instance_id, HTT.c.team)
        .join(HTT, HTT.c.task_id == HT.c.id)
        .where(HT.c.instance_id.in_(ids))
    )
    for instance_id, team in session.execute(teams.distinct()):
        found[instance_id].teams.add(team)
    people = select(HT.c.instance_id, HT.c.assignee, HT.c.completed_by).where(HT.c.instance_id.in_(ids))
    for instance_id, assignee, completed_by in session.execute(people.distinct()):
        found[instance_id].people.update(name for name in (assignee, completed_by) if name)
    return found


def _open_tasks(
    session: Session, principal: Principal, ids: list[int], facts: dict[int, _Facts]
) -> dict[int, list[OpenTask]]:
    rows = session.execute(
        select(
            HT.c.id,
            HT.c.instance_id,
            HT.c.name,
            HT.c.process_id,
            HT.c.task_spec_id,
            HT.c.due_at,
            HT.c.assignee,
            HT.c.created_at,
            HT.c.state,
        ).where(HT.c.instance_id.in_(ids))
    ).all()
    # Filtered and sorted here, not in SQL: given "state = 'ready'" (and an ORDER BY on due_at), SQLite
    # walks the (state, due_at) index over every open task in the LA (300 ms at 130,000) instead of
    # reading the few task rows of these cases by instance_id.
    rows = sorted(
        (r for r in rows if r.state == TaskState.READY),
        key=lambda r: (r.due_at is None, r.due_at or r.created_at, r.created_at),
    )
    teams: dict[str, list[str]] = defaultdict(list)
    if rows:
        for task_id, team in session.execute(
            select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_([r.id for r in rows]))
        ):
            teams[task_id].append(team)
    found: dict[int, list[OpenTask]] = defaultdict(list)
    for r in rows:
        task: dict[str, Any] = {"teams": teams[r.id], "assignee": r.assignee}
        if access.may_see_task(principal, task, facts[r.instance_id].establishments):
            element = r.task_spec_id.rsplit("/", 1)[-1]
            found[r.instance_id].append(OpenTask(r.id, r.name, r.process_id, element, r.due_at, r.assignee))
    return found
