"""The task page (GET/POST /tasks/<id>): who may see it, what it shows (and never shows), the form's
buttons, errors that keep the answers, drafts, double and concurrent submissions, a session ending
mid-form, and escaping."""

from __future__ import annotations

import contextvars
import re
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine import clock
from engine.context import Context
from engine.models.drafts import TaskDraft
from engine.services import audit, instances, tasks
from tests.conftest import at, deploy
from tests.web.cases import (
    TRIAGE,
    WORKING_DAY,
    deploy_referrals,
    form_fields,
    make_people,
    open_task,
    post_form,
    signed_in,
    start_referral,
    triage_fields,
)
from tests.web.support import OTHER_SCHOOL, PASSWORD, csrf_token, sign_in


@pytest.fixture(autouse=True)
def _working_day() -> Any:
    with clock.frozen_at(WORKING_DAY):
        yield


@pytest.fixture
def case(calendar_ctx: Context) -> dict[str, Any]:
    """A referral from SCHOOL waiting for triage by the attendance team."""
    deploy_referrals(calendar_ctx)
    make_people(calendar_ctx)
    instance_id = start_referral(calendar_ctx)
    return {"instance": instance_id, "triage": open_task(calendar_ctx, instance_id)}


def returned_to_school(ctx: Context, case: dict[str, Any]) -> str:
    """Triage returns the referral to the school: its acknowledgement task (school lane)."""
    tasks.complete_task(
        ctx,
        case["triage"],
        {
            "triaged_on": "2026-03-04",
            "triage_outcome": "return_to_school",
            "return_explanation": "Only one letter has been sent; please meet the family first.",
            "early_help_requested": ["Attendance meeting"],
        },
        actor="ewo",
    )
    return open_task(ctx, case["instance"], "acknowledge_return")


# --- who may see a task ----------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: FlaskClient, case: dict[str, Any]) -> None:
    response = client.get(f"/tasks/{case['triage']}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=/tasks/")
    assert client.post(f"/tasks/{case['triage']}", data={"x": "1"}).status_code == 303


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("ewo", 200),
        ("ewo2", 200),
        ("boss", 200),
        ("admin", 200),
        ("ep", 404),
        ("head", 404),
        ("other_head", 404),
    ],
)
def test_an_attendance_task_is_seen_by_its_team_and_managers(
    app: Flask, case: dict[str, Any], username: str, status: int
) -> None:
    client = signed_in(app, username)
    assert client.get(f"/tasks/{case['triage']}").status_code == status
    assert client.get("/tasks/no-such-task").status_code == 404


@pytest.mark.parametrize(
    ("username", "status"), [("head", 200), ("other_head", 404), ("ewo", 404), ("boss", 200)]
)
def test_a_school_task_is_seen_by_that_school_only(
    app: Flask, calendar_ctx: Context, case: dict[str, Any], username: str, status: int
) -> None:
    acknowledge = returned_to_school(calendar_ctx, case)
    client = signed_in(app, username)
    assert client.get(f"/tasks/{acknowledge}").status_code == status
    page = client.post(
        f"/tasks/{acknowledge}/claim",
        data={"csrf_token": csrf_token(client.get("/sign-in", follow_redirects=True).text)},
    )
    assert page.status_code == (303 if status == 200 else 404)


def test_a_school_user_guessing_another_schools_ids_learns_nothing(
    app: Flask, calendar_ctx: Context, case: dict[str, Any]
) -> None:
    other_case = start_referral(calendar_ctx, upn="A801200126001", name="Ann Other", laestab=OTHER_SCHOOL)
    acknowledge = returned_to_school(calendar_ctx, case)
    head = signed_in(app, "other_head")
    refusals = [
        head.get(f"/tasks/{acknowledge}"),
        head.get(f"/tasks/{case['triage']}"),
        head.get(f"/instances/{case['instance']}/diagram.bpmn"),
        head.get(f"/instances/{case['instance']}"),
        head.get("/tasks"),
        head.get("/instances"),
    ]
    assert [r.status_code for r in refusals] == [404] * 6
    assert all("Jack Wilson" not in r.text and "V801200026009" not in r.text for r in refusals)
    token = csrf_token(head.get("/sign-in", follow_redirects=True).text)
    for path in (f"/tasks/{acknowledge}", f"/tasks/{acknowledge}/claim", f"/tasks/{acknowledge}/release"):
        assert head.post(path, data={"csrf_token": token}).status_code == 404
    assert head.get(f"/instances/{other_case}/diagram.bpmn").status_code == 200  # its own school's case


# --- what the page shows ----------------------------------------------------------------------------------


def test_the_page_shows_the_case_history_diagram_and_form(app: Flask, case: dict[str, Any]) -> None:
    page = signed_in(app, "ewo").get(f"/tasks/{case['triage']}").text
    assert '<h1 class="govuk-heading-l">Triage the referral</h1>' in page
    assert "Jack Wilson" in page and "V801200026009" in page and "15 June 2012" in page
    assert "Case started" in page  # the history
    diagram = re.search(
        r'<div class="educase-diagram" data-diagram-url="([^"]+)"\s+data-completed=\'([^\']*)\'\s+'
        r"data-current=\'([^\']*)\'",
        page,
    )
    assert diagram and diagram.group(1) == f"/instances/{case['instance']}/diagram.bpmn"
    assert diagram.group(3) == '["triage"]' and "register_referral" in diagram.group(2)
    assert 'name="triaged_on-day"' in page and 'name="allocated_officer"' in page
    assert "educase-diagram.js" in page and "bpmn-viewer.production.min.js" in page


def test_only_what_the_form_declares_reaches_the_browser(app: Flask, case: dict[str, Any]) -> None:
    page = signed_in(app, "ewo").get(f"/tasks/{case['triage']}").text
    assert "14.6" in page  # absence_rate: declared, read-only
    for internal in ("unauthorised_sessions", "18 Elm Grove", "h.price@school.example.org", "Kim Wilson"):
        assert internal not in page


def test_a_school_sees_only_its_own_part_of_the_history(
    app: Flask, calendar_ctx: Context, case: dict[str, Any]
) -> None:
    acknowledge = returned_to_school(calendar_ctx, case)
    school_page = signed_in(app, "head").get(f"/tasks/{acknowledge}").text
    history = school_page.split('id="history"')[1].split("</ol>")[0]
    assert "Case started" in history and "Triage the referral" not in history and "Erin Welfare" not in history
    la_page = signed_in(app, "boss").get(f"/tasks/{acknowledge}").text
    assert "Triage the referral" in la_page.split('id="history"')[1].split("</ol>")[0]


def test_viewing_a_task_is_audited(app: Flask, ctx: Context, case: dict[str, Any]) -> None:
    signed_in(app, "ewo").get(f"/tasks/{case['triage']}")
    assert [(e.actor, e.action) for e in audit.trail(ctx, "task", case["triage"])] == [("ewo", "view")]


# --- completing -------------------------------------------------------------------------------------------


def test_completing_goes_to_the_next_step_when_it_is_the_teams(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    response = post_form(client, case["triage"], triage_fields())
    plan = open_task(ctx, case["instance"], "casework_plan")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{plan}"
    page = client.get(response.headers["Location"]).text
    assert "You completed &#39;Triage the referral&#39; for V801200026009. This is the next step." in page
    assert "govuk-notification-banner--success" in page
    assert [e.action for e in reversed(audit.trail(ctx, "task", case["triage"]))] == ["view", "complete"]
    shown = instances.show_instance(ctx, case["instance"])
    done = next(e for e in shown.events if e["kind"] == "task_completed")
    assert done["actor"] == "ewo" and done["data"]["allocated_officer"] == "R. Khan"


def test_when_the_next_step_is_another_teams_the_inbox_says_so(app: Flask, case: dict[str, Any]) -> None:
    client = signed_in(app, "boss")  # a manager: the next step is the attendance team's
    response = post_form(client, case["triage"], triage_fields())
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"
    assert "The case has moved on to its next step." in client.get("/tasks").text


def test_a_school_user_completes_their_schools_task(
    app: Flask, calendar_ctx: Context, case: dict[str, Any]
) -> None:
    acknowledge = returned_to_school(calendar_ctx, case)
    head = signed_in(app, "head")
    response = post_form(
        head,
        acknowledge,
        {
            "acknowledged_on-day": "5",
            "acknowledged_on-month": "3",
            "acknowledged_on-year": "2026",
            "acknowledged_by": "Hana Head",
            "school_next_actions": "Meeting with the family on 9 March.",
            "re_referral_review_on-day": "17",
            "re_referral_review_on-month": "4",
            "re_referral_review_on-year": "2026",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert instances.show_instance(calendar_ctx, case["instance"]).state == "complete"


def test_a_validation_error_keeps_the_answers(app: Flask, case: dict[str, Any]) -> None:
    client = signed_in(app, "ewo")
    response = post_form(
        client, case["triage"], triage_fields(allocated_officer="", triage_notes="Seen by the nurse.")
    )
    page = response.text
    assert response.status_code == 422
    assert re.search(r"<title>\s*Error: Triage the referral", page)
    assert 'class="govuk-error-summary"' in page and 'href="#allocated_officer"' in page
    assert "Allocated attendance officer is required" in page
    assert 'id="allocated_officer-error"' in page  # the inline message
    assert 'value="4"' in page and "Seen by the nurse." in page  # what was typed is kept
    assert 'value="accept" checked' in page


def test_a_date_that_does_not_exist_is_shown_as_typed(app: Flask, case: dict[str, Any]) -> None:
    response = post_form(
        signed_in(app, "ewo"),
        case["triage"],
        triage_fields(**{"triaged_on-day": "31", "triaged_on-month": "2"}),
    )
    assert response.status_code == 422
    assert 'value="31"' in response.text and "govuk-input--error" in response.text


def test_add_another_and_remove_change_the_form_without_sending_it(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    post_form(client, case["triage"], triage_fields())
    plan = open_task(ctx, case["instance"], "casework_plan")
    page = client.get(f"/tasks/{plan}").text
    fields = {**form_fields(page), "plan_actions.0.action": "Morning check-in", "_action": "add:plan_actions"}
    added = client.post(f"/tasks/{plan}", data=fields, headers={"HX-Request": "true"})
    assert added.status_code == 200 and 'name="plan_actions.1.action"' in added.text
    assert "Morning check-in" in added.text
    fields = {**fields, "plan_actions.1.action": "Nurse referral", "_action": "remove:plan_actions.0"}
    removed = client.post(f"/tasks/{plan}", data=fields).text
    assert "Nurse referral" in removed and "Morning check-in" not in removed
    assert tasks.get_task(ctx, plan)["state"] == "ready"


def test_a_task_without_a_form_is_marked_as_done(app: Flask, calendar_ctx: Context) -> None:
    make_people(calendar_ctx)
    deploy(calendar_ctx, "review_case.bpmn")
    with clock.frozen_at(at("2026-03-02T09:00:00Z")):
        view = instances.start_instance(calendar_ctx, "review_case", data={"sessions_missed": 6})
    tasks.complete_task(
        calendar_ctx,
        view.tasks[0]["id"],
        {"outcome": "support", "reviewed_on": "2026-03-03", "notice_ref": "PN-1"},
        actor="ewo",
    )
    approve = open_task(calendar_ctx, view.id, "approve")
    client = signed_in(app, "boss")
    page = client.get(f"/tasks/{approve}").text
    assert "Mark as done" in page
    response = client.post(f"/tasks/{approve}", data={**form_fields(page), "_action": "continue"})
    assert response.status_code == 303
    assert tasks.get_task(calendar_ctx, approve)["state"] == "completed"


# --- someone else got there first ------------------------------------------------------------------------


def test_the_second_of_two_people_is_told_who_completed_it(app: Flask, case: dict[str, Any]) -> None:
    erin, eddie = signed_in(app, "ewo"), signed_in(app, "ewo2")
    erin_page = erin.get(f"/tasks/{case['triage']}").text
    assert post_form(eddie, case["triage"], triage_fields()).status_code == 303
    answers = triage_fields(allocated_officer="S. Patel", triage_notes="Erin's notes")
    late = erin.post(
        f"/tasks/{case['triage']}", data={**form_fields(erin_page), **answers, "_action": "continue"}
    )
    assert late.status_code == 409
    assert "Eddie Welfare completed this task at 10am on 4 March 2026" in late.text
    assert "Your answers were not saved." in late.text
    assert "S. Patel" in late.text and "Erin&#39;s notes" in late.text  # shown read-only, not lost
    assert "<input" not in late.text.split("The answers you sent")[1].split("</dl>")[0]


def test_two_people_completing_at_once_one_wins_and_the_other_is_told_who(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    people = {"ewo": signed_in(app, "ewo"), "ewo2": signed_in(app, "ewo2")}
    pages = {name: client.get(f"/tasks/{case['triage']}").text for name, client in people.items()}
    results: dict[str, Any] = {}
    start = threading.Barrier(2)

    def submit(name: str) -> None:
        start.wait()
        data = {**form_fields(pages[name]), **triage_fields(), "_action": "continue"}
        results[name] = people[name].post(f"/tasks/{case['triage']}", data=data)

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(submit, name)) for name in people
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [303, 409]
    winner = tasks.get_task(ctx, case["triage"])["completed_by"]
    loser = next(r for r in results.values() if r.status_code == 409)
    assert {"ewo": "Erin Welfare", "ewo2": "Eddie Welfare"}[winner] + " completed this task" in loser.text


def test_pressing_continue_twice_goes_where_the_first_press_went(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    page = client.get(f"/tasks/{case['triage']}").text
    data = {**form_fields(page), **triage_fields(), "_action": "continue"}
    first = client.post(f"/tasks/{case['triage']}", data=data)
    second = client.post(f"/tasks/{case['triage']}", data=data)
    assert first.status_code == second.status_code == 303
    assert (
        second.headers["Location"]
        == first.headers["Location"]
        == f"/tasks/{open_task(ctx, case['instance'], 'casework_plan')}"
    )
    assert [e.action for e in audit.trail(ctx, "task", case["triage"])].count("complete") == 1


def test_the_same_person_sending_a_second_form_is_told_it_was_already_done(
    app: Flask, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    second_window = client.get(f"/tasks/{case['triage']}").text
    assert post_form(client, case["triage"], triage_fields()).status_code == 303
    again = client.post(
        f"/tasks/{case['triage']}",
        data={**form_fields(second_window), **triage_fields(), "_action": "continue"},
    )
    assert again.status_code == 409 and "You completed this task at 10am on 4 March 2026" in again.text


def test_a_form_for_another_task_or_person_is_not_sent(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    page = client.get(f"/tasks/{case['triage']}").text
    data = {
        **form_fields(page),
        **triage_fields(triage_notes="Keep me"),
        "_action": "continue",
        "_submission": "forged",
    }
    response = client.post(f"/tasks/{case['triage']}", data=data)
    assert response.status_code == 422 and "Your answers have not been sent" in response.text
    assert "Keep me" in response.text and tasks.get_task(ctx, case["triage"])["state"] == "ready"


def test_a_task_held_by_someone_else_shows_who_and_refuses_answers(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    opened_before = client.get(f"/tasks/{case['triage']}").text
    tasks.claim_task(ctx, case["triage"], user="ewo2")
    page = client.get(f"/tasks/{case['triage']}").text
    assert "Eddie Welfare is working on this task." in page and 'name="allocated_officer"' not in page
    data = {**form_fields(opened_before), **triage_fields(triage_notes="Mine"), "_action": "continue"}
    response = client.post(f"/tasks/{case['triage']}", data=data)
    assert response.status_code == 409 and "is assigned to ewo2" in response.text
    assert "Your answers (not sent)" in response.text and "Mine" in response.text
    assert tasks.get_task(ctx, case["triage"])["state"] == "ready"


def test_a_suspended_case_keeps_the_answers_and_says_why(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    page = client.get(f"/tasks/{case['triage']}").text
    instances.suspend_instance(ctx, case["instance"], actor="boss", reason="Family moved")
    data = {**form_fields(page), **triage_fields(triage_notes="Kept notes"), "_action": "continue"}
    response = client.post(f"/tasks/{case['triage']}", data=data)
    assert response.status_code == 409 and "suspended" in response.text and "Kept notes" in response.text


def test_a_completed_task_shows_who_and_what_was_sent(app: Flask, ctx: Context, case: dict[str, Any]) -> None:
    tasks.complete_task(ctx, case["triage"], TRIAGE, actor="ewo2")
    page = signed_in(app, "ewo").get(f"/tasks/{case['triage']}").text
    assert "By Eddie Welfare on 4 March 2026 at 10am" in page and "Answers sent" in page and "R. Khan" in page
    assert 'name="_submission"' not in page


# --- drafts ----------------------------------------------------------------------------------------------


def draft_count(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(TaskDraft)) or 0


def test_save_draft_keeps_unvalidated_answers_for_their_author_only(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    response = post_form(
        client, case["triage"], {"triage_outcome": "accept", "triage_notes": "Half done"}, action="save_draft"
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{case['triage']}"
    page = client.get(f"/tasks/{case['triage']}").text
    assert "saved as a draft" in page and "Half done" in page and 'value="accept" checked' in page
    assert tasks.get_task(ctx, case["triage"])["state"] == "ready"
    assert "Half done" not in signed_in(app, "ewo2").get(f"/tasks/{case['triage']}").text
    assert post_form(client, case["triage"], triage_fields()).status_code == 303
    assert draft_count(ctx) == 0  # completing the task removes its drafts


def test_a_draft_with_an_unreadable_date_says_what_was_not_kept(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    response = post_form(
        signed_in(app, "ewo"),
        case["triage"],
        {"triaged_on-day": "40", "triaged_on-month": "3", "triaged_on-year": "2026", "triage_notes": "Kept"},
        action="save_draft",
    )
    assert response.status_code == 422 and "Your other answers have been saved as a draft" in response.text
    assert draft_count(ctx) == 1


# --- a session that ends mid-form -------------------------------------------------------------------------


def test_answers_survive_a_session_that_ended_mid_form(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    page = client.get(f"/tasks/{case['triage']}").text
    client.delete_cookie("educase_session")  # the session ends while the form is open
    answers = {
        **form_fields(page),
        **triage_fields(triage_notes="Typed before the timeout"),
        "_action": "continue",
    }
    asked = client.post(f"/tasks/{case['triage']}", data=answers, headers={"Origin": "http://localhost"})
    assert asked.status_code == 401 and "Sign in" in asked.text
    kept = dict(re.findall(r'name="(draft:[^"]+)" value="([^"]*)"', asked.text))
    assert kept["draft:triage_notes"] == "Typed before the timeout" and "draft:_submission" in kept
    signed = sign_in(client, "ewo", next_url=f"/tasks/{case['triage']}", **kept)
    assert "Your answers have been kept" in signed.text
    restored = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', signed.text))
    response = client.post(f"/tasks/{case['triage']}", data=restored)
    assert response.status_code == 303
    done = next(
        e for e in instances.show_instance(ctx, case["instance"]).events if e["kind"] == "task_completed"
    )
    assert done["data"]["triage_notes"] == "Typed before the timeout" and done["actor"] == "ewo"


def test_answers_kept_for_one_person_are_not_sent_by_another(
    app: Flask, ctx: Context, case: dict[str, Any]
) -> None:
    client = signed_in(app, "ewo")
    page = client.get(f"/tasks/{case['triage']}").text
    client.delete_cookie("educase_session")
    answers = {**form_fields(page), **triage_fields(), "_action": "continue"}
    asked = client.post(f"/tasks/{case['triage']}", data=answers, headers={"Origin": "http://localhost"})
    kept = dict(re.findall(r'name="(draft:[^"]+)" value="([^"]*)"', asked.text))
    signed = sign_in(client, "ewo2", PASSWORD, next_url=f"/tasks/{case['triage']}", **kept)
    restored = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', signed.text))
    response = client.post(f"/tasks/{case['triage']}", data=restored)
    assert response.status_code == 422 and tasks.get_task(ctx, case["triage"])["state"] == "ready"


# --- escaping ----------------------------------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def test_html_in_case_data_and_free_text_is_escaped_everywhere(app: Flask, calendar_ctx: Context) -> None:
    deploy_referrals(calendar_ctx)
    make_people(calendar_ctx)
    instance_id = start_referral(calendar_ctx, name=f"Jo {IMG}", key=f"K{SCRIPT}")
    triage = open_task(calendar_ctx, instance_id)
    client = signed_in(app, "ewo")
    client.post(f"/tasks/{triage}/claim", data={"csrf_token": csrf_token(client.get("/tasks").text)})
    page = client.get(f"/tasks/{triage}").text
    assert (
        post_form(
            client, triage, triage_fields(triage_notes=f"Notes {SCRIPT}", allocated_officer=IMG)
        ).status_code
        == 303
    )
    boss = signed_in(app, "boss")
    pages = {
        "task page": page,
        "inbox": client.get("/tasks?tab=team").text,
        "completed task": client.get(f"/tasks/{triage}").text,
        "instance page": boss.get(f"/instances/{instance_id}").text,
        "instance list": boss.get("/instances").text,
    }
    for name, html in pages.items():
        assert SCRIPT not in html and IMG not in html, name
    assert (
        "&lt;script&gt;" in pages["task page"] and "&lt;img src=x onerror=alert(1)&gt;" in pages["task page"]
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["completed task"]
    assert "Notes &lt;script&gt;" in pages["instance page"]
