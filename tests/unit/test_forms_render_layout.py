"""The page layout (webapp/templates/base.html), the shared macros and the vendored front-end assets:
no GOV.UK crown or font, the pinned versions shipped with their licences. A bare Flask app renders
the templates (no database, no app factory)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template_string

from webapp.forms_render import init_app, render_form

ROOT = Path(__file__).parents[2]
WEBAPP = ROOT / "webapp"
VENDOR = WEBAPP / "static" / "vendor"
PAGE = '{% extends "base.html" %}{% block content %}<h1 class="govuk-heading-l">Inbox</h1>{% endblock %}'


@pytest.fixture
def app() -> Flask:
    app = Flask("webapp", root_path=str(WEBAPP))
    init_app(app)
    app.add_url_rule("/tasks/<task_id>", "task", lambda task_id: task_id)
    return app


def render(app: Flask, source: str, **context: Any) -> BeautifulSoup:
    with app.test_request_context("/"):
        return BeautifulSoup(render_template_string(source, **context), "html.parser")


def test_layout_has_the_service_header_and_nothing_reserved_for_gov_uk(app: Flask) -> None:
    soup = render(app, PAGE, page_title="Inbox")
    assert soup.title is not None and soup.title.get_text() == "Inbox \u2013 EduCase"
    assert soup.select_one(".govuk-generic-header__homepage-link").get_text(strip=True) == "EduCase"
    html = str(soup)
    for reserved in (
        "govuk-logo",
        "govuk-header__logotype",
        "govuk-footer__crown",
        "Crown copyright",
        "Open Government Licence",
        "GOV.UK",
    ):
        assert reserved not in html, reserved
    assert not soup.select("svg")
    assert soup.select_one("a.govuk-skip-link")["href"] == "#main-content"
    assert soup.select_one("main#main-content h1").get_text() == "Inbox"
    assert "Beta" in soup.select_one(".govuk-phase-banner").get_text()
    assert "Apache License 2.0" in soup.select_one("footer").get_text()


def test_layout_sends_the_csrf_token_with_htmx_requests(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = lambda: "token-123"
    soup = render(app, PAGE)
    assert soup.select_one("meta[name=csrf-token]")["content"] == "token-123"
    assert json.loads(soup.body["hx-headers"]) == {"X-CSRFToken": "token-123"}
    config = json.loads(soup.select_one("meta[name=htmx-config]")["content"])
    assert config["historyCacheSize"] == 0


def test_layout_navigation_slot(app: Flask) -> None:
    source = (
        PAGE
        + '{% block navigationEnd %}<li class="govuk-service-navigation__item">Sign out</li>{% endblock %}'
    )
    navigation = [{"href": "/inbox", "text": "Inbox", "current": True}, {"href": "/pupils", "text": "Pupils"}]
    soup = render(app, source, navigation=navigation)
    items = [item.get_text(" ", strip=True) for item in soup.select(".govuk-service-navigation__item")]
    assert items == ["Inbox", "Pupils", "Sign out"]
    assert soup.select_one("[aria-current=page]")["href"] == "/inbox"


def test_every_asset_the_layout_links_to_is_shipped(app: Flask) -> None:
    soup = render(app, PAGE)
    links = [tag["href"] for tag in soup.select("link[href]")] + [
        tag["src"] for tag in soup.select("script[src]")
    ]
    assert len(links) == 5
    for link in links:
        assert link.startswith("/static/") and (WEBAPP / link.lstrip("/")).is_file(), link


def test_task_form_macro_wraps_the_rendered_form(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = lambda: "token-123"
    schema = {"type": "object", "properties": {"notes": {"type": "string", "title": "Notes"}}}
    source = (
        '{% from "_macros/forms.html" import task_form %}{{ task_form(rendered, submit_text="Complete") }}'
    )
    soup = render(app, source, rendered=render_form(schema))
    form = soup.select_one("form[method=post][novalidate]")
    assert form.select_one("input[name=csrf_token]")["value"] == "token-123"
    assert form.select_one("input#notes")
    assert form.select_one("button.govuk-button").get_text(strip=True) == "Complete"


def test_pupil_summary_and_task_table_macros(app: Flask) -> None:
    pupil = SimpleNamespace(
        full_name="Sam Jones", upn="A123456789012", upn_temporary=False, date_of_birth=date(2015, 3, 27)
    )
    source = '{% from "_macros/pupil.html" import pupil_summary %}{{ pupil_summary(pupil, school="Anytown Primary") }}'
    rows = render(app, source, pupil=pupil).select(".govuk-summary-list__row")
    assert [" ".join(row.get_text(" ", strip=True).split()) for row in rows] == [
        "Name Sam Jones",
        "Unique pupil number (UPN) A123456789012",
        "Date of birth 27 March 2015",
        "School Anytown Primary",
        "Year group Not known",
    ]
    due = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # midnight in London (BST)
    task = SimpleNamespace(
        id="t1", name="Review <b>case</b>", business_key="A123", lane="attendance", due_at=due, assignee=None
    )
    source = '{% from "_macros/tasks.html" import task_table %}{{ task_table(tasks, "task", now=now) }}'
    soup = render(app, source, tasks=[task], now=datetime(2026, 7, 2, tzinfo=UTC))
    cells = [cell.get_text(" ", strip=True) for cell in soup.select("tbody td")]
    assert cells == [
        "Review <b>case</b>",
        "A123",
        "attendance",
        "1 July 2026 at midnight Overdue",
        "Unassigned",
    ]
    assert soup.select_one("tbody a")["href"] == "/tasks/t1"


# --- vendored assets ------------------------------------------------------------------------------


def test_package_json_pins_exact_versions_that_the_lock_file_and_notice_agree_with() -> None:
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert pins["govuk-frontend"] == "6.3.0"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in pins.values())
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    notice = (VENDOR / "NOTICE.md").read_text()
    for name, version in pins.items():
        assert locked[f"node_modules/{name}"]["version"] == version
        assert f"| {name} | {version} |" in notice
        assert (VENDOR / "licenses" / f"{name}.txt").is_file()
    assert "watermark" in notice and "MPL-2.0" in notice


def test_no_gov_uk_font_or_crown_is_shipped() -> None:
    shipped = [path.name for path in VENDOR.rglob("*") if path.is_file()]
    assert not [name for name in shipped if name.endswith((".woff", ".woff2", ".png", ".ico", ".svg"))]
    css = (VENDOR / "govuk-frontend" / "govuk-frontend.min.css").read_text()
    assert "@font-face" not in css and "/assets/fonts/" not in css
    assert "GDS Transport" not in (WEBAPP / "static" / "educase.css").read_text().split("*/", 1)[1]
