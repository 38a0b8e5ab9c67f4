"""Episodes on a real database: templates (the shipped defaults loaded once), opening, listing and
closing episodes with access checked for every role, work items (drafts unchecked, final items checked,
bound fields filled from the subject), notes, links to cases and documents, the audit trail, and a
template that starts its process."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

import process_library
from engine import clock
from engine.access import Principal
from engine.errors import Conflict, FormDataInvalid, FormSchemaError, InvalidInput, NotFound, PermissionDenied
from engine.models.access import Role
from engine.models.documents import Document
from engine.models.workflow import ProcessInstance
from engine.services import episode_templates, episodes, instances
from tests.conftest import at, deploy
from tests.integration.episodes_support import (
    ADMIN,
    CONSULTATION,
    EP,
    EP_COLLEAGUE,
    EWO,
    HEAD,
    JACK_UPN,
    MANAGER,
    REPORT,
    add_account,
    add_establishment,
    add_pupil,
    audit_actions,
    with_episode_forms,
)

SPRING = at("2026-03-02T09:00:00Z")
SECTION = {"heading": "Background", "text": "Jack joined Oak Primary in Reception."}


@pytest.fixture
def ep_ctx(ctx):
    with clock.frozen_at(SPRING):
        yield with_episode_forms(ctx)


@pytest.fixture
def oak(ep_ctx) -> int:
    return add_establishment(ep_ctx)


@pytest.fixture
def jack(ep_ctx, oak) -> int:
    return add_pupil(
        ep_ctx, JACK_UPN, "John", "Wilson", date(2016, 6, 15), school_id=oak, preferred_forename="Jack"
    )


@pytest.fixture
def templates(ep_ctx) -> list[str]:
    return episode_templates.load_default_templates(ep_ctx)


# --- templates ----------------------------------------------------------------------------------------


def test_default_templates_are_loaded_once_and_keep_local_changes(ep_ctx, templates):
    assert templates == [
        "ep-involvement",
        "school-consultation",
        "attendance-casework",
        "cme-enquiry",
        "inclusion-casework",
    ]
    episode_templates.update_template(ep_ctx, ADMIN, "ep-involvement", name="EP involvement (traded)")

    assert episode_templates.load_default_templates(ep_ctx) == []
    listed = {t.slug: t for t in episode_templates.list_templates(ep_ctx, EP)}
    assert listed["ep-involvement"].name == "EP involvement (traded)"
    assert (listed["cme-enquiry"].team, listed["cme-enquiry"].start_process_id) == ("cme", "cme_enquiry")
    assert listed["school-consultation"].subject_kind == "establishment"
    assert listed["ep-involvement"].default_form_refs == [
        "ep-report-section.schema.json",
        "school-consultation.schema.json",
    ]
    pupil_kinds = episode_templates.list_templates(ep_ctx, EP, team="ep", subject_kind="pupil")
    assert [t.slug for t in pupil_kinds] == ["ep-involvement"]
    assert episode_templates.list_templates(ep_ctx, HEAD) == []


def test_only_administrators_define_templates_and_what_they_name_must_exist(ep_ctx, tmp_path):
    fields = dict(slug="traded-ep", name="Traded EP work", team="ep", icon="school", subject_kind="either")
    with pytest.raises(PermissionDenied):
        episode_templates.create_template(ep_ctx, EP, **fields)
    with pytest.raises(InvalidInput, match="icon must be one of"):
        episode_templates.create_template(ep_ctx, ADMIN, **{**fields, "icon": "rocket"})
    with pytest.raises(NotFound, match=r"no-such\.schema\.json"):
        episode_templates.create_template(ep_ctx, ADMIN, **fields, default_form_refs=["no-such.schema.json"])
    bad = {"type": "object", "properties": {"n": {"type": "string", "x-educase-bind": "pupil.shoe_size"}}}
    (tmp_path / "bad-binding.schema.json").write_text(json.dumps(bad))
    with pytest.raises(FormSchemaError, match=r"pupil\.shoe_size"):
        episode_templates.create_template(
            with_episode_forms(ep_ctx, tmp_path),
            ADMIN,
            **fields,
            default_form_refs=["bad-binding.schema.json"],
        )

    made = episode_templates.create_template(ep_ctx, ADMIN, **fields, default_form_refs=[REPORT])

    assert (made.slug, made.subject_kind, made.default_form_refs) == ("traded-ep", "either", [REPORT])
    with pytest.raises(Conflict):
        episode_templates.create_template(ep_ctx, ADMIN, **fields)


# --- opening, seeing, listing, closing -----------------------------------------------------------------


def test_an_episode_is_seen_by_its_team_its_owner_and_managers_only(ep_ctx, templates, jack):
    opened = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)

    assert (opened.title, opened.team, opened.owner, opened.state) == (
        "EP involvement 2025/26",
        "ep",
        EP.username,
        "open",
    )
    assert (opened.subject_kind, opened.subject_label, opened.subject_reference) == (
        "pupil",
        "Jack Wilson",
        JACK_UPN,
    )
    assert opened.opened_on == date(2026, 3, 2)
    for who in (EP, EP_COLLEAGUE, MANAGER, ADMIN):
        assert [e.id for e in episodes.list_episodes(ep_ctx, who, pupil_id=jack)] == [opened.id]
        assert episodes.get_episode(ep_ctx, who, opened.id).episode.id == opened.id
    for who in (EWO, HEAD):
        assert episodes.list_episodes(ep_ctx, who, pupil_id=jack) == []
        with pytest.raises(NotFound, match="There is no such episode"):
            episodes.get_episode(ep_ctx, who, opened.id)
    with pytest.raises(NotFound, match="There is no such episode"):
        episodes.get_episode(ep_ctx, EP, 999_999)


def test_an_owner_outside_the_team_sees_the_episodes_they_own(ep_ctx, templates, jack):
    add_account(ep_ctx, EWO.username)
    opened = episodes.open_episode(ep_ctx, MANAGER, "ep-involvement", pupil_id=jack, owner=EWO.username)

    assert [e.id for e in episodes.list_episodes(ep_ctx, EWO, owner=EWO.username)] == [opened.id]
    with pytest.raises(InvalidInput, match="'nobody' is not an active member"):
        episodes.update_episode(ep_ctx, MANAGER, opened.id, owner="nobody")


def test_an_episode_has_one_subject_of_its_templates_kind_and_a_team_the_opener_belongs_to(
    ep_ctx, templates, jack, oak
):
    with pytest.raises(InvalidInput, match="exactly one"):
        episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack, establishment_id=oak)
    with pytest.raises(InvalidInput, match="exactly one"):
        episodes.open_episode(ep_ctx, EP, "ep-involvement")
    with pytest.raises(InvalidInput, match="about a pupil, not an establishment"):
        episodes.open_episode(ep_ctx, EP, "ep-involvement", establishment_id=oak)
    with pytest.raises(NotFound, match="no such pupil"):
        episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=999_999)
    with pytest.raises(PermissionDenied, match="ep team"):
        episodes.open_episode(ep_ctx, EWO, "ep-involvement", pupil_id=jack)
    with pytest.raises(PermissionDenied):
        episodes.open_episode(ep_ctx, HEAD, "attendance-casework", pupil_id=jack)

    school = episodes.open_episode(
        ep_ctx, EP, "school-consultation", establishment_id=oak, title="Oak Primary"
    )

    assert (school.subject_kind, school.subject_label, school.subject_reference) == (
        "establishment",
        "Oak Primary School",
        "8812001",
    )
    assert [e.title for e in episodes.list_episodes(ep_ctx, EP, establishment_id=oak)] == ["Oak Primary"]


def test_lists_narrow_by_team_owner_and_state(ep_ctx, templates, jack):
    first = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)
    second = episodes.open_episode(ep_ctx, EWO, "attendance-casework", pupil_id=jack)
    episodes.close_episode(ep_ctx, EWO, second.id, reason="Attendance above 95% for a term")

    assert [e.id for e in episodes.list_episodes(ep_ctx, MANAGER, pupil_id=jack)] == [second.id, first.id]
    assert [e.id for e in episodes.list_episodes(ep_ctx, MANAGER, team="attendance")] == [second.id]
    assert [e.id for e in episodes.list_episodes(ep_ctx, MANAGER, state="open")] == [first.id]
    assert [e.id for e in episodes.list_episodes(ep_ctx, MANAGER, owner=EP.username)] == [first.id]


def test_a_closed_episode_is_read_only_until_reopened(ep_ctx, templates, jack):
    opened = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)
    with pytest.raises(InvalidInput, match="cannot close before it opened"):
        episodes.close_episode(ep_ctx, EP, opened.id, closed_on=date(2026, 1, 1))

    closed = episodes.close_episode(ep_ctx, EP, opened.id, reason="Advice sent")

    assert (closed.state, closed.closed_on, closed.closing_reason) == (
        "closed",
        date(2026, 3, 2),
        "Advice sent",
    )
    with pytest.raises(Conflict, match="is closed: reopen it"):
        episodes.add_work_item(ep_ctx, EP, opened.id, REPORT, SECTION)
    with pytest.raises(Conflict, match="is closed"):
        episodes.add_note(ep_ctx, EP, opened.id, "Late note")
    with pytest.raises(Conflict, match="is closed"):
        episodes.close_episode(ep_ctx, EP, opened.id)

    reopened = episodes.reopen_episode(ep_ctx, EP, opened.id)

    assert (reopened.state, reopened.closed_on) == ("open", None)
    assert (
        episodes.add_note(ep_ctx, EP, opened.id, "Reopened: the family asked for a review").author
        == EP.username
    )


# --- work items -----------------------------------------------------------------------------------------


def test_a_final_work_item_must_satisfy_its_form_and_a_draft_need_not(ep_ctx, templates, jack):
    episode = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)

    with pytest.raises(FormDataInvalid) as refused:
        episodes.add_work_item(ep_ctx, EP, episode.id, REPORT, {"heading": "Background"})
    assert [e.path for e in refused.value.errors] == ["text"]

    draft = episodes.add_work_item(ep_ctx, EP, episode.id, REPORT, {"heading": "Background"}, draft=True)
    assert (draft.draft, draft.title, draft.form_version) == (True, "Report section", 1)
    with pytest.raises(FormDataInvalid):
        episodes.update_work_item(ep_ctx, EP, draft.id, {"heading": "Background"}, draft=False)

    final = episodes.update_work_item(
        ep_ctx, EP, draft.id, SECTION, draft=False, lock_version=draft.lock_version
    )

    assert final.draft is False
    assert final.data == {
        **SECTION,
        "pupil": {
            "name": "Jack Wilson",
            "upn": JACK_UPN,
            "date_of_birth": "2016-06-15",
            "school": "Oak Primary School",
        },
    }
    with pytest.raises(Conflict, match="since you opened it"):
        episodes.update_work_item(ep_ctx, EP_COLLEAGUE, draft.id, SECTION, lock_version=draft.lock_version)


def test_bound_fields_come_from_the_subject_whatever_is_submitted(ep_ctx, templates, jack, oak):
    pupil_episode = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)
    forged = {**SECTION, "pupil": {"name": "Someone Else", "upn": "A123456789012"}}

    item = episodes.add_work_item(ep_ctx, EP, pupil_episode.id, REPORT, forged, title="  ")

    assert item.data["pupil"] == {
        "name": "Jack Wilson",
        "upn": JACK_UPN,
        "date_of_birth": "2016-06-15",
        "school": "Oak Primary School",
    }
    assert item.title == "Report section"
    school_episode = episodes.open_episode(ep_ctx, EP, "school-consultation", establishment_id=oak)
    record = {"met_on": "2026-02-27", "summary": "Termly planning meeting.", "pupil": {"name": "Forged"}}

    consultation = episodes.add_work_item(ep_ctx, EP, school_episode.id, CONSULTATION, record)

    assert consultation.data == {
        "met_on": "2026-02-27",
        "summary": "Termly planning meeting.",
        "school": {"name": "Oak Primary School", "laestab": "8812001"},
    }


def test_work_items_are_seen_through_their_episode_only(ep_ctx, templates, jack):
    episode = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)
    item = episodes.add_work_item(ep_ctx, EP, episode.id, REPORT, SECTION)

    assert episodes.get_work_item(ep_ctx, EP_COLLEAGUE, item.id).data["heading"] == "Background"
    for who in (EWO, HEAD):
        with pytest.raises(NotFound, match="There is no such work item"):
            episodes.get_work_item(ep_ctx, who, item.id)
        with pytest.raises(NotFound):
            episodes.update_work_item(ep_ctx, who, item.id, SECTION)
    with pytest.raises(NotFound, match="There is no such work item"):
        episodes.get_work_item(ep_ctx, EP, 999_999)


# --- notes, links, audit --------------------------------------------------------------------------------


def test_notes_cases_and_documents_are_filed_on_the_episode_and_audited(ep_ctx, templates, jack):
    deploy(ep_ctx, "review_case.bpmn")
    case = instances.start_instance(ep_ctx, "review_case", data={"upn": JACK_UPN}, actor="tester")
    episode = episodes.open_episode(ep_ctx, MANAGER, "ep-involvement", pupil_id=jack)
    with ep_ctx.db.transaction() as session:
        document = Document(
            reference="doc-1",
            instance_id=case.id,
            template="letter",
            title="Letter to parents",
            html="<p>Dear parent</p>",
            created_at=clock.now(),
        )
        session.add(document)
        session.flush()
        document_id = document.id

    episodes.add_note(ep_ctx, MANAGER, episode.id, "Phoned the SENCo.")
    episodes.link_instance(ep_ctx, MANAGER, episode.id, case.id)
    episodes.link_instance(ep_ctx, MANAGER, episode.id, case.id)  # twice is harmless
    episodes.link_document(ep_ctx, MANAGER, episode.id, document_id)
    with pytest.raises(NotFound, match="no such case"):
        episodes.link_instance(ep_ctx, EP, episode.id, case.id)  # the EP team has no task in that case
    with pytest.raises(NotFound, match="no such document"):
        episodes.link_document(ep_ctx, MANAGER, episode.id, 999_999)
    with pytest.raises(InvalidInput):
        episodes.add_note(ep_ctx, MANAGER, episode.id, "   ")
    detail = episodes.get_episode(ep_ctx, MANAGER, episode.id)

    assert [n.text for n in detail.notes] == ["Phoned the SENCo."]
    assert [(i.instance_id, i.process_id) for i in detail.instances] == [(case.id, "review_case")]
    assert [(d.document_id, d.title) for d in detail.documents] == [(document_id, "Letter to parents")]
    assert detail.default_form_refs == ["ep-report-section.schema.json", "school-consultation.schema.json"]
    assert [a for a, _, _ in audit_actions(ep_ctx, "episode")] == [
        "open",
        "add_note",
        "link_instance",
        "link_document",
        "view",
    ]


def test_every_view_and_change_of_a_work_item_is_audited(ep_ctx, templates, jack):
    episode = episodes.open_episode(ep_ctx, EP, "ep-involvement", pupil_id=jack)
    item = episodes.add_work_item(ep_ctx, EP, episode.id, REPORT, SECTION)
    episodes.update_work_item(ep_ctx, EP, item.id, {**SECTION, "recommendation": "Review in July"})
    episodes.get_work_item(ep_ctx, EP_COLLEAGUE, item.id)
    episodes.list_episodes(ep_ctx, EP, pupil_id=jack)

    assert audit_actions(ep_ctx, "work_item") == [
        ("create", "work_item", str(item.id)),
        ("update", "work_item", str(item.id)),
        ("view", "work_item", str(item.id)),
    ]
    assert audit_actions(ep_ctx, "pupil") == [("list_episodes", "pupil", str(jack))]


# --- a template that starts its process -----------------------------------------------------------------


def test_opening_a_cme_enquiry_starts_the_process_with_the_pupils_details(calendar_ctx):
    with clock.frozen_at(at("2026-02-09T09:00:00Z")):
        ctx = with_episode_forms(calendar_ctx)
        episode_templates.load_default_templates(ctx)
        deploy(ctx, str(process_library.PATH / "cme_enquiry.bpmn"))
        oak = add_establishment(ctx)
        jack = add_pupil(
            ctx, JACK_UPN, "John", "Wilson", date(2016, 6, 15), school_id=oak, preferred_forename="Jack"
        )
        officer = Principal("cme.officer", Role.CASEWORKER, frozenset({"cme"}))

        episode = episodes.open_episode(
            ctx,
            officer,
            "cme-enquiry",
            pupil_id=jack,
            start_data={"trigger": "referral", "school": {"urn": "112233"}},
        )

        detail = episodes.get_episode(ctx, officer, episode.id)
    assert [i.process_id for i in detail.instances] == ["cme_enquiry"]
    with ctx.db.transaction() as session:
        row = session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == detail.instances[0].instance_id)
        )
        assert (row.business_key, row.state, row.started_by) == (
            JACK_UPN,
            "user_input_required",
            "cme.officer",
        )
    view = instances.show_instance(ctx, row.id)
    started = view.events[0]["data"]["data"]
    assert started["pupil"] == {
        "upn": JACK_UPN,
        "name": "Jack Wilson",
        "first_name": "John",
        "last_name": "Wilson",
        "date_of_birth": "2016-06-15",
    }
    assert started["school"] == {"name": "Oak Primary School", "laestab": "8812001", "urn": "112233"}
    assert (started["trigger"], started["episode_id"]) == ("referral", episode.id)
    assert [t["task_id"] for t in view.tasks] == ["open_enquiry"]
