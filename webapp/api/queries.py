"""Read-only lists the API needs that the services do not offer yet, narrowed by ``engine.access``.

Nothing here imports Flask or writes: this module can move to ``engine.services`` as it is (tasks to
``tasks.list_visible_tasks``, instances to ``instances.list_instances`` with ``restrict_instances`` in
``engine.access``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from engine import access
from engine.access import Principal
from engine.models.access import InstanceEstablishment
from engine.models.workflow import HumanTask, HumanTaskTeam, ProcessInstance, ProcessVersion
from engine.services import tasks
from engine.services.tasks import TaskQuery, TaskRecord

if TYPE_CHECKING:
    from engine.context import Context

HT, HTT, PI = HumanTask.__table__, HumanTaskTeam.__table__, ProcessInstance.__table__
PV, IE = ProcessVersion.__table__, InstanceEstablishment.__table__


# --- tasks ----------------------------------------------------------------------------------------------


def visible_tasks(ctx: Context, principal: Principal, query: TaskQuery) -> tuple[list[dict[str, Any]], int]:
    """The page of tasks matching ``query`` that ``principal`` may see, and how many match in all."""
    statement = _visible_task_select(principal, query)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
        rows = session.connection().execute(statement.limit(query.limit).offset(query.offset)).mappings()
        records = [TaskRecord(**row) for row in rows]
        _attach_teams(session, records)
    return [record.as_dict() for record in records], total


def _visible_task_select(principal: Principal, query: TaskQuery) -> Select[Any]:
    # The team filter is applied here, on its own alias, so that engine.access's EXISTS clauses
    # (which name human_task_team) correlate with human_task only.
    statement = access.restrict_tasks(principal, tasks._select(replace(query, team=None, teams=None)))
    if query.team:
        offered = HTT.alias("offered")
        statement = statement.where(
            exists().where(offered.c.task_id == HT.c.id, offered.c.team == query.team)
        )
    return statement


def _attach_teams(session: Session, records: list[TaskRecord]) -> None:
    by_id = {record.id: record for record in records}
    if by_id:
        for task_id, team in session.execute(
            select(HTT.c.task_id, HTT.c.team).where(HTT.c.task_id.in_(by_id))
        ):
            by_id[task_id].teams.append(team)


# --- instances ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceQuery:
    process_id: str | None = None
    state: str | None = None
    business_key: str | None = None
    suspended: bool | None = None
    limit: int = 50
    offset: int = 0


_SUMMARY = select(
    PI.c.id,
    PI.c.process_id,
    PV.c.version,
    PI.c.business_key,
    PI.c.state,
    PI.c.suspended,
    PI.c.started_at,
    PI.c.started_by,
    PI.c.ended_at,
    PI.c.error,
).join(PV, PV.c.id == PI.c.process_version_id)


def visible_instances(
    ctx: Context, principal: Principal, query: InstanceQuery
) -> tuple[list[dict[str, Any]], int]:
    """The page of cases matching ``query`` that ``principal`` may see (newest first), and the total."""
    statement = restrict_instances(principal, _filtered(query))
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        ordered = statement.order_by(PI.c.started_at.desc(), PI.c.id.desc())
        rows = session.execute(ordered.limit(query.limit).offset(query.offset)).mappings()
        return [dict(row) for row in rows], total


def _filtered(query: InstanceQuery) -> Select[Any]:
    statement = _SUMMARY
    for column, value in (
        (PI.c.process_id, query.process_id),
        (PI.c.state, query.state),
        (PI.c.business_key, query.business_key),
        (PI.c.suspended, query.suspended),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return statement


def restrict_instances(principal: Principal, statement: Select[Any]) -> Select[Any]:
    """``engine.access.may_see_instance`` as SQL: narrow a select of ``process_instance``."""
    if principal.sees_everything:
        return statement
    if principal.is_school:
        at_school = exists().where(
            IE.c.instance_id == PI.c.id, IE.c.laestab == (principal.establishment or "")
        )
        return statement.where(at_school)
    team_work = exists().where(
        HTT.c.task_id == HT.c.id, HT.c.instance_id == PI.c.id, HTT.c.team.in_(sorted(principal.teams))
    )
    holds_task = exists().where(HT.c.instance_id == PI.c.id, HT.c.assignee == principal.username)
    return statement.where(team_work | holds_task)


def establishments(ctx: Context, instance_id: int) -> list[str]:
    """The LAESTABs of the establishments a case concerns (whose school users may see it)."""
    with ctx.db.transaction() as session:
        return access.establishments_of(session, instance_id)
