"""The task inbox (GET /tasks): its three tabs and their counts, filters, sorting, pages and htmx
refreshes; claiming, releasing and (for managers) reassigning tasks."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from engine import clock
from engine.context import Context
from engine.services import audit, inbox, tasks
from tests.conftest import at
from tests.web.cases import (
    RECEIVED,
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
def cases(calendar_ctx: Context) -> dict[str, str]:
    """Four referrals awaiting triage, received on different days (so due on different days): one held
    by ewo, one by ewo2, two with nobody (one of them from the other school, received a week later)."""
    deploy_referrals(calendar_ctx)
    make_people(calendar_ctx)
    ids = {
        "mine": start_referral(calendar_ctx, "A801200026001", "Amy Able", when=RECEIVED),
        "colleague": start_referral(
            calendar_ctx, "B801200026002", "Ben Bold", when=RECEIVED + timedelta(days=1)
        ),
        "free": start_referral(calendar_ctx, "C801200026003", "Cat Cole", when=RECEIVED + timedelta(days=2)),
        "later": start_referral(
            calendar_ctx, "D801200026004", "Dan Dale", OTHER_SCHOOL, at("2026-03-09T09:00:00Z")
        ),
    }
    found = {name: open_task(calendar_ctx, instance) for name, instance in ids.items()}
    tasks.claim_task(calendar_ctx, found["mine"], user="ewo")
    tasks.claim_task(calendar_ctx, found["colleague"], user="ewo2")
    return found


def listed(html: str) -> list[str]:
    """The case references in the task table, in order."""
    return re.findall(r"School absence referral: ([A-Z]\d{12})", html)


def counts(html: str) -> list[str]:
    return re.findall(r'<span class="educase-tabs__count">\((\d+\+?)\)</span>', html)


def test_anonymous_people_are_sent_to_sign_in(client: Any) -> None:
    assert client.get("/tasks").headers["Location"] == "/sign-in?next=/tasks"
    assert client.post("/tasks/x/claim").status_code == 303


@pytest.mark.parametrize(("username", "status"), [("ewo", 200), ("boss", 200), ("admin", 200), ("head", 404)])
def test_the_inbox_is_the_las(app: Flask, cases: dict[str, str], username: str, status: int) -> None:
    assert signed_in(app, username).get("/tasks").status_code == status


def test_the_three_tabs_and_their_counts(app: Flask, ctx: Context, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    mine = client.get("/tasks").text
    assert counts(mine) == ["1", "4", "2"] and listed(mine) == ["A801200026001"]
    assert 'aria-current="page"' in mine.split("My tasks")[0] + mine.split("My tasks")[1][:300]
    assert listed(client.get("/tasks?tab=team").text) == [
        "A801200026001",
        "B801200026002",
        "C801200026003",
        "D801200026004",
    ]
    assert listed(client.get("/tasks?tab=unassigned").text) == ["C801200026003", "D801200026004"]
    assert counts(signed_in(app, "ep").get("/tasks").text) == ["0", "0", "0"]  # another team's work
    assert audit.trail(ctx, "inbox", "unassigned")[0].actor == "ewo"


def test_managers_see_every_team_and_can_narrow_to_one(app: Flask, cases: dict[str, str]) -> None:
    client = signed_in(app, "boss")  # in the managers team, which has no task yet
    assert counts(client.get("/tasks").text) == ["0", "0", "0"]
    assert counts(client.get("/tasks?team=all").text) == ["0", "4", "2"]
    assert counts(client.get("/tasks?team=attendance").text) == ["0", "4", "2"]


def test_a_caseworker_cannot_widen_the_inbox_to_other_teams(app: Flask, cases: dict[str, str]) -> None:
    client = signed_in(app, "ep")
    assert counts(client.get("/tasks?tab=team&team=attendance").text) == ["0", "0", "0"]
    assert counts(client.get("/tasks?tab=team&team=all").text) == ["0", "0", "0"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pupil=c801200026003", ["C801200026003"]),
        (f"establishment={OTHER_SCHOOL}", ["D801200026004"]),
        ("process=absence_referral", ["A801200026001", "B801200026002", "C801200026003", "D801200026004"]),
        ("process=attendance_legal_route", []),
        ("due=week", ["A801200026001", "B801200026002"]),  # due by the end of 9 and 10 March
        ("due=overdue", []),
        ("sort=-due", ["D801200026004", "C801200026003", "B801200026002", "A801200026001"]),
    ],
)
def test_filters_and_sorting(app: Flask, cases: dict[str, str], query: str, expected: list[str]) -> None:
    assert listed(signed_in(app, "ewo").get(f"/tasks?tab=team&{query}").text) == expected


def test_overdue_tasks_are_tagged(app: Flask, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    with clock.frozen_at(at("2026-03-11T09:00:00Z")):
        page = client.get("/tasks?tab=team&due=overdue").text
    assert listed(page) == ["A801200026001", "B801200026002"]
    assert len(re.findall(r"govuk-tag--red\">\s*Overdue", page)) == 2 and "end of 9 March 2026" in page


def test_a_filter_that_cannot_be_used_is_explained(app: Flask, cases: dict[str, str]) -> None:
    response = signed_in(app, "ewo").get("/tasks?tab=team&establishment=80120")
    assert re.search(r"<title>\s*Error: Tasks", response.text)
    assert (
        "Enter the school&#39;s 7-digit LAESTAB" in response.text and 'href="#establishment"' in response.text
    )
    assert len(listed(response.text)) == 4  # the other filters still apply


def test_pages_of_tasks(app: Flask, cases: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "PAGE_SIZE", 3)
    client = signed_in(app, "ewo")
    first = client.get("/tasks?tab=team").text
    assert len(listed(first)) == 3 and 'href="/tasks?tab=team&amp;page=2"' in first
    second = client.get("/tasks?tab=team&page=2").text
    assert listed(second) == ["D801200026004"] and 'href="/tasks?tab=team&amp;page=1"' in second


def test_counts_stop_at_the_limit(app: Flask, cases: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "COUNT_LIMIT", 3)
    assert counts(signed_in(app, "ewo").get("/tasks").text) == ["1", "3+", "2"]


def test_htmx_refreshes_only_the_results(app: Flask, cases: dict[str, str]) -> None:
    response = signed_in(app, "ewo").get(
        "/tasks?tab=unassigned&pupil=C801200026003", headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div id="task-results"') and "<html" not in response.text
    assert listed(response.text) == ["C801200026003"] and counts(response.text) == ["0", "1", "1"]


# --- claim, release, reassign ------------------------------------------------------------------------------


def test_claiming_from_the_team_tab(app: Flask, ctx: Context, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    page = client.get("/tasks?tab=team").text
    response = client.post(
        f"/tasks/{cases['free']}/claim", data={"csrf_token": csrf_token(page), "next": "/tasks?tab=team"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/tasks?tab=team"
    after = client.get("/tasks?tab=team").text
    assert "You have taken &#39;Triage the referral&#39;. It is in your tasks." in after
    assert counts(after) == ["2", "4", "1"]
    assert tasks.get_task(ctx, cases["free"])["assignee"] == "ewo"
    assert [e.action for e in audit.trail(ctx, "task", cases["free"])] == ["claim"]


def test_claiming_a_task_someone_has_just_taken_says_who(app: Flask, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    token = csrf_token(client.get("/tasks").text)
    response = client.post(f"/tasks/{cases['colleague']}/claim", data={"csrf_token": token, "next": "/tasks"})
    assert response.status_code == 303
    assert "already claimed by ewo2" in client.get("/tasks").text


def test_outside_links_are_not_followed_after_claiming(app: Flask, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    token = csrf_token(client.get("/tasks").text)
    response = client.post(
        f"/tasks/{cases['free']}/claim", data={"csrf_token": token, "next": "https://evil.example"}
    )
    assert response.headers["Location"] == f"/tasks/{cases['free']}"


def test_releasing(app: Flask, ctx: Context, cases: dict[str, str]) -> None:
    erin, boss = signed_in(app, "ewo"), signed_in(app, "boss")
    token = csrf_token(erin.get("/tasks").text)
    erin.post(f"/tasks/{cases['colleague']}/release", data={"csrf_token": token})  # not hers: refused
    assert tasks.get_task(ctx, cases["colleague"])["assignee"] == "ewo2"
    erin.post(f"/tasks/{cases['mine']}/release", data={"csrf_token": token})
    assert tasks.get_task(ctx, cases["mine"])["assignee"] is None
    boss.post(
        f"/tasks/{cases['colleague']}/release", data={"csrf_token": csrf_token(boss.get("/tasks").text)}
    )
    assert tasks.get_task(ctx, cases["colleague"])["assignee"] is None


def test_a_manager_reassigns_to_someone_who_may_do_the_task(
    app: Flask, ctx: Context, cases: dict[str, str]
) -> None:
    boss = signed_in(app, "boss")
    picker = boss.get(f"/tasks/{cases['free']}/reassign?next=/tasks")
    assert picker.status_code == 200
    offered = re.findall(r'<option value="([^"]*)"', picker.text)
    assert offered == [
        "",
        "admin",
        "ewo2",
        "ewo",
        "boss",
    ]  # by name: Ada, Eddie, Erin, Morgan; not ep, not schools
    refused = boss.post(
        f"/tasks/{cases['free']}/reassign", data={"csrf_token": csrf_token(picker.text), "assignee": "ep"}
    )
    assert (
        refused.status_code == 200
        and "Error: Reassign" in refused.text
        and "cannot be given this task" in refused.text
    )
    done = boss.post(
        f"/tasks/{cases['free']}/reassign",
        data={"csrf_token": csrf_token(picker.text), "assignee": "ewo2", "next": "/tasks"},
    )
    assert done.status_code == 303 and done.headers["Location"] == "/tasks"
    assert tasks.get_task(ctx, cases["free"])["assignee"] == "ewo2"
    assert audit.trail(ctx, "task", cases["free"])[0].details == {"assignee": "ewo2"}


def test_caseworkers_cannot_reassign(app: Flask, ctx: Context, cases: dict[str, str]) -> None:
    client = signed_in(app, "ewo")
    assert client.get(f"/tasks/{cases['free']}/reassign").status_code == 403
    token = csrf_token(client.get("/tasks").text)
    assert (
        client.post(
            f"/tasks/{cases['free']}/reassign", data={"csrf_token": token, "assignee": "ewo"}
        ).status_code
        == 403
    )
    assert signed_in(app, "ep").get(f"/tasks/{cases['free']}/reassign").status_code == 404
    assert tasks.get_task(ctx, cases["free"])["assignee"] is None
