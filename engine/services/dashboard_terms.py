"""What the managers' dashboard and its lists mean by their words, in one place so that a figure and
the list behind it always agree: who may see them, "at risk" (due by the end of the 5th school day),
overdue, a case's stage, a week, and which alerts a person may count (an alert of a rule scoped to a
shared flag reveals the flag, as ``engine.services.alert_inbox`` says).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, cast, or_, select

from .. import access
from ..access import Principal
from ..calendar import CalendarError, add_working_days
from ..models.access import Team
from ..models.alerts import Alert, AlertRuleRecord, AlertRuleVersion
from ..models.workflow import HumanTask, HumanTaskTeam, InstanceState, ProcessInstance, ProcessVersion, Timer
from ..workflow.deadlines import UK, deadline_instant, uk_today
from .alert_inbox import may_see_alert

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

HT, HTT, PI, TM = HumanTask.__table__, HumanTaskTeam.__table__, ProcessInstance.__table__, Timer.__table__
AL, ARV, PV = Alert.__table__, AlertRuleVersion.__table__, ProcessVersion.__table__
AT_RISK_SCHOOL_DAYS = 5
NO_ESTABLISHMENT = "none"
#: Stages of open cases without an open task: ``state:<instance state>``.
STATE_STAGE = "state:"
STAGE_STATES = {
    InstanceState.WAITING: "Waiting for a date or message",
    InstanceState.ERROR: "Stopped with an error",
    InstanceState.RUNNING: "Running",
}


class Due:
    """The deadline filters of the task and timer lists."""

    OVERDUE = "overdue"
    AT_RISK = "at_risk"


@dataclass(frozen=True)
class Horizon:
    """The end of the window "at risk in the next 5 school days": ``day`` is the 5th school day after
    today, ``instant`` the moment it ends (00:00 UK time the next day, as deadline days end).
    ``school_days`` is False when no calendar covers the days, and working days were counted."""

    today: date
    day: date
    instant: datetime
    school_days: bool


def require_manager(principal: Principal) -> None:
    access.require(access.may_enter(principal, "manage"), "page")


# --- shared conditions (the lists use them too) --------------------------------------------------------


def deadline_horizon(ctx: Context, session: Session, now: datetime) -> Horizon:
    """Today and the 5th school day after it (working days when no school calendar covers them)."""
    today = uk_today(now)
    ctx.calendars.refresh(session)
    try:
        day, school = ctx.calendars.get().add_school_days(today, AT_RISK_SCHOOL_DAYS), True
    except CalendarError:
        day, school = add_working_days(today, AT_RISK_SCHOOL_DAYS), False
    return Horizon(today, day, deadline_instant(day), school)


def task_due_condition(due: str, now: datetime, horizon: Horizon, column: Any = HT.c.due_at) -> Any:
    """Overdue: due now or before (as the inbox counts it). At risk: due after now, by the horizon.
    ``column`` is the task's due date, or its copy on the team's rows (``human_task_team.due_at``)."""
    if due == Due.OVERDUE:
        return column <= now
    return and_(column > now, column <= horizon.instant)


def timer_at_risk_condition(now: datetime, horizon: Horizon) -> Any:
    return and_(TM.c.state == "waiting", TM.c.due_at > now, TM.c.due_at <= horizon.instant)


def stage_of(stage: str) -> tuple[str, str]:
    """("task", BPMN id) or ("state", instance state) for a stage key."""
    if stage.startswith(STATE_STAGE):
        return "state", stage.removeprefix(STATE_STAGE)
    return "task", stage


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The UTC instants a UK week (Monday 00:00 to the next Monday 00:00) starts and ends at."""
    return _uk_midnight(monday), _uk_midnight(monday + timedelta(days=7))


def visible_scope_texts(session: Session, principal: Principal, condition: Any) -> list[str]:
    """The stored ``scope_flags`` values of alerts matching ``condition`` that ``principal`` may see
    (a rule scoped to a shared flag reveals it): few distinct values, checked in Python."""
    texts = session.scalars(select(cast(AL.c.scope_flags, String)).where(condition).distinct())
    return [t for t in texts if may_see_scope(principal, t)]


def scope_text() -> Any:
    return cast(AL.c.scope_flags, String)


def scoped_rules(session: Session) -> list[str]:
    """The rules any version of which is scoped to shared flags (only CLA pupils, say): only their
    alerts can reveal a flag, so only theirs need checking one by one."""
    definitions = session.execute(select(ARV.c.rule_id, ARV.c.definition)).all()
    definitions += session.execute(select(AlertRuleRecord.id, AlertRuleRecord.definition)).all()
    return sorted({rule_id for rule_id, d in definitions if _flags_in_scope(d)})


def alert_visibility(session: Session, principal: Principal, conditions: list[Any]) -> list[Any]:
    """Conditions keeping, among the alerts matching ``conditions``, those ``principal`` may see."""
    scoped = scoped_rules(session)
    if not scoped:
        return []
    visible = visible_scope_texts(session, principal, and_(*conditions, AL.c.rule_id.in_(scoped)))
    return [or_(AL.c.rule_id.not_in(scoped), scope_text().in_(visible))]


def team_names(session: Session) -> dict[str, str]:
    return {slug: name for slug, name in session.execute(select(Team.slug, Team.name))}


def rule_names(session: Session) -> dict[str, str]:
    return {r.id: r.definition.get("name", r.id) for r in session.scalars(select(AlertRuleRecord))}


def stage_names(session: Session) -> dict[tuple[str, str], str]:
    """(process id, task id) -> the task's name, as the latest deployed version of each process has it
    (a called process's tasks under that process)."""
    names: dict[tuple[str, str], str] = {}
    for (meta,) in session.execute(select(PV.c.task_meta).order_by(PV.c.process_id, PV.c.version)):
        for owner, owned in (meta or {}).items():
            names.update({(owner, task_id): m.get("name") or task_id for task_id, m in owned.items()})
    return names


# --- helpers --------------------------------------------------------------------------------------------


def _flags_in_scope(definition: Any) -> bool:
    scope = definition.get("scope") if isinstance(definition, dict) else None
    return isinstance(scope, dict) and bool(scope.get("flags"))


def may_see_scope(principal: Principal, stored: str | None) -> bool:
    flags = json.loads(stored) if stored else []
    return may_see_alert(principal, "", flags) if flags else True


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UK).astimezone(UTC)
