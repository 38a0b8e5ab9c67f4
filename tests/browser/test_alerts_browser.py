"""Alerts in a real browser: the list (filters refresh the results with htmx), acknowledging and
closing an alert through a validation error, and starting a case; each page passes axe-core."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as, submit
from tests.browser.pupil_fixtures import demo_la
from tests.web.pupil_cases import DemoLA
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def la(live_server: LiveServer, tmp_path: Path) -> DemoLA:
    return demo_la(live_server, tmp_path)


def test_the_list_and_its_filters(page: Any, live_server: LiveServer, la: DemoLA) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/alerts")
    assert page.locator(".educase-alert-card").count() > 0
    assert_accessible(page)
    page.get_by_label("Rule").select_option("penalty-threshold")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"rule=penalty-threshold"))
    titles = page.locator(".educase-alert-card .govuk-summary-card__title")
    assert titles.count() > 0
    assert all(t.startswith("Penalty notice threshold") for t in titles.all_inner_texts())
    assert page.locator(".educase-alert-card .educase-mark").count() > 0  # the triggering marks
    assert_accessible(page)
    page.locator(".educase-tabs__link", has_text="Children missing education").click()
    page.wait_for_url(re.compile(r"team=cme"))
    assert_accessible(page)
    assert live_server.problems == []


def test_acknowledge_then_close_through_a_validation_error(
    page: Any, live_server: LiveServer, la: DemoLA
) -> None:
    sign_in_as(page, "ewo", PASSWORD)
    page.goto(f"/alerts/{la.open_alert_id}")
    assert_accessible(page)
    submit(page, page.get_by_role("button", name="Acknowledge the alert"))
    assert "The alert is acknowledged." in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator(".govuk-summary-list .govuk-tag").first.inner_text() == "Acknowledged"
    assert_accessible(page)

    page.get_by_text("Close the alert").click()
    submit(page, page.get_by_role("button", name="Close alert"))
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert page.title().startswith("Error:")
    assert "Enter why you are closing the alert" in summary.inner_text()
    assert_accessible(page)
    summary.get_by_role("link").click()
    page.get_by_label("Why you are closing it").fill("Attendance back above 95 % since June.")
    submit(page, page.get_by_role("button", name="Close alert"))
    assert "The alert is closed." in page.locator(".govuk-notification-banner").inner_text()
    assert "Attendance back above 95 % since June." in page.locator("#history ~ ol").inner_text()
    assert_accessible(page)
    assert live_server.problems == []


def test_start_a_case_from_an_alert(page: Any, live_server: LiveServer, la: DemoLA) -> None:
    sign_in_as(page, "ewo", PASSWORD)
    page.goto(f"/alerts/{la.open_alert_id}")
    assert page.get_by_label("Attendance legal intervention route").is_checked()  # the rule's suggestion
    submit(page, page.get_by_role("button", name="Start the case"))
    assert "is started" in page.locator(".govuk-notification-banner").inner_text()
    task = page.get_by_role("link", name="Casework and early help: choose the next step")
    assert task.is_visible()
    assert_accessible(page)
    submit(page, task)
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Casework and early help: choose the next step"
    )
    assert live_server.problems == []
