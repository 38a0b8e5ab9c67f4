"""Working with alerts: the teams' lists and inboxes, one alert with its history, and its lifecycle
(open -> acknowledged -> actioned -> closed; closing and actioning need a reason).

Who sees what (``principal`` None: the system, e.g. the CLI, sees everything): managers and
administrators every alert; caseworkers their teams' alerts; school users none. An alert raised by a
rule scoped to a shared flag (only CLA pupils, say) reveals that flag, so it is shown only to those who
may see the flag; the pupil's flags in any alert are filtered the same way (engine.access).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from .. import clock
from ..access import Principal, require, visible_flags
from ..context import Context
from ..errors import Conflict, InvalidInput
from ..models.alerts import (
    Alert,
    AlertHistory,
    AlertNotification,
    AlertRecipient,
    AlertRuleRecord,
    AlertState,
)
from ..models.people import Establishment, Pupil, PupilFlag

#: Which states each state may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    AlertState.OPEN: (AlertState.ACKNOWLEDGED, AlertState.CLOSED),
    AlertState.ACKNOWLEDGED: (AlertState.ACTIONED, AlertState.CLOSED),
    AlertState.ACTIONED: (AlertState.CLOSED,),
    AlertState.CLOSED: (),
}
NEEDS_REASON = (AlertState.ACTIONED, AlertState.CLOSED)
#: A ``state`` filter of :func:`list_alerts`: every alert not closed.
ACTIVE = "active"


def may_see_alert(principal: Principal | None, team: str, scope_flags: list[Any]) -> bool:
    """The access rule above, for one alert."""
    if principal is None:
        return True
    if scope_flags and not visible_flags(principal, scope_flags):
        return False
    return principal.sees_everything or (not principal.is_school and team in principal.teams)


def list_alerts(
    ctx: Context, *, principal: Principal | None = None, team: str | None = None, state: str | None = None,
    rule_id: str | None = None, upn: str | None = None, laestab: str | None = None, with_facts: bool = False,
    limit: int = 100, offset: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """Alerts, newest first, with the pupil, the establishment and the rule's name. ``state`` may also
    be ``active`` (open, acknowledged or actioned); ``with_facts`` adds each alert's facts."""
    if state is not None and state not in (*AlertState.ALL, ACTIVE):
        raise InvalidInput(f"state {state!r} is not one of: {', '.join((*AlertState.ALL, ACTIVE))}")
    conditions = _conditions(principal, team, state, rule_id, upn, laestab)
    query = _listing().where(*conditions)
    with ctx.db.transaction() as session:
        # counted on the alert table alone: joining a quarter of a million pupils only to count is slow
        total = session.scalar(select(func.count()).select_from(Alert).where(*conditions))
        rows = session.execute(query.order_by(Alert.id.desc()).limit(limit).offset(offset)).all()
        flags = flags_of(session, {r.Alert.pupil_id for r in rows}, clock.now().date())
        names = _rule_names(session)
    items = [
        {**_row(r, names, flags, principal), **({"facts": r.Alert.facts} if with_facts else {})}
        for r in rows
        if may_see_alert(principal, r.Alert.team, r.Alert.scope_flags)
    ]
    return {"total": total, "offset": offset, "alerts": items}


def _conditions(
    principal: Principal | None, team: str | None, state: str | None, rule_id: str | None, upn: str | None,
    laestab: str | None,
) -> list[Any]:  # fmt: skip
    """The filters of :func:`list_alerts` as conditions on the alert table."""
    conditions: list[Any] = [column == value for column, value in ((Alert.team, team), (Alert.rule_id, rule_id))
                             if value is not None]  # fmt: skip
    if upn is not None:
        conditions.append(Alert.pupil_id.in_(select(Pupil.id).where(Pupil.upn == upn)))
    if laestab is not None:
        conditions.append(
            Alert.establishment_id.in_(select(Establishment.id).where(Establishment.laestab == laestab))
        )
    if state is not None:
        conditions.append(Alert.state != AlertState.CLOSED if state == ACTIVE else Alert.state == state)
    if principal is not None and not principal.sees_everything:
        conditions.append(false() if principal.is_school else Alert.team.in_(sorted(principal.teams)))
    return conditions


def flags_of(session: Session, pupil_ids: set[int], day: date) -> dict[int, list[dict[str, Any]]]:
    """The shared flags active on ``day`` of some pupils: ``{pupil_id: [{"flag", "visible_to"}]}``."""
    found: dict[int, list[dict[str, Any]]] = {}
    ids = sorted(pupil_ids)
    for i in range(0, len(ids), 5000):
        query = select(PupilFlag.pupil_id, PupilFlag.flag, PupilFlag.visible_to).where(
            PupilFlag.pupil_id.in_(ids[i : i + 5000]),
            PupilFlag.start_date <= day,
            (PupilFlag.end_date.is_(None)) | (PupilFlag.end_date >= day),
        )
        for pupil_id, flag, visible_to in session.execute(query):
            found.setdefault(pupil_id, []).append({"flag": flag, "visible_to": list(visible_to or [])})
    return found


def _listing() -> Select[Any]:
    return (
        select(Alert, Pupil.upn, Pupil.forename, Pupil.preferred_forename, Pupil.surname, Establishment.laestab,
               Establishment.name.label("establishment_name"))
        .join(Pupil, Pupil.id == Alert.pupil_id)
        .outerjoin(Establishment, Establishment.id == Alert.establishment_id)
    )  # fmt: skip


def _row(row: Any, names: dict[str, str], flags: dict[int, list[dict[str, Any]]],
         principal: Principal | None) -> dict[str, Any]:  # fmt: skip
    a: Alert = row.Alert
    pupil_flags = flags.get(a.pupil_id, [])
    shown = pupil_flags if principal is None else visible_flags(principal, pupil_flags)
    return {
        "id": a.id, "rule_id": a.rule_id, "rule_version": a.rule_version, "rule_name": names.get(a.rule_id),
        "team": a.team, "state": a.state, "summary": a.summary, "episode": a.episode,
        "upn": row.upn, "pupil": f"{row.preferred_forename or row.forename} {row.surname}",
        "enrolment_id": a.enrolment_id, "laestab": row.laestab, "establishment": row.establishment_name,
        "flags": sorted({f["flag"] for f in shown}),
        "condition": {"start": a.condition_start.isoformat(), "met": a.condition_met.isoformat(),
                      "last": a.condition_last.isoformat(), "ongoing": a.ongoing},
        "first_seen": a.first_seen.isoformat(), "last_seen": a.last_seen.isoformat(),
        "instance_id": a.instance_id, "process_status": a.process_status, "process_error": a.process_error,
        "state_reason": a.state_reason, "state_changed_by": a.state_changed_by,
    }  # fmt: skip


def _rule_names(session: Session) -> dict[str, str]:
    return {r.id: r.definition.get("name", r.id) for r in session.scalars(select(AlertRuleRecord))}


def show_alert(ctx: Context, alert_id: int, principal: Principal | None = None) -> dict[str, Any]:
    """One alert with its facts, history and notifications."""
    with ctx.db.transaction() as session:
        row = session.execute(_listing().where(Alert.id == alert_id)).first()
        require(row is not None and may_see_alert(principal, row.Alert.team, row.Alert.scope_flags), "alert")
        assert row is not None
        item = _row(
            row, _rule_names(session), flags_of(session, {row.Alert.pupil_id}, clock.now().date()), principal
        )
        history = session.scalars(
            select(AlertHistory).where(AlertHistory.alert_id == alert_id).order_by(AlertHistory.id)
        )
        notes = session.scalars(select(AlertNotification).where(AlertNotification.alert_id == alert_id))
        alert: Alert = row.Alert
        item["facts"] = alert.facts
        raised = {"at": alert.created_at.isoformat(), "actor": None, "action": "raised", "from": None,
                  "to": AlertState.OPEN, "reason": None,
                  "details": {"rule_version": alert.rule_version, "episode": alert.episode,
                              "as_of": alert.first_seen.isoformat()}}  # fmt: skip
        item["history"] = [raised] + [
            {"at": h.at.isoformat(), "actor": h.actor, "action": h.action, "from": h.from_state, "to": h.to_state,
             "reason": h.reason, "details": h.details} for h in history
        ]  # fmt: skip
        item["notifications"] = [{"team": n.team, "event": n.event, "read_at": n.read_at and n.read_at.isoformat(),
                                  "emailed_at": n.emailed_at and n.emailed_at.isoformat(),
                                  "email_error": n.email_error} for n in notes]  # fmt: skip
    return item


def change_state(ctx: Context, alert_id: int, to_state: str, *, actor: str, reason: str | None = None,
                 principal: Principal | None = None) -> dict[str, Any]:  # fmt: skip
    """Move an alert on its lifecycle; refuses a move the lifecycle does not allow, and actioning or
    closing without a reason."""
    if to_state not in AlertState.ALL:
        raise InvalidInput(f"state {to_state!r} is not one of: {', '.join(AlertState.ALL)}")
    reason = (reason or "").strip() or None
    if to_state in NEEDS_REASON and not reason:
        raise InvalidInput(f"an alert is {to_state} with a reason: say what was done or why", field="reason")
    with ctx.db.transaction() as session:
        alert = session.execute(
            select(Alert).where(Alert.id == alert_id).with_for_update()
        ).scalar_one_or_none()
        require(alert is not None and may_see_alert(principal, alert.team, alert.scope_flags), "alert")
        assert alert is not None
        if to_state not in TRANSITIONS[alert.state]:
            allowed = ", ".join(TRANSITIONS[alert.state]) or "nothing (it is closed)"
            raise Conflict(f"alert {alert_id} is {alert.state}: it can move to {allowed}, not {to_state}",
                           state=alert.state)  # fmt: skip
        now = clock.now()
        session.add(AlertHistory(alert_id=alert.id, at=now, actor=actor, action=to_state, from_state=alert.state,
                                 to_state=to_state, reason=reason))  # fmt: skip
        alert.state, alert.state_reason, alert.state_changed_by, alert.state_changed_at = (
            to_state,
            reason,
            actor,
            now,
        )
        if to_state == AlertState.CLOSED and alert.process_status == "pending":
            alert.process_status = None  # closed before its process could start: do not start it
        alert.updated_at = now
    return show_alert(ctx, alert_id, principal)


def team_inbox(ctx: Context, team: str, *, unread_only: bool = True, principal: Principal | None = None,
               limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    """A team's alert notifications, newest first (the in-app inbox)."""
    query = (
        select(AlertNotification, Alert.summary, Alert.state, Alert.team, Alert.scope_flags, Alert.rule_id)
        .join(Alert, Alert.id == AlertNotification.alert_id)
        .where(AlertNotification.team == team)
        .order_by(AlertNotification.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(AlertNotification.read_at.is_(None))
    with ctx.db.transaction() as session:
        rows = session.execute(query).all()
    return [
        {"id": n.id, "alert_id": n.alert_id, "event": n.event, "rule_id": rule_id, "summary": summary,
         "state": state, "created_at": n.created_at.isoformat(), "read_at": n.read_at and n.read_at.isoformat()}
        for n, summary, state, alert_team, scope_flags, rule_id in rows
        if may_see_alert(principal, alert_team, scope_flags)
    ]  # fmt: skip


def mark_read(ctx: Context, notification_ids: list[int], actor: str) -> int:
    """Mark inbox notifications read; returns how many changed."""
    with ctx.db.transaction() as session:
        rows = session.scalars(select(AlertNotification).where(
            AlertNotification.id.in_(notification_ids), AlertNotification.read_at.is_(None))).all()  # fmt: skip
        for row in rows:
            row.read_at, row.read_by = clock.now(), actor
        return len(rows)


def set_recipients(ctx: Context, team: str, add: list[str], remove: list[str]) -> list[str]:
    """Change the e-mail addresses that receive a team's alerts; returns them all."""
    for email in add:
        if "@" not in email or any(c.isspace() for c in email):
            raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    with ctx.db.transaction() as session:
        present = set(session.scalars(select(AlertRecipient.email).where(AlertRecipient.team == team)))
        for email in set(add) - present:
            session.add(AlertRecipient(team=team, email=email, added_at=clock.now()))
        for email in set(remove) & present:
            session.delete(session.get(AlertRecipient, (team, email)))
        return sorted((present | set(add)) - set(remove))
