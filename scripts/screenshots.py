"""Take the README's screenshots of the main pages from a running demo (``make demo``).

    python scripts/screenshots.py [--base http://127.0.0.1:5000] [--out docs/images/screens]

Drives Debian's chromium (/usr/bin/chromium) with Playwright, signed in as the demo accounts, and saves
one PNG per page. It changes the demo's data as a person would (a form sent with a mistake in it, a
work item copied), so run it on a fresh demo.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.demo import DEMO_PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 900


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        shots = Shots(browser, args.base, args.out)
        shots.caseworker()
        shots.manager()
        shots.episodes()
        shots.school()
        browser.close()
    for path in sorted(args.out.glob("*.png")):
        print(path.relative_to(ROOT))


class Shots:
    def __init__(self, browser: Any, base: str, out: Path) -> None:
        self.browser, self.base, self.out = browser, base, out

    def as_user(self, username: str) -> Page:
        context = self.browser.new_context(base_url=self.base, viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    def save(self, page: Page, name: str, *, full: bool = False) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(self.out / f"{name}.png"), full_page=full)

    def caseworker(self) -> None:
        page = self.as_user("ewo")
        page.goto("/tasks?tab=team")
        self.save(page, "inbox")
        page.locator("a[href^='/tasks/']").first.click()
        page.wait_for_load_state()
        submit = page.get_by_role("button", name=re.compile("^(Complete|Submit|Send|Continue)", re.I)).first
        with page.expect_navigation():
            submit.click()  # the empty form: the error summary and inline messages
        self.save(page, "task-form-errors")
        page.goto("/alerts")
        self.save(page, "alerts")
        upn = page.locator("a[href^='/pupils/']").first.get_attribute("href")
        if upn:
            page.goto(upn)
            page.get_by_role("tab", name="Attendance").click()  # the weekly chart and the marks calendar
            self.save(page, "pupil-record", full=True)

    def manager(self) -> None:
        page = self.as_user("manager")
        page.goto("/manage")
        self.save(page, "dashboard", full=True)
        page.goto("/instances")
        cases = page.locator("a[href^='/instances/']")
        cases.nth(cases.count() - 1).click()  # the first case started: a referral waiting for triage
        page.wait_for_load_state()
        page.wait_for_timeout(1500)  # bpmn-js draws the diagram after the page has loaded
        self.save(page, "instance", full=True)

    def episodes(self) -> None:
        page = self.as_user("ep")
        page.goto("/episodes")
        links = page.locator("a[href^='/episodes/']").filter(has_text=re.compile("EP involvement"))
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        for href in hrefs:  # the episode with report sections in it
            page.goto(str(href))
            if page.locator("a[href$='/copy']").count():
                break
        self.save(page, "episode")
        page.locator("a[href*='/items/']:not([href$='/new'])").first.click()
        page.wait_for_load_state()
        page.locator("a[href$='/copy']").first.click()
        page.wait_for_load_state()
        self.save(page, "episode-copy", full=True)

    def school(self) -> None:
        page = self.as_user("school")
        page.goto("/portal")
        self.save(page, "portal", full=True)


if __name__ == "__main__":
    main()
