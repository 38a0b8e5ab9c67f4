"""The alert pages: a team's list with filters and a tab per team, one alert with what can be done
about it, and starting a case from an alert (the pupil's UPN as business key).

Who sees which alert is :func:`engine.services.alert_inbox.may_see_alert`: managers every alert,
caseworkers their teams' (and never one whose rule is scoped to a flag they may not see), school users
none. Moving an alert on its lifecycle is :func:`engine.services.alert_inbox.change_state`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .. import access, clock
from ..access import Principal
from ..errors import Conflict, InvalidInput
from ..models.access import Team
from ..models.alerts import Alert, AlertHistory, AlertRuleRecord, AlertState
from ..models.people import Establishment, Pupil
from ..models.workflow import ProcessVersion
from . import audit
from .alert_inbox import ACTIVE, TRANSITIONS, list_alerts, may_see_alert, show_alert
from .alert_rules import rule_of
from .alerts import process_data
from .case_links import CaseLink, visible_cases
from .casefile import names_in
from .instances import latest_version_id, start_in_session

if TYPE_CHECKING:
    from ..context import Context

PAGE_SIZE = 25
STATE_FILTERS = {ACTIVE: "Not closed", **{s: s.capitalize() for s in AlertState.ALL}, "any": "Any state"}
ALL_TEAMS = ""


@dataclass(frozen=True)
class AlertLine:
    """An alert as a pupil's record and an establishment's page list it."""

    id: int
    rule_name: str
    summary: str
    state: str
    team: str
    upn: str | None
    pupil: str
    laestab: str | None
    establishment: str | None
    first_seen: date
    ongoing: bool
    instance_id: int | None
    raised_at: datetime


@dataclass(frozen=True)
class AlertFilters:
    team: str = ALL_TEAMS
    rule_id: str = ""
    laestab: str = ""
    state: str = ACTIVE
    page: int = 1


@dataclass
class AlertInbox:
    filters: AlertFilters
    tabs: list[tuple[str, str, int]]  # (team slug or "" for all, name, alerts not closed)
    alerts: list[dict[str, Any]]
    total: int
    has_next: bool
    rules: list[tuple[str, str]] = field(default_factory=list)
    schools: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class AlertPage:
    alert: dict[str, Any]
    moves: tuple[str, ...]  # the states it may move to now
    case: CaseLink | None  # the case started for it, if this person may see it
    suggested_process: str | None  # the process its rule names, if deployed and startable
    processes: list[tuple[str, str]]  # (id, name) of the processes a case may be started with
    people: dict[str, str] = field(default_factory=dict)

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


# --- lists ------------------------------------------------------------------------------------------


def alert_lines(
    session: Session, principal: Principal, *where: ColumnElement[bool], limit: int = 200
) -> list[AlertLine]:
    """The alerts matching ``where`` that ``principal`` may see, newest first (in the caller's
    transaction)."""
    rows = session.execute(
        select(
            Alert,
            Pupil.upn,
            Pupil.forename,
            Pupil.preferred_forename,
            Pupil.surname,
            Establishment.laestab,
            Establishment.name,
        )
        .join(Pupil, Pupil.id == Alert.pupil_id)
        .outerjoin(Establishment, Establishment.id == Alert.establishment_id)
        .where(*where)
        .order_by(Alert.id.desc())
        .limit(limit)
    ).all()
    visible = [r for r in rows if may_see_alert(principal, r.Alert.team, r.Alert.scope_flags)]
    names = _rule_names(session, {r.Alert.rule_id for r in visible})
    return [
        AlertLine(
            a.id,
            names.get(a.rule_id, a.rule_id),
            a.summary,
            a.state,
            a.team,
            upn,
            f"{preferred or forename} {surname}",
            laestab,
            name,
            a.first_seen,
            a.ongoing,
            a.instance_id,
            a.created_at,
        )
        for a, upn, forename, preferred, surname, laestab, name in visible
    ]


def alert_inbox(ctx: Context, principal: Principal, filters: AlertFilters) -> AlertInbox:
    """A page of the alerts a person's teams look after (managers: every team), with the tabs' counts."""
    access.require(access.may_enter(principal, "tasks"), "page")
    with ctx.db.transaction() as session:
        counts = _active_counts(session, principal)
        teams = _teams(session, principal, set(counts))
        rules = sorted(_rule_names(session).items(), key=lambda item: item[1])
        schools = [
            tuple(r)
            for r in session.execute(
                select(Establishment.laestab, Establishment.name).order_by(Establishment.name)
            )
        ]
    team = filters.team if filters.team in teams else ALL_TEAMS
    filters = replace(filters, team=team, page=max(1, filters.page))
    found = list_alerts(
        ctx,
        principal=principal,
        team=team or None,
        state=None if filters.state == "any" else filters.state,
        rule_id=filters.rule_id or None,
        laestab=filters.laestab or None,
        with_facts=True,
        limit=PAGE_SIZE,
        offset=(filters.page - 1) * PAGE_SIZE,
    )
    tabs = [(ALL_TEAMS, "All teams" if principal.sees_everything else "All my teams", sum(counts.values()))]
    tabs += [(slug, name, counts.get(slug, 0)) for slug, name in teams.items()]
    return AlertInbox(
        filters,
        tabs,
        found["alerts"],
        found["total"],
        filters.page * PAGE_SIZE < found["total"],
        rules,
        schools,
    )


def _teams(session: Session, principal: Principal, with_alerts: set[str]) -> dict[str, str]:
    """The teams whose tabs this person sees: their own; for managers every team, every team a rule
    alerts and every team with alerts not closed (``with_alerts``)."""
    names = dict(session.execute(select(Team.slug, Team.name)).all())
    if principal.sees_everything:
        rule_teams = {
            r.definition.get("action", {}).get("team") for r in session.scalars(select(AlertRuleRecord))
        }
        slugs = set(names) | rule_teams | with_alerts
    else:
        slugs = set(principal.teams)
    return {
        slug: names.get(slug, slug.replace("_", " ").capitalize()) for slug in sorted(s for s in slugs if s)
    }


def _active_counts(session: Session, principal: Principal) -> Counter[str]:
    """Alerts not closed, per team, that this person may see. Counted per team from the (team, state)
    index alone; the few alerts of rules scoped to a flag are then looked at one by one."""
    counts: Counter[str] = Counter()
    query = select(Alert.team, func.count()).where(Alert.state != AlertState.CLOSED).group_by(Alert.team)
    for team, count in session.execute(query):
        if may_see_alert(principal, team, []):
            counts[team] += count
    scoped = [
        r.id
        for r in session.scalars(select(AlertRuleRecord))
        if (r.definition.get("scope") or {}).get("flags")
    ]
    if scoped:
        flagged = select(Alert.team, Alert.scope_flags).where(
            Alert.state != AlertState.CLOSED, Alert.rule_id.in_(scoped)
        )
        for team, flags in session.execute(flagged):
            counts[team] += may_see_alert(principal, team, flags) - may_see_alert(principal, team, [])
    return +counts


def _rule_names(session: Session, ids: set[str] | None = None) -> dict[str, str]:
    query = select(AlertRuleRecord)
    if ids is not None:
        query = query.where(AlertRuleRecord.id.in_(sorted(ids)))
    return {r.id: r.definition.get("name", r.id) for r in session.scalars(query)}


# --- one alert --------------------------------------------------------------------------------------


def alert_page(ctx: Context, principal: Principal, alert_id: int) -> AlertPage:
    """One alert (NotFound if this person may not see it) with its facts, history, possible moves and
    the processes a case may be started with."""
    access.require(access.may_enter(principal, "tasks"), "alert")
    item = show_alert(ctx, alert_id, principal)
    with ctx.db.transaction() as session:
        processes = startable_processes(session)
        suggested = _suggested(session, item["rule_id"], processes)
        cases = visible_cases(session, principal, [item["instance_id"]]) if item["instance_id"] else []
        actors = [h["actor"] for h in item["history"] if h["actor"]] + [item["state_changed_by"] or ""]
        people = names_in(session, actors)
    return AlertPage(
        item,
        TRANSITIONS[item["state"]],
        cases[0] if cases else None,
        suggested,
        sorted(processes.items(), key=lambda p: (p[0] != suggested, p[1])),
        people,
    )


def startable_processes(session: Session) -> dict[str, str]:
    """Deployed processes a case can be started with from an alert (not those that need a start form),
    by id, with their names."""
    pv = ProcessVersion.__table__
    latest = (
        select(pv.c.process_id, func.max(pv.c.version).label("version")).group_by(pv.c.process_id).subquery()
    )
    rows = session.execute(
        select(pv.c.process_id, pv.c.name, pv.c.start_form_ref).join(
            latest, (latest.c.process_id == pv.c.process_id) & (latest.c.version == pv.c.version)
        )
    )
    return {pid: name or pid for pid, name, form in rows if not form}


def _suggested(session: Session, rule_id: str, processes: dict[str, str]) -> str | None:
    record = session.get(AlertRuleRecord, rule_id)
    start = rule_of(record).start_process if record is not None else None
    return start.process if start is not None and start.process in processes else None


def start_case(ctx: Context, principal: Principal, alert_id: int, process_id: str) -> int:
    """Start ``process_id`` for the alert's pupil (business key: the UPN) with the rule's start data
    when it is the rule's process, and file it on the alert; returns the new case's id. Refused for a
    closed alert, or one that already has its case."""
    access.require(access.may_enter(principal, "tasks"), "alert")
    with ctx.db.transaction() as session:
        alert = session.execute(
            select(Alert).where(Alert.id == alert_id).with_for_update()
        ).scalar_one_or_none()
        access.require(alert is not None and may_see_alert(principal, alert.team, alert.scope_flags), "alert")
        assert alert is not None
        _check_can_start(session, alert, process_id)
        rule = rule_of(session.get(AlertRuleRecord, alert.rule_id))
        if rule.start_process is None or rule.start_process.process != process_id:
            rule = replace(rule, start_process=None)
        pupil = session.get(Pupil, alert.pupil_id)
        school = session.get(Establishment, alert.establishment_id) if alert.establishment_id else None
        data = process_data(rule, alert, pupil, school)
        version_id = latest_version_id(ctx, session, process_id)
        opened = start_in_session(
            ctx, session, version_id, data, pupil.upn if pupil else None, principal.username
        )
        alert.instance_id, alert.process_status, alert.process_error = opened.row.id, "started", None
        alert.updated_at = clock.now()
        session.add(
            AlertHistory(
                alert_id=alert.id,
                at=clock.now(),
                actor=principal.username,
                action="process_started",
                details={"process": process_id, "instance_id": opened.row.id},
            )
        )
        details = {"process_id": process_id, "alert_id": alert.id}
        audit.record(session, principal, "start", "instance", opened.row.id, details)
        return opened.row.id


def _check_can_start(session: Session, alert: Alert, process_id: str) -> None:
    if alert.state == AlertState.CLOSED:
        raise Conflict(f"Alert {alert.id} is closed: a case cannot be started from it.")
    if alert.instance_id is not None:
        raise Conflict(f"Alert {alert.id} already has its case (case {alert.instance_id}).")
    if process_id not in startable_processes(session):
        raise InvalidInput("Choose the process to start", field="process")
