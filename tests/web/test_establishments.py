"""An establishment's page: who may see it, the roll with its measures and filters, the attendance
summary and weekly chart, absence referrals, cases at the attendance-contract stage, episodes and
alerts, each as the person may see them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import clock
from engine.access import SYSTEM
from engine.context import Context
from engine.models.people import Establishment
from engine.services import audit, episodes, tasks
from tests.web.cases import open_task, signed_in, start_referral
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


def roll_upns(html: str) -> list[str]:
    return re.findall(
        r'<a class="govuk-link" href="/pupils/([A-Z0-9]+)">',
        html.split('id="roll"', 1)[1].split('id="attendance"')[0],
    )


def panel(html: str, name: str) -> str:
    return html.split(
        f'class="govuk-tabs__panel{"" if name == "roll" else " govuk-tabs__panel--hidden"}" id="{name}"', 1
    )[1].split('class="govuk-tabs__panel', 1)[0]


# --- who may see what ------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client: Any, la: DemoLA) -> None:
    assert client.get(f"/establishments/{la.laestab}").headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("username", [*LA_STAFF, "head"])
def test_la_staff_and_the_schools_own_staff_see_the_page(app: Flask, la: DemoLA, username: str) -> None:
    response = signed_in(app, username).get(f"/establishments/{la.laestab}")
    assert response.status_code == 200
    assert "Dovecote School" in response.text


@pytest.mark.parametrize("username", ["other_head", "ap_head"])
def test_other_schools_staff_do_not_know_the_page(app: Flask, la: DemoLA, username: str) -> None:
    response = signed_in(app, username).get(f"/establishments/{la.laestab}")
    assert response.status_code == 404
    assert "Dovecote School" not in response.text


def test_unknown_establishments_are_not_found(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "boss")
    for laestab in ("9999999", "abc", la.laestab + "0", "1" * 300):
        assert client.get(f"/establishments/{laestab}").status_code == 404


def test_school_users_see_no_episodes_and_no_alerts(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "head").get(f"/establishments/{la.laestab}").text
    assert 'id="episodes"' not in html and 'id="alerts"' not in html
    staff = signed_in(app, "ewo").get(f"/establishments/{la.laestab}").text
    assert 'id="episodes"' in staff and 'id="alerts"' in staff


# --- the roll and attendance -------------------------------------------------------------------------


def test_the_roll_pages_and_filters(app: Flask, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    html = client.get(f"/establishments/{la.laestab}").text
    total = int(re.search(r"Roll \((\d+)\)", html).group(1))
    first = roll_upns(html)
    assert len(first) == 50 < total
    second = roll_upns(client.get(f"/establishments/{la.laestab}?page=2").text)
    assert len(first) + len(second) == total and set(first).isdisjoint(second)
    persistent = client.get(f"/establishments/{la.laestab}?roll=persistent").text
    count = int(
        re.search(
            r"Attendance in 2025/26</h2>.*?over \d+ enrolments:\s*(\d+) persistently absent", persistent, re.S
        ).group(1)
    )
    assert len(roll_upns(persistent)) == min(count, 50)
    assert panel(persistent, "roll").count("Persistent absence") + panel(persistent, "roll").count(
        "Severe absence"
    ) == len(roll_upns(persistent))
    assert client.get(f"/establishments/{la.laestab}?roll=nonsense&page=x").status_code == 200


def test_the_attendance_summary_and_chart(app: Flask, la: DemoLA) -> None:
    html = signed_in(app, "head").get(f"/establishments/{la.laestab}").text
    attendance = panel(html, "attendance")
    assert "Overall absence rate" in attendance and "persistently absent" in attendance
    assert 'role="img"' in attendance and "Show the weekly figures as a table" in attendance
    assert len(re.findall(r"educase-chart__bar--", attendance)) > 30


def test_views_are_audited(app: Flask, ctx: Context, la: DemoLA) -> None:
    signed_in(app, "head").get(f"/establishments/{la.laestab}?roll=severe")
    entry = audit.trail(ctx, "establishment", la.laestab)[0]
    assert (entry.actor, entry.action, entry.details) == (
        "head",
        "view",
        {"school_year": 2025, "roll": "severe"},
    )


# --- referrals, contracts, episodes, alerts ------------------------------------------------------------


def test_referrals_are_the_schools_absence_referrals(app: Flask, ctx: Context, la: DemoLA) -> None:
    mine = start_referral(ctx, upn=la.upn, laestab=la.laestab, when=AFTER)
    start_referral(ctx, upn=la.other_upn, laestab=la.other_laestab, when=AFTER)
    boss = panel(signed_in(app, "boss").get(f"/establishments/{la.laestab}").text, "referrals")
    assert f'href="/instances/{mine}"' in boss and la.other_upn not in boss
    head = panel(signed_in(app, "head").get(f"/establishments/{la.laestab}").text, "referrals")
    assert "Absence referral" in head and f"Case {mine}" in head
    assert "/instances/" not in head
    ep = panel(signed_in(app, "ep").get(f"/establishments/{la.laestab}").text, "referrals")
    assert "There are no absence referrals" in ep  # no work of the EP team in it


def test_contracts_are_the_cases_at_the_contract_stage(app: Flask, ctx: Context, la: DemoLA) -> None:
    client = signed_in(app, "ewo")
    assert "No case you can see is at the contract stage" in panel(
        client.get(f"/establishments/{la.laestab}").text, "contracts"
    )
    tasks.complete_task(
        ctx,
        open_task(ctx, la.instance_id, "casework_support"),
        {
            "casework_reviewed_on": "2026-07-23",
            "parent_engagement": "partly",
            "casework_next_step": "attendance_contract",
            "casework_next_step_reason": "The family agree to try a contract.",
        },
        actor="ewo",
    )
    contracts = panel(client.get(f"/establishments/{la.laestab}").text, "contracts")
    assert "Contract being offered" in contracts and la.upn in contracts
    assert "Offer an attendance contract" in contracts
    assert "Contracts (1)" in client.get(f"/establishments/{la.laestab}").text
    assert "Contracts (0)" in signed_in(app, "cme").get(f"/establishments/{la.laestab}").text


def test_episodes_and_alerts_as_the_person_may_see_them(app: Flask, ctx: Context, la: DemoLA) -> None:
    with ctx.db.transaction() as session:
        school_id = session.scalar(select(Establishment.id).where(Establishment.laestab == la.laestab))
    episodes.open_episode(
        ctx,
        SYSTEM,
        "school-consultation",
        establishment_id=school_id,
        team="ep",
        title="Autumn planning <meeting>",
    )
    ep = signed_in(app, "ep").get(f"/establishments/{la.laestab}").text
    assert "Autumn planning &lt;meeting&gt;" in panel(ep, "episodes")
    assert "There are no open alerts" in panel(ep, "alerts")  # no alert is the EP team's
    ewo = signed_in(app, "ewo").get(f"/establishments/{la.laestab}").text
    assert "Autumn planning" not in ewo
    alerts = panel(ewo, "alerts")
    assert f'href="/alerts/{la.alert_id}"' in alerts
    assert "Illness for 15 school days" not in alerts  # the inclusion team's
    boss = panel(signed_in(app, "boss").get(f"/establishments/{la.laestab}").text, "alerts")
    assert (
        "Illness for 15 school days" in boss
        and "Autumn planning" in signed_in(app, "boss").get(f"/establishments/{la.laestab}").text
    )
