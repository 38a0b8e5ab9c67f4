"""Data for the pupil, establishment and alert pages' tests: a small synthetic LA (as `educase demo-data`
makes it), its alerts, the shipped processes, and one pupil with something in every part of a record
(flags open to all and restricted, an exclusion, a corrected mark, an episode with a note, a case
started from an alert). The people who look at it are made by :func:`make_people`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.access import SYSTEM, Principal
from engine.context import Context
from engine.models.access import Role
from engine.models.alerts import Alert
from engine.models.attendance import MarkCorrection
from engine.models.people import Enrolment, Establishment, Pupil
from engine.services import alert_pages, alerts, episode_templates, episodes, pupils
from engine.services.demo import generate_demo_data
from tests.conftest import at
from tests.web.cases import deploy_referrals
from tests.web.support import make_user

#: The demo LA's last day of marks (the example term dates end on 22 July 2026), and a moment after it.
AS_OF = date(2026, 7, 22)
AFTER = at("2026-07-23T10:00:00Z")
MAIN_CASE = "10_GNOU_in_10_school_weeks"  # a pupil whose marks reach the penalty-notice threshold


@dataclass(frozen=True)
class DemoLA:
    upn: str  # the pupil with everything
    laestab: str  # the pupil's school
    other_laestab: str  # a school the pupil never attended
    other_upn: str  # a pupil only ever at other_laestab
    dual_upn: str  # a dual-registered pupil (main school and AP)
    dual_laestabs: tuple[str, str]  # (main, subsidiary)
    alert_id: int  # the pupil's penalty-threshold alert (attendance team), with a case started from it
    open_alert_id: int  # another pupil's alert for the attendance team, still open, without a case
    cme_alert_id: int  # an alert for the CME team
    instance_id: int  # the case started from alert_id
    episode_id: int


def make_la(ctx: Context, as_of: date = AS_OF, when: Any = AFTER) -> DemoLA:
    """Everything above, in an empty database (and the LA calendar: the example term dates)."""
    with clock.frozen_at(when):
        made = generate_demo_data(ctx, pupils=200, seed=1, as_of=as_of)
        deploy_referrals(ctx)  # the absence referral and the legal route it calls
        episode_templates.load_default_templates(ctx)
        alerts.evaluate(ctx, as_of)
        main = next(c for c in made["cases"] if c["case"] == MAIN_CASE)
        dual = next(c for c in made["cases"] if c["case"] == "dual_registered")
        return _decorate(ctx, main["upn"], main["laestab"], dual["upn"])


def _decorate(ctx: Context, upn: str, laestab: str, dual_upn: str) -> DemoLA:
    with ctx.db.transaction() as session:
        pupil = session.scalar(select(Pupil).where(Pupil.upn == upn))
        enrolment = session.scalar(select(Enrolment).where(Enrolment.pupil_id == pupil.id))
        alert_ids = dict(
            session.execute(select(Alert.rule_id, Alert.id).where(Alert.pupil_id == pupil.id)).all()
        )
        cme = session.scalar(select(Alert.id).where(Alert.team == "cme").order_by(Alert.id))
        open_alert = session.scalar(
            select(Alert.id).where(Alert.team == "attendance", Alert.pupil_id != pupil.id).order_by(Alert.id)
        )
        other_laestab, other_upn = _elsewhere(session, laestab)
        dual_laestabs = _dual_schools(session, dual_upn)
        session.add(
            MarkCorrection(
                enrolment_id=enrolment.id,
                session_date=date(2026, 3, 10),
                session="AM",
                old_code="N",
                new_code="I",
                corrected_at=clock.now(),
                source="marks-0310.csv",
            )
        )
    pupils.set_flag(ctx, pupil.id, "EHCP", "SEND service", [], date(2024, 9, 1))
    pupils.set_flag(ctx, pupil.id, "CP", "Children's Social Care", ["managers"], date(2025, 1, 6))
    pupils.set_flag(ctx, pupil.id, "YOUNG_CARER", "Young carers' service", ["attendance"], date(2025, 2, 3))
    pupils.record_exclusion(
        ctx, enrolment.id, "suspension", date(2026, 2, 2), length_days=2, reason="<b>Fighting</b>"
    )
    boss = Principal("boss", Role.MANAGER, frozenset({"managers"}))
    instance_id = alert_pages.start_case(ctx, boss, alert_ids["penalty-threshold"], "attendance_legal_route")
    opened = episodes.open_episode(
        ctx, SYSTEM, "attendance-casework", pupil_id=pupil.id, owner=None, team="attendance"
    )
    episodes.add_note(ctx, SYSTEM, opened.id, "Home visit: <script>alert(1)</script> mother says anxiety")
    return DemoLA(
        upn,
        laestab,
        other_laestab,
        other_upn,
        dual_upn,
        dual_laestabs,
        alert_ids["penalty-threshold"],
        open_alert,
        cme,
        instance_id,
        opened.id,
    )


def _elsewhere(session: Any, laestab: str) -> tuple[str, str]:
    """Another school, and one of its pupils who was never on ``laestab``'s roll."""
    school = session.execute(
        select(Establishment.id, Establishment.laestab)
        .where(Establishment.laestab != laestab)
        .order_by(Establishment.id)
    ).first()
    own = select(Enrolment.pupil_id).join(Establishment).where(Establishment.laestab == laestab)
    upn = session.scalar(
        select(Pupil.upn)
        .join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.establishment_id == school.id, Pupil.id.not_in(own))
        .order_by(Pupil.id)
    )
    return school.laestab, upn


def _dual_schools(session: Any, upn: str) -> tuple[str, str]:
    rows = dict(
        session.execute(
            select(Enrolment.registration, Establishment.laestab)
            .join(Establishment)
            .join(Pupil)
            .where(Pupil.upn == upn, Enrolment.registration.in_(["main", "subsidiary"]))
        ).all()
    )
    return rows["main"], rows["subsidiary"]


def make_people(ctx: Context, la: DemoLA) -> None:
    """ewo (attendance team), cme (CME team), ep (EP team), boss (manager), admin, head (the pupil's
    school), other_head (another school), ap_head (the dual-registered pupil's AP)."""
    make_user(ctx, "ewo", display_name="Erin Welfare", teams=["attendance"])
    make_user(ctx, "cme", display_name="Cam Missing", teams=["cme"])
    make_user(ctx, "ep", display_name="Evan Psychologist", teams=["ep"])
    make_user(ctx, "boss", Role.MANAGER, teams=["managers"], display_name="Morgan Manager")
    make_user(ctx, "admin", Role.ADMINISTRATOR, display_name="Ada Admin")
    make_user(ctx, "head", Role.SCHOOL, establishment=la.laestab, display_name="Hana Head")
    make_user(ctx, "other_head", Role.SCHOOL, establishment=la.other_laestab, display_name="Olu Other")
    make_user(ctx, "ap_head", Role.SCHOOL, establishment=la.dual_laestabs[1], display_name="Ade Provision")
