"""The managers' case pages: the list of instances with its filters, one instance (diagram, tasks,
timers, message waits, data through forms, history), its BPMN file for the diagram, and suspend,
resume, cancel and retry."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from engine import clock
from engine.context import Context
from engine.services import audit, instances, tasks
from tests.conftest import at, deploy
from tests.web.cases import (
    RECEIVED,
    TRIAGE,
    WORKING_DAY,
    deploy_referrals,
    make_people,
    open_task,
    signed_in,
    start_referral,
)
from tests.web.support import OTHER_SCHOOL, csrf_token


@pytest.fixture(autouse=True)
def _working_day() -> Any:
    with clock.frozen_at(WORKING_DAY):
        yield


@pytest.fixture
def case(calendar_ctx: Context) -> int:
    """A referral, triaged by ewo: the casework plan is open."""
    deploy_referrals(calendar_ctx)
    make_people(calendar_ctx)
    instance_id = start_referral(calendar_ctx)
    tasks.complete_task(
        calendar_ctx, open_task(calendar_ctx, instance_id), {**TRIAGE, "triage_notes": "Anxious"}, actor="ewo"
    )
    return instance_id


@pytest.fixture
def failed(calendar_ctx: Context) -> int:
    """An instance stopped by a script dividing by zero."""
    deploy(calendar_ctx, "script_error.bpmn")
    return instances.start_instance(
        calendar_ctx,
        "share_of_sessions",
        data={"missed": 3, "sessions_possible": 0},
        business_key="ERR-1",
        actor="boss",
    ).id


def token(client: Any) -> str:
    return csrf_token(client.get("/sign-in", follow_redirects=True).text)


def rows(html: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/instances/\d+">([^<]+)</a>', html)


# --- who may see what ------------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: Any, case: int) -> None:
    for path in ("/instances", f"/instances/{case}", f"/instances/{case}/diagram.bpmn"):
        assert client.get(path).headers["Location"].startswith("/sign-in?next=")
    assert client.post(f"/instances/{case}/suspend").status_code == 303


@pytest.mark.parametrize(
    ("username", "status"),
    [("boss", 200), ("admin", 200), ("ewo", 404), ("ep", 404), ("head", 404), ("other_head", 404)],
)
def test_only_managers_and_administrators_see_the_case_pages(
    app: Flask, case: int, username: str, status: int
) -> None:
    client = signed_in(app, username)
    assert client.get("/instances").status_code == status
    assert client.get(f"/instances/{case}").status_code == status
    assert client.get("/instances/9999").status_code == 404
    for action in ("suspend", "resume", "cancel", "retry"):
        response = client.post(
            f"/instances/{case}/{action}", data={"csrf_token": token(client), "reason": "x"}
        )
        assert response.status_code == (303 if status == 200 else 404), action


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("boss", 200),
        ("admin", 200),
        ("ewo", 200),
        ("ewo2", 200),
        ("ep", 404),
        ("head", 200),
        ("other_head", 404),
    ],
)
def test_the_diagram_file_is_for_those_who_may_see_the_case(
    app: Flask, case: int, username: str, status: int
) -> None:
    response = signed_in(app, username).get(f"/instances/{case}/diagram.bpmn")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/xml" and 'id="triage"' in response.text
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the list --------------------------------------------------------------------------------------------


@pytest.fixture
def several(case: int, failed: int, calendar_ctx: Context) -> dict[str, int]:
    later = start_referral(
        calendar_ctx, "D801200026004", "Dan Dale", OTHER_SCHOOL, RECEIVED + timedelta(days=7)
    )
    instances.suspend_instance(calendar_ctx, later, actor="boss", reason="Family moved away")
    return {"case": case, "failed": failed, "later": later}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["D801200026004", "ERR-1", "V801200026009"]),
        ("process=absence_referral", ["D801200026004", "V801200026009"]),
        ("process=absence_referral&version=2", []),
        ("state=error", ["ERR-1"]),
        ("state=suspended", ["D801200026004"]),
        ("state=user_input_required", ["D801200026004", "V801200026009"]),
        ("business_key=V801200026009", ["V801200026009"]),
        ("from-day=3&from-month=3&from-year=2026", ["D801200026004", "ERR-1"]),
        ("to-day=2&to-month=3&to-year=2026", ["V801200026009"]),
    ],
)
def test_filters(app: Flask, several: dict[str, int], query: str, expected: list[str]) -> None:
    assert rows(signed_in(app, "boss").get(f"/instances?{query}").text) == expected


def test_a_date_that_does_not_exist_is_explained(app: Flask, several: dict[str, int]) -> None:
    response = signed_in(app, "boss").get("/instances?from-day=31&from-month=2&from-year=2026")
    assert (
        re.search(r"<title>\s*Error: Cases", response.text)
        and "Started from must be a real date" in response.text
    )
    assert len(rows(response.text)) == 3


def test_htmx_refreshes_only_the_results(app: Flask, several: dict[str, int]) -> None:
    response = signed_in(app, "boss").get("/instances?state=error", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="instance-results"') and rows(response.text) == [
        "ERR-1"
    ]


# --- one instance ----------------------------------------------------------------------------------------


def test_the_instance_page(app: Flask, ctx: Context, case: int) -> None:
    page = signed_in(app, "boss").get(f"/instances/{case}").text
    diagram = re.search(r"data-completed='([^']*)'\s+data-current='([^']*)'", page)
    assert diagram and '"triage"' in diagram.group(1) and diagram.group(2) == '["casework_plan"]'
    assert "Agree the casework plan" in page and "Triage the referral" in page  # tasks
    assert "Triage not done in 5 school days" in page and "Cancelled" in page  # its timer, with its due time
    assert "end of 9 March 2026" in page
    assert "Anxious" in page and "R. Khan" in page  # what triage sent, through its form
    assert "Case started" in page and "by Erin Welfare" in page  # history
    assert "Suspend the case" in page and "Cancel the case" in page and "Retry" not in page
    assert "unauthorised_sessions" not in page and "Unauthorised sessions" not in page  # no raw task data
    assert [e.action for e in audit.trail(ctx, "instance", case)] == ["view"]


def test_message_waits_are_shown(app: Flask, calendar_ctx: Context) -> None:
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
    tasks.complete_task(calendar_ctx, open_task(calendar_ctx, view.id, "approve"), {}, actor="boss")
    page = signed_in(app, "boss").get(f"/instances/{view.id}").text
    assert "penalty_paid" in page and "notice_ref: PN-1" in page and "Waiting" in page
    assert "review_by" not in page and "Review by" not in page  # a script variable: never shown


def test_suspend_needs_a_reason_then_resume(app: Flask, ctx: Context, case: int) -> None:
    boss = signed_in(app, "boss")
    refused = boss.post(f"/instances/{case}/suspend", data={"csrf_token": token(boss), "reason": " "})
    assert refused.status_code == 422 and "Enter why you want to suspend this case" in refused.text
    assert 'href="#suspend-reason"' in refused.text and '<details class="govuk-details" open>' in refused.text
    done = boss.post(f"/instances/{case}/suspend", data={"csrf_token": token(boss), "reason": "Family moved"})
    assert done.status_code == 303
    page = boss.get(f"/instances/{case}").text
    assert "The case is suspended." in page and "(Family moved)" in page and "Resume the case" in page
    assert instances.show_instance(ctx, case).suspended
    boss.post(f"/instances/{case}/resume", data={"csrf_token": token(boss)})
    assert not instances.show_instance(ctx, case).suspended
    assert [e.action for e in reversed(audit.trail(ctx, "instance", case))] == [
        "view",
        "suspend",
        "view",
        "resume",
    ]


def test_cancel_with_a_reason(app: Flask, ctx: Context, case: int) -> None:
    boss = signed_in(app, "boss")
    boss.post(f"/instances/{case}/cancel", data={"csrf_token": token(boss), "reason": "Duplicate referral"})
    assert instances.show_instance(ctx, case).state == "cancelled"
    page = boss.get(f"/instances/{case}").text
    assert "Cancel the case" not in page and "(Duplicate referral)" in page
    again = boss.post(f"/instances/{case}/cancel", data={"csrf_token": token(boss), "reason": "Again"})
    assert again.status_code == 303 and "has ended" in boss.get(f"/instances/{case}").text


def test_retry_with_corrected_data(app: Flask, ctx: Context, failed: int) -> None:
    make_people(ctx)
    boss = signed_in(app, "boss")
    page = boss.get(f"/instances/{failed}").text
    assert (
        "Stopped with an error at \u2018Compute the share\u2019" in page and "Retry the failed step" in page
    )
    assert re.search(r"data-failed='\[\"compute\"\]'", page)
    bad = boss.post(
        f"/instances/{failed}/retry", data={"csrf_token": token(boss), "data_changes": "{days: 5"}
    )
    assert bad.status_code == 422 and "Enter the corrections as JSON" in bad.text and "{days: 5" in bad.text
    not_object = boss.post(
        f"/instances/{failed}/retry", data={"csrf_token": token(boss), "data_changes": "[1]"}
    )
    assert not_object.status_code == 422 and "must be a JSON object" in not_object.text
    done = boss.post(
        f"/instances/{failed}/retry",
        data={"csrf_token": token(boss), "data_changes": '{"sessions_possible": 6}'},
    )
    assert done.status_code == 303 and instances.show_instance(ctx, failed).state == "user_input_required"
    assert audit.trail(ctx, "instance", failed)[0].details == {"data_changes": ["sessions_possible"]}


def test_html_in_reasons_is_escaped(app: Flask, case: int) -> None:
    boss = signed_in(app, "boss")
    boss.post(
        f"/instances/{case}/suspend", data={"csrf_token": token(boss), "reason": "<script>alert(1)</script>"}
    )
    page = boss.get(f"/instances/{case}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
