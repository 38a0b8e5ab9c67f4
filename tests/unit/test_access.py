"""The authorisation policy (engine.access): every role against tasks, cases, flags, pupils and areas,
including a school user looking at another school's case."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

from engine import access
from engine.access import Principal
from engine.context import Context
from engine.errors import NotFound, PermissionDenied
from engine.models.access import InstanceEstablishment, Role
from engine.models.workflow import BpmnFile, HumanTask, HumanTaskTeam, ProcessInstance, ProcessVersion

SCHOOL, OTHER_SCHOOL = "8012000", "8012001"

ADMIN = Principal("admin", Role.ADMINISTRATOR)
MANAGER = Principal("manager", Role.MANAGER, frozenset({"managers"}))
EWO = Principal("ewo", Role.CASEWORKER, frozenset({"attendance"}), flags_visible=frozenset({"CIN"}))
EP = Principal("ep", Role.CASEWORKER, frozenset({"ep"}))
HEAD = Principal("head", Role.SCHOOL, frozenset({"school"}), establishment=SCHOOL)
# A school user who also (wrongly) holds an LA team: the school rules still apply.
OTHER_HEAD = Principal("other", Role.SCHOOL, frozenset({"school", "attendance"}), establishment=OTHER_SCHOOL)
EVERYONE = {"admin": ADMIN, "manager": MANAGER, "ewo": EWO, "ep": EP, "head": HEAD, "other": OTHER_HEAD}

ATTENDANCE_TASK = {"teams": ["attendance"], "assignee": None}
EP_TASK_HELD_BY_EWO = {"teams": ["ep"], "assignee": "ewo"}
SCHOOL_TASK = {"teams": ["school"], "assignee": None}
ATTENDANCE_TASK_HELD_BY_OTHER = SimpleNamespace(teams=["attendance"], assignee="someone-else")


def who(predicate: object) -> set[str]:
    return {name for name, p in EVERYONE.items() if predicate(p)}  # type: ignore[operator]


# --- tasks ----------------------------------------------------------------------------------------------


def test_who_sees_a_team_task() -> None:
    assert who(lambda p: access.may_see_task(p, ATTENDANCE_TASK, [SCHOOL])) == {"admin", "manager", "ewo"}


def test_a_task_held_by_someone_is_visible_to_them_even_outside_their_teams() -> None:
    assert who(lambda p: access.may_see_task(p, EP_TASK_HELD_BY_EWO, [SCHOOL])) == {
        "admin",
        "manager",
        "ewo",
        "ep",
    }


def test_school_lane_tasks_are_seen_only_by_the_cases_own_school() -> None:
    assert who(lambda p: access.may_see_task(p, SCHOOL_TASK, [SCHOOL])) == {"admin", "manager", "head"}
    assert who(lambda p: access.may_see_task(p, SCHOOL_TASK, [OTHER_SCHOOL])) == {"admin", "manager", "other"}
    assert who(lambda p: access.may_see_task(p, SCHOOL_TASK, [])) == {"admin", "manager"}


def test_school_users_never_see_la_lanes_whatever_teams_they_hold() -> None:
    assert not access.may_see_task(OTHER_HEAD, ATTENDANCE_TASK, [OTHER_SCHOOL])
    assert not access.may_see_task(HEAD, EP_TASK_HELD_BY_EWO, [SCHOOL])


def test_who_may_complete() -> None:
    assert who(lambda p: access.may_complete_task(p, ATTENDANCE_TASK, [SCHOOL])) == {
        "admin",
        "manager",
        "ewo",
    }
    # held by someone else: only managers may act on it
    assert who(lambda p: access.may_complete_task(p, ATTENDANCE_TASK_HELD_BY_OTHER, [])) == {
        "admin",
        "manager",
    }
    assert who(lambda p: access.may_complete_task(p, EP_TASK_HELD_BY_EWO, [])) == {"admin", "manager", "ewo"}
    assert who(lambda p: access.may_complete_task(p, SCHOOL_TASK, [SCHOOL])) == {"admin", "manager", "head"}


# --- cases ----------------------------------------------------------------------------------------------


def test_who_sees_a_case() -> None:
    def sees(p: Principal) -> bool:
        return access.may_see_instance(p, establishments=[SCHOOL], task_teams=["attendance", "school"])

    assert who(sees) == {"admin", "manager", "ewo", "head"}


def test_another_schools_case_is_invisible_to_a_school_user() -> None:
    assert not access.may_see_instance(HEAD, establishments=[OTHER_SCHOOL], task_teams=["school"])
    assert not access.may_see_instance(HEAD, establishments=[], task_teams=["school"])
    nowhere = Principal("lost", Role.SCHOOL, frozenset({"school"}), establishment=None)
    assert not access.may_see_instance(nowhere, establishments=[SCHOOL], task_teams=["school"])


def test_a_caseworker_holding_a_task_sees_its_case() -> None:
    assert access.may_see_instance(EP, establishments=[], task_teams=["attendance"], assignees=["ep"])
    assert not access.may_see_instance(EP, establishments=[], task_teams=["attendance"], assignees=["ewo"])


def test_only_managers_and_administrators_manage_cases() -> None:
    assert who(access.may_manage_instance) == {"admin", "manager"}


def test_refusals_say_not_found_for_records_and_forbidden_for_actions() -> None:
    with pytest.raises(NotFound, match=r"There is no such case\."):
        access.require(False, "case")
    access.require(True)
    with pytest.raises(PermissionDenied, match=r"You are not allowed to suspend this case\."):
        access.require_role(False, "suspend this case")


# --- flags ----------------------------------------------------------------------------------------------

FLAGS = [
    {"flag": "EHCP", "visible_to": []},  # shared with all staff
    {"flag": "CLA", "visible_to": ["virtual_school", "managers"]},
    {"flag": "CIN", "visible_to": ["ewo-only"]},
    {"flag": "CP", "visible_to": ["safeguarding"]},
    {"kind": "YOUNG_CARER"},  # no sharing list: only by name in flags_visible
]


def names(flags: list[dict[str, object]]) -> set[str]:
    return {str(f.get("flag") or f.get("kind")) for f in flags}


def test_flags_each_role_sees() -> None:
    seen = {name: names(access.visible_flags(p, FLAGS)) for name, p in EVERYONE.items()}
    assert seen["admin"] == {"EHCP", "CLA", "CIN", "CP", "YOUNG_CARER"}
    assert seen["manager"] == {"EHCP", "CLA"}  # CLA is shared with the managers team
    assert seen["ewo"] == {"EHCP", "CIN"}  # CIN by name in their flags_visible
    assert seen["ep"] == seen["head"] == {"EHCP"}


def test_flags_as_rows() -> None:
    row = SimpleNamespace(flag="CP", visible_to=["safeguarding"])
    safeguarding = Principal("dsl", Role.CASEWORKER, frozenset({"safeguarding"}))
    assert access.visible_flags(safeguarding, [row]) == [row]
    assert access.visible_flags(EWO, [row]) == []
    assert access.visible_flags(Principal("x", Role.CASEWORKER, flags_visible=frozenset({"CP"})), [row]) == [
        row
    ]


# --- pupils and areas -----------------------------------------------------------------------------------


def test_school_users_see_only_their_own_pupils() -> None:
    assert who(lambda p: access.may_see_pupil(p, [SCHOOL])) == {"admin", "manager", "ewo", "ep", "head"}
    assert who(lambda p: access.may_see_pupil(p, [SCHOOL, OTHER_SCHOOL])) == set(EVERYONE)
    assert who(lambda p: access.may_see_pupil(p, [])) == {"admin", "manager", "ewo", "ep"}


def test_areas() -> None:
    assert who(lambda p: access.may_enter(p, "admin")) == {"admin"}
    assert who(lambda p: access.may_enter(p, "manage")) == {"admin", "manager"}
    assert who(lambda p: access.may_enter(p, "tasks")) == {"admin", "manager", "ewo", "ep"}
    assert who(lambda p: access.may_enter(p, "portal")) == {"head", "other"}
    assert who(lambda p: access.may_enter(p, "api")) == set(EVERYONE)
    assert who(lambda p: access.may_enter(p, "no-such-area")) == set()


# --- restrict_tasks against a real database -------------------------------------------------------------


def test_restrict_tasks_gives_each_role_its_inbox(ctx: Context) -> None:
    _tasks(
        ctx,
        [
            ("t-att", SCHOOL, ["attendance"], None),
            ("t-ep", SCHOOL, ["ep"], "ewo"),
            ("t-school", SCHOOL, ["school"], None),
            ("t-other-school", OTHER_SCHOOL, ["school"], None),
            ("t-panel", OTHER_SCHOOL, ["panel", "attendance"], None),
        ],
    )
    visible = {name: _visible(ctx, p) for name, p in EVERYONE.items()}
    everything = {"t-att", "t-ep", "t-school", "t-other-school", "t-panel"}
    assert visible["admin"] == visible["manager"] == everything
    assert visible["ewo"] == {"t-att", "t-ep", "t-panel"}
    assert visible["ep"] == {"t-ep"}
    assert visible["head"] == {"t-school"}
    assert visible["other"] == {"t-other-school"}  # its "attendance" membership gives it nothing more


def _visible(ctx: Context, principal: Principal) -> set[str]:
    ht = HumanTask.__table__
    with ctx.db.transaction() as session:
        return set(session.scalars(access.restrict_tasks(principal, select(ht.c.id))))


def _tasks(ctx: Context, tasks: list[tuple[str, str, list[str], str | None]]) -> None:
    now = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    with ctx.db.transaction() as session:
        file_id = session.execute(
            insert(BpmnFile).returning(BpmnFile.id),
            [{"filename": "t.bpmn", "content_hash": "h", "content": "<xml/>", "deployed_at": now}],
        ).scalar_one()
        version_id = session.execute(
            insert(ProcessVersion).returning(ProcessVersion.id),
            [
                {
                    "process_id": "p",
                    "version": 1,
                    "content_hash": "h",
                    "bpmn_file_id": file_id,
                    "spec": {},
                    "task_meta": {},
                    "start_messages": [],
                    "called_processes": [],
                    "deployed_at": now,
                }
            ],
        ).scalar_one()
        for guid, laestab, teams, assignee in tasks:
            instance_id = session.execute(
                insert(ProcessInstance).returning(ProcessInstance.id),
                [
                    {
                        "process_version_id": version_id,
                        "process_id": "p",
                        "state": "user_input_required",
                        "suspended": False,
                        "state_json": "{}",
                        "lock_version": 1,
                        "started_at": now,
                        "updated_at": now,
                    }
                ],
            ).scalar_one()
            session.execute(insert(InstanceEstablishment), [{"instance_id": instance_id, "laestab": laestab}])
            session.execute(
                insert(HumanTask),
                [
                    {
                        "id": guid,
                        "instance_id": instance_id,
                        "process_id": "p",
                        "task_spec_id": guid,
                        "name": guid,
                        "assignee": assignee,
                        "state": "ready",
                        "created_at": now,
                    }
                ],
            )
            session.execute(insert(HumanTaskTeam), [{"task_id": guid, "team": t} for t in teams])
