"""The episode pages: who reaches each route (anonymous → sign in, school users and other teams → 404),
the list and its filters, opening an episode, work items as draft and final (answers kept on errors,
a colleague's change not overwritten), notes, closing and reopening, filing a case and a document
(shown as a printable page under its own policy), copying a work item (choose, check, copy: re-bound
fields, what is left behind, provenance, independence, access to every target), the template pages
for administrators, and escaping of everything people type."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine import clock
from engine.access import Principal
from engine.context import Context
from engine.models.access import AuditEvent, Role
from engine.models.documents import Document
from engine.models.episodes import WorkItem
from engine.services import episodes
from tests.web.cases import WORKING_DAY, deploy_referrals, signed_in, start_referral
from tests.web.episode_cases import EP, SECTION, World, build_world
from tests.web.support import csrf_token

ROLES = ("ep", "ewo", "boss", "admin", "head")
REPORT = "ep-report-section.schema.json"
CONSULTATION = "school-consultation.schema.json"


@pytest.fixture(autouse=True)
def _working_day() -> Any:
    with clock.frozen_at(WORKING_DAY):
        yield


@pytest.fixture
def world(ctx: Context) -> World:
    return build_world(ctx)


@pytest.fixture
def clients(app: Flask, world: World) -> dict[str, FlaskClient]:
    return {name: signed_in(app, name) for name in ROLES}


def text_of(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def token(client: FlaskClient, path: str = "/episodes") -> str:
    return csrf_token(client.get(path).text)


def item_count(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(WorkItem)) or 0


# --- who reaches what ---------------------------------------------------------------------------------


def episode_routes(w: World) -> list[str]:
    jack, item = w.jack_episode, w.section
    return [
        f"/episodes/{jack}",
        f"/episodes/{jack}/items/{item}",
        f"/episodes/{jack}/items/{item}/edit",
        f"/episodes/{jack}/items/new?form={REPORT}",
        f"/episodes/{jack}/items/{item}/copy",
        f"/episodes/{jack}/items/{item}/copy/check?target={w.ruby_episode}",
    ]


@pytest.mark.parametrize(
    ("role", "status"), [("ep", 200), ("boss", 200), ("admin", 200), ("ewo", 404), ("head", 404)]
)
def test_an_episodes_pages_are_for_its_team_and_managers(
    clients: dict[str, FlaskClient], world: World, role: str, status: int
) -> None:
    for path in episode_routes(world):
        assert clients[role].get(path).status_code == status, path


@pytest.mark.parametrize(
    ("role", "status"), [("ep", 200), ("ewo", 200), ("boss", 200), ("admin", 200), ("head", 404)]
)
def test_the_list_and_opening_are_for_la_staff(
    clients: dict[str, FlaskClient], role: str, status: int
) -> None:
    for path in ("/episodes", "/episodes/new", "/episodes/new/ep-involvement?q=wilson"):
        assert clients[role].get(path).status_code == status, path


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("boss", 404), ("ep", 404), ("head", 404)])
def test_template_pages_are_for_administrators(
    clients: dict[str, FlaskClient], role: str, status: int
) -> None:
    for path in (
        "/admin/episode-templates",
        "/admin/episode-templates/new",
        "/admin/episode-templates/ep-involvement",
    ):
        assert clients[role].get(path).status_code == status, path


def test_anonymous_people_are_asked_to_sign_in(client: FlaskClient, world: World) -> None:
    for path in ["/episodes", "/episodes/new", "/admin/episode-templates", *episode_routes(world)]:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], path
    for path in (
        f"/episodes/{world.jack_episode}/notes",
        f"/episodes/{world.jack_episode}/items/{world.section}/copy",
    ):
        assert "/sign-in" in client.post(path, data={"text": "x"}).headers["Location"], path


def test_changes_are_refused_to_those_who_may_not_see_the_episode(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    jack, item = world.jack_episode, world.section
    posts = {
        f"/episodes/{jack}/close": {},
        f"/episodes/{jack}/reopen": {},
        f"/episodes/{jack}/notes": {"text": "A note"},
        f"/episodes/{jack}/cases": {"instance_id": "1"},
        f"/episodes/{jack}/documents": {"document_id": "1"},
        f"/episodes/{jack}/items/new?form={REPORT}": {"_action": "save_draft"},
        f"/episodes/{jack}/items/{item}/edit": {"_action": "save_draft"},
        f"/episodes/{jack}/items/{item}/copy": {"target": str(world.ruby_episode)},
    }
    for role in ("ewo", "head"):
        csrf = token(clients[role], "/portal" if role == "head" else "/episodes")
        for path, data in posts.items():
            assert clients[role].post(path, data={"csrf_token": csrf, **data}).status_code == 404, (
                role,
                path,
            )
    assert item_count(ctx) == 1
    assert episodes.get_episode(ctx, EP, jack).notes == []


def test_a_work_item_is_found_only_under_its_own_episode(
    clients: dict[str, FlaskClient], world: World
) -> None:
    assert clients["ep"].get(f"/episodes/{world.ruby_episode}/items/{world.section}").status_code == 404
    assert clients["ep"].get(f"/episodes/{world.jack_episode}/items/99999").status_code == 404
    assert clients["ep"].get(f"/episodes/{world.ruby_episode}/items/{world.section}/copy").status_code == 404


# --- the list -----------------------------------------------------------------------------------------


def test_the_list_shows_my_episodes_and_filters_them(clients: dict[str, FlaskClient]) -> None:
    mine = text_of(clients["ep"].get("/episodes").text)
    assert "Jack Wilson" in mine and "Ruby Wilson" in mine and "Oak Primary School" in mine
    ruby = text_of(clients["ep"].get("/episodes?q=ruby").text)
    assert "Ruby Wilson" in ruby and "Jack Wilson" not in ruby
    assert "Oak Primary School" in text_of(clients["ep"].get("/episodes?q=8012000").text)
    assert "No episodes match" in text_of(clients["ep"].get("/episodes?state=closed").text)
    assert "No episodes match" in text_of(clients["ewo"].get("/episodes?scope=team").text)
    everything = text_of(clients["boss"].get("/episodes?scope=all").text)
    assert "All episodes" in everything and "Jack Wilson" in everything


def test_htmx_gets_only_the_results(clients: dict[str, FlaskClient]) -> None:
    partial = clients["ep"].get("/episodes?q=jack", headers={"HX-Request": "true"}).text
    assert partial.lstrip().startswith('<div id="episode-results"') and "<html" not in partial


# --- opening an episode -------------------------------------------------------------------------------


def test_opening_an_episode_about_a_pupil(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ep = clients["ep"]
    assert (
        ep.get("/episodes/new?template=ep-involvement")
        .headers["Location"]
        .endswith("/episodes/new/ep-involvement")
    )
    found = ep.get("/episodes/new/ep-involvement?q=hussain")
    assert "Omar Hussain" in text_of(found.text)
    refused = ep.post(
        "/episodes/new/ep-involvement", data={"csrf_token": csrf_token(found.text), "subject": ""}
    )
    assert refused.status_code == 422 and "Choose whom the episode is about" in refused.text
    opened = ep.post(
        "/episodes/new/ep-involvement",
        data={
            "csrf_token": csrf_token(found.text),
            "subject": f"pupil:{world.omar}",
            "title": "Omar: EP advice",
        },
    )
    assert opened.status_code == 303
    page = text_of(ep.get(opened.headers["Location"]).text)
    assert "Omar: EP advice" in page and "Omar Hussain (UPN K801200126014)" in page


def test_an_unknown_kind_of_episode_is_asked_again(clients: dict[str, FlaskClient]) -> None:
    response = clients["ep"].get("/episodes/new?template=nonsense")
    assert response.status_code == 400 and "Choose the kind of episode" in response.text
    assert clients["ep"].get("/episodes/new/nonsense").status_code == 404


def test_a_caseworker_may_not_open_another_teams_kind_of_episode(
    clients: dict[str, FlaskClient], world: World
) -> None:
    offered = text_of(clients["ewo"].get("/episodes/new").text)
    assert "Attendance casework" in offered and "EP involvement" not in offered
    page = clients["ewo"].get("/episodes/new/ep-involvement?q=omar")
    response = clients["ewo"].post(
        "/episodes/new/ep-involvement",
        data={"csrf_token": csrf_token(page.text), "subject": f"pupil:{world.omar}"},
    )
    assert response.status_code == 403


# --- work items ---------------------------------------------------------------------------------------


def report_fields(**changes: str) -> dict[str, str]:
    fields = {
        "section": "strengths",
        "content": "Jack reads fluently and enjoys stories about animals.",
        "written_on-day": "3",
        "written_on-month": "3",
        "written_on-year": "2026",
    }
    return {**fields, **changes}


def test_a_new_work_item_shows_the_pupil_and_keeps_answers_on_errors(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ep, path = clients["ep"], f"/episodes/{world.jack_episode}/items/new?form={REPORT}"
    form = ep.get(path)
    assert "Jack Wilson" in text_of(form.text) and "V801200026009" in text_of(form.text)  # bound, read-only
    data = {"csrf_token": csrf_token(form.text), **report_fields(content="Too short"), "_action": "continue"}
    refused = ep.post(path, data=data)
    assert refused.status_code == 422
    assert refused.text.count("govuk-error-summary") >= 1 and "Too short" in refused.text
    assert item_count(ctx) == 1
    saved = ep.post(path, data={**data, "content": "Jack reads fluently and enjoys stories."})
    assert saved.status_code == 303
    page = text_of(ep.get(saved.headers["Location"]).text)
    assert "Final" in page and "Jack reads fluently" in page and "Child: Name Jack Wilson" in page


def test_a_draft_is_saved_unchecked_and_made_final_later(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ep, path = clients["ep"], f"/episodes/{world.jack_episode}/items/new?form={REPORT}"
    draft = ep.post(
        path,
        data={
            "csrf_token": token(ep),
            "content": "Notes so far",
            "work_item_title": "Reading",
            "_action": "save_draft",
        },
    )
    assert draft.status_code == 303
    page = ep.get(draft.headers["Location"])
    assert "Draft" in text_of(page.text) and "Reading" in text_of(page.text)
    edit_path = draft.headers["Location"] + "/edit"
    form = ep.get(edit_path).text
    lock = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    final = ep.post(
        edit_path,
        data={"csrf_token": csrf_token(form), "lock_version": lock, **report_fields(), "_action": "continue"},
    )
    assert final.status_code == 303
    assert "Final" in text_of(ep.get(final.headers["Location"]).text)


def test_a_colleagues_change_is_not_overwritten(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ep, path = clients["ep"], f"/episodes/{world.jack_episode}/items/{world.section}/edit"
    form = ep.get(path).text
    lock = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    episodes.update_work_item(ctx, EP, world.section, {**SECTION, "heading": "Changed by a colleague"})
    mine = "My own wording of the family context, written at the same time."
    response = ep.post(
        path,
        data={
            "csrf_token": csrf_token(form),
            "lock_version": lock,
            **report_fields(content=mine),
            "_action": "continue",
        },
    )
    assert response.status_code == 409
    assert "was changed by" in text_of(response.text) and mine in response.text  # typed answers kept
    assert episodes.get_work_item(ctx, EP, world.section).data["heading"] == "Changed by a colleague"


def test_only_the_templates_forms_may_be_added(clients: dict[str, FlaskClient], world: World) -> None:
    path = f"/episodes/{world.jack_episode}/items/new?form=absence_referral-triage.schema.json"
    assert clients["ep"].get(path).status_code == 404


# --- notes, closing, cases and documents --------------------------------------------------------------


def test_notes_closing_and_reopening(ctx: Context, clients: dict[str, FlaskClient], world: World) -> None:
    ep, base = clients["ep"], f"/episodes/{world.jack_episode}"
    csrf = token(ep, base)
    assert ep.post(f"{base}/notes", data={"csrf_token": csrf, "text": "  "}).status_code == 422
    assert ep.post(f"{base}/notes", data={"csrf_token": csrf, "text": "Spoke to mum."}).status_code == 303
    refused = ep.post(
        f"{base}/close",
        data={"csrf_token": csrf, "closed_on-day": "31", "closed_on-month": "2", "closed_on-year": "2026"},
    )
    assert refused.status_code == 422 and "must be a real date" in refused.text
    closed = ep.post(f"{base}/close", data={"csrf_token": csrf, "reason": "Advice sent"})
    assert closed.status_code == 303
    page = text_of(ep.get(base).text)
    assert "Closed" in page and "Advice sent" in page and "Spoke to mum." in page
    late = ep.post(f"{base}/notes", data={"csrf_token": csrf, "text": "Too late"})
    assert late.status_code == 303 and "reopen it" in text_of(ep.get(base).text)
    assert ep.get(f"{base}/items/new?form={REPORT}").status_code == 409
    assert ep.post(f"{base}/reopen", data={"csrf_token": csrf}).status_code == 303
    assert "Add the note" in ep.get(base).text


def test_filing_a_case_and_viewing_its_document(
    ctx: Context, app: Flask, clients: dict[str, FlaskClient], world: World
) -> None:
    deploy_referrals(ctx)
    instance_id = start_referral(ctx)
    document_id = _document(ctx, instance_id, "<h1>Letter</h1><script>alert(1)</script>")
    boss, base = clients["boss"], f"/episodes/{world.jack_episode}"
    csrf = token(boss, base)
    assert boss.post(f"{base}/cases", data={"csrf_token": csrf, "instance_id": "x"}).status_code == 422
    assert boss.post(f"{base}/cases", data={"csrf_token": csrf, "instance_id": "99999"}).status_code == 422
    assert (
        boss.post(f"{base}/cases", data={"csrf_token": csrf, "instance_id": str(instance_id)}).status_code
        == 303
    )
    assert "Letter to the family" in boss.get(base).text  # offered for filing
    assert (
        boss.post(f"{base}/documents", data={"csrf_token": csrf, "document_id": str(document_id)}).status_code
        == 303
    )
    shown = boss.get(f"{base}/documents/{document_id}")
    assert shown.status_code == 200 and "<h1>Letter</h1>" in shown.text
    policy = shown.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "sandbox" in policy
    assert clients["ep"].get(f"{base}/documents/{document_id}").status_code == 200  # the episode's team
    assert clients["ewo"].get(f"{base}/documents/{document_id}").status_code == 404
    assert clients["boss"].get(f"/episodes/{world.ruby_episode}/documents/{document_id}").status_code == 404
    with ctx.db.transaction() as session:
        viewed = session.scalar(
            select(func.count()).where(AuditEvent.object_type == "document", AuditEvent.action == "view")
        )
    assert viewed == 2


def test_a_caseworker_cannot_file_a_case_they_cannot_see(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    deploy_referrals(ctx)
    instance_id = start_referral(ctx)  # the attendance team's case
    base = f"/episodes/{world.jack_episode}"
    response = clients["ep"].post(
        f"{base}/cases", data={"csrf_token": token(clients["ep"], base), "instance_id": str(instance_id)}
    )
    assert response.status_code == 422 and "no such record that you can see" in response.text


def _document(ctx: Context, instance_id: int, html: str) -> int:
    with ctx.db.transaction() as session:
        row = Document(
            reference="0f6b5b9e-0000-4000-8000-000000000001",
            instance_id=instance_id,
            template="cme_enquiry_family_letter",
            title="Letter to the family",
            html=html,
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id


# --- copying ------------------------------------------------------------------------------------------


def test_copying_a_report_section_into_two_siblings_episodes(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ep, base = clients["ep"], f"/episodes/{world.jack_episode}/items/{world.section}"
    choose = text_of(ep.get(f"{base}/copy").text)
    assert "Ruby Wilson" in choose and "Maya Patel" in choose  # my own open episodes
    searched = ep.get(f"{base}/copy", query_string={"q": "wilson", "target": world.maya_episode})
    listed = text_of(searched.text)
    assert "Ruby Wilson" in listed and "Maya Patel" in listed  # found, and kept from before
    assert f'value="{world.jack_episode}"' not in searched.text  # never its own episode
    check = ep.get(f"{base}/copy/check", query_string={"target": [world.ruby_episode, world.maya_episode]})
    shown = text_of(check.text)
    assert "Filled in for Ruby Wilson" in shown and "F801200026010" in shown and "20 January 2012" in shown
    assert "Filled in for Maya Patel" in shown
    assert item_count(ctx) == 1  # nothing copied yet
    made = ep.post(
        f"{base}/copy",
        data={"csrf_token": csrf_token(check.text), "target": [world.ruby_episode, world.maya_episode]},
    )
    assert made.status_code == 303
    done = ep.get(made.headers["Location"])
    assert "Copies made" in done.text and "copied into 2 episodes" in done.text
    copies = re.findall(
        rf'href="/episodes/({world.ruby_episode}|{world.maya_episode})/items/(\d+)"', done.text
    )
    assert len(copies) == 2
    ruby_copy = ep.get(f"/episodes/{copies[0][0]}/items/{copies[0][1]}")
    page = text_of(ruby_copy.text)
    assert (
        "Copied from \u2018EP report section\u2019 in the episode \u2018EP involvement 2025/26\u2019" in page
    )
    assert "by Evan Psychologist on 4 March 2026" in page
    assert "Ruby Wilson" in page and "Jack Wilson" not in page


def test_copies_are_independent_of_their_source(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    report = episodes.copy_work_item(ctx, EP, world.section, [world.ruby_episode])
    episodes.update_work_item(
        ctx, EP, world.section, {**SECTION, "content": "Rewritten for Jack alone, later on."}
    )
    copy_page = text_of(
        clients["ep"].get(f"/episodes/{world.ruby_episode}/items/{report.work_item_ids[0]}").text
    )
    assert "mother and grandmother" in copy_page and "Rewritten" not in copy_page


def test_an_establishments_record_copies_to_pupils_on_its_roll(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    record = {
        "met_on": "2026-02-27",
        "kind": "consultation",
        "attendees": [{"name": "S. Senco", "role": "SENCo"}],
        "summary": "Termly consultation about three pupils.",
        "pupils_discussed": [
            {"name": "Jack Wilson", "upn": "V801200026009", "concern": "Reading fluency"},
            {"name": "Maya Patel", "upn": "J88120012509A", "concern": "Attention in class"},
        ],
    }
    item = episodes.add_work_item(ctx, EP, world.oak_episode, CONSULTATION, record).id
    base = f"/episodes/{world.oak_episode}/items/{item}"
    choose = clients["ep"].get(f"{base}/copy", query_string={"on_roll_at": world.oak})
    listed = text_of(choose.text)
    assert "on roll at Oak Primary School" in listed
    assert "Jack Wilson" in listed and "Maya Patel" in listed and "Ruby Wilson" not in listed
    check = text_of(clients["ep"].get(f"{base}/copy/check", query_string={"target": world.maya_episode}).text)
    assert "1 entry about other pupils" in check  # Jack's entry stays behind in Maya's copy
    assert "the target episode is about a pupil" in check  # the school's name and LAESTAB


def test_every_target_is_checked_and_nothing_is_copied_when_one_is_refused(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    ewo = Principal("ewo", Role.CASEWORKER, frozenset({"attendance"}))
    attendance = episodes.open_episode(ctx, ewo, "attendance-casework", pupil_id=world.omar).id
    base = f"/episodes/{world.jack_episode}/items/{world.section}"
    assert (
        clients["ep"]
        .get(f"{base}/copy/check", query_string={"target": [world.ruby_episode, attendance]})
        .status_code
        == 404
    )
    response = clients["ep"].post(
        f"{base}/copy", data={"csrf_token": token(clients["ep"]), "target": [world.ruby_episode, attendance]}
    )
    assert response.status_code == 404
    assert item_count(ctx) == 1
    nothing = clients["ep"].get(f"{base}/copy/check")
    assert nothing.status_code == 303 and "none=1" in nothing.headers["Location"]
    assert "Choose at least one episode" in clients["ep"].get(nothing.headers["Location"]).text


def test_a_copy_into_a_closed_episode_is_refused_whole(
    ctx: Context, clients: dict[str, FlaskClient], world: World
) -> None:
    episodes.close_episode(ctx, EP, world.maya_episode)
    base = f"/episodes/{world.jack_episode}/items/{world.section}"
    response = clients["ep"].post(
        f"{base}/copy",
        data={"csrf_token": token(clients["ep"]), "target": [world.ruby_episode, world.maya_episode]},
    )
    assert response.status_code == 303 and "/copy?" in response.headers["Location"]
    assert "Nothing was copied" in clients["ep"].get(response.headers["Location"]).text
    assert item_count(ctx) == 1


# --- templates (administrators) -----------------------------------------------------------------------


def test_an_administrator_defines_and_changes_a_template(
    ctx: Context, clients: dict[str, FlaskClient]
) -> None:
    admin = clients["admin"]
    form = admin.get("/admin/episode-templates/new")
    base = {"csrf_token": csrf_token(form.text), "name": "Sibling work", "team": "ep", "icon": "people"}
    refused = admin.post(
        "/admin/episode-templates/new", data={**base, "slug": "Bad Slug", "subject_kind": "pupil"}
    )
    assert (
        refused.status_code == 422
        and "lower-case letters" in refused.text
        and 'value="Sibling work"' in refused.text
    )
    made = admin.post(
        "/admin/episode-templates/new",
        data={**base, "slug": "sibling-work", "subject_kind": "pupil", "default_form_refs": [REPORT]},
    )
    assert made.status_code == 303
    assert "Sibling work" in text_of(admin.get("/admin/episode-templates").text)
    changed = admin.post(
        "/admin/episode-templates/sibling-work",
        data={
            **base,
            "name": "Siblings",
            "default_form_refs": [REPORT, CONSULTATION],
        },  # no "active": not in use
    )
    assert changed.status_code == 303
    listed = text_of(admin.get("/admin/episode-templates").text)
    assert "Siblings" in listed and "Not in use" in listed
    assert "Siblings" not in text_of(clients["ep"].get("/episodes/new").text)


# --- escaping -----------------------------------------------------------------------------------------


def test_what_people_type_is_escaped(ctx: Context, clients: dict[str, FlaskClient], world: World) -> None:
    evil = '<script>alert("x")</script>'
    episodes.update_episode(ctx, EP, world.jack_episode, title=f"Jack {evil}")
    episodes.add_note(ctx, EP, world.jack_episode, f"Note {evil}")
    episodes.update_work_item(
        ctx, EP, world.section, {**SECTION, "content": f"Content {evil} and more text."}, title=evil
    )
    for path in (
        "/episodes",
        f"/episodes/{world.jack_episode}",
        f"/episodes/{world.jack_episode}/items/{world.section}",
        f"/episodes/{world.jack_episode}/items/{world.section}/copy?q=jack",
    ):
        html = clients["ep"].get(path).text
        assert evil not in html, path
        assert "&lt;script&gt;" in html, path
