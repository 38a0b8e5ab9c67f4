"""An establishment's page as one person may see it: its details, a school year's roll with each
enrolment's measures, the attendance summary and weekly figures, its episodes, the absence referrals
about it, the cases at the attendance-contract stage, and its alerts.

LA staff see every establishment; a school user only their own (any other is "not found"). Cases pass
through ``may_see_instance``, episodes through ``restrict_episodes``, alerts through ``may_see_alert``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .. import access
from ..access import Principal
from ..attendance.layout import end_offset, school_year_of, year_end
from ..attendance.measures import Measures, measure, total
from ..attendance.pupil_views import WeekFigures, weekly_figures
from ..attendance.vocabulary import ESTABLISHMENT_TYPES, PHASES
from ..episodes.binding import Subject
from ..episodes.lookup import today_in
from ..episodes.views import EpisodeView, episode_view
from ..models.access import InstanceEstablishment
from ..models.alerts import Alert, AlertState
from ..models.attendance import AttendanceYear
from ..models.episodes import Episode, EpisodeTemplate, SubjectKind
from ..models.people import Establishment
from ..models.workflow import HumanTask, TaskState, Timer
from .alert_pages import AlertLine, alert_lines
from .attendance import load_roll
from .case_links import CaseLink, cases_at_establishment, visible_cases

if TYPE_CHECKING:
    from ..context import Context

ROLL_PAGE_SIZE = 50
#: The roll's filters: which enrolments to list.
ROLL_FILTERS = {
    "all": "Everyone",
    "persistent": "Persistently absent (10 % or more)",
    "severe": "Severely absent (50 % or more)",
}
#: Where a case is at the attendance-contract stage of the legal intervention route (domain.md s.3).
LEGAL_ROUTE = "attendance_legal_route"
CONTRACT_TASKS = {"offer_contract": "Contract being offered", "review_contract": "Contract review due"}
CONTRACT_TIMERS = {"contract_review_day": "Contract running"}
YEARS_LOOKED_BACK = 5


@dataclass(frozen=True)
class RollLine:
    upn: str | None
    name: str
    year_group: str | None
    registration: str
    start_date: date
    end_date: date | None
    measures: Measures


@dataclass(frozen=True)
class Contract:
    case: CaseLink
    stage: str
    review_due: datetime | None


@dataclass
class EstablishmentPage:
    laestab: str
    urn: str | None
    name: str
    phase: str
    type: str
    is_alternative_provision: bool
    school_year: int
    years: list[int]
    as_of: date
    totals: Measures
    enrolments: int
    persistent: int
    severe: int
    weeks: list[WeekFigures]
    roll: list[RollLine]
    roll_filter: str
    roll_page: int
    roll_count: int
    roll_has_next: bool
    episodes: list[EpisodeView] = field(default_factory=list)
    referrals: list[CaseLink] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)


def establishment_page(
    ctx: Context,
    principal: Principal,
    laestab: str,
    *,
    school_year: int | None = None,
    roll_filter: str = "all",
    roll_page: int = 1,
) -> EstablishmentPage:
    """The page of the establishment ``laestab``; NotFound if there is none or this person may not see it."""
    access.require(not principal.is_school or principal.establishment == laestab, "establishment")
    today = today_in(ctx)
    roll_filter = roll_filter if roll_filter in ROLL_FILTERS else "all"
    with ctx.db.transaction() as session:
        row = session.scalar(select(Establishment).where(Establishment.laestab == laestab))
        access.require(row is not None, "establishment")
        assert row is not None
        years = _years(session, row.id, school_year_of(today))
        year = school_year if school_year in years else (years[0] if years else school_year_of(today))
        as_of = min(today, year_end(year))
        roll = load_roll(session, laestab, as_of)
        page = _page(row, year, years, as_of, roll.entries, roll.marks, roll_filter, max(1, roll_page))
        page.episodes = _episodes(session, principal, row)
        page.referrals = cases_at_establishment(session, principal, laestab, {"absence_referral"})
        page.contracts = _contracts(session, principal, laestab)
        page.alerts = alert_lines(
            session, principal, Alert.establishment_id == row.id, Alert.state != AlertState.CLOSED
        )
    return page


def _page(
    row: Establishment,
    year: int,
    years: list[int],
    as_of: date,
    entries: list,
    marks: dict[int, bytes],
    roll_filter: str,
    roll_page: int,
) -> EstablishmentPage:
    end = end_offset(as_of)
    measured = [(entry, measure(marks.get(entry.enrolment_id, b""), end)) for entry in entries]
    counted = [m for _, m in measured if m.possible]
    chosen = [(e, m) for e, m in measured if roll_filter == "all" or getattr(m, roll_filter)]
    first = (roll_page - 1) * ROLL_PAGE_SIZE
    lines = [
        RollLine(
            e.upn, f"{e.forename} {e.surname}", e.year_group, e.registration, e.start_date, e.end_date, m
        )
        for e, m in chosen[first : first + ROLL_PAGE_SIZE]
    ]
    return EstablishmentPage(
        laestab=row.laestab,
        urn=row.urn,
        name=row.name,
        phase=PHASES.get(row.phase, row.phase),
        type=ESTABLISHMENT_TYPES.get(row.type, row.type),
        is_alternative_provision=row.is_alternative_provision,
        school_year=year,
        years=years,
        as_of=as_of,
        totals=total(counted),
        enrolments=len(entries),
        persistent=sum(m.persistent for m in counted),
        severe=sum(m.severe for m in counted),
        weeks=weekly_figures(list(marks.values()), year, as_of),
        roll=lines,
        roll_filter=roll_filter,
        roll_page=roll_page,
        roll_count=len(chosen),
        roll_has_next=first + ROLL_PAGE_SIZE < len(chosen),
    )


def _years(session: Session, establishment_id: int, current: int) -> list[int]:
    """The recent school years with marks at the establishment, newest first (one indexed probe each)."""
    ay = AttendanceYear.__table__
    found = []
    for year in range(current + 1, current - YEARS_LOOKED_BACK, -1):
        probe = exists().where(ay.c.school_year == year, ay.c.establishment_id == establishment_id)
        if session.scalar(select(probe)):
            found.append(year)
    return found


def _episodes(session: Session, principal: Principal, row: Establishment) -> list[EpisodeView]:
    query = access.restrict_episodes(
        principal,
        select(Episode, EpisodeTemplate)
        .join(EpisodeTemplate, EpisodeTemplate.id == Episode.template_id)
        .where(Episode.establishment_id == row.id),
    )
    subject = Subject(SubjectKind.ESTABLISHMENT, row.id, row.name, row.laestab)
    return [episode_view(e, t, subject) for e, t in session.execute(query.order_by(Episode.opened_on.desc()))]


def _contracts(session: Session, principal: Principal, laestab: str) -> list[Contract]:
    """The cases about the establishment whose legal route is at the attendance-contract stage."""
    ht, ie, tm = HumanTask.__table__, InstanceEstablishment.__table__, Timer.__table__
    at_school = select(ie.c.instance_id).where(ie.c.laestab == laestab)
    tasks = session.execute(
        select(ht.c.instance_id, ht.c.task_spec_id).where(
            ht.c.instance_id.in_(at_school),
            ht.c.state == TaskState.READY,
            ht.c.process_id == LEGAL_ROUTE,
            ht.c.task_spec_id.in_(sorted(CONTRACT_TASKS)),
        )
    ).all()
    timers = session.execute(
        select(tm.c.instance_id, tm.c.task_spec_id, tm.c.due_at).where(
            tm.c.instance_id.in_(at_school),
            tm.c.state == "waiting",
            tm.c.task_spec_id.in_(sorted(CONTRACT_TIMERS)),
        )
    ).all()
    stages: dict[int, tuple[str, datetime | None]] = {}
    for instance_id, element, due_at in timers:
        stages[instance_id] = (CONTRACT_TIMERS[element], due_at)
    for instance_id, element in tasks:
        stages[instance_id] = (CONTRACT_TASKS[element], stages.get(instance_id, ("", None))[1])
    cases = visible_cases(session, principal, sorted(stages, reverse=True))
    return [Contract(c, *stages[c.instance_id]) for c in cases]
