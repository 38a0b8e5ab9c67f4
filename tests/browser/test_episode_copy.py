"""What an educational psychologist does in a real browser: copy a report section from one pupil's
episode into two others (searching twice, the first choice kept), check what each copy will take and
leave behind, make the copies, and find each one re-bound to its own pupil with its provenance. Each
page passes axe-core (no serious or critical WCAG 2.2 AA violation) and raises no console error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, assert_accessible, sign_in_as, submit
from tests.web.episode_cases import World, build_world
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_server: LiveServer) -> World:
    return build_world(live_server.ctx)


def test_copy_a_report_section_into_two_other_pupils_episodes(
    page: Any, live_server: LiveServer, world: World
) -> None:
    sign_in_as(page, "ep", PASSWORD)
    page.goto("/episodes")
    assert_accessible(page)
    page.goto(f"/episodes/{world.jack_episode}")
    assert page.get_by_text("Jack Wilson (UPN V801200026009)").is_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="EP report section", exact=True).click()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Copy to other episodes").click()

    page.get_by_label("Find episodes by pupil or establishment").fill("Patel")
    submit(page, page.get_by_role("button", name="Search"))
    page.get_by_role("checkbox", name=re.compile("Maya Patel")).check()
    page.get_by_label("Find episodes by pupil or establishment").fill("Ruby")
    submit(page, page.get_by_role("button", name="Search"))
    boxes = page.get_by_role("checkbox")
    assert boxes.count() == 2 and boxes.nth(0).is_checked()  # Maya kept, Ruby found
    assert "Maya Patel" in page.locator(".govuk-checkboxes").inner_text()
    assert_accessible(page)
    boxes.nth(1).check()
    submit(page, page.get_by_role("button", name="Continue"))

    assert page.get_by_role("heading", level=1).inner_text() == "Check the copies before you make them"
    shown = page.locator("main").inner_text()
    assert "Filled in for Maya Patel" in shown and "Filled in for Ruby Wilson" in shown
    assert "J88120012509A" in shown and "F801200026010" in shown
    assert_accessible(page)
    submit(page, page.get_by_role("button", name="Make the copies"))

    assert page.get_by_role("heading", level=1).inner_text() == "Copies made"
    assert "copied into 2 episodes" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Ruby Wilson")).click()
    copy = page.locator("main").inner_text()
    assert "Copied from \u2018EP report section\u2019" in copy and "by Evan Psychologist" in copy
    assert "Ruby Wilson" in copy and "F801200026010" in copy and "Jack Wilson" not in copy
    assert_accessible(page)
    page.goto(f"/episodes/{world.maya_episode}")
    assert "Copy" in page.locator("table").inner_text()  # the copy, tagged, in Maya's episode
    assert "Copied from" in page.locator("table").inner_text()
    assert_accessible(page)
    assert live_server.problems == []


def test_the_episode_pages_pass_axe(page: Any, live_server: LiveServer, world: World) -> None:
    sign_in_as(page, "ep", PASSWORD)
    for path in (
        "/episodes/new",
        "/episodes/new/ep-involvement?q=wilson",
        f"/episodes/{world.jack_episode}/items/new?form=ep-report-section.schema.json",
        f"/episodes/{world.jack_episode}/items/{world.section}/edit",
        f"/episodes/{world.oak_episode}",
    ):
        page.goto(path)
        assert_accessible(page)
    page.goto(f"/episodes/{world.jack_episode}/items/new?form=ep-report-section.schema.json")
    submit(page, page.get_by_role("button", name="Save as final"))
    assert page.title().startswith("Error:")
    assert_accessible(page)
    submit(page, page.get_by_role("button", name="Sign out"))
    sign_in_as(page, "admin", PASSWORD)
    for path in (
        "/admin/episode-templates",
        "/admin/episode-templates/new",
        "/admin/episode-templates/ep-involvement",
    ):
        page.goto(path)
        assert_accessible(page)
    assert live_server.problems == []
