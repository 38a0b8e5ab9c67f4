"""Shared by the episode tests: the people acting, pupils and establishments made with defaults, and a
context whose form library also holds the episode test forms (tests/fixtures/forms/episodes)."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import func, select

import form_library
from engine import clock
from engine.access import Principal
from engine.context import Context
from engine.forms import FormLibrary
from engine.models.access import AuditEvent, Role, UserAccount
from engine.models.episodes import WorkItem
from engine.models.people import Enrolment, Establishment, Pupil
from tests.conftest import FIXTURES

EPISODE_FORMS = FIXTURES / "forms" / "episodes"
REPORT = "report-section.schema.json"
CONSULTATION = "consultation-record.schema.json"

ADMIN = Principal("admin", Role.ADMINISTRATOR)
MANAGER = Principal("manager", Role.MANAGER, frozenset({"managers"}))
EP = Principal("ep.one", Role.CASEWORKER, frozenset({"ep"}))
EP_COLLEAGUE = Principal("ep.two", Role.CASEWORKER, frozenset({"ep"}))
EWO = Principal("ewo", Role.CASEWORKER, frozenset({"attendance"}))
HEAD = Principal("head", Role.SCHOOL, frozenset({"school"}), establishment="8812001")

JACK_UPN, RUBY_UPN, MAYA_UPN = "V801200026009", "F801200026010", "J88120012509A"


def with_episode_forms(ctx: Context, *more: object) -> Context:
    """``ctx`` whose form library adds the episode test forms (and any further folders, later winning)."""
    library = FormLibrary([form_library.PATH, FIXTURES / "forms", EPISODE_FORMS, *more])  # type: ignore[list-item]
    return dataclasses.replace(ctx, forms=library)


def add_establishment(
    ctx: Context, laestab: str = "8812001", name: str = "Oak Primary School", urn: str | None = "112233"
) -> int:
    with ctx.db.transaction() as session:
        row = Establishment(
            laestab=laestab, urn=urn, name=name, phase="primary", type="community", updated_at=clock.now()
        )
        session.add(row)
        session.flush()
        return row.id


def add_pupil(
    ctx: Context,
    upn: str,
    forename: str,
    surname: str,
    date_of_birth: date,
    *,
    school_id: int | None = None,
    year_group: str | None = "4",
    preferred_forename: str | None = None,
) -> int:
    """A pupil, on ``school_id``'s roll since September 2025 when given."""
    with ctx.db.transaction() as session:
        pupil = Pupil(
            upn=upn,
            forename=forename,
            surname=surname,
            preferred_forename=preferred_forename,
            date_of_birth=date_of_birth,
            updated_at=clock.now(),
        )
        session.add(pupil)
        session.flush()
        if school_id is not None:
            session.add(
                Enrolment(
                    pupil_id=pupil.id,
                    establishment_id=school_id,
                    registration="single",
                    year_group=year_group,
                    start_date=date(2025, 9, 3),
                    updated_at=clock.now(),
                )
            )
        return pupil.id


def add_account(ctx: Context, username: str, role: str = Role.CASEWORKER) -> None:
    with ctx.db.transaction() as session:
        session.add(
            UserAccount(
                username=username,
                display_name=username,
                password_hash="-",
                role=role,
                flags_visible=[],
                active=True,
                failed_logins=0,
                created_at=clock.now(),
            )
        )


def work_item_count(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(WorkItem)) or 0


def audit_actions(ctx: Context, object_type: str | None = None) -> list[tuple[str, str, str]]:
    """(action, object_type, object_id) of every audit event, oldest first."""
    query = select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id).order_by(AuditEvent.id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    with ctx.db.transaction() as session:
        return [tuple(row) for row in session.execute(query)]
