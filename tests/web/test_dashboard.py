"""The managers' dashboard (/manage) and the lists its figures drill down to, with their CSV and XLSX
exports: who may use them, exact figures on a known LA (tests/web/dashboard_cases.py), every figure's
link landing on a list of exactly that many rows, exports' content, auditing and escaping."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import delete, update

from engine import clock
from engine.access import Principal
from engine.context import Context
from engine.models.calendar import CalendarRecord
from engine.models.people import Pupil
from engine.services import audit, dashboard
from tests.web.cases import signed_in
from tests.web.dashboard_cases import NOW, build

LISTS = ("tasks", "instances", "deadlines", "alerts")
ROUTES = ["/manage", *(f"/manage/{kind}" for kind in LISTS)]
ROUTES += [f"/manage/{kind}/export.{ext}" for kind in LISTS for ext in ("csv", "xlsx")]
BOSS = Principal("boss", "manager", frozenset({"managers"}))
ADMIN = Principal("admin", "administrator")


@pytest.fixture(autouse=True)
def _wednesday() -> Any:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def la(calendar_ctx: Context) -> dict[str, Any]:
    return build(calendar_ctx)


def heading_count(html: str) -> int:
    """The count a list page says it has (ours, or the colleague's case list at /instances)."""
    found = re.search(r'<h2 class="govuk-heading-m" id="(?:list|instance-list)-heading">([\d,]+) ', html)
    assert found, "no count heading on the list page"
    return int(found.group(1).replace(",", ""))


def chart_links(html: str) -> list[tuple[str, str]]:
    """(href, accessible name) of every link drawn in a chart."""
    return [
        (unquote(href).replace("&amp;", "&"), name)
        for href, name in re.findall(r'<a class="educase-chart__link" href="([^"]+)" aria-label="([^"]+)"', html)
    ]


# --- who may use it -----------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: Any) -> None:
    for path in ROUTES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next="), path


@pytest.mark.parametrize(
    ("username", "status"),
    [("boss", 200), ("admin", 200), ("ewo", 404), ("ep", 404), ("head", 404), ("other_head", 404)],
)
def test_only_managers_and_administrators_may_use_it(
    app: Flask, la: dict[str, Any], username: str, status: int
) -> None:
    client = signed_in(app, username)
    for path in ROUTES:
        assert client.get(path).status_code == status, path
    # a school user guessing another school's lists, filtered to it: nothing exists
    for path in ("/manage/alerts?establishment=8812001", "/manage/tasks?team=school", "/manage/instances?stage=triage"):
        assert client.get(path).status_code == status, path


def test_the_service_itself_refuses_others(calendar_ctx: Context, la: dict[str, Any]) -> None:
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        dashboard.dashboard(calendar_ctx, Principal("ewo", "caseworker", frozenset({"attendance"})))


def test_the_menu_offers_the_dashboard_to_managers_only(app: Flask, la: dict[str, Any]) -> None:
    assert 'href="/manage"' in signed_in(app, "boss").get("/manage").text
    assert 'href="/manage"' not in signed_in(app, "ewo").get("/tasks").text


def test_unknown_lists_do_not_exist(app: Flask, la: dict[str, Any]) -> None:
    client = signed_in(app, "boss")
    assert client.get("/manage/pupils").status_code == 404
    assert client.get("/manage/tasks/export.pdf").status_code == 404


# --- the figures --------------------------------------------------------------------------------------


def test_the_figures_of_the_known_la(calendar_ctx: Context, la: dict[str, Any]) -> None:
    board = dashboard.dashboard(calendar_ctx, BOSS)
    assert board.horizon.day.isoformat() == "2026-03-11" and board.horizon.school_days
    assert [(f.process_id, f.stage, f.value) for f in board.stages] == [
        ("absence_referral", "triage", 3),
        ("absence_referral", "casework_plan", 1),
        ("share_of_sessions", "state:error", 1),
    ]
    assert [(f.key, f.value) for f in board.overdue_by_team] == [("attendance", 1)]
    assert [(f.key, f.value) for f in board.at_risk_by_team] == [("attendance", 2)]
    assert [(f.key, f.value) for f in board.at_risk_timers] == [("absence_referral", 2)]
    assert [(d.kind, d.business_key) for d in board.soonest] == [
        ("task", "B801200026002"), ("timer", "B801200026002"), ("task", "C801200026003"), ("timer", "C801200026003"),
    ]  # fmt: skip
    assert [(f.key, f.label, f.value) for f in board.caseload] == [("ewo", "Erin Welfare", 2), ("ewo2", "Eddie Welfare", 1)]
    assert [(f.key, f.value) for f in board.alerts_by_rule] == [("penalty-threshold", 2), ("persistent-absence", 2)]
    assert [(f.key, f.value) for f in board.alerts_by_establishment] == [("8814001", 2), ("none", 1), ("8812001", 1)]
    weeks = {w.monday.isoformat(): (w.started, w.completed, w.raised, w.closed) for w in board.weeks}
    assert len(weeks) == 12 and min(weeks) == "2025-12-15" and max(weeks) == "2026-03-02"
    assert weeks["2026-03-02"] == (5, 1, 3, 0)
    assert weeks["2026-02-23"] == (1, 0, 1, 1)
    assert weeks["2026-02-16"] == (0, 0, 1, 0)
    assert sum(sum(v) for v in weeks.values()) == 13


def test_alerts_that_reveal_a_restricted_flag_count_only_for_those_who_may_see_it(
    calendar_ctx: Context, la: dict[str, Any]
) -> None:
    board = dashboard.dashboard(calendar_ctx, ADMIN)
    assert [(f.key, f.value) for f in board.alerts_by_rule] == [
        ("penalty-threshold", 2), ("persistent-absence", 2), ("cme-consecutive-unauthorised", 1),
    ]  # fmt: skip
    assert [(f.key, f.value) for f in board.alerts_by_establishment] == [("8814001", 2), ("8812001", 2), ("none", 1)]
    assert board.weeks[-1].raised == 4


def test_the_page_draws_each_figure_as_a_link_with_a_name(app: Flask, la: dict[str, Any]) -> None:
    html = signed_in(app, "boss").get("/manage").text
    links = dict((name, href) for href, name in chart_links(html))
    assert links["School absence referral, Triage the referral: 3 open cases"] == (
        "/manage/instances?process=absence_referral&stage=triage"
    )
    assert links["Share of sessions, Stopped with an error: 1 open cases"] == (
        "/manage/instances?process=share_of_sessions&stage=state:error"
    )
    assert links["Attendance (education welfare): 1 overdue tasks"] == "/manage/tasks?team=attendance&overdue=1"
    assert links["Attendance (education welfare): 2 tasks due soon"] == "/manage/tasks?team=attendance&at_risk=1"
    assert links["School absence referral: 2 deadlines"] == "/manage/deadlines?process=absence_referral"
    assert links["Penalty notice threshold: 2 open alerts"] == "/manage/alerts?rule=penalty-threshold"
    assert links["No establishment: 1 open alerts"] == "/manage/alerts?establishment=none"
    assert links["Erin Welfare: 2 open tasks"] == "/manage/tasks?assignee=ewo"
    assert links["Cases completed, week of 2 March 2026: 1"] == "/manage/instances?completed=2026-03-02"
    assert links["Alerts closed, week of 23 February 2026: 1"] == "/manage/alerts?closed=2026-02-23"
    assert links["Cases started, week of 2 March 2026: 5"].startswith("/instances?from-day=2&from-month=3")
    assert "cme-consecutive" not in html and "10 consecutive unauthorised" not in html
    assert html.count('<svg class="educase-chart"') == 9
    assert html.count('class="govuk-details educase-chart-table"') == 8  # a table for every chart (one for both trends)
    assert "end of 11 March 2026, the 5th school day after today" in html


def test_every_figure_lands_on_a_list_of_exactly_that_many_rows(app: Flask, la: dict[str, Any]) -> None:
    client = signed_in(app, "boss")
    links = chart_links(client.get("/manage").text)
    assert len(links) > 20
    for href, name in links:
        count = int(re.search(r": (\d+)(?: [a-z ]+)?$", name).group(1))
        page = client.get(href)
        assert page.status_code == 200, href
        assert heading_count(page.text) == count, (href, name)


def test_the_lists_show_their_rows(app: Flask, la: dict[str, Any]) -> None:
    client = signed_in(app, "boss")
    overdue = client.get("/manage/tasks?team=attendance&overdue=1").text
    assert "A801200026001" in overdue and "B801200026002" not in overdue
    assert "Overdue" in overdue and "Erin Welfare" in overdue
    assert f'href="/instances/{la["A"]}"' in overdue
    at_stage = client.get("/manage/instances?process=absence_referral&stage=triage").text
    assert re.findall(r"[ABC]801200026\d{3}", at_stage) == ["A801200026001", "B801200026002", "C801200026003"]
    assert 'href="/instances?process=absence_referral"' in at_stage  # the colleague's case list, filtered
    waiting = client.get("/manage/instances?process=share_of_sessions&stage=state:error").text
    assert "ERR-1" in waiting and 'href="/instances?process=share_of_sessions&amp;state=error"' in waiting
    completed = client.get("/manage/instances?completed=2026-03-04").text  # any day of the week: its Monday
    assert "E801200026005" in completed and heading_count(completed) == 1
    deadlines = client.get("/manage/deadlines").text
    assert heading_count(deadlines) == 2 and "Triage not done in 5 school days" in deadlines
    alerts = client.get("/manage/alerts?establishment=8814001").text
    assert heading_count(alerts) == 2 and "P801200026101" in alerts and "P801200026103" not in alerts  # closed


def test_restricted_alerts_are_not_listed_for_those_who_may_not_see_them(app: Flask, la: dict[str, Any]) -> None:
    assert "P801200026105" not in signed_in(app, "boss").get("/manage/alerts?establishment=8812001").text
    assert heading_count(signed_in(app, "boss").get("/manage/alerts?rule=cme-consecutive-unauthorised").text) == 0
    admin = signed_in(app, "admin").get("/manage/alerts?establishment=8812001").text
    assert "P801200026105" in admin and heading_count(admin) == 2


def test_a_week_that_is_not_a_date_is_refused(app: Flask, la: dict[str, Any]) -> None:
    response = signed_in(app, "boss").get("/manage/alerts?raised=last-week")
    assert response.status_code == 400 and "2026-03-02" in response.text


def test_lists_come_a_page_at_a_time(app: Flask, calendar_ctx: Context, la: dict[str, Any]) -> None:
    from sqlalchemy import insert

    from engine.models.alerts import Alert
    from tests.integration.alerts_support import pupil
    from tests.web.dashboard_cases import alert_row

    rows = []
    for n in range(30):
        who = pupil(calendar_ctx, f"Q8012000262{n:02d}")
        rows.append(alert_row(f"q{n}", who, "unresolved-n-code", "attendance", "open", "2026-03-03T08:00:00Z"))
    with calendar_ctx.db.transaction() as session:
        session.execute(insert(Alert), rows)
    client = signed_in(app, "boss")
    first = client.get("/manage/alerts?rule=unresolved-n-code").text
    assert heading_count(first) == 30 and len(re.findall(r"Q8012000262\d\d", first)) == 25
    assert 'href="/manage/alerts?page=2&amp;rule=unresolved-n-code"' in first
    second = client.get("/manage/alerts?rule=unresolved-n-code&page=2").text
    assert len(re.findall(r"Q8012000262\d\d", second)) == 5


def test_without_a_school_calendar_working_days_are_counted_and_said(
    app: Flask, calendar_ctx: Context, la: dict[str, Any]
) -> None:
    with calendar_ctx.db.transaction() as session:
        session.execute(delete(CalendarRecord))
    calendar_ctx.calendars.invalidate()
    board = dashboard.dashboard(calendar_ctx, BOSS)
    assert not board.horizon.school_days and board.horizon.day.isoformat() == "2026-03-11"
    assert "working days (Monday to Friday, not bank holidays) were counted" in signed_in(app, "boss").get("/manage").text


def test_an_empty_la_has_a_dashboard_too(app: Flask, calendar_ctx: Context) -> None:
    from tests.web.cases import make_people

    make_people(calendar_ctx)
    html = signed_in(app, "boss").get("/manage").text
    assert "There are no open cases." in html and "No task is overdue." in html
    assert "Nobody holds an open task." in html
    assert html.count('<svg class="educase-chart"') == 2  # the trends: 12 weeks of zeros


# --- exports ----------------------------------------------------------------------------------------------


def test_csv_export_has_every_row_with_the_lists_filters(app: Flask, la: dict[str, Any]) -> None:
    response = signed_in(app, "boss").get("/manage/tasks/export.csv?team=attendance")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="educase-tasks-2026-03-04.csv"'
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["Task", "Case reference", "Process", "Teams", "Assigned to", "Due", "Task id", "Case id"]
    body = sorted(rows[1:], key=lambda r: r[1])
    assert [r[1] for r in body] == ["A801200026001", "B801200026002", "C801200026003", "D801200026004"]
    assert body[0][:6] == [
        "Triage the referral", "A801200026001", "School absence referral", "Attendance (education welfare)",
        "Erin Welfare", "2026-03-03 00:00",
    ]  # fmt: skip
    assert body[3][5] == "" and body[3][7] == str(la["D"])


def test_xlsx_export_has_the_same_rows(app: Flask, la: dict[str, Any]) -> None:
    response = signed_in(app, "boss").get("/manage/instances/export.xlsx?process=absence_referral&stage=triage")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Case reference", "Process", "Stage", "Assigned to", "Due", "Started", "Ended", "Case id"]
    assert [v[0] for v in values[1:]] == ["A801200026001", "B801200026002", "C801200026003"]
    assert values[1][2] == "Triage the referral" and values[1][3] == "Erin Welfare"
    assert values[1][4].isoformat() == "2026-03-03T00:00:00"  # UK local time (GMT in March)
    assert values[1][7] == la["A"]


def test_exports_keep_formulas_as_text_and_are_audited(
    app: Flask, calendar_ctx: Context, la: dict[str, Any]
) -> None:
    with calendar_ctx.db.transaction() as session:
        session.execute(update(Pupil).where(Pupil.upn == "P801200026101").values(surname="=HYPERLINK(\"http://x\")"))
    client = signed_in(app, "boss")
    text = client.get("/manage/alerts/export.csv?rule=penalty-threshold").data.decode("utf-8")
    assert "'Test =HYPERLINK" not in text and '"\'=HYPERLINK' not in text
    assert 'Test =HYPERLINK(""http://x"")' in text  # the full name does not start with "="
    with calendar_ctx.db.transaction() as session:
        session.execute(update(Pupil).where(Pupil.upn == "P801200026101").values(forename="=cmd", preferred_forename=None))
    text = client.get("/manage/alerts/export.csv?rule=penalty-threshold").data.decode("utf-8")
    assert "'=cmd =HYPERLINK" in text
    sheet = load_workbook(io.BytesIO(client.get("/manage/alerts/export.xlsx?rule=penalty-threshold").data)).active
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=cmd"))
    assert cell.data_type == "s"
    exports = [e for e in audit.by_actor(calendar_ctx, "boss") if e.action == "export"]
    assert [(e.object_type, e.details["format"], e.details["filters"], e.details["rows"]) for e in exports] == [
        ("alerts_list", "xlsx", {"rule": "penalty-threshold"}, 2),
        ("alerts_list", "csv", {"rule": "penalty-threshold"}, 2),
        ("alerts_list", "csv", {"rule": "penalty-threshold"}, 2),
    ]


def test_views_are_audited(app: Flask, calendar_ctx: Context, la: dict[str, Any]) -> None:
    client = signed_in(app, "boss")
    client.get("/manage")
    client.get("/manage/tasks?assignee=ewo")
    seen = [(e.action, e.object_type, e.details) for e in audit.by_actor(calendar_ctx, "boss")][:2]
    assert seen == [
        ("view", "tasks_list", {"filters": {"assignee": "ewo"}, "rows": 2, "total": 2}),
        ("view", "dashboard", None),
    ]


def test_text_from_the_data_is_escaped(app: Flask, calendar_ctx: Context, la: dict[str, Any]) -> None:
    with calendar_ctx.db.transaction() as session:
        session.execute(update(Pupil).where(Pupil.upn == "P801200026101").values(surname="<script>alert(1)</script>"))
    html = signed_in(app, "boss").get("/manage/alerts?rule=penalty-threshold").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_export_too_large_is_refused(app: Flask, la: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.services import dashboard_lists

    monkeypatch.setattr(dashboard_lists, "EXPORT_LIMIT", 3)
    response = signed_in(app, "boss").get("/manage/tasks/export.csv")
    assert response.status_code == 400 and "This list has 4 rows; an export holds at most 3" in response.text


def test_names_in_the_charts_are_escaped(app: Flask, calendar_ctx: Context, la: dict[str, Any]) -> None:
    from engine.models.access import UserAccount

    with calendar_ctx.db.transaction() as session:
        session.execute(update(UserAccount).where(UserAccount.username == "ewo").values(display_name='<b>"Erin"</b>'))
    html = signed_in(app, "boss").get("/manage").text
    assert "<b>" not in html
    assert 'aria-label="&lt;b&gt;&#34;Erin&#34;&lt;/b&gt;: 2 open tasks"' in html
