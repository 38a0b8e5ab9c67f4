"""/api/v1/instances: who may start which process (schools: their portal's, for their own school), who
sees which cases and which of their fields, and the manager's actions (403 or 404 as engine.access says)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from flask.testing import FlaskClient

from engine.context import Context
from engine.services import audit, portal, processes
from tests.web.support import OTHER_SCHOOL, SCHOOL
from tests.web.test_api_support import (
    FIXTURES,
    REVIEW,
    Api,
    assert_problem,
    deploy_school_check,
    make_accounts,
    start_school_check,
)

AsUser = Callable[[str], Api]
REFERRAL = Path(__file__).parents[1] / "scenarios" / "absence_referral" / "01_accepted_casework_closed.yaml"
PROCESS_LIBRARY = Path(__file__).parents[2] / "process_library"


@pytest.fixture
def as_user(client: FlaskClient, ctx: Context) -> AsUser:
    tokens = make_accounts(ctx)
    return lambda username: Api(client, tokens[username])


@pytest.fixture
def case(ctx: Context, as_user: AsUser) -> dict[str, Any]:
    deploy_school_check(ctx)
    return start_school_check(as_user("ewo"), ctx)


@pytest.fixture
def school_check_in_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let schools start the test process, naming their school where absence_referral does."""
    monkeypatch.setitem(portal.PORTAL_PROCESSES, "school_check", ("school", "laestab"))


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


# --- starting -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "manager", "ewo", "ep"])
def test_la_staff_start_any_process(ctx: Context, as_user: AsUser, username: str) -> None:
    deploy_school_check(ctx)
    response = as_user(username).post("/instances", {"process_id": "school_check", "business_key": "K1"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/instances/{response.json['id']}"
    assert response.json["state"] == "user_input_required" and len(response.json["tasks"]) == 2


def test_a_school_may_not_start_what_its_portal_does_not_offer(ctx: Context, as_user: AsUser) -> None:
    deploy_school_check(ctx)
    refused = as_user("head").post("/instances", {"process_id": "school_check"})
    assert assert_problem(refused, 404, "not_found")["detail"] == "There is no such process."


def test_a_schools_case_always_names_its_own_school(
    ctx: Context, as_user: AsUser, school_check_in_portal: None
) -> None:
    deploy_school_check(ctx)
    sent = {"school": {"name": "Riverside", "laestab": OTHER_SCHOOL}, "notes": "Pupil anxious"}
    started = as_user("head").post("/instances", {"process_id": "school_check", "data": sent})
    assert started.status_code == 201
    assert [t["task_id"] for t in started.json["tasks"]] == ["school_response"]  # never the LA's lane
    assert "events" not in started.json and "timers" not in started.json
    history = as_user("manager").get(f"/instances/{started.json['id']}").json["events"]
    assert history[0]["data"]["data"]["school"] == {"name": "Riverside", "laestab": SCHOOL}


def test_a_school_may_not_pick_a_version(ctx: Context, as_user: AsUser, school_check_in_portal: None) -> None:
    deploy_school_check(ctx)
    response = as_user("head").post("/instances", {"process_id": "school_check", "version": 1})
    assert_problem(response, 404, "not_found")


def test_a_school_sees_the_case_it_started(
    ctx: Context, as_user: AsUser, school_check_in_portal: None
) -> None:
    deploy_school_check(ctx)
    started = as_user("head").post("/instances", {"process_id": "school_check", "data": {}}).json
    assert as_user("head").get(f"/instances/{started['id']}").status_code == 200


def deploy_absence_referral(ctx: Context) -> dict[str, Any]:
    """The shipped absence referral (and the legal route it calls); returns a school's referral."""
    files = [PROCESS_LIBRARY / f"{name}.bpmn" for name in ("absence_referral", "attendance_legal_route")]
    processes.deploy_sources(ctx, processes.read_sources(files), actor="tester")
    data: dict[str, Any] = yaml.safe_load(REFERRAL.read_text())["start"]["data"]
    return data


@time_machine.travel("2026-03-02T09:00:00Z", tick=False)  # in the example calendar's school year
def test_a_school_starts_a_real_absence_referral(calendar_ctx: Context, as_user: AsUser) -> None:
    data = deploy_absence_referral(calendar_ctx)
    data["school"]["laestab"] = OTHER_SCHOOL
    started = as_user("head").post(
        "/instances", {"process_id": "absence_referral", "business_key": "V801200026009", "data": data}
    )
    assert started.status_code == 201, started.json
    assert started.json["state"] == "user_input_required", (
        as_user("manager").get(f"/instances/{started.json['id']}").json["error"]
    )
    history = as_user("manager").get(f"/instances/{started.json['id']}").json["events"]
    assert history[0]["data"]["data"]["school"]["laestab"] == SCHOOL


def test_a_referral_the_start_form_refuses_gets_422(calendar_ctx: Context, as_user: AsUser) -> None:
    data = deploy_absence_referral(calendar_ctx)
    del data["pupil"]
    refused = as_user("head").post("/instances", {"process_id": "absence_referral", "data": data})
    assert [e["path"] for e in assert_problem(refused, 422, "invalid_form_data")["errors"]] == ["pupil"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "process_id"),
        ({"process_id": "x", "data": [1]}, "data"),
        ({"process_id": "x", "extra": 1}, "extra"),
        ({"process_id": "x", "business_key": "k" * 101}, "business_key"),
    ],
)
def test_bad_start_requests_are_refused_field_by_field(
    as_user: AsUser, body: dict[str, Any], field: str
) -> None:
    response = as_user("ewo").post("/instances", body)
    assert [e["path"] for e in assert_problem(response, 422, "invalid_request")["errors"]] == [field]


def test_an_undeployed_process_is_not_found(as_user: AsUser) -> None:
    assert_problem(as_user("ewo").post("/instances", {"process_id": "nowhere"}), 404, "not_found")


# --- seeing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("admin", True),
        ("manager", True),
        ("ewo", True),
        ("ep", False),
        ("head", True),
        ("other_head", False),
        ("feed", False),
    ],
)
def test_who_sees_a_case(as_user: AsUser, case: dict[str, Any], username: str, visible: bool) -> None:
    api = as_user(username)
    assert ids(api.get("/instances")) == ([case["id"]] if visible else [])
    shown = api.get(f"/instances/{case['id']}")
    if visible:
        assert shown.status_code == 200 and shown.json["id"] == case["id"]
    else:
        assert assert_problem(shown, 404, "not_found")["detail"] == "There is no such case."


def test_an_unknown_case_looks_the_same_as_a_hidden_one(as_user: AsUser, case: dict[str, Any]) -> None:
    hidden = as_user("other_head").get(f"/instances/{case['id']}")
    assert as_user("other_head").get(f"/instances/{case['id'] + 1000}").json == hidden.json
    assert as_user("manager").get("/instances/99999999999").status_code == 404  # beyond any id


def test_the_field_sets_of_a_case(as_user: AsUser, case: dict[str, Any]) -> None:
    as_user("ewo").post(f"/tasks/{case['task']['la_review']}/complete", REVIEW)
    head, ewo, manager = (as_user(u).get(f"/instances/{case['id']}").json for u in ("head", "ewo", "manager"))
    assert set(head) == {"id", "process_id", "business_key", "state", "started_at", "ended_at", "tasks"}
    assert [t["task_id"] for t in head["tasks"]] == ["school_response"]
    assert set(head["tasks"][0]) == {"id", "task_id", "name", "state", "form", "due_at", "completed_at"}
    assert {"version", "suspended", "timers", "messages", "events"} <= set(ewo)
    assert "started_by" not in ewo and "error" not in ewo
    assert all("data" not in event for event in ewo["events"])
    assert {t["task_id"] for t in ewo["tasks"]} == {"school_response", "la_review"}
    assert manager["started_by"] == "ewo" and "error" in manager
    completed = next(e for e in manager["events"] if e["kind"] == "task_completed")
    assert completed["data"] == {
        "outcome": "support",
        "reviewed_on": "2026-01-12",
        "notes": "Spoke to the family.",
    }
    assert next(t for t in manager["tasks"] if t["task_id"] == "la_review")["completed_by"] == "ewo"


def test_list_filters_and_pages(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    other = start_school_check(as_user("ewo"), ctx, laestab=OTHER_SCHOOL, key="C801200026003")
    manager = as_user("manager")
    manager.post(f"/instances/{other['id']}/suspend", {"reason": "complaint"})
    assert ids(manager.get("/instances")) == [other["id"], case["id"]]  # newest first
    assert ids(manager.get("/instances", query_string={"business_key": "C801200026003"})) == [other["id"]]
    assert ids(manager.get("/instances", query_string={"suspended": "true"})) == [other["id"]]
    assert ids(manager.get("/instances", query_string={"state": "complete"})) == []
    assert ids(manager.get("/instances", query_string={"process": "school_check", "limit": 1})) == [
        other["id"]
    ]
    paged = manager.get("/instances", query_string={"limit": 1, "offset": 1})
    assert paged.json["total"] == 2 and paged.headers["X-Total-Count"] == "2" and ids(paged) == [case["id"]]
    assert ids(as_user("head").get("/instances")) == [case["id"]]
    assert ids(as_user("other_head").get("/instances")) == [other["id"]]
    assert set(as_user("head").get("/instances").json["items"][0]) == {
        "id",
        "process_id",
        "business_key",
        "state",
        "started_at",
        "ended_at",
    }
    assert_problem(manager.get("/instances", query_string={"state": "lost"}), 422, "invalid_request")


# --- acting ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["suspend", "resume", "cancel", "retry"])
@pytest.mark.parametrize(
    ("username", "status", "code"),
    [
        ("ewo", 403, "permission_denied"),  # sees the case, may not act on it
        ("head", 403, "permission_denied"),
        ("ep", 404, "not_found"),
        ("other_head", 404, "not_found"),
    ],
)
def test_only_managers_act_on_cases(
    as_user: AsUser, case: dict[str, Any], action: str, username: str, status: int, code: str
) -> None:
    assert_problem(as_user(username).post(f"/instances/{case['id']}/{action}", {}), status, code)


def test_suspend_resume_cancel(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    manager, path = as_user("manager"), f"/instances/{case['id']}"
    suspended = manager.post(f"{path}/suspend", {"reason": "Complaint under investigation"})
    assert suspended.status_code == 200 and suspended.json["suspended"] is True
    assert_problem(manager.post(f"{path}/suspend", {}), 409, "instance_not_running")
    assert manager.post(f"{path}/resume").json["suspended"] is False
    assert_problem(manager.post(f"{path}/resume"), 409, "instance_not_running")
    assert as_user("admin").post(f"{path}/cancel", {"reason": "Duplicate"}).json["state"] == "cancelled"
    assert_problem(manager.post(f"{path}/cancel", {}), 409, "instance_not_running")
    assert_problem(manager.post(f"{path}/suspend", {"colour": "red"}), 422, "invalid_request")
    trail = [(e.actor, e.action, e.details) for e in reversed(audit.trail(ctx, "instance", case["id"]))]
    assert trail == [
        ("ewo", "start", {"process_id": "school_check"}),
        ("manager", "suspend", {"reason": "Complaint under investigation"}),
        ("manager", "resume", {"reason": ""}),
        ("admin", "cancel", {"reason": "Duplicate"}),
    ]


def test_retry_after_correcting_the_data(ctx: Context, as_user: AsUser) -> None:
    processes.deploy_sources(
        ctx, processes.read_sources([FIXTURES / "bpmn" / "script_error.bpmn"]), actor="t"
    )
    admin = as_user("admin")
    started = admin.post(
        "/instances", {"process_id": "share_of_sessions", "data": {"sessions_possible": 0, "missed": 3}}
    ).json
    assert started["state"] == "error" and started["error"]["task_id"] == "compute"
    assert (
        "error"
        not in as_user("ewo")
        .post(
            "/instances", {"process_id": "share_of_sessions", "data": {"sessions_possible": 0, "missed": 1}}
        )
        .json
    )
    assert_problem(
        admin.post(f"/instances/{started['id']}/retry", {"data_changes": "six"}), 422, "invalid_request"
    )
    repaired = admin.post(f"/instances/{started['id']}/retry", {"data_changes": {"sessions_possible": 6}})
    assert repaired.status_code == 200 and repaired.json["state"] == "user_input_required"
    assert_problem(admin.post(f"/instances/{started['id']}/retry", {}), 409, "instance_not_running")


def test_an_instance_view_is_audited(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    as_user("head").get(f"/instances/{case['id']}")
    as_user("manager").get("/instances")
    latest = audit.trail(ctx, "instance", case["id"])[0]
    assert (latest.actor, latest.action) == ("head", "view")
    assert audit.trail(ctx, "instance", "list")[0].details["ids"] == [case["id"]]
