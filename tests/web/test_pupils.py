"""Pupil search and the pupil record: who may see which pupil and which parts of a record (flags,
enrolments, alerts, episodes, cases, chronology), the attendance shown (measures, the weekly chart and
its table, the marks calendar), escaping and the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from engine import clock
from engine.context import Context
from engine.services import audit
from tests.web.cases import signed_in
from tests.web.pupil_cases import AFTER, DemoLA, make_la, make_people

LA_STAFF = ("ewo", "cme", "ep", "boss", "admin")


@pytest.fixture(autouse=True)
def _after_the_marks() -> Iterator[None]:
    with clock.frozen_at(AFTER):
        yield


@pytest.fixture
def la(ctx: Context) -> DemoLA:
    made = make_la(ctx)
    make_people(ctx, made)
    return made


def names_found(html: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/pupils/[A-Z0-9]+">([^<]+)</a>', html)


def tab_labels(html: str) -> list[str]:
    return [t.strip() for t in re.findall(r'class="govuk-tabs__tab" href="#[a-z]+">\s*([^<]+?)\s*</a>', html)]


# --- who may see what ------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: Any, la: DemoLA) -> None:
    for path in ("/pupils", "/pupils?q=a", f"/pupils/{la.upn}"):
        assert client.get(path).headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("username", [*LA_STAFF, "head"])
def test_la_staff_and_the_pupils_school_see_the_record(app: Flask, la: DemoLA, username: str) -> None:
    response = signed_in(app, username).get(f"/pupils/{la.upn}")
    assert response.status_code == 200
    assert la.upn in response.text


@pytest.mark.parametrize("username", ["other_head", "ap_head"])
def test_another_schools_staff_do_not_know_the_pupil_exists(app: Flask, la: DemoLA, username: str) -> None:
    client = signed_in(app, username)
    response = client.get(f"/pupils/{la.upn}")
    assert response.status_code == 404
    assert la.upn not in response.text


def test_unknown_and_malformed_upns_are_not_found(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "boss")
    for upn in ("A123456789012", "not-a-upn", la.upn[:-1] + ("A" if la.upn[-1] != "A" else "B"), "x" * 300):
        assert client.get(f"/pupils/{upn}").status_code == 404


def test_a_lower_case_upn_opens_the_same_record(app: Flask, la: DemoLA) -> None:
    assert signed_in(app, "ewo").get(f"/pupils/{la.upn.lower()}").status_code == 200


def test_school_users_see_no_alerts_and_no_episodes(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "head").get(f"/pupils/{la.upn}").text
    assert tab_labels(html) == ["Enrolments", "Attendance", "Cases (1)", "Chronology"]
    assert "/alerts/" not in html
    assert "Home visit" not in html and "Attendance casework" not in html
    staff = signed_in(app, "ewo").get(f"/pupils/{la.upn}").text
    assert tab_labels(staff) == [
        "Enrolments",
        "Attendance",
        "Alerts (1)",
        "Episodes (1)",
        "Cases (1)",
        "Chronology",
    ]


# --- search ----------------------------------------------------------------------------------------


def test_search_by_name_upn_and_school(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    first = client.get("/pupils")
    assert first.status_code == 200 and "Search for a pupil" in first.text
    record = client.get(f"/pupils/{la.upn}").text
    name = re.search(r'<h1 class="govuk-heading-l">([^<]+)</h1>', record).group(1)
    by_name = client.get("/pupils", query_string={"q": name})
    assert name in names_found(by_name.text)
    by_upn = client.get("/pupils", query_string={"q": la.upn.lower()})
    assert names_found(by_upn.text) == [name]
    at_other = client.get("/pupils", query_string={"q": name, "school": la.other_laestab})
    assert name not in names_found(at_other.text)
    school = client.get("/pupils", query_string={"school": la.laestab})
    assert len(names_found(school.text)) == 25 and "Pages of pupils" in school.text
    page_two = client.get("/pupils", query_string={"school": la.laestab, "page": 2})
    assert set(names_found(page_two.text)).isdisjoint(names_found(school.text))


def test_search_wildcards_are_plain_characters(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    assert names_found(client.get("/pupils", query_string={"q": "%"}).text) == []
    assert names_found(client.get("/pupils", query_string={"q": "_"}).text) == []


def test_an_invalid_school_is_said_by_the_field(app: Flask, la: DemoLA) -> None:
    response = signed_in(app, "ewo").get("/pupils", query_string={"school": "88140"})
    assert response.status_code == 200
    assert "Error: Find a pupil" in response.text and 'href="#school"' in response.text


def test_htmx_gets_only_the_results(app: Flask, la: DemoLA) -> None:
    response = signed_in(app, "ewo").get("/pupils", query_string={"q": "a"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="pupil-results"')


def test_a_school_user_finds_only_their_own_pupils(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "head")
    assert names_found(client.get("/pupils", query_string={"q": la.other_upn}).text) == []
    assert len(names_found(client.get("/pupils", query_string={"q": la.upn}).text)) == 1
    # asking for another school changes nothing: the search stays on their own roll
    other = client.get("/pupils", query_string={"q": la.other_upn, "school": la.other_laestab})
    assert names_found(other.text) == []
    own = client.get("/pupils", query_string={"school": la.other_laestab})
    assert own.status_code == 200 and len(names_found(own.text)) == 25
    assert 'name="school"' not in own.text


def test_searches_are_audited(app: Flask, ctx: Context, la: DemoLA) -> None:
    signed_in(app, "ewo").get("/pupils", query_string={"q": "smith"})
    entry = audit.trail(ctx, "pupil_search", "-")[0]
    assert entry.actor == "ewo" and entry.details["text"] == "smith"


# --- the record --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("boss", {"EHCP", "CP"}, {"Young carer"}),  # CP is shared with the managers team
        ("ewo", {"EHCP", "Young carer"}, {"CP"}),  # the young carers' flag with the attendance team
        ("cme", {"EHCP"}, {"CP", "Young carer"}),
        ("head", {"EHCP"}, {"CP", "Young carer"}),
        ("admin", {"EHCP", "CP", "Young carer"}, set()),
    ],
)
def test_flags_show_only_to_those_entitled_with_icon_and_words(
    app: Flask, la: DemoLA, username: str, shown: set[str], hidden: set[str]
) -> None:
    html = signed_in(app, username).get(f"/pupils/{la.upn}").text
    flags = re.findall(r'<li class="educase-flag [^"]+">(.*?)</li>', html, re.S)
    found = {re.search(r"<strong>([^<]+)</strong>", f).group(1) for f in flags}
    assert found == shown
    for flag in flags:
        assert '<svg aria-hidden="true" focusable="false"' in flag
    assert not hidden & found
    if "CP" not in shown:
        assert "child protection" not in html  # not in the chronology either


def test_enrolments_show_dual_registration_and_its_partner_school(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get(f"/pupils/{la.dual_upn}").text
    assert "Dual: main school" in html and "Dual: subsidiary" in html
    ap = signed_in(app, "ap_head").get(f"/pupils/{la.dual_upn}")
    assert ap.status_code == 200
    assert "Dual: main school" in ap.text and "Dual: subsidiary" in ap.text  # both halves of the registration
    # the main school is named but not linked for the AP's staff: its page is not theirs
    assert f'href="/establishments/{la.dual_laestabs[0]}"' not in ap.text


def test_attendance_measures_chart_and_calendar(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get(f"/pupils/{la.upn}").text
    assert "Attendance in 2025/26" in html
    assert "Overall absence rate" in html and "Possible sessions" in html
    chart = re.search(r'<svg class="educase-chart"[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', html)
    assert chart, "the weekly chart is an SVG image with a name"
    for part in chart.group(1).split():
        assert f'id="{part}"' in html
    bars = re.findall(r'<rect class="educase-chart__bar educase-chart__bar--(good|low|severe|none)"', html)
    weeks = int(re.search(r'data-weeks="(\d+)"', html).group(1))
    assert len(bars) == weeks > 30
    assert "Show the weekly figures as a table" in html
    assert html.count('<th scope="row" class="govuk-table__header">') >= weeks
    assert "September 2025" in html and "July 2026" in html
    assert re.search(r'educase-mark educase-mark--unauthorised"[^>]*>.*?[GNOU]', html)
    assert "Morning: </span>/" in html  # each session is labelled in words, not colour alone


def test_persistent_absence_is_tagged(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get(f"/pupils/{la.upn}").text
    rate = float(re.search(r"Overall absence rate\s*</dt>\s*<dd[^>]*>\s*([\d.]+) %", html).group(1))
    assert ("Persistent absence" in html or "Severe absence" in html) == (rate >= 10)


def test_another_school_year_is_chosen_by_the_year_parameter(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    assert "Attendance in 2025/26" in client.get(f"/pupils/{la.upn}?year=2024").text  # no marks: the default
    assert "Attendance in 2025/26" in client.get(f"/pupils/{la.upn}?year=abcd").text


def test_alerts_episodes_and_cases_as_the_person_may_see_them(app: Flask, la: DemoLA) -> None:
    ewo = signed_in(app, "ewo").get(f"/pupils/{la.upn}").text
    assert f'href="/alerts/{la.alert_id}"' in ewo
    assert "Attendance casework 2025/26" in ewo
    assert "Casework and early help: choose the next step" in ewo  # the open task, linked
    assert re.search(r'href="/tasks/[0-9a-f-]{36}">Casework and early help', ewo)
    assert f'href="/instances/{la.instance_id}"' not in ewo  # the case page is for managers
    boss = signed_in(app, "boss").get(f"/pupils/{la.upn}").text
    assert f'href="/instances/{la.instance_id}"' in boss
    cme = signed_in(app, "cme").get(f"/pupils/{la.upn}").text
    assert f'href="/alerts/{la.alert_id}"' not in cme  # the attendance team's alert
    assert "Attendance casework 2025/26" not in cme
    assert "Cases (0)" in cme


def test_the_chronology_merges_what_happened_and_escapes_it(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "ewo").get(f"/pupils/{la.upn}").text
    chronology = html.split('id="chronology"', 1)[1]
    for text in (
        "Joined the roll of",
        "Suspended from",
        "1 mark corrected at",
        "10 Mar 2026 AM: N to I",
        "Flag shared: EHCP",
        "Alert raised: Penalty notice threshold",
        "Case started from the alert",
        "Attendance legal intervention route: Case started",
        "Episode opened: Attendance casework 2025/26",
        "Note on Attendance casework 2025/26",
    ):
        assert text in chronology, text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chronology and "<script>alert(1)" not in html
    assert "&lt;b&gt;Fighting&lt;/b&gt;" in chronology
    head = signed_in(app, "head").get(f"/pupils/{la.upn}").text.split('id="chronology"', 1)[1]
    assert "Suspended from" in head and "Alert raised" not in head and "Home visit" not in head


def test_viewing_a_record_is_audited(app: Flask, ctx: Context, la: DemoLA) -> None:
    signed_in(app, "ewo").get(f"/pupils/{la.upn}")
    entry = audit.trail(ctx, "pupil", la.upn)[0]
    assert (entry.actor, entry.action, entry.details) == ("ewo", "view", {"school_year": 2025})
    signed_in(app, "other_head").get(f"/pupils/{la.upn}")
    assert [e.actor for e in audit.trail(ctx, "pupil", la.upn)] == ["ewo"]  # a refused look is no view
