"""A pupil's record as one person may see it: details, enrolments, shared flags, a school year's
attendance (measures, weekly figures, month grids of marks), alerts, episodes, cases and the
chronology.

Access control (:mod:`engine.access`): a pupil a person may not see does not exist for them. LA staff
see every enrolment; a school user sees the pupil only while the pupil has (or had) an enrolment at
their school, and then sees that school's enrolments and, for a dual-registered pupil, the other
school's enrolment over the same time (the two share the pupil's attendance). Flags pass through
``visible_flags``, alerts through ``may_see_alert``, episodes through ``restrict_episodes``, cases
through ``may_see_instance``; school users see no alerts and no episodes.

Everything is read with indexed lookups for this one pupil (marks of the pupil's enrolments only), so
that a record opens quickly however many pupils the LA has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import access
from ..access import Principal
from ..attendance.identifiers import InvalidIdentifier, validate_upn
from ..attendance.layout import end_offset, school_year_of, year_end
from ..attendance.measures import Measures, measure
from ..attendance.pupil_views import MonthGrid, WeekFigures, month_grids, weekly_figures
from ..attendance.store import load_years
from ..episodes.binding import PUPIL, Subject
from ..episodes.lookup import today_in
from ..episodes.views import EpisodeView, episode_view
from ..models.alerts import Alert
from ..models.attendance import AttendanceYear
from ..models.episodes import Episode, EpisodeInstance, EpisodeTemplate
from ..models.people import Enrolment, Establishment, Pupil, PupilFlag
from . import casefile, chronology
from .alert_pages import AlertLine, alert_lines
from .case_links import CaseLink, cases_by_business_key, visible_cases
from .chronology import AlertFacts, ChronologyEntry, EnrolmentFacts, FlagFacts

if TYPE_CHECKING:
    from ..context import Context


@dataclass(frozen=True)
class PupilDetails:
    id: int
    upn: str | None
    upn_temporary: bool
    uln: str | None
    forename: str
    middle_names: str | None
    surname: str
    preferred_forename: str | None
    date_of_birth: date
    sex: str | None
    address: str | None
    postcode: str | None

    @property
    def full_name(self) -> str:
        return f"{self.preferred_forename or self.forename} {self.surname}"

    @property
    def legal_name(self) -> str:
        return " ".join(part for part in (self.forename, self.middle_names, self.surname) if part)

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class EnrolmentAttendance:
    """One enrolment's school year: measures to the record's date, weekly figures, month grids."""

    enrolment: EnrolmentFacts
    measures: Measures | None  # None: no marks this year
    weeks: list[WeekFigures]
    months: list[MonthGrid]


@dataclass
class PupilRecord:
    pupil: PupilDetails
    enrolments: list[EnrolmentFacts]
    flags: list[FlagFacts]  # active today, visible to this person
    school_year: int
    years: list[int]  # school years with marks for the enrolments shown
    as_of: date
    attendance: list[EnrolmentAttendance]
    alerts: list[AlertLine]
    episodes: list[EpisodeView]
    cases: list[CaseLink]
    chronology: list[ChronologyEntry]
    today: date
    people: dict[str, str] = field(default_factory=dict)

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


def pupil_record(ctx: Context, principal: Principal, upn: str, school_year: int | None = None) -> PupilRecord:
    """The record of the pupil with ``upn``; NotFound if there is none or this person may not see it.
    ``school_year`` (2025 for 2025/26): whose attendance to show; by default the current one, or the
    latest with marks."""
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        pupil = _pupil(session, upn)
        every = _enrolments(session, pupil.id)
        access.require(access.may_see_pupil(principal, [e.laestab for e in every]), "pupil")
        enrolments = shown_enrolments(principal, every)
        all_flags = _flags(session, principal, pupil.id)
        years = _years(session, [e.id for e in enrolments])
        year = _chosen_year(school_year, years, today)
        as_of = min(today, year_end(year))
        attendance = _attendance(session, enrolments, year, as_of)
        alerts = alert_lines(session, principal, Alert.pupil_id == pupil.id)
        episodes = _episodes(session, principal, pupil)
        cases = _cases(session, principal, pupil, episodes)
        alert_facts = [AlertFacts(a.id, a.rule_name, a.summary, a.raised_at) for a in alerts]
        subject = chronology.Subject(
            pupil.id,
            enrolments,
            all_flags,
            alert_facts,
            cases,
            episodes,
            all_placements=not principal.is_school,
        )
        entries = chronology.pupil_chronology(session, principal, subject)
        people = casefile.names_in(
            session, [e.actor for e in entries if e.actor] + [e.owner for e in episodes]
        )
    return PupilRecord(
        pupil=pupil,
        enrolments=enrolments,
        flags=[f for f in all_flags if _active(f, today)],
        school_year=year,
        years=years,
        as_of=as_of,
        attendance=attendance,
        alerts=alerts,
        episodes=episodes,
        cases=cases,
        chronology=entries,
        today=today,
        people=people,
    )


def shown_enrolments(principal: Principal, enrolments: list[EnrolmentFacts]) -> list[EnrolmentFacts]:
    """The enrolments this person may see: all for LA staff; for a school user, their school's and the
    other half of a dual registration over the same time."""
    if not principal.is_school:
        return enrolments
    own = [e for e in enrolments if e.laestab == principal.establishment]
    return [e for e in enrolments if e in own or any(_dual_partners(e, o) for o in own)]


def _dual_partners(a: EnrolmentFacts, b: EnrolmentFacts) -> bool:
    dual = {a.registration, b.registration} == {"main", "subsidiary"}
    overlap = a.start_date <= (b.end_date or date.max) and b.start_date <= (a.end_date or date.max)
    return dual and overlap


# --- reading ------------------------------------------------------------------------------------------


def _pupil(session: Session, upn: str) -> PupilDetails:
    try:
        value = validate_upn(upn).value
    except InvalidIdentifier:
        value = None
    row = session.scalar(select(Pupil).where(Pupil.upn == value)) if value else None
    access.require(row is not None, "pupil")
    assert row is not None
    return PupilDetails(
        row.id,
        row.upn,
        row.upn_temporary,
        row.uln,
        row.forename,
        row.middle_names,
        row.surname,
        row.preferred_forename,
        row.date_of_birth,
        row.sex,
        row.address,
        row.postcode,
    )


def _enrolments(session: Session, pupil_id: int) -> list[EnrolmentFacts]:
    rows = session.execute(
        select(Enrolment, Establishment.laestab, Establishment.name)
        .join(Establishment, Establishment.id == Enrolment.establishment_id)
        .where(Enrolment.pupil_id == pupil_id)
        .order_by(Enrolment.start_date.desc(), Enrolment.id)
    )
    return [
        EnrolmentFacts(
            e.id, laestab, name, e.registration, e.start_date, e.end_date, e.deletion_ground, e.year_group
        )
        for e, laestab, name in rows
    ]


def _flags(session: Session, principal: Principal, pupil_id: int) -> list[FlagFacts]:
    rows = session.scalars(
        select(PupilFlag).where(PupilFlag.pupil_id == pupil_id).order_by(PupilFlag.start_date)
    )
    return [
        FlagFacts(f.flag, f.set_by_service, f.start_date, f.end_date)
        for f in access.visible_flags(principal, rows)
    ]


def _active(flag: FlagFacts, day: date) -> bool:
    return flag.start_date <= day and (flag.end_date is None or flag.end_date >= day)


def _years(session: Session, enrolment_ids: list[int]) -> list[int]:
    if not enrolment_ids:
        return []
    query = select(AttendanceYear.school_year).where(AttendanceYear.enrolment_id.in_(enrolment_ids))
    return sorted(set(session.scalars(query.distinct())), reverse=True)


def _chosen_year(asked: int | None, years: list[int], today: date) -> int:
    if asked is not None and asked in years:
        return asked
    current = school_year_of(today)
    earlier = [y for y in years if y <= current]
    return current if current in years or not years else (earlier[0] if earlier else years[-1])


def _attendance(
    session: Session, enrolments: list[EnrolmentFacts], year: int, as_of: date
) -> list[EnrolmentAttendance]:
    marks = load_years(session, year, enrolment_ids=[e.id for e in enrolments])
    end = end_offset(as_of)
    return [
        EnrolmentAttendance(
            e,
            measure(marks[e.id], end),
            weekly_figures([marks[e.id]], year, as_of),
            month_grids(marks[e.id], year, as_of),
        )
        for e in enrolments
        if e.id in marks
    ]


def _episodes(session: Session, principal: Principal, pupil: PupilDetails) -> list[EpisodeView]:
    query = access.restrict_episodes(
        principal,
        select(Episode, EpisodeTemplate)
        .join(EpisodeTemplate, EpisodeTemplate.id == Episode.template_id)
        .where(Episode.pupil_id == pupil.id),
    )
    subject = Subject(PUPIL, pupil.id, pupil.full_name, pupil.upn)
    rows = session.execute(query.order_by(Episode.opened_on.desc(), Episode.id.desc()))
    return [episode_view(e, t, subject) for e, t in rows]


def _cases(
    session: Session, principal: Principal, pupil: PupilDetails, episodes: list[EpisodeView]
) -> list[CaseLink]:
    """The cases with the pupil's UPN as business key, and those filed on the pupil's episodes."""
    cases = cases_by_business_key(session, principal, pupil.upn) if pupil.upn else []
    known = {c.instance_id for c in cases}
    linked: list[Any] = []
    if episodes:
        linked = list(
            session.scalars(
                select(EpisodeInstance.instance_id).where(
                    EpisodeInstance.episode_id.in_([e.id for e in episodes])
                )
            )
        )
    extra = visible_cases(session, principal, sorted(set(linked) - known, reverse=True))
    return sorted([*cases, *extra], key=lambda c: c.started_at, reverse=True)
