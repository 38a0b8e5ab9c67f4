"""The managers' dashboard in a real browser: a chart's bar is a link that lands on the filtered list
with the expected rows; the dashboard and its lists pass axe-core and raise no console error (a CSP
refusal of the SVG charts would show there).

The live server runs on the real clock: the known LA of tests/web/dashboard_cases.py was received in
February and March 2026, so today every triage of it is overdue.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as
from tests.web.dashboard_cases import build
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def la(live_server: LiveServer) -> dict[str, Any]:
    return build(live_server.ctx)


def rows_of(page: Any) -> list[str]:
    return re.findall(r"[A-Z]801200026\d{3}|ERR-1", page.locator("table.govuk-table tbody").inner_text())


def test_a_bar_drills_down_to_its_list(page: Any, live_server: LiveServer, la: dict[str, Any]) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/manage")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert page.locator("svg.educase-chart").count() == 7  # nothing is due soon: all of it is overdue
    assert_accessible(page)

    segment = page.get_by_role("link", name="School absence referral, Triage the referral: 3 open cases")
    with page.expect_navigation():
        segment.click()
    assert page.url.endswith("/manage/instances?process=absence_referral&stage=triage")
    assert page.get_by_role("heading", level=2, name="3 cases").is_visible()
    assert rows_of(page) == ["A801200026001", "B801200026002", "C801200026003"]
    assert_accessible(page)

    page.go_back()
    bar = page.get_by_role("link", name="Attendance (education welfare): 3 overdue tasks")
    with page.expect_navigation():
        bar.click()
    assert re.search(r"/manage/tasks\?team=attendance&overdue=1$", page.url)
    assert sorted(rows_of(page)) == ["A801200026001", "B801200026002", "C801200026003"]
    assert page.locator(".govuk-tag--red", has_text="Overdue").count() == 3
    assert_accessible(page)
    assert live_server.problems == []


def test_the_figures_as_a_table_drill_down_too(page: Any, live_server: LiveServer, la: dict[str, Any]) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/manage")
    section = page.locator("section", has=page.get_by_role("heading", name="Caseload: open tasks held by each person"))
    section.get_by_text("Show these figures as a table").click()
    table = section.get_by_role("table")
    assert table.is_visible()
    assert_accessible(page)
    with page.expect_navigation():
        table.get_by_role("link", name=re.compile(r"^2 \(Erin Welfare\)$")).click()
    assert page.url.endswith("/manage/tasks?assignee=ewo")
    assert sorted(rows_of(page)) == ["A801200026001", "D801200026004"]
    assert page.get_by_role("link", name=re.compile("Download this list as CSV")).is_visible()
    assert live_server.problems == []


def test_a_chart_link_is_reached_and_followed_with_the_keyboard(
    page: Any, live_server: LiveServer, la: dict[str, Any]
) -> None:
    sign_in_as(page, "boss", PASSWORD)
    page.goto("/manage")
    link = page.get_by_role("link", name="Penalty notice threshold: 2 open alerts")
    link.focus()
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Penalty notice threshold: 2 open alerts"
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/manage/alerts?rule=penalty-threshold")
    assert sorted(re.findall(r"P801200026\d{3}", page.locator("table tbody").inner_text())) == [
        "P801200026101",
        "P801200026102",
    ]
    assert_accessible(page)
    assert live_server.problems == []
