"""Copying work between episodes: pupil → pupil (siblings), establishment → pupils (one to many),
pupil → establishment; bound fields re-bound to each target, provenance kept, copies independent of
their source, a changed form keeping what it still has and listing the rest, and every target
access-checked with nothing copied when one is refused."""

from __future__ import annotations

import json
from datetime import date

import pytest

from engine import clock
from engine.episodes.copying import NOT_IN_FORM
from engine.errors import Conflict, InvalidInput, NotFound
from engine.services import episode_templates, episodes
from tests.conftest import at
from tests.integration.episodes_support import (
    CONSULTATION,
    EP,
    EP_COLLEAGUE,
    EPISODE_FORMS,
    EWO,
    HEAD,
    JACK_UPN,
    MANAGER,
    MAYA_UPN,
    REPORT,
    RUBY_UPN,
    add_establishment,
    add_pupil,
    audit_actions,
    with_episode_forms,
    work_item_count,
)

SPRING = at("2026-03-02T09:00:00Z")
COPIED_AT = at("2026-03-04T14:30:00Z")
SECTION = {
    "heading": "Family context",
    "text": "The children live with their mother and grandmother.",
    "observations": [{"date": "2026-02-10", "note": "Settled at breakfast club"}],
    "recommendation": "Family support worker",
}
MEETING = {
    "met_on": "2026-02-27",
    "summary": "Termly planning meeting with the SENCo.",
    "pupils": [
        {"name": "Jack Wilson", "upn": JACK_UPN, "concern": "Reading"},
        {"name": "Ruby Wilson", "upn": RUBY_UPN, "concern": "Anxiety at drop-off"},
        {"name": "Maya Patel", "upn": MAYA_UPN, "concern": "Attention"},
    ],
}


@pytest.fixture
def world(ctx):
    """Jack (Oak Primary) and his sister Ruby (Elm Academy), each with an EP episode, and Oak's
    consultation episode."""
    with clock.frozen_at(SPRING):
        ctx = with_episode_forms(ctx)
        episode_templates.load_default_templates(ctx)
        oak = add_establishment(ctx)
        elm = add_establishment(ctx, "8814001", "Elm Academy", "223344")
        jack = add_pupil(
            ctx, JACK_UPN, "John", "Wilson", date(2016, 6, 15), school_id=oak, preferred_forename="Jack"
        )
        ruby = add_pupil(ctx, RUBY_UPN, "Ruby", "Wilson", date(2012, 1, 20), school_id=elm, year_group="9")
        yield {
            "ctx": ctx,
            "jack": episodes.open_episode(ctx, EP, "ep-involvement", pupil_id=jack).id,
            "ruby": episodes.open_episode(ctx, EP, "ep-involvement", pupil_id=ruby).id,
            "oak": episodes.open_episode(ctx, EP, "school-consultation", establishment_id=oak).id,
        }


def copy(ctx, who, item_id, targets, **kwargs):
    with clock.frozen_at(COPIED_AT):
        return episodes.copy_work_item(ctx, who, item_id, targets, **kwargs)


def test_pupil_to_pupil_rebinds_the_siblings_details_and_keeps_provenance(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["jack"], REPORT, SECTION)

    report = copy(ctx, EP_COLLEAGUE, source.id, [world["ruby"]])

    [result] = report.copies
    assert (result.target_episode_id, result.draft, result.dropped, result.problems) == (
        world["ruby"],
        False,
        [],
        [],
    )
    assert result.rebound == ["pupil.date_of_birth", "pupil.name", "pupil.school", "pupil.upn"]
    copied = episodes.get_work_item(ctx, EP, result.work_item_id)
    assert copied.data == {
        **SECTION,
        "pupil": {
            "name": "Ruby Wilson",
            "upn": RUBY_UPN,
            "date_of_birth": "2012-01-20",
            "school": "Elm Academy",
        },
    }
    assert (copied.copied_from_work_item_id, copied.copied_by, copied.copied_at) == (
        source.id,
        EP_COLLEAGUE.username,
        COPIED_AT,
    )
    assert (copied.episode_id, copied.title, copied.created_by) == (world["ruby"], "Report section", "ep.two")
    assert episodes.get_work_item(ctx, EP, source.id).data["pupil"]["name"] == "Jack Wilson"


def test_a_copy_is_independent_of_its_source(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["jack"], REPORT, SECTION)
    [result] = copy(ctx, EP, source.id, [world["ruby"]]).copies

    episodes.update_work_item(
        ctx, EP, source.id, {**SECTION, "text": "Rewritten for Jack only.", "observations": []}
    )
    copied = episodes.get_work_item(ctx, EP, result.work_item_id)
    assert (copied.data["text"], copied.data["observations"]) == (SECTION["text"], SECTION["observations"])

    copied.data["observations"].append({"note": "changed in memory only"})
    episodes.update_work_item(
        ctx, EP, result.work_item_id, {**copied.data, "heading": "Ruby's family context"}
    )
    assert episodes.get_work_item(ctx, EP, source.id).data["heading"] == "Family context"
    assert episodes.get_work_item(ctx, EP, source.id).data["observations"] == []


def test_establishment_to_pupils_keeps_each_pupils_own_entry_and_lists_what_it_left(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["oak"], CONSULTATION, MEETING)
    assert source.data["school"] == {"name": "Oak Primary School", "laestab": "8812001"}

    report = copy(ctx, EP, source.id, [world["jack"], world["ruby"]])

    assert [c.target_episode_id for c in report.copies] == [world["jack"], world["ruby"]]
    for result, (name, upn) in zip(
        report.copies, [("Jack Wilson", JACK_UPN), ("Ruby Wilson", RUBY_UPN)], strict=True
    ):
        copied = episodes.get_work_item(ctx, EP, result.work_item_id)
        assert copied.data["pupil"] == {"name": name, "upn": upn}
        assert "school" not in copied.data
        assert [p["upn"] for p in copied.data["pupils"]] == [upn]
        assert copied.data["summary"] == MEETING["summary"]
        assert [(d["path"], d["reason"]) for d in copied.dropped_fields] == [
            ("pupils.*", "2 entries about other pupils"),
            (
                "school.laestab",
                "about the source's establishment (establishment.laestab); "
                "the target episode is about a pupil",
            ),
            (
                "school.name",
                "about the source's establishment (establishment.name); the target episode is about a pupil",
            ),
        ]
        assert result.rebound == ["pupil.name", "pupil.upn"]


def test_pupil_to_establishment_drops_the_pupils_details_and_fills_the_schools(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(
        ctx, EP, world["jack"], CONSULTATION, {**MEETING, "pupils": MEETING["pupils"][:1]}
    )
    assert source.data["pupil"] == {"name": "Jack Wilson", "upn": JACK_UPN}

    [result] = copy(ctx, EP, source.id, [world["oak"]]).copies

    copied = episodes.get_work_item(ctx, EP, result.work_item_id)
    assert copied.data["school"] == {"name": "Oak Primary School", "laestab": "8812001"}
    assert "pupil" not in copied.data
    assert copied.data["pupils"] == MEETING["pupils"][:1]  # an establishment keeps every pupil's entry
    assert [d.path for d in result.dropped] == ["pupil.name", "pupil.upn"]
    assert all("the target episode is about an establishment" in d.reason for d in result.dropped)


def test_a_copy_onto_a_newer_form_version_keeps_what_still_exists_and_lists_the_rest(world, tmp_path):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["jack"], REPORT, SECTION)
    v2 = json.loads((EPISODE_FORMS / REPORT).read_text())
    del v2["properties"]["recommendation"]
    del v2["properties"]["observations"]["items"]["properties"]["date"]
    (tmp_path / REPORT).write_text(json.dumps(v2))
    newer = with_episode_forms(ctx, tmp_path)

    [result] = copy(newer, EP, source.id, [world["ruby"]]).copies

    assert result.form_version == 2
    assert [(d.path, d.reason) for d in result.dropped] == [
        ("observations.*.date", NOT_IN_FORM),
        ("recommendation", NOT_IN_FORM),
    ]
    copied = episodes.get_work_item(newer, EP, result.work_item_id)
    assert copied.dropped_fields == [d.as_dict() for d in result.dropped]
    assert (copied.form_version, copied.data["observations"], copied.data["text"]) == (
        2,
        [{"note": "Settled at breakfast club"}],
        SECTION["text"],
    )
    assert episodes.get_work_item(newer, EP, source.id).form_version == 1  # the source stays on its version


def test_a_copy_that_does_not_satisfy_its_form_yet_is_a_draft_and_says_why(world, tmp_path):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["jack"], REPORT, SECTION)
    draft = episodes.add_work_item(ctx, EP, world["jack"], REPORT, {"heading": "Unfinished"}, draft=True)
    v2 = json.loads((EPISODE_FORMS / REPORT).read_text())
    v2["required"].append("written_on")
    v2["properties"]["written_on"] = {"type": "string", "format": "date", "title": "Date written"}
    (tmp_path / REPORT).write_text(json.dumps(v2))
    newer = with_episode_forms(ctx, tmp_path)

    [needs_date] = copy(newer, EP, source.id, [world["ruby"]]).copies
    [still_draft] = copy(ctx, EP, draft.id, [world["ruby"]]).copies

    assert needs_date.draft is True
    assert [(p.path, p.message) for p in needs_date.problems] == [("written_on", "Date written is required")]
    assert still_draft.draft is True


def test_a_copy_into_another_form_keeps_the_answers_both_forms_have(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["oak"], CONSULTATION, MEETING)

    [result] = copy(ctx, EP, source.id, [world["jack"]], form_ref=REPORT).copies

    copied = episodes.get_work_item(ctx, EP, result.work_item_id)
    assert copied.form_ref == REPORT
    assert copied.data["pupil"]["name"] == "Jack Wilson"
    assert {"met_on", "summary", "pupils"} <= {d.path.split(".")[0] for d in result.dropped}
    assert result.draft is True  # a report section needs its heading and text


def test_a_target_one_may_not_see_refuses_the_whole_copy_naming_nothing(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["oak"], CONSULTATION, MEETING)
    pupil_id = episodes.get_episode(ctx, EP, world["jack"]).episode.pupil_id
    attendance = episodes.open_episode(ctx, EWO, "attendance-casework", pupil_id=pupil_id).id
    before, audited = work_item_count(ctx), audit_actions(ctx, "work_item")

    for targets in ([world["jack"], attendance], [world["jack"], 999_999]):
        with pytest.raises(NotFound) as refused:
            copy(ctx, EP, source.id, targets)
        assert refused.value.message == "There is no such episode."
    for who in (EWO, HEAD):
        with pytest.raises(NotFound):
            copy(ctx, who, source.id, [attendance])

    assert work_item_count(ctx) == before
    assert audit_actions(ctx, "work_item") == audited
    assert len(copy(ctx, MANAGER, source.id, [world["jack"], attendance]).copies) == 2  # managers see both


def test_a_closed_target_refuses_the_whole_copy(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["jack"], REPORT, SECTION)
    episodes.close_episode(ctx, EP, world["oak"])
    before = work_item_count(ctx)

    with pytest.raises(Conflict, match="is closed"):
        copy(ctx, EP, source.id, [world["ruby"], world["oak"]])
    with pytest.raises(InvalidInput, match="at least one episode"):
        copy(ctx, EP, source.id, [])

    assert work_item_count(ctx) == before


def test_each_copy_is_audited_with_where_it_came_from(world):
    ctx = world["ctx"]
    source = episodes.add_work_item(ctx, EP, world["oak"], CONSULTATION, MEETING)

    report = copy(
        ctx, EP, source.id, [world["jack"], world["ruby"], world["jack"]]
    )  # a repeated target counts once

    jack_copy, ruby_copy = report.work_item_ids
    assert audit_actions(ctx, "work_item") == [
        ("create", "work_item", str(source.id)),
        ("copy", "work_item", str(jack_copy)),
        ("copy", "work_item", str(ruby_copy)),
        ("copied", "work_item", str(source.id)),
    ]
