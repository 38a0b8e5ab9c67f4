"""What a school does in a real browser: refer a pupil for absence through its portal (choosing the
pupil from its roll, through a validation error), follow the case it sent; then the education welfare
officer finds the triage task in the attendance team's inbox. Each page passes axe-core and raises no
console error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine import clock
from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as, submit
from tests.web.cases import deploy_referrals
from tests.web.episode_cases import JACK_UPN, World, build_world
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_server: LiveServer) -> World:
    deploy_referrals(live_server.ctx)
    return build_world(live_server.ctx)


def fill_date(page: Any, group: str, day: str, month: str, year: str) -> None:
    fieldset = page.get_by_role("group", name=group)
    fieldset.get_by_label("Day").fill(day)
    fieldset.get_by_label("Month").fill(month)
    fieldset.get_by_label("Year").fill(year)


def test_a_school_refers_a_pupil_and_the_ewo_finds_the_triage(
    page: Any, live_server: LiveServer, world: World
) -> None:
    sign_in_as(page, "head", PASSWORD)
    page.wait_for_url(re.compile(r"/portal$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your school\u2019s portal"
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Refer a pupil for absence").first.click()
    page.get_by_label("Find a pupil by name or UPN").fill("Wilson")
    submit(page, page.get_by_role("button", name="Search"))
    assert "Ruby Wilson" not in page.locator("main").inner_text()  # another school's pupil
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Jack Wilson").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Refer a pupil to the attendance team"
    assert JACK_UPN in page.locator(".educase-readonly").first.inner_text()  # from the roll, read-only
    assert_accessible(page)
    page.get_by_label("Persistent absence (10% or more of sessions missed)").check()
    submit(page, page.get_by_role("button", name="Send the referral"))
    assert page.title().startswith("Error:")
    assert page.get_by_label("Persistent absence (10% or more of sessions missed)").is_checked()  # kept
    assert_accessible(page)

    today = clock.now()
    parents = page.get_by_role("group", name="Parents and carer 1")
    parents.get_by_label("Name").fill("Kim Wilson")
    parents.get_by_label("Mother").check()
    fill_date(page, "From", "1", "9", str(today.year - 1))
    fill_date(page, "To", str(today.day), str(today.month), str(today.year))
    page.get_by_label("Possible sessions").fill("206")
    page.get_by_label("Authorised absence sessions", exact=True).fill("12")
    page.get_by_label("Unauthorised absence sessions (G, N, O, U)").fill("18")
    actions = page.get_by_role("group", name="Item 1")
    actions.get_by_label("Action").select_option(label="Attendance letter")
    fill_date(actions, "Date", "12", "11", str(today.year - 1))
    referrer = page.get_by_role("group", name="Referred by")
    referrer.get_by_label("Name").fill("Hana Head")
    referrer.get_by_label("Role").fill("Head teacher")
    referrer.get_by_label("Email").fill("head@oak.example.org")
    submit(page, page.get_by_role("button", name="Send the referral"))

    page.wait_for_url(re.compile(r"/portal/cases/\d+$"))
    assert (
        "Your referral for Jack Wilson has been sent"
        in page.locator(".govuk-notification-banner").inner_text()
    )
    assert "With the local authority" in page.locator("main").inner_text()
    assert_accessible(page)
    page.goto("/portal")
    assert "School absence referral" in page.locator("main").inner_text()
    assert_accessible(page)
    submit(page, page.get_by_role("button", name="Sign out"))

    sign_in_as(page, "ewo", PASSWORD)
    page.goto("/tasks?tab=team")
    results = page.locator("#task-results").inner_text()
    assert "Triage the referral" in results and JACK_UPN in results
    assert_accessible(page)
    assert live_server.problems == []


def test_the_portals_other_pages_pass_axe(page: Any, live_server: LiveServer, world: World) -> None:
    sign_in_as(page, "head", PASSWORD)
    for path in (
        "/portal/pupils",
        f"/portal/deletions/new?pupil={world.jack}",
        "/portal/attendance-upload",
    ):
        page.goto(path)
        assert_accessible(page)
    submit(page, page.get_by_role("button", name="Send the file"))
    assert page.title().startswith("Error:")
    assert_accessible(page)
    assert live_server.problems == []
