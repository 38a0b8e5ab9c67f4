"""The alert pages: the list with a tab per team and its filters, one alert with its facts and
history, acknowledging, actioning and closing (with a reason), and starting a case from an alert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import clock
from engine.context import Context
from engine.models.alerts import Alert
from engine.models.people import Pupil
from engine.models.workflow import ProcessInstance
from engine.services import audit
from tests.web.cases import signed_in
from tests.web.pupil_cases import AFTER, DemoLA, make_la, make_people
from tests.web.support import csrf_token


@pytest.fixture(autouse=True)
def _after_the_marks() -> Iterator[None]:
    with clock.frozen_at(AFTER):
        yield


@pytest.fixture
def la(ctx: Context) -> DemoLA:
    made = make_la(ctx)
    make_people(ctx, made)
    return made


def listed(html: str) -> list[int]:
    return [
        int(i)
        for i in re.findall(
            r'<h3 class="govuk-summary-card__title"><a class="govuk-link" href="/alerts/(\d+)"', html
        )
    ]


def tabs(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", t).strip()
        for t in re.findall(r'educase-tabs__link"[^>]*>\s*(.*?)<span', html, re.S)
    ]


def tab_teams(html: str) -> set[str]:
    return set(re.findall(r'educase-tabs__link" href="/alerts\?team=([a-z_-]+)"', html))


def post(client: Any, path: str, **form: str) -> Any:
    token = csrf_token(client.get("/pupils").text)  # one token for the whole session
    return client.post(path, data={"csrf_token": token, **form})


def alert_row(ctx: Context, alert_id: int) -> Alert:
    with ctx.db.transaction() as session:
        return session.get(Alert, alert_id)


# --- who may see what ------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: Any, la: DemoLA) -> None:
    for path in ("/alerts", f"/alerts/{la.alert_id}"):
        assert client.get(path).headers["Location"].startswith("/sign-in?next=")
    response = client.post(f"/alerts/{la.open_alert_id}/close", data={"reason": "x"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("username", ["head", "other_head"])
def test_school_users_have_no_alerts(app: Flask, la: DemoLA, username: str) -> None:
    client = signed_in(app, username)
    assert client.get("/alerts").status_code == 404
    assert client.get(f"/alerts/{la.alert_id}").status_code == 404
    token = csrf_token(client.get("/pupils").text)
    for verb in ("acknowledge", "action", "close", "start-case"):
        response = client.post(
            f"/alerts/{la.open_alert_id}/{verb}", data={"csrf_token": token, "reason": "x"}
        )
        assert response.status_code == 404, verb


@pytest.mark.parametrize(
    ("username", "status"), [("ewo", 200), ("boss", 200), ("admin", 200), ("cme", 404), ("ep", 404)]
)
def test_an_alert_is_seen_by_its_team_and_managers(
    app: Flask, la: DemoLA, username: str, status: int
) -> None:
    client = signed_in(app, username)
    assert client.get(f"/alerts/{la.open_alert_id}").status_code == status
    assert client.get("/alerts/999999").status_code == 404
    token = csrf_token(client.get("/alerts").text)
    response = client.post(f"/alerts/{la.open_alert_id}/acknowledge", data={"csrf_token": token})
    assert response.status_code == (303 if status == 200 else 404)


def test_caseworkers_have_a_tab_per_team_managers_every_team(app: Flask, la: DemoLA) -> None:
    ewo = signed_in(app, "ewo").get("/alerts").text
    assert tabs(ewo)[0].startswith("All my teams") and tab_teams(ewo) == {"attendance"}
    assert la.cme_alert_id not in listed(ewo)
    boss = signed_in(app, "boss").get("/alerts").text
    assert tabs(boss)[0].startswith("All teams")
    assert {"attendance", "cme", "inclusion"} <= tab_teams(boss)
    cme_tab = signed_in(app, "boss").get("/alerts?team=cme").text
    assert la.cme_alert_id in listed(cme_tab) and la.open_alert_id not in listed(cme_tab)


def test_filters_by_rule_establishment_and_state(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    by_rule = client.get("/alerts?rule=penalty-threshold").text
    assert listed(by_rule) and all(alert_row(ctx, i).rule_id == "penalty-threshold" for i in listed(by_rule))
    at_school = client.get(f"/alerts?school={la.other_laestab}").text
    assert la.alert_id not in listed(at_school)
    closed = client.get("/alerts?state=closed").text
    assert listed(closed) == [] and "No alerts match these filters." in closed
    wrong = client.get("/alerts?school=12")
    assert "Error: Alerts" in wrong.text and 'href="#school"' in wrong.text
    partial = client.get("/alerts?rule=penalty-threshold", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="alert-results"')


def test_each_alert_in_the_list_shows_its_triggering_marks(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get("/alerts?rule=penalty-threshold").text
    card = html.split(f'href="/alerts/{la.alert_id}"', 1)[1].split(
        "govuk-summary-card educase-alert-card", 1
    )[0]
    assert "Triggering marks" in card
    assert re.search(r'educase-mark--unauthorised">[GNOU]</span> \d+ [A-Z][a-z]{2} (AM|PM)', card)


def test_the_alert_page_shows_facts_marks_history_and_case(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get(f"/alerts/{la.alert_id}").text
    assert "Penalty notice threshold" in html and "What raised it" in html
    assert "Sessions counted" in html and "Triggering marks (" in html
    assert "Case started" in html and "by Morgan Manager" in html  # its history, with names
    assert re.search(r'href="/tasks/[0-9a-f-]{36}">Casework and early help', html)
    assert "Start the case" not in html  # it has its case already


def test_viewing_is_audited(app: Flask, ctx: Context, la: DemoLA) -> None:
    signed_in(app, "ewo").get(f"/alerts/{la.alert_id}")
    signed_in(app, "ewo").get("/alerts?team=attendance")
    assert audit.trail(ctx, "alert", la.alert_id)[0].actor == "ewo"
    assert audit.trail(ctx, "alert_list", "attendance")[0].details["filters"] == {}


# --- the lifecycle ---------------------------------------------------------------------------------


def test_acknowledge_action_and_close_with_reasons(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    path = f"/alerts/{la.open_alert_id}"
    response = post(client, f"{path}/acknowledge")
    assert response.status_code == 303 and response.headers["Location"] == path
    page = client.get(path).text
    assert "The alert is acknowledged." in page and "Mark as actioned" in page
    refused = post(client, f"{path}/action", reason="  ")
    assert refused.status_code == 422
    assert "Error: Alert" in refused.text and 'href="#action-reason"' in refused.text
    assert "Enter what was done about the alert" in refused.text
    assert post(client, f"{path}/action", reason="Letter <b>sent</b> to the parent").status_code == 303
    page = client.get(path).text
    assert "Letter &lt;b&gt;sent&lt;/b&gt; to the parent" in page and "<b>sent</b>" not in page
    refused = post(client, f"{path}/close", reason="")
    assert refused.status_code == 422 and "Enter why you are closing the alert" in refused.text
    assert post(client, f"{path}/close", reason="Attendance improved").status_code == 303
    row = alert_row(ctx, la.open_alert_id)
    assert (row.state, row.state_reason, row.state_changed_by) == ("closed", "Attendance improved", "ewo")
    assert [e.action for e in audit.trail(ctx, "alert", la.open_alert_id) if e.action != "view"] == [
        "close",
        "action",
        "acknowledge",
    ]


def test_a_move_the_lifecycle_refuses_is_said_plainly(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    path = f"/alerts/{la.open_alert_id}"
    response = post(client, f"{path}/action", reason="Too early")  # open: acknowledge or close first
    assert response.status_code == 303
    assert "it can move to acknowledged, closed, not actioned" in client.get(path).text
    assert alert_row(ctx, la.open_alert_id).state == "open"
    too_long = post(client, f"{path}/close", reason="x" * 2001)
    assert too_long.status_code == 422 and "2,000 characters or fewer" in too_long.text


def test_forms_need_the_csrf_token(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    assert client.post(f"/alerts/{la.open_alert_id}/acknowledge").status_code == 400


# --- starting a case ---------------------------------------------------------------------------------


def test_start_a_case_from_an_alert(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    path = f"/alerts/{la.open_alert_id}"
    page = client.get(path).text
    assert "Start the case" in page and "Suggested by the rule" in page
    refused = post(client, f"{path}/start-case", process="")
    assert refused.status_code == 422 and "Choose the process to start" in refused.text
    assert post(client, f"{path}/start-case", process="no_such_process").status_code == 422
    response = post(client, f"{path}/start-case", process="attendance_legal_route")
    assert response.status_code == 303
    row = alert_row(ctx, la.open_alert_id)
    with ctx.db.transaction() as session:
        case = session.get(ProcessInstance, row.instance_id)
        upn = session.scalar(select(Pupil.upn).where(Pupil.id == row.pupil_id))
    assert (case.process_id, case.started_by, case.business_key) == ("attendance_legal_route", "ewo", upn)
    assert row.process_status == "started"
    page = client.get(path).text
    assert f"Case {row.instance_id} is started" in page
    assert re.search(r'href="/tasks/[0-9a-f-]{36}">Casework and early help', page)
    again = post(client, f"{path}/start-case", process="attendance_legal_route")
    assert again.status_code == 303 and "already has its case" in client.get(path).text
    assert audit.trail(ctx, "instance", row.instance_id)[0].details == {
        "process_id": "attendance_legal_route",
        "alert_id": la.open_alert_id,
    }


def test_no_case_is_started_from_a_closed_alert(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    path = f"/alerts/{la.open_alert_id}"
    assert post(client, f"{path}/close", reason="Duplicate").status_code == 303
    assert "No case was started before the alert was closed" in client.get(path).text
    response = post(client, f"{path}/start-case", process="attendance_legal_route")
    assert response.status_code == 303 and "is closed: a case cannot be started" in client.get(path).text
    assert alert_row(ctx, la.open_alert_id).instance_id is None
