"""The school portal: the cases a school may start, with its own establishment written into them.

Schools start the processes in :data:`PORTAL_PROCESSES` only, always about their own school (the API
uses :func:`school_start_data` too). Through the portal's pages they start them about one pupil on
their roll, with a form whose identifying answers come from the LA's records (:mod:`engine.portal.actions`):

* **referral** (absence_referral) and **exclusion** (exclusion_review): the process's start form;
* **ap_request** (ap_placement): the process has no start form, its first task is the request, which
  the school may complete: the case is started with the pupil and school, and the request completed
  at once as the school;
* **deletion** (may start cme_enquiry): see :mod:`engine.services.school_returns`.

A notification about a pupil who already has an open exclusion_review case starts a new case with the
same business key (the pupil's UPN), so the LA finds them together; the process accepts no message
that could add a suspension to a running case, and each notification has its own deadlines. The
suspensions the school already notified this school year are filled in on the new form, for the
45-school-day check.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import access
from ..access import Principal
from ..calendar import CalendarError
from ..episodes.lookup import today_in
from ..errors import ConfigurationError, NotFound
from ..forms import FormDefinition
from ..models.access import InstanceEstablishment
from ..models.workflow import InstanceState, ProcessInstance
from ..portal.actions import ACTIONS, Action, Path, RollPupil, School, completed, forced, prefilled, read_only
from . import audit, casefile, casework
from .instances import establishments_in, latest_version_id, start_in_session
from .school_roll import pupil_on_roll

if TYPE_CHECKING:
    from ..context import Context

#: Process id → path of the school's LAESTAB in its start data (one of
#: ``engine.services.instances.ESTABLISHMENT_PATHS``).
PORTAL_PROCESSES: dict[str, tuple[str, ...]] = {
    "absence_referral": ("school", "laestab"),
    "exclusion_review": ("pupil", "school_laestab"),
    "cme_enquiry": ("school", "laestab"),
    "ap_placement": ("home_school", "laestab"),
}
#: The portal actions that start a case here (the deletion return is a school return).
CASE_ACTIONS = ("referral", "exclusion", "ap_request")
PI, IE = ProcessInstance.__table__, InstanceEstablishment.__table__
EARLIER_CASES_READ = 20


@dataclass(frozen=True)
class EarlierCase:
    instance_id: int
    business_key: str | None
    state: str
    started_at: datetime


@dataclass(frozen=True)
class ActionForm:
    """The form of an action about one pupil, with the answers filled in from the records."""

    action: str
    pupil: RollPupil
    school: School
    form: FormDefinition  # its UI schema shows the fixed answers read-only
    data: dict[str, Any]
    fixed: list[Path]
    open_cases: list[EarlierCase] = field(default_factory=list)  # this process, this pupil, still open


@dataclass(frozen=True)
class Sent:
    instance_id: int
    business_key: str | None
    pupil_name: str
    next_task_id: str | None = None  # a task of the school's to do now


# --- which processes, about which school --------------------------------------------------------------


def offers(process_id: str) -> bool:
    """Whether schools may start ``process_id``."""
    return process_id in PORTAL_PROCESSES


def with_establishment(process_id: str, data: dict[str, Any], laestab: str) -> dict[str, Any]:
    """A copy of ``data`` with the school's LAESTAB at the place the process reads it."""
    result = copy.deepcopy(data)
    *parents, name = PORTAL_PROCESSES[process_id]
    node = result
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[name] = laestab
    return result


def school_start_data(
    principal: Principal, process_id: str, data: dict[str, Any], *, version: int | None = None
) -> dict[str, Any]:
    """The start data of a case a school user starts: only a portal process (its latest version), with
    their establishment written in, over anything they sent. Others' data are returned as they are."""
    if not principal.is_school:
        return dict(data)
    access.require(offers(process_id) and version is None, "process")
    result = with_establishment(process_id, data, principal.establishment or "")
    access.require_role(
        access.may_see_instance(principal, establishments=establishments_in(result), task_teams=()),
        "start a case that does not concern your school",
    )
    return result


# --- the portal's forms -------------------------------------------------------------------------------


def action_form(ctx: Context, principal: Principal, key: str, pupil_id: int) -> ActionForm:
    """The form of action ``key`` about a pupil on the school user's roll."""
    action = _action(key)
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        pupil, school = pupil_on_roll(session, principal, pupil_id, today)
        form = _form_of(ctx, session, action)
        extra = {"placement_ref": _next_placement_ref(session, today)} if action.key == "ap_request" else {}
        data, fixed = prefilled(action, pupil, school, today, extra)
        earlier = _earlier_cases(session, action, pupil, school) if action.process_id else []
        if action.key == "exclusion":
            data = {**data, **_suspensions_notified(ctx, session, earlier, today)}
    shown = FormDefinition(
        form.ref, form.schema, read_only(form.ui_schema, fixed, action.hidden), form.ui_ref
    )
    still_open = [case for case in earlier if case.state not in InstanceState.FINISHED]
    return ActionForm(action.key, pupil, school, shown, data, fixed, still_open)


def send(ctx: Context, principal: Principal, key: str, pupil_id: int, answers: dict[str, Any]) -> Sent:
    """Start the case of action ``key`` about a pupil on the school's roll, with ``answers`` (checked
    by the process's form; the answers fixed from the records are put back whatever was sent)."""
    action = _action(key)
    if key not in CASE_ACTIONS or action.process_id is None:
        raise NotFound("There is no such page.")
    shown = action_form(ctx, principal, key, pupil_id)
    data = forced(completed(action, answers), shown.data, shown.fixed)
    data = school_start_data(principal, action.process_id, data)
    if key == "ap_request":
        return _request_placement(ctx, principal, shown, data)
    with ctx.db.transaction() as session:
        started = start_for_school(ctx, session, principal, action.process_id, data, shown.pupil.upn, key)
    return Sent(started.instance_id, shown.pupil.upn, shown.pupil.name, started.school_task_id)


@dataclass(frozen=True)
class Started:
    instance_id: int
    school_task_id: str | None  # the first open task offered to the school, if any


def start_for_school(
    ctx: Context,
    session: Session,
    principal: Principal,
    process_id: str,
    data: dict[str, Any],
    business_key: str | None,
    action: str,
) -> Started:
    """Start a case a school sent (``data`` as :func:`school_start_data` made it) in the caller's
    unit of work, audited with it."""
    opened = start_in_session(
        ctx, session, latest_version_id(ctx, session, process_id), data, business_key, principal.username
    )
    details = {"action": action, "process_id": process_id, "establishment": principal.establishment}
    audit.record(session, principal, "start", "instance", opened.row.id, details)
    school_tasks = [t.guid for t in opened.before.ready_tasks if access.SCHOOL_LANE in t.teams]
    return Started(opened.row.id, school_tasks[0] if school_tasks else None)


def _request_placement(ctx: Context, principal: Principal, shown: ActionForm, data: dict[str, Any]) -> Sent:
    """Start ap_placement about the pupil, then complete its request task with the school's answers.

    The two steps are two transactions: should the second fail, the case waits with its request task
    open to the school (on the portal's home page), nothing is lost."""
    reference = data.get("placement_ref")
    with ctx.db.transaction() as session:
        started = start_for_school(ctx, session, principal, "ap_placement", data, reference, "ap_request")
    if started.school_task_id is None:
        raise ConfigurationError(
            "The ap_placement process no longer starts with a request a school can make."
        )
    done = casework.complete(ctx, principal, started.school_task_id, data)
    return Sent(started.instance_id, reference, shown.pupil.name, done.next_task_id)


# --- helpers ------------------------------------------------------------------------------------------


def answers_of(key: str, answers: dict[str, Any]) -> dict[str, Any]:
    """What a school's form says, with the lists it left empty given as empty lists (check these)."""
    return completed(_action(key), answers)


def _action(key: str) -> Action:
    action = ACTIONS.get(key)
    if action is None:
        raise NotFound("There is no such page.")
    return action


def _form_of(ctx: Context, session: Session, action: Action) -> FormDefinition:
    """The action's form: its own, or the start form of the process's latest version."""
    if action.form_ref:
        return ctx.forms.get(action.form_ref)
    assert action.process_id is not None
    version = ctx.versions.info(session, latest_version_id(ctx, session, action.process_id))
    if not version.start_form_ref:
        raise ConfigurationError(
            f"The deployed '{action.process_id}' process has no start form: the portal cannot show it."
        )
    return ctx.forms.get(version.start_form_ref)


def _earlier_cases(session: Session, action: Action, pupil: RollPupil, school: School) -> list[EarlierCase]:
    """This school's cases of the action's process about this pupil, newest first."""
    if not pupil.upn:
        return []
    rows = session.execute(
        select(PI.c.id, PI.c.business_key, PI.c.state, PI.c.started_at)
        .join(IE, IE.c.instance_id == PI.c.id)
        .where(
            PI.c.process_id == action.process_id,
            PI.c.business_key == pupil.upn,
            IE.c.laestab == school.laestab,
        )
        .order_by(PI.c.started_at.desc(), PI.c.id.desc())
        .limit(EARLIER_CASES_READ)
    )
    return [EarlierCase(*row) for row in rows]


def _suspensions_notified(
    ctx: Context, session: Session, earlier: list[EarlierCase], today: date
) -> dict[str, list[dict[str, Any]]]:
    """The suspensions this school notified for the pupil this school year (and this term), as the
    notification form lists earlier suspensions."""
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    term_start = _term_start(ctx, session, today) or year_start
    year: list[dict[str, Any]] = []
    next_year = date(year_start.year + 1, 9, 1)
    for case in reversed(earlier):
        entry = _earlier_suspension(casefile.start_data(session, case.instance_id))
        if entry and year_start <= date.fromisoformat(entry["start"]) < next_year:
            year.append(entry)
    term = [entry for entry in year if date.fromisoformat(entry["start"]) >= term_start]
    return {
        key: value
        for key, value in (("suspensions_this_year", year), ("suspensions_this_term", term))
        if value
    }


def _earlier_suspension(start: dict[str, Any]) -> dict[str, Any] | None:
    exclusion = start.get("exclusion") if isinstance(start.get("exclusion"), dict) else {}
    pupil = start.get("pupil") if isinstance(start.get("pupil"), dict) else {}
    kind, begun, length = exclusion.get("type"), exclusion.get("start_date"), exclusion.get("length")
    if kind not in ("suspension", "lunchtime_suspension") or not isinstance(begun, str) or not length:
        return None
    try:
        date.fromisoformat(begun)
    except ValueError:
        return None
    entry = {"start": begun, "days": length, "lunchtime": kind == "lunchtime_suspension"}
    laestab = pupil.get("school_laestab")
    return {**entry, "school_laestab": laestab} if isinstance(laestab, str) else entry


def _term_start(ctx: Context, session: Session, today: date) -> date | None:
    try:
        ctx.calendars.refresh(session)
        terms = ctx.calendars.get().terms
    except CalendarError:  # no calendar loaded: the school lists this term's suspensions itself
        return None
    started = [start for start, _end in terms if start <= today]
    return max(started) if started else None


def _next_placement_ref(session: Session, today: date) -> str:
    """The next AP placement reference of the year (``AP-2026-014``), after those already used.

    Two requests made at the same moment could be given the same number; the LA's inclusion officer
    sees both in the request's history and may correct one."""
    prefix = f"AP-{today.year}-"
    used = session.scalars(
        select(PI.c.business_key).where(
            PI.c.process_id == "ap_placement", PI.c.business_key.startswith(prefix)
        )
    )
    numbers = [int(key[len(prefix) :]) for key in used if key and key[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"
