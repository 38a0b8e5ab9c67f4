"""Alert use cases: evaluate every enabled rule, simulate a rule over past data, and what follows a
new alert (a process started once per alert, e-mail to the team). Each function owns its transactions.

Alerts are listed, acknowledged and closed in :mod:`engine.services.alert_inbox`; rules are managed in
:mod:`engine.services.alert_rules`.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .. import clock
from ..alerts import notify
from ..alerts import simulate as simulation
from ..alerts.evaluate import Population, evaluate_rules, frame_for, tail_weeks
from ..alerts.inputs import ReadTimer, load_population, load_records, mark_batches
from ..alerts.kinds import Episode
from ..alerts.ledger import Ledger
from ..alerts.rules import Rule, parse_rule
from ..attendance.layout import school_year_of, year_end, year_start
from ..calendar import SchoolCalendar
from ..context import Context
from ..errors import EduCaseError, InvalidInput
from ..models.alerts import (
    Alert,
    AlertEvaluation,
    AlertHistory,
    AlertNotification,
    AlertRecipient,
    AlertRuleRecord,
)
from ..models.attendance import AttendanceImport
from ..models.people import Establishment, Pupil
from .alert_rules import enabled_rules, ensure_default_rules, rule_of
from .attendance import la_calendar
from .instances import latest_version_id, start_in_session

log = logging.getLogger("educase.alerts")
#: Evaluations are serialised: two at once could both raise the same alert.
ALERTS_LOCK = 0x45445543_414C5254  # "EDUCALRT"
SYSTEM_ACTOR = "alerts"


def evaluate(ctx: Context, as_of: date, *, trigger: str = "cli", actor: str | None = None) -> dict[str, Any]:
    """Run every enabled rule as of ``as_of``: raise new alerts, update continuing ones, then start
    the rules' processes and e-mail the teams. Returns what happened, rule by rule, with timings."""
    started_at, started = clock.now(), time.perf_counter()
    with ctx.db.transaction() as session:
        ensure_default_rules(session)
        rules = enabled_rules(session)
        import_id = session.scalar(select(func.max(AttendanceImport.id)))
    try:
        with ctx.db.transaction() as session:
            calendar = la_calendar(ctx, session)
            school_day = calendar.is_school_day(as_of)
            if school_day:
                found, details = find_episodes(ctx, session, rules, calendar, as_of, as_of)
    except EduCaseError as error:  # no calendar for that date...: said once, not retried for that import
        with ctx.db.transaction() as session:
            session.add(AlertEvaluation(as_of=as_of, trigger=trigger, import_id=import_id, started_at=started_at,
                                        finished_at=clock.now(), actor=actor, summary={"error": error.as_dict()}))  # fmt: skip
        raise
    if not school_day:  # no marks that day: every alert stays as it was (none ends for want of marks)
        summary = {"as_of": as_of.isoformat(), "trigger": trigger, "rules": {}, "raised": 0, "updated": 0,
                   "skipped": f"{as_of:%A %d %B %Y} is not a school day in the LA calendar: nothing was "
                              "evaluated and every alert was left as it was."}  # fmt: skip
        with ctx.db.transaction() as session:
            session.add(AlertEvaluation(as_of=as_of, trigger=trigger, import_id=import_id, started_at=started_at,
                                        finished_at=clock.now(), actor=actor, summary=summary))  # fmt: skip
        return summary
    found_at = time.perf_counter()
    with ctx.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALERTS_LOCK})
        ledger = Ledger(session, as_of, clock.now(), calendar, details.get("year_first_day"))
        outcomes = {rule.id: ledger.apply(rule, found[rule.id]) for rule in rules}
        ledger.flush()
        new_ids = [i for o in outcomes.values() for i in o.new_alert_ids]
        summary = {
            "as_of": as_of.isoformat(), "trigger": trigger,
            "rules": {rule_id: o.as_dict() for rule_id, o in outcomes.items()},
            "raised": len(new_ids), "updated": sum(o.updated for o in outcomes.values()),
            "seconds": {"find": round(found_at - started, 2), "read_marks": round(details["read_seconds"], 2),
                        "write": round(time.perf_counter() - found_at, 2)},
        }  # fmt: skip
        session.add(AlertEvaluation(as_of=as_of, trigger=trigger, import_id=import_id, started_at=started_at,
                                    finished_at=clock.now(), actor=actor, summary=summary))  # fmt: skip
    summary["processes"] = start_pending_processes(ctx)
    summary["email"] = email_new_alerts(ctx, new_ids)
    summary["seconds"]["total"] = round(time.perf_counter() - started, 2)
    return summary


def find_episodes(ctx: Context, session: Session, rules: list[Rule], calendar: SchoolCalendar, first: date,
                  horizon: date) -> tuple[dict[str, list[Episode]], dict[str, Any]]:  # fmt: skip
    """Each rule's episodes raised by evaluations from ``first`` to ``horizon`` (one school year)."""
    population = load_population(session, horizon, with_flags=any(r.scope.flags for r in rules))
    laestabs = {i: e.laestab for i, e in population.establishments.items()}
    tail = tail_weeks(rules, calendar, first, horizon)
    frame = frame_for(calendar, first, horizon, tail, 0, lambda i: ctx.calendars.get(laestabs.get(i or -1)))
    empty: dict[str, list[Episode]] = {rule.id: [] for rule in rules}
    if frame is None:
        return empty, {"read_seconds": 0.0, "population": population}
    timeline, timer = frame.timeline, ReadTimer()
    batches = mark_batches(session, timeline.school_year, timeline.first_current > 0, timer)
    records = None
    if any(r.spec.family == "records" for r in rules):
        records = load_records(session, timeline.school_year, horizon, population)
    found = evaluate_rules(rules, frame, population, batches, records)
    return found, {"read_seconds": timer.seconds, "population": population,
                   "year_first_day": timeline.days[timeline.first_current]}  # fmt: skip


def simulate(ctx: Context, data: Any, first: date, last: date) -> dict[str, Any]:
    """How many alerts a new or changed rule would have raised from ``first`` to ``last``, on the data
    as it is now; writes nothing. A rule whose id is stored is compared with the stored version."""
    rule = parse_rule(data)
    if last < first:
        raise InvalidInput(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    with ctx.db.transaction() as session:
        calendar = la_calendar(ctx, session)
        record = session.get(AlertRuleRecord, rule.id)
        current = replace(rule_of(record), id=f"{rule.id}@current") if record is not None else None
        rules = [rule] + ([current] if current is not None else [])
        episodes: dict[str, list[Episode]] = defaultdict(list)
        population: Population | None = None
        for part_first, part_last in _school_year_parts(first, last):
            found, details = find_episodes(ctx, session, rules, calendar, part_first, part_last)
            population = details["population"]
            for rule_id, items in found.items():
                episodes[rule_id] += items
        names = {i: (e.laestab, e.name) for i, e in (population.establishments if population else {}).items()}
        result = simulation.summarise(rule, episodes[rule.id], first, last, names)
        _add_upns(session, result["examples"])
    if current is not None:
        result["stored_version"] = {"version": current.version, "enabled": current.enabled,
                                    "alerts": len(episodes[current.id])}  # fmt: skip
    return result


def _school_year_parts(first: date, last: date) -> list[tuple[date, date]]:
    return [(max(first, year_start(y)), min(last, year_end(y)))
            for y in range(school_year_of(first), school_year_of(last) + 1)]  # fmt: skip


def _add_upns(session: Session, examples: list[dict[str, Any]]) -> None:
    ids = {e["pupil_id"] for e in examples}
    upns = dict(session.execute(select(Pupil.id, Pupil.upn).where(Pupil.id.in_(ids))).all()) if ids else {}
    for example in examples:
        example["upn"] = upns.get(example["pupil_id"])


def imports_since_last_evaluation(ctx: Context) -> bool:
    """Whether an attendance import was applied after the latest evaluation looked."""
    with ctx.db.transaction() as session:
        latest = session.scalar(select(func.max(AttendanceImport.id)))
        seen = session.scalar(select(func.max(AlertEvaluation.import_id)))
    return latest is not None and (seen is None or latest > seen)


# --- what follows a new alert ----------------------------------------------------------------------


def start_pending_processes(ctx: Context) -> dict[str, int]:
    """Start the process of every alert whose rule asks for one and that has none yet: exactly once
    per alert (the alert row is locked and marked in the same transaction as the start)."""
    with ctx.db.transaction() as session:
        pending = list(session.scalars(
            select(Alert.id).where(Alert.process_status == "pending", Alert.state != "closed").order_by(Alert.id)
        ))  # fmt: skip
    started = failed = 0
    for alert_id in pending:
        try:
            started += _start_process(ctx, alert_id)
        except EduCaseError as error:  # not deployed, invalid data...: said on the alert, retried next time
            failed += 1
            with ctx.db.transaction() as session:
                alert = session.get(Alert, alert_id)
                if alert is not None and alert.process_error != error.message:
                    alert.process_error = error.message
                    session.add(AlertHistory(alert_id=alert_id, at=clock.now(), actor=SYSTEM_ACTOR,
                                             action="process_failed", reason=error.message))  # fmt: skip
    return {"started": started, "failed": failed}


def _start_process(ctx: Context, alert_id: int) -> int:
    with ctx.db.transaction() as session:
        alert = session.execute(select(Alert).where(Alert.id == alert_id).with_for_update()).scalar_one()
        if alert.process_status != "pending":
            return 0
        rule = rule_of(session.get(AlertRuleRecord, alert.rule_id))
        start = rule.start_process
        if start is None:
            alert.process_status = None
            return 0
        pupil = session.get(Pupil, alert.pupil_id)
        school = session.get(Establishment, alert.establishment_id) if alert.establishment_id else None
        data = process_data(rule, alert, pupil, school)
        version_id = latest_version_id(ctx, session, start.process)
        opened = start_in_session(ctx, session, version_id, data, pupil.upn if pupil else None, SYSTEM_ACTOR)
        alert.instance_id, alert.process_status, alert.process_error = opened.row.id, "started", None
        session.add(AlertHistory(alert_id=alert.id, at=clock.now(), actor=SYSTEM_ACTOR, action="process_started",
                                 details={"process": start.process, "instance_id": opened.row.id}))  # fmt: skip
        return 1


def process_data(
    rule: Rule, alert: Alert, pupil: Pupil | None, school: Establishment | None
) -> dict[str, Any]:
    """The start data: the rule's ``data``, the pupil, the school, the alert, and ``facts_as`` (for a
    rule without ``start_process``, as when a person starts another process: the pupil, school and alert)."""
    start = rule.start_process
    data: dict[str, Any] = dict(start.data) if start is not None else {}
    if pupil is not None:
        data["pupil"] = {"upn": pupil.upn, "name": pupil.full_name, "first_name": pupil.preferred_forename
                         or pupil.forename, "last_name": pupil.surname,
                         "date_of_birth": pupil.date_of_birth.isoformat()}  # fmt: skip
    if school is not None:
        data["school"] = {"name": school.name, "laestab": school.laestab, "urn": school.urn}
    data["alert"] = {"id": alert.id, "rule": alert.rule_id, "rule_version": alert.rule_version,
                     "summary": alert.summary}  # fmt: skip
    for variable, fact in (start.facts_as if start is not None else {}).items():
        if fact in alert.facts:
            data[variable] = alert.facts[fact]
    return data


def email_new_alerts(ctx: Context, alert_ids: list[int]) -> dict[str, Any]:
    """One e-mail per team for these new alerts, to the team's recipients (when SMTP is configured)."""
    if not alert_ids or not notify.configured(ctx.settings):
        return {"sent": 0, "configured": notify.configured(ctx.settings)}
    with ctx.db.transaction() as session:
        groups, recipients = _digests(session, alert_ids)
    sent, errors, done = 0, {}, {}
    for team, alerts in groups.items():
        if not recipients.get(team):
            continue
        try:
            notify.send(ctx.settings, [notify.message_for(ctx.settings, team, recipients[team], alerts)])
            sent, done[team] = sent + 1, None
        except (OSError, smtplib.SMTPException) as error:
            log.warning("e-mail to team %s failed: %s", team, error)
            errors[team] = done[team] = f"{type(error).__name__}: {error}"
    with ctx.db.transaction() as session:
        for team, error in done.items():
            rows = session.scalars(select(AlertNotification).where(
                AlertNotification.team == team, AlertNotification.alert_id.in_(alert_ids)))  # fmt: skip
            for row in rows:
                row.emailed_at, row.email_error = (clock.now(), None) if error is None else (None, error)
    return {"sent": sent, "configured": True, "errors": errors}


def _digests(
    session: Session, alert_ids: list[int]
) -> tuple[dict[str, list[notify.NewAlert]], dict[str, list[str]]]:
    names = {r.id: r.definition.get("name", r.id) for r in session.scalars(select(AlertRuleRecord))}
    schools = dict(session.execute(select(Establishment.id, Establishment.name)).all())
    groups: dict[str, list[notify.NewAlert]] = defaultdict(list)
    for i in range(0, len(alert_ids), 5000):
        rows = session.execute(select(Alert.id, Alert.team, Alert.rule_id, Alert.establishment_id)
                               .where(Alert.id.in_(alert_ids[i : i + 5000])).order_by(Alert.id))  # fmt: skip
        for alert_id, team, rule_id, establishment_id in rows:
            school = schools.get(establishment_id, "no establishment")
            groups[team].append(notify.NewAlert(alert_id, names.get(rule_id, rule_id), school))
    recipients: dict[str, list[str]] = defaultdict(list)
    for team, email in session.execute(
        select(AlertRecipient.team, AlertRecipient.email).order_by(AlertRecipient.email)
    ):
        recipients[team].append(email)
    return groups, recipients
