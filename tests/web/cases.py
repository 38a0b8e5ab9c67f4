"""Cases for the casework pages' tests: the shipped absence-referral process, started for a pupil at a
school, with the accounts that work on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import process_library
from engine import clock
from engine.context import Context
from engine.models.access import Role
from engine.models.workflow import HumanTask
from engine.services import instances, processes
from tests.conftest import at
from tests.web.support import OTHER_SCHOOL, SCHOOL, csrf_token, make_user

RECEIVED = at("2026-03-02T09:00:00Z")  # Monday; triage is due on Monday 9 March
WORKING_DAY = at("2026-03-04T10:00:00Z")  # Wednesday: when the tests' people do their work
TRIAGE = {
    "triaged_on": "2026-03-04",
    "triage_outcome": "accept",
    "allocated_officer": "R. Khan",
    "casework_priority": "medium",
}


def deploy_referrals(ctx: Context) -> None:
    """The absence referral process and the legal route it calls."""
    paths = [
        process_library.PATH / "absence_referral.bpmn",
        process_library.PATH / "attendance_legal_route.bpmn",
    ]
    processes.deploy_sources(ctx, processes.read_sources(paths), actor="tester")


def referral(upn: str, name: str, laestab: str = SCHOOL) -> dict[str, Any]:
    """A school's referral (the start data), as in tests/scenarios/absence_referral."""
    return {
        "pupil": {"upn": upn, "name": name, "date_of_birth": "2012-06-15", "year_group": "8"},
        "school": {"name": f"School {laestab}", "laestab": laestab},
        "parents": [
            {
                "name": "Kim Wilson",
                "relationship": "mother",
                "address": "18 Elm Grove",
                "parental_responsibility": True,
            }
        ],
        "referral_reason": "persistent_absence",
        "attendance": {
            "period_start": "2025-09-03",
            "period_end": "2026-02-27",
            "possible_sessions": 206,
            "authorised_absence_sessions": 12,
            "unauthorised_absence_sessions": 18,
        },
        "actions_taken": [
            {"action": "attendance_meeting", "taken_on": "2025-11-12", "outcome": "Plan agreed."}
        ],
        "referrer": {
            "name": "Hannah Price",
            "role": "Attendance lead",
            "email": "h.price@school.example.org",
        },
    }


def start_referral(
    ctx: Context,
    upn: str = "V801200026009",
    name: str = "Jack Wilson",
    laestab: str = SCHOOL,
    when: datetime = RECEIVED,
    key: str | None = None,
) -> int:
    """Start a referral, as the school would (the case is linked to its school). Returns the instance id."""
    data = referral(upn, name, laestab)
    with clock.frozen_at(when):
        view = instances.start_instance(
            ctx, "absence_referral", data=data, business_key=key or upn, actor="school"
        )
    return view.id


def open_task(ctx: Context, instance_id: int, task: str = "triage") -> str:
    """The id of the open task ``task`` (its BPMN id) of an instance."""
    with ctx.db.transaction() as session:
        found = session.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.task_spec_id.endswith(task),
                HumanTask.state == "ready",
            )
        )
    assert found, f"no open task {task} in instance {instance_id}"
    return found


def make_people(ctx: Context) -> None:
    """ewo (attendance), ep (another team), boss (manager), admin, head (school), other_head (other school)."""
    make_user(ctx, "ewo", display_name="Erin Welfare")
    make_user(ctx, "ewo2", display_name="Eddie Welfare")
    make_user(ctx, "ep", teams=["ep"], display_name="Evan Psychologist")
    make_user(ctx, "boss", Role.MANAGER, teams=["managers"], display_name="Morgan Manager")
    make_user(ctx, "admin", Role.ADMINISTRATOR, display_name="Ada Admin")
    make_user(ctx, "head", Role.SCHOOL, display_name="Hana Head")
    make_user(ctx, "other_head", Role.SCHOOL, establishment=OTHER_SCHOOL, display_name="Olu Other")


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields a task page's form carries (CSRF token, submission token)."""
    import re

    token = re.search(r'name="_submission" value="([^"]+)"', page)
    return {"csrf_token": csrf_token(page), "_submission": token.group(1) if token else ""}


def post_form(
    client: FlaskClient, task_id: str, answers: dict[str, Any], action: str = "continue", **headers: str
) -> TestResponse:
    """Open the task page and send its form with ``answers`` (names as the form's fields)."""
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200, page.status_code
    return client.post(
        f"/tasks/{task_id}", data={**form_fields(page.text), **answers, "_action": action}, headers=headers
    )


def triage_fields(**changes: str) -> dict[str, str]:
    """The triage form's fields for TRIAGE (the date input as three boxes)."""
    fields = {
        "triaged_on-day": "4",
        "triaged_on-month": "3",
        "triaged_on-year": "2026",
        "triage_outcome": "accept",
        "allocated_officer": "R. Khan",
        "casework_priority": "medium",
    }
    fields.update(changes)
    return fields


def signed_in(app: Any, username: str) -> FlaskClient:
    """A new browser (test client) with ``username`` signed in."""
    from tests.web.support import sign_in

    client: FlaskClient = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client
