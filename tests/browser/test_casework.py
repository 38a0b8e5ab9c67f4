"""What a person does in a real browser: sign in, complete a task through a validation error, take a
task from the team tab, and look at a case's diagram. Each main page also passes axe-core (no serious
or critical WCAG 2.2 AA violation) and raises no console error (a CSP refusal would show there)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine import clock
from engine.services import tasks
from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as, submit
from tests.web.cases import TRIAGE, deploy_referrals, make_people, open_task, start_referral
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def case(live_server: LiveServer) -> dict[str, Any]:
    ctx = live_server.ctx
    deploy_referrals(ctx)
    make_people(ctx)
    instance_id = start_referral(ctx, when=clock.now())
    return {"instance": instance_id, "triage": open_task(ctx, instance_id)}


def test_sign_in(page: Any, live_server: LiveServer, case: dict[str, Any]) -> None:
    page.goto("/tasks")
    assert re.search(r"/sign-in\?next=/tasks$", page.url)
    assert_accessible(page)
    page.get_by_label("Username").fill("ewo")
    page.get_by_label("Password", exact=True).fill("not the password")
    submit(page, page.get_by_role("button", name="Sign in"))
    assert page.title().startswith("Error:")
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    page.wait_for_url(re.compile(r"/tasks$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Tasks"
    assert page.get_by_text("Erin Welfare").is_visible()
    assert_accessible(page)
    assert live_server.problems == []


def test_complete_a_task_through_a_validation_error(
    page: Any, live_server: LiveServer, case: dict[str, Any]
) -> None:
    sign_in_as(page, "ewo", PASSWORD)
    page.goto(f"/tasks/{case['triage']}")
    page.wait_for_selector(".educase-diagram[data-diagram-state=ready]")
    assert_accessible(page)
    today = clock.now()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Accept for casework").check()
    assert page.get_by_label("Allocated attendance officer").is_visible()  # revealed by the choice
    submit(page, page.get_by_role("button", name="Continue"))

    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert page.title().startswith("Error: Triage the referral")
    assert "Allocated attendance officer is required" in summary.inner_text()
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert page.get_by_label("Day").input_value() == str(today.day)  # kept
    assert page.get_by_label("Accept for casework").is_checked()
    assert_accessible(page)

    summary.get_by_role("link", name="Allocated attendance officer is required").click()
    page.get_by_label("Allocated attendance officer").fill("R. Khan")
    page.get_by_label("Medium").check()
    submit(page, page.get_by_role("button", name="Continue"))
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Agree the casework plan"
    assert "You completed 'Triage the referral'" in page.locator(".govuk-notification-banner").inner_text()
    assert tasks.get_task(live_server.ctx, case["triage"])["completed_by"] == "ewo"
    assert_accessible(page)
    assert live_server.problems == []


def test_take_a_task_from_the_team_tab(page: Any, live_server: LiveServer, case: dict[str, Any]) -> None:
    sign_in_as(page, "ewo", PASSWORD)
    page.goto("/tasks")
    tabs = page.get_by_role("navigation", name="Task lists")
    assert "My tasks (0)" in tabs.inner_text()
    tabs.get_by_role("link", name=re.compile("My teams\u2019 tasks")).click()  # htmx swaps the results only
    page.wait_for_url(re.compile(r"tab=team"))
    page.wait_for_selector("#task-list-heading:has-text('My teams\u2019 tasks')")
    assert_accessible(page)
    submit(page, page.get_by_role("button", name=re.compile("^Take Triage the referral")))
    page.wait_for_selector(".govuk-notification-banner")
    assert "You have taken 'Triage the referral'" in page.locator(".govuk-notification-banner").inner_text()
    assert "My tasks (1)" in page.get_by_role("navigation", name="Task lists").inner_text()
    assert tasks.get_task(live_server.ctx, case["triage"])["assignee"] == "ewo"
    page.get_by_label("Pupil UPN or case reference").fill("NOBODY")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_selector("text=No tasks match these filters.")
    assert "pupil=NOBODY" in page.url
    assert_accessible(page)
    assert live_server.problems == []


def test_the_instance_page_draws_the_diagram(
    page: Any, live_server: LiveServer, case: dict[str, Any]
) -> None:
    tasks.complete_task(
        live_server.ctx, case["triage"], {**TRIAGE, "triaged_on": clock.now().date().isoformat()}, actor="ewo"
    )
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/instances")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="V801200026009").click()
    diagram = page.locator(".educase-diagram[data-diagram-state=ready]")
    diagram.wait_for()
    assert diagram.locator("svg").count() >= 1
    assert page.locator('.djs-element.educase-step--current[data-element-id="casework_plan"]').count() == 1
    assert page.locator('.djs-element.educase-step--done[data-element-id="triage"]').count() == 1
    stroke = page.evaluate(
        """() => getComputedStyle(document.querySelector(
            '.educase-step--current[data-element-id="casework_plan"] .djs-visual > :first-child')).stroke"""
    )
    assert stroke == "rgb(29, 112, 184)"  # GOV.UK blue
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io licence's watermark stays
    assert_accessible(page)
    page.get_by_text("Suspend the case", exact=True).first.click()
    page.get_by_label("Reason").first.fill("Waiting for the family to return")
    submit(page, page.get_by_role("button", name="Suspend the case"))
    page.wait_for_selector("text=The case is suspended.")
    assert_accessible(page)
    assert live_server.problems == []


def test_reassign_page_is_accessible(page: Any, live_server: LiveServer, case: dict[str, Any]) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto(f"/tasks/{case['triage']}/reassign")
    assert_accessible(page)
    page.get_by_label(re.compile("Who should do")).select_option("ewo2")
    submit(page, page.get_by_role("button", name="Reassign"))
    page.wait_for_selector("text=is now with ewo2")
    assert tasks.get_task(live_server.ctx, case["triage"])["assignee"] == "ewo2"
    assert live_server.problems == []
