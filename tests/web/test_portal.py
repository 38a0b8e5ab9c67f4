"""The school portal: only school users reach it, each sees only its own school (another school's
pupils and cases are "not found"), and what it sends starts the right case about the right school,
whatever the browser claims: an absence referral (in the attendance team's inbox), a suspension
notification (a second one while a case is open), a deletion return (a CME enquiry when the child's
education is unknown; never backdated), an AP request (the request task completed as the school),
and an attendance file (rows about another school refused). Everything typed is escaped."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import process_library
from engine import clock
from engine.context import Context
from engine.models.access import InstanceEstablishment
from engine.models.people import Pupil
from engine.models.returns import DeletionReturn
from engine.models.workflow import HumanTask, ProcessInstance
from engine.services import casefile, processes
from tests.integration.attendance_support import code_at
from tests.web.cases import WORKING_DAY, signed_in
from tests.web.episode_cases import JACK_UPN, World, build_world
from tests.web.support import OTHER_SCHOOL, SCHOOL, csrf_token

LA_ROLES = ("ewo", "ep", "boss", "admin")


@pytest.fixture(autouse=True)
def _working_day() -> Any:
    with clock.frozen_at(WORKING_DAY):  # Wednesday 4 March 2026, in the example calendar's year
        yield


@pytest.fixture
def world(calendar_ctx: Context) -> World:
    paths = sorted(process_library.PATH.glob("*.bpmn"))
    processes.deploy_sources(calendar_ctx, processes.read_sources(paths), actor="tester")
    return build_world(calendar_ctx)


@pytest.fixture
def head(app: Flask, world: World) -> FlaskClient:
    return signed_in(app, "head")


def text_of(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def send(client: FlaskClient, path: str, answers: dict[str, str]) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text), **answers, "_action": "continue"})


def date_fields(name: str, day: str) -> dict[str, str]:
    year, month, dd = day.split("-")
    return {f"{name}-day": str(int(dd)), f"{name}-month": str(int(month)), f"{name}-year": year}


REFERRAL = {
    "pupil.year_group": "4",
    "parents.0.name": "Kim Wilson",
    "parents.0.relationship": "mother",
    "referral_reason": "persistent_absence",
    **date_fields("attendance.period_start", "2025-09-03"),
    **date_fields("attendance.period_end", "2026-02-27"),
    "attendance.possible_sessions": "206",
    "attendance.authorised_absence_sessions": "12",
    "attendance.unauthorised_absence_sessions": "18",
    "actions_taken.0.action": "letter",
    **date_fields("actions_taken.0.taken_on", "2025-11-12"),
    "referrer.name": "Hana Head",
    "referrer.role": "Head teacher",
    "referrer.email": "head@oak.example.org",
}
SUSPENSION = {
    "pupil.sen_status": "none",
    "exclusion.type": "suspension",
    **date_fields("exclusion.start_date", "2026-03-05"),
    "exclusion.length": "3",
    "exclusion.reason": "damage",
    "exclusion.description": "Broke a classroom window.",
    **date_fields("exclusion.notice_date", "2026-03-04"),
    "exclusion.public_exam_missed": "false",
    "parents.0.name": "Kim Wilson",
    "parents.0.relationship": "mother",
}


def cases_of(ctx: Context, process_id: str) -> list[ProcessInstance]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == process_id)))


def establishments(ctx: Context, instance_id: int) -> list[str]:
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(InstanceEstablishment.laestab).where(InstanceEstablishment.instance_id == instance_id)
            )
        )


# --- who reaches what ---------------------------------------------------------------------------------

PAGES = (
    "/portal",
    "/portal/pupils",
    "/portal/referrals/new",
    "/portal/exclusions/new",
    "/portal/deletions/new",
    "/portal/ap-requests/new",
    "/portal/attendance-upload",
)


def test_the_portal_is_for_school_users_only(app: Flask, client: FlaskClient, world: World) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], path
    for role in LA_ROLES:
        staff = signed_in(app, role)
        for path in (*PAGES, f"/portal/referrals/new?pupil={world.jack}"):
            assert staff.get(path).status_code == 404, (role, path)
        csrf = csrf_token(staff.get("/episodes").text)
        for path in (*PAGES[2:], f"/portal/referrals/new?pupil={world.jack}"):
            assert staff.post(path, data={"csrf_token": csrf, **REFERRAL}).status_code == 404, (role, path)
    for path in PAGES[2:]:
        assert client.post(path, data=REFERRAL).headers["Location"].startswith("/sign-in"), path
    head = signed_in(app, "head")
    for path in (
        *PAGES,
        f"/portal/referrals/new?pupil={world.jack}",
        f"/portal/ap-requests/new?pupil={world.jack}",
    ):
        assert head.get(path).status_code == 200, path


def test_a_school_sees_only_its_own_roll(app: Flask, head: FlaskClient, world: World) -> None:
    roll = text_of(head.get("/portal/pupils").text)
    assert "Jack Wilson" in roll and "Maya Patel" in roll and "Ruby Wilson" not in roll
    assert "Jack Wilson" in text_of(head.get("/portal/pupils?q=V801200026009").text)
    other = text_of(signed_in(app, "other_head").get("/portal/pupils").text)
    assert "Ruby Wilson" in other and "Jack Wilson" not in other


def test_a_school_guessing_another_schools_ids_finds_nothing(
    app: Flask, head: FlaskClient, world: World
) -> None:
    sent = send(head, f"/portal/referrals/new?pupil={world.jack}", REFERRAL)
    instance_id = int(sent.headers["Location"].rsplit("/", 1)[-1])
    other = signed_in(app, "other_head")
    assert other.get(f"/portal/cases/{instance_id}").status_code == 404
    assert other.get("/portal/cases/99999").status_code == 404
    for page in ("referrals", "exclusions", "deletions", "ap-requests"):
        assert other.get(f"/portal/{page}/new?pupil={world.jack}").status_code == 404, page
        csrf = csrf_token(other.get("/portal").text)
        posted = other.post(f"/portal/{page}/new?pupil={world.jack}", data={"csrf_token": csrf, **REFERRAL})
        assert posted.status_code == 404, page
    assert "Jack Wilson" not in text_of(other.get("/portal").text)
    assert len(cases_of(world.ctx, "absence_referral")) == 1


# --- absence referral ---------------------------------------------------------------------------------


def test_a_referral_starts_a_case_for_the_attendance_team(
    app: Flask, head: FlaskClient, world: World
) -> None:
    forged = {
        **REFERRAL,
        "school.laestab": OTHER_SCHOOL,
        "pupil.upn": "F801200026010",
        "pupil.name": "Someone",
    }
    sent = send(head, f"/portal/referrals/new?pupil={world.jack}", forged)
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/portal/cases/")
    case = cases_of(world.ctx, "absence_referral")[0]
    with world.ctx.db.transaction() as session:
        start = casefile.start_data(session, case.id)
    assert start["school"] == {"name": "Oak Primary School", "laestab": SCHOOL}
    assert start["pupil"]["upn"] == JACK_UPN and start["pupil"]["name"] == "Jack Wilson"
    assert case.business_key == JACK_UPN and case.started_by == "head"
    assert establishments(world.ctx, case.id) == [SCHOOL]
    status = text_of(head.get(sent.headers["Location"]).text)
    assert "Your referral for Jack Wilson has been sent" in status and "With the local authority" in status
    assert "Triage" not in status  # the LA's own steps are not the school's to see
    inbox = text_of(signed_in(app, "ewo").get("/tasks?tab=team").text)
    assert "Triage the referral" in inbox and JACK_UPN in inbox
    home = text_of(head.get("/portal").text)
    assert "School absence referral" in home and "Jack Wilson" in home


def test_a_referral_with_problems_is_shown_again_as_typed(head: FlaskClient, world: World) -> None:
    answers = {**REFERRAL, "attendance.possible_sessions": "lots", "referrer.email": ""}
    response = send(head, f"/portal/referrals/new?pupil={world.jack}", answers)
    assert response.status_code == 422
    assert response.text.count('class="govuk-error-summary"') == 1
    assert 'value="lots"' in response.text and 'value="Kim Wilson"' in response.text
    assert cases_of(world.ctx, "absence_referral") == []


def test_add_another_shows_the_form_again(head: FlaskClient, world: World) -> None:
    path = f"/portal/referrals/new?pupil={world.jack}"
    page = head.get(path)
    response = head.post(
        path, data={"csrf_token": csrf_token(page.text), **REFERRAL, "_action": "add:parents"}
    )
    assert response.status_code == 200 and 'name="parents.1.name"' in response.text


# --- suspensions and exclusions -----------------------------------------------------------------------


def test_a_second_notification_while_a_case_is_open_starts_a_linked_case(
    head: FlaskClient, world: World
) -> None:
    first = send(head, f"/portal/exclusions/new?pupil={world.jack}", SUSPENSION)
    assert first.status_code == 303
    again = head.get(f"/portal/exclusions/new?pupil={world.jack}")
    shown = text_of(again.text)
    assert "already has an open case of this kind" in shown and JACK_UPN in shown
    days = re.search(r'name="suspensions_this_year\.0\.days"[^>]*value="([^"]*)"', again.text)
    assert days and days.group(1) == "3"  # the suspension notified earlier, filled in
    second = {
        **SUSPENSION,
        **date_fields("exclusion.start_date", "2026-03-16"),
        **date_fields("suspensions_this_year.0.start", "2026-03-05"),
        "suspensions_this_year.0.days": "3",
        "suspensions_this_year.0.lunchtime": "false",
    }
    assert send(head, f"/portal/exclusions/new?pupil={world.jack}", second).status_code == 303
    cases = cases_of(world.ctx, "exclusion_review")
    assert len(cases) == 2 and {c.business_key for c in cases} == {JACK_UPN}
    with world.ctx.db.transaction() as session:
        latest = casefile.start_data(session, max(c.id for c in cases))
    assert latest["pupil"]["school_laestab"] == SCHOOL
    assert latest["suspensions_this_year"][0]["start"] == "2026-03-05"


# --- deletion returns ---------------------------------------------------------------------------------


def test_a_deletion_return_for_a_child_gone_away_opens_a_cme_enquiry(
    app: Flask, head: FlaskClient, world: World
) -> None:
    answers = {
        "ground": "moved_away",
        **date_fields("deleted_on", "2026-03-06"),
        **date_fields("last_attendance_date", "2026-02-20"),
        "new_address.line1": "4 Harbour Row",
        "new_address.town": "Portsmouth",
        "new_address.postcode": "PO1 2AB",
    }
    sent = send(head, f"/portal/deletions/new?pupil={world.jack}", answers)
    assert sent.status_code == 303
    case = cases_of(world.ctx, "cme_enquiry")[0]
    with world.ctx.db.transaction() as session:
        start = casefile.start_data(session, case.id)
        returned = session.scalars(select(DeletionReturn)).one()
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id)).one()
    assert start["trigger"] == "deletion_return" and start["deletion_ground"] == "moved_away"
    assert start["still_on_roll"] is True and start["known_address"]["town"] == "Portsmouth"
    assert start["school"]["laestab"] == SCHOOL and case.business_key == JACK_UPN
    assert returned.instance_id == case.id and returned.sent_by == "head"
    assert task.task_spec_id.endswith("open_enquiry")
    home = text_of(head.get("/portal").text)
    assert "Deletion returns" in home and "Children missing education enquiry" in home


def test_a_deletion_to_another_school_is_recorded_without_an_enquiry(head: FlaskClient, world: World) -> None:
    path = f"/portal/deletions/new?pupil={world.maya}"
    missing = send(head, path, {"ground": "registered_elsewhere", **date_fields("deleted_on", "2026-03-04")})
    assert missing.status_code == 422 and "New school is required" in text_of(missing.text)
    answers = {
        "ground": "registered_elsewhere",
        **date_fields("deleted_on", "2026-03-04"),
        "new_school.name": "Elm Academy",
    }
    assert send(head, path, answers).status_code == 303
    assert cases_of(world.ctx, "cme_enquiry") == []
    assert "None needed" in text_of(head.get("/portal").text)


def test_a_deletion_cannot_be_backdated(head: FlaskClient, world: World) -> None:
    response = send(
        head,
        f"/portal/deletions/new?pupil={world.jack}",
        {"ground": "died", **date_fields("deleted_on", "2026-03-03")},
    )
    assert response.status_code == 422 and "cannot be backdated" in response.text
    with world.ctx.db.transaction() as session:
        assert session.scalars(select(DeletionReturn)).first() is None


# --- AP requests --------------------------------------------------------------------------------------


def test_an_ap_request_starts_the_placement_with_the_schools_request(head: FlaskClient, world: World) -> None:
    answers = {
        "parents.0.name": "Kim Wilson",
        "parents.0.address": "18 Elm Grove, Northtown",
        "reason": "illness",
        "arranged_by": "la",
        "provider.name": "Northtown Hospital School",
        "provider.type": "pru",
        "provider.contact_email": "office@hospital-school.example.org",
        "hours_offered_per_week": "25",
        "funding.funded_by": "la",
        "funding.weekly_cost": "450",
        **date_fields("proposed_start_date", "2026-03-09"),
        "requested_by.name": "Hana Head",
        "requested_by.role": "Head teacher",
        "home_school.urn": "999999",  # read-only: ignored
    }
    sent = send(head, f"/portal/ap-requests/new?pupil={world.jack}", answers)
    assert sent.status_code == 303
    case = cases_of(world.ctx, "ap_placement")[0]
    assert case.business_key == "AP-2026-001"
    with world.ctx.db.transaction() as session:
        done = session.scalars(
            select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.state == "completed")
        ).one()
        start = casefile.start_data(session, case.id)
    assert done.task_spec_id.endswith("request_placement") and done.completed_by == "head"
    assert start["home_school"] == {"name": "Oak Primary School", "urn": "112233", "laestab": SCHOOL}
    assert establishments(world.ctx, case.id) == [SCHOOL]


# --- attendance files ---------------------------------------------------------------------------------


def test_an_attendance_file_applies_only_the_schools_own_rows(
    head: FlaskClient, world: World, tmp_path: Path
) -> None:
    rows = "upn,laestab,date,session,code\n"
    rows += f"{JACK_UPN},{SCHOOL},2026-03-02,AM,/\n{JACK_UPN},{SCHOOL},2026-03-02,PM,N\n"
    rows += f"F801200026010,{OTHER_SCHOOL},2026-03-02,AM,O\n"
    page = head.get("/portal/attendance-upload")
    response = head.post(
        "/portal/attendance-upload",
        data={"csrf_token": csrf_token(page.text), "file": (_file(tmp_path, "marks.csv", rows), "marks.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    shown = text_of(response.text)
    assert "Rows applied 2" in shown and "Rows refused 1" in shown
    assert "another establishment" in shown and f"establishment {OTHER_SCHOOL}" in shown
    assert code_at(world.ctx, JACK_UPN, SCHOOL, "2026-03-02", 1) == "N"
    assert code_at(world.ctx, "F801200026010", OTHER_SCHOOL, "2026-03-02", 0) == ""
    assert "marks.csv" in text_of(head.get("/portal").text)


def test_an_upload_without_an_attendance_file_is_refused(head: FlaskClient, tmp_path: Path) -> None:
    csrf = csrf_token(head.get("/portal/attendance-upload").text)
    empty = head.post(
        "/portal/attendance-upload", data={"csrf_token": csrf}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422 and "Choose the attendance file" in empty.text
    wrong = head.post(
        "/portal/attendance-upload",
        data={"csrf_token": csrf, "file": (_file(tmp_path, "notes.txt", "hello\n"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "is not an attendance file" in wrong.text


def _file(folder: Path, name: str, content: str) -> Any:
    path = folder / name
    path.write_text(content)
    return path.open("rb")


# --- escaping -----------------------------------------------------------------------------------------


def test_names_and_answers_are_escaped(head: FlaskClient, world: World) -> None:
    evil = '<script>alert("x")</script>'
    with world.ctx.db.transaction() as session:
        session.get(Pupil, world.maya).surname = evil
    for path in (
        "/portal/pupils",
        f"/portal/referrals/new?pupil={world.maya}",
        "/portal/referrals/new?q=maya",
    ):
        html = head.get(path).text
        assert evil not in html and "&lt;script&gt;" in html, path
    response = send(
        head,
        f"/portal/referrals/new?pupil={world.jack}",
        {**REFERRAL, "referrer.name": evil, "referrer.email": "x"},
    )
    assert response.status_code == 422 and evil not in response.text and "&lt;script&gt;" in response.text
    assert re.search(r"<script>alert", head.get("/portal").text) is None
