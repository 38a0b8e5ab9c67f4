"""The pupil record, pupil search and the establishment page in a real browser: the weekly chart and
the marks calendar render (drawn on the server, no script), the tabs work, and every tab passes axe-core
with no console error (a CSP refusal would show there)."""

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


def test_the_record_draws_the_weekly_chart_and_the_marks_calendar(
    page: Any, live_server: LiveServer, la: DemoLA
) -> None:
    sign_in_as(page, "ewo", PASSWORD)
    page.goto(f"/pupils/{la.upn}")
    assert (
        page.locator(".educase-flag").count() == 2
    )  # EHCP (all staff) and the young carer (attendance team)
    assert_accessible(page)

    page.get_by_role("tab", name="Attendance").click()
    chart = page.locator("svg.educase-chart").first
    assert chart.is_visible()
    weeks = int(chart.get_attribute("data-weeks"))
    bars = chart.locator("rect.educase-chart__bar")
    assert weeks > 0 and bars.count() == weeks
    assert chart.bounding_box()["width"] > 300
    assert all(bars.nth(i).bounding_box()["width"] > 2 for i in range(weeks))
    assert page.locator(".educase-calendar table").first.is_visible()
    assert page.locator(".educase-calendar .educase-mark--present").count() > 10
    assert page.locator("#attendance").get_by_text("Overall absence rate").is_visible()
    page.locator("#attendance").get_by_text("Show the weekly figures as a table").click()
    table = page.locator("#attendance table.govuk-table").first
    assert table.is_visible() and table.locator("tbody tr").count() == weeks
    assert_accessible(page)

    for tab in ("Alerts", "Episodes", "Cases", "Chronology", "Enrolments"):
        page.get_by_role("tab", name=re.compile(f"^{tab}")).click()
        assert page.locator(f"#{tab.lower()}").is_visible()
        assert_accessible(page)
    assert live_server.problems == []


def test_search_then_open_a_pupil(page: Any, live_server: LiveServer, la: DemoLA) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/pupils")
    assert_accessible(page)
    page.get_by_label("Name or UPN").fill(la.upn)
    page.get_by_role("button", name="Search").click()
    result = page.locator("#pupil-results a.govuk-link").first
    result.wait_for()
    assert page.locator("#pupil-results tbody tr").count() == 1
    assert_accessible(page)
    submit(page, result)
    assert page.url.endswith(f"/pupils/{la.upn}")
    assert page.locator(".educase-flag").count() == 2  # EHCP and CP (shared with the managers team)
    assert_accessible(page)
    assert live_server.problems == []


def test_the_establishment_page_and_a_school_users_view(
    page: Any, live_server: LiveServer, la: DemoLA
) -> None:
    sign_in_as(page, "head", PASSWORD)
    page.goto(f"/establishments/{la.laestab}")
    assert page.locator("#roll tbody tr").count() == 50
    assert_accessible(page)
    page.get_by_role("tab", name="Attendance").click()
    assert page.locator("#attendance svg.educase-chart").is_visible()
    assert_accessible(page)
    for tab in ("Referrals", "Contracts"):
        page.get_by_role("tab", name=re.compile(f"^{tab}")).click()
        assert_accessible(page)
    page.goto(f"/pupils/{la.upn}")
    assert page.get_by_role("tab", name=re.compile("^Alerts")).count() == 0
    page.get_by_role("tab", name="Attendance").click()
    assert page.locator("#attendance svg.educase-chart").is_visible()
    assert_accessible(page)
    page.goto(f"/establishments/{la.other_laestab}")
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert [p for p in live_server.problems if "404" not in p] == []
