"""A small LA for the episode and portal pages' tests: two schools, three pupils, the default episode
templates, EP episodes about the pupils and a consultation episode about a school, and the accounts
that work on them (``tests.web.cases.make_people``: ep is in the EP team, ewo in attendance, head at
SCHOOL, other_head at OTHER_SCHOOL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.access import Principal
from engine.context import Context
from engine.models.access import Role
from engine.services import episode_templates, episodes
from tests.integration.episodes_support import add_establishment, add_pupil
from tests.web.cases import make_people
from tests.web.support import OTHER_SCHOOL, SCHOOL

EP = Principal("ep", Role.CASEWORKER, frozenset({"ep"}), display_name="Evan Psychologist")
JACK_UPN, RUBY_UPN, MAYA_UPN, OMAR_UPN = "V801200026009", "F801200026010", "J88120012509A", "K801200126014"
SECTION = {
    "section": "background",
    "heading": "Family context",
    "content": "The children live with their mother and grandmother; both attend breakfast club.",
    "written_on": "2026-02-10",
}


@dataclass(frozen=True)
class World:
    ctx: Context
    oak: int  # establishment ids: Oak Primary (SCHOOL), Elm Academy (OTHER_SCHOOL)
    elm: int
    jack: int  # pupil ids: Jack and Maya at Oak, Ruby at Elm, Omar at Elm
    ruby: int
    maya: int
    omar: int
    jack_episode: int  # EP involvement episodes (ep team), and Oak's consultation episode
    ruby_episode: int
    maya_episode: int
    oak_episode: int
    section: int  # a final EP report section in Jack's episode


def build_world(ctx: Context, *, people: bool = True) -> World:
    """The schools, pupils, templates and episodes above (accounts too, unless ``people`` is False)."""
    if people:
        make_people(ctx)
    episode_templates.load_default_templates(ctx)
    oak = add_establishment(ctx, SCHOOL, "Oak Primary School", "112233")
    elm = add_establishment(ctx, OTHER_SCHOOL, "Elm Academy", "223344")
    jack = add_pupil(
        ctx, JACK_UPN, "John", "Wilson", date(2016, 6, 15), school_id=oak, preferred_forename="Jack"
    )
    ruby = add_pupil(ctx, RUBY_UPN, "Ruby", "Wilson", date(2012, 1, 20), school_id=elm, year_group="9")
    maya = add_pupil(ctx, MAYA_UPN, "Maya", "Patel", date(2016, 3, 2), school_id=oak)
    omar = add_pupil(ctx, OMAR_UPN, "Omar", "Hussain", date(2015, 11, 9), school_id=elm)
    opened = {
        name: episodes.open_episode(ctx, EP, "ep-involvement", pupil_id=pupil).id
        for name, pupil in (("jack", jack), ("ruby", ruby), ("maya", maya))
    }
    oak_episode = episodes.open_episode(ctx, EP, "school-consultation", establishment_id=oak).id
    section = episodes.add_work_item(ctx, EP, opened["jack"], "ep-report-section.schema.json", SECTION).id
    return World(
        ctx,
        oak,
        elm,
        jack,
        ruby,
        maya,
        omar,
        opened["jack"],
        opened["ruby"],
        opened["maya"],
        oak_episode,
        section,
    )
