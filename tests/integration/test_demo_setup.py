"""The demo database is coherent: its sample cases are about pupils who exist, the school account's
school exists and sees its own cases, and the alert inboxes and episodes have something in them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine import clock
from engine.demo import setup
from engine.models.access import InstanceEstablishment
from engine.models.alerts import Alert
from engine.models.episodes import Episode, WorkItem
from engine.models.people import Establishment, Pupil
from engine.models.workflow import ProcessInstance
from engine.services.users import DEMO_SCHOOL


def test_the_demo_cases_are_about_the_synthetic_la_and_its_alerts_and_episodes_are_there(ctx):
    with clock.frozen_at(datetime(2026, 3, 21, 10, tzinfo=UTC)):  # a Saturday: Friday's alerts are shown
        case_ids = setup(ctx, pupils=400)
    assert len(case_ids) == 24
    with ctx.db.transaction() as session:
        keys = set(
            session.scalars(
                select(ProcessInstance.business_key).where(ProcessInstance.business_key.is_not(None))
            )
        )
        upns = set(session.scalars(select(Pupil.upn).where(Pupil.upn.in_(keys))))
        assert keys and keys == upns  # every case's key is a pupil of the synthetic LA
        assert session.scalar(select(Establishment.name).where(Establishment.laestab == DEMO_SCHOOL))
        school_cases = session.scalar(
            select(func.count())
            .select_from(InstanceEstablishment)
            .where(InstanceEstablishment.laestab == DEMO_SCHOOL)
        )
        assert school_cases >= 3
        assert session.scalar(select(func.count()).select_from(Alert)) > 0
        assert session.scalar(select(func.count()).select_from(Episode)) == 5
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 4
