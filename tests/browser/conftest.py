"""Browser tests: the real app served on a free port in a thread, driven by Playwright through Debian's
Chromium (never a downloaded browser), which must be installed (/usr/bin/chromium).

Every page is also checked with axe-core (WCAG 2.2 AA): ``assert_accessible(page)``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api
from werkzeug.serving import make_server

from engine import clock
from engine.context import Context
from engine.services.calendars import load_calendar
from webapp import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = "/static/vendor/axe-core/axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

if not CHROMIUM.exists():  # a missing browser is a failure, not a reason to skip the browser tests
    raise pytest.UsageError(
        "The browser tests drive Debian's chromium, which is not installed (/usr/bin/chromium). "
        "Install it with `apt-get install -y chromium` (`make test` and `.ci/run` try to)."
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class LiveServer:
    url: str
    ctx: Context
    problems: list[str] = field(default_factory=list)  # console errors and CSP refusals seen in pages


@pytest.fixture
def live_server(ctx: Context, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a free port, on the test database, with a school calendar around today."""
    _calendar_around_today(ctx, tmp_path)
    app = create_app({"TESTING": True, "EDUCASE_CONTEXT": ctx, "SESSION_COOKIE_SECURE": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="educase-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", ctx)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on("console", lambda message: _is_problem(message) and live_server.problems.append(message.text))
    tab.on("pageerror", lambda error: live_server.problems.append(str(error)))
    yield tab
    context.close()


def _is_problem(message: Any) -> bool:
    """A console error, except Chromium's note that a page came with 409 or 422 (a form shown again
    with its errors, or a task someone else completed first: deliberate statuses, not failures)."""
    if message.type != "error":
        return False
    return not re.search(r"status of (409|422) \(", message.text)


def sign_in_as(page: Any, username: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    submit(page, page.get_by_role("button", name="Sign in"))


def submit(page: Any, button: Any) -> None:
    """Press a button that sends a form, and wait for the page that answers it."""
    with page.expect_navigation():
        button.click()


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical WCAG 2.2 AA violation on the page as it is now. axe is
    loaded from the app's own static files, which the Content-Security-Policy allows."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    bad = [v for v in map(_without_known_govuk_issue, result["violations"]) if v["nodes"]]
    bad = [v for v in bad if v["impact"] in ("serious", "critical")]
    assert bad == [], json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in bad],
        indent=1,
    )


def _without_known_govuk_issue(violation: dict[str, Any]) -> dict[str, Any]:
    """GOV.UK Frontend puts ``aria-expanded`` on radios and checkboxes that reveal a question, on
    purpose: screen readers announce it, although ARIA does not list it for those roles. It is the
    Design System's documented known issue (alphagov/govuk-frontend#979), which axe reports as
    aria-allowed-attr; every other node of that rule still counts."""
    if violation["id"] != "aria-allowed-attr":
        return violation
    nodes = [
        node
        for node in violation["nodes"]
        if not re.search(r'class="govuk-(radios|checkboxes)__input"[^>]*aria-expanded=', node["html"])
        or len(re.findall(r"aria-[a-z]+=", node["html"])) > 2
    ]
    return {**violation, "nodes": nodes}


def _calendar_around_today(ctx: Context, tmp_path: Path) -> None:
    """One long term around today, so deadlines in school days work whenever the tests run."""
    today = clock.now().date()
    path = tmp_path / "term-dates.json"
    terms = [
        {"start": (today - timedelta(days=400)).isoformat(), "end": (today + timedelta(days=400)).isoformat()}
    ]
    path.write_text(json.dumps({"terms": terms, "closures": []}))
    with ctx.db.transaction() as session:
        load_calendar(session, path)
