"""/api/v1/tasks: who sees which tasks and which of their fields, filters and pages, the form (filtered
data only), claiming, and completing (422 field errors, 409 naming who got there first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.context import Context
from engine.models.access import Role
from engine.services import audit, users
from tests.web.support import OTHER_SCHOOL, make_user
from tests.web.test_api_support import (
    REVIEW,
    Api,
    assert_problem,
    deploy_school_check,
    make_accounts,
    start_school_check,
)

AsUser = Callable[[str], Api]
SCHOOL_FIELDS = {
    "id",
    "instance_id",
    "process_id",
    "business_key",
    "task_id",
    "name",
    "form",
    "due_at",
    "state",
    "completed_at",
}
CASEWORKER_FIELDS = SCHOOL_FIELDS | {"lane", "teams", "assignee", "ui_form"}
MANAGER_FIELDS = CASEWORKER_FIELDS | {"created_at", "completed_by"}


@pytest.fixture
def as_user(client: FlaskClient, ctx: Context) -> AsUser:
    tokens = make_accounts(ctx)
    return lambda username: Api(client, tokens[username])


@pytest.fixture
def case(ctx: Context, as_user: AsUser) -> dict[str, Any]:
    """A school check for SCHOOL, started by the attendance officer: a school task and an LA task."""
    deploy_school_check(ctx)
    return start_school_check(as_user("ewo"), ctx)


def task_ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.json
    return {task["task_id"] for task in response.json["items"]}


# --- listing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", {"school_response", "la_review"}),
        ("manager", {"school_response", "la_review"}),
        ("ewo", {"la_review"}),
        ("ep", set()),
        ("head", {"school_response"}),
        ("other_head", set()),
        ("feed", set()),
    ],
)
def test_each_role_lists_only_the_tasks_it_may_see(
    as_user: AsUser, case: dict[str, Any], username: str, expected: set[str]
) -> None:
    assert task_ids(as_user(username).get("/tasks")) == expected


@pytest.mark.parametrize(
    ("username", "fields"),
    [
        ("head", SCHOOL_FIELDS),
        ("ewo", CASEWORKER_FIELDS),
        ("manager", MANAGER_FIELDS),
        ("admin", MANAGER_FIELDS),
    ],
)
def test_each_role_gets_its_own_field_set(
    as_user: AsUser, case: dict[str, Any], username: str, fields: set[str]
) -> None:
    listed = as_user(username).get("/tasks").json["items"]
    assert listed and all(set(task) == fields for task in listed)
    task_id = listed[0]["id"]
    assert set(as_user(username).get(f"/tasks/{task_id}").json) == fields


def test_filters_pages_and_counts(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    manager = as_user("manager")
    start_school_check(as_user("ewo"), ctx, key="B801200026002")
    assert manager.get("/tasks").json["total"] == 4
    assert task_ids(manager.get("/tasks", query_string={"team": "school"})) == {"school_response"}
    assert manager.get("/tasks", query_string={"business_key": "B801200026002"}).json["total"] == 2
    assert manager.get("/tasks", query_string={"process": "nothing_like_it"}).json["total"] == 0
    assert manager.get("/tasks", query_string={"overdue": "true"}).json["total"] == 0  # nothing is due
    first, second = (manager.get("/tasks", query_string={"limit": 1, "offset": n}) for n in (0, 1))
    assert first.json["total"] == 4 and first.headers["X-Total-Count"] == "4"
    assert len(first.json["items"]) == 1 and first.json["items"] != second.json["items"]
    assert (first.json["limit"], second.json["offset"]) == (1, 1)


def test_assignee_me_and_unassigned(as_user: AsUser, case: dict[str, Any]) -> None:
    ewo, manager = as_user("ewo"), as_user("manager")
    ewo.post(f"/tasks/{case['task']['la_review']}/claim")
    assert task_ids(ewo.get("/tasks", query_string={"assignee": "me"})) == {"la_review"}
    assert task_ids(manager.get("/tasks", query_string={"assignee": "me"})) == set()
    assert task_ids(manager.get("/tasks", query_string={"unassigned": "true"})) == {"school_response"}
    assert task_ids(manager.get("/tasks", query_string={"assignee": "ewo"})) == {"la_review"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"state": "lost"}, "state"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_are_refused_field_by_field(as_user: AsUser, query: dict[str, Any], field: str) -> None:
    body = assert_problem(as_user("ewo").get("/tasks", query_string=query), 422, "invalid_request")
    assert [error["path"] for error in body["errors"]] == [field]


# --- one task ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "task", "visible"),
    [
        ("head", "school_response", True),
        ("head", "la_review", False),  # the LA's lane is never a school's
        ("other_head", "school_response", False),  # another school's case
        ("ewo", "la_review", True),
        ("ep", "la_review", False),
        ("manager", "school_response", True),
    ],
)
def test_a_task_one_may_not_see_does_not_exist(
    as_user: AsUser, case: dict[str, Any], username: str, task: str, visible: bool
) -> None:
    api, task_id = as_user(username), case["task"][task]
    for path in (f"/tasks/{task_id}", f"/tasks/{task_id}/form"):
        response = api.get(path)
        if visible:
            assert response.status_code == 200
        else:
            assert assert_problem(response, 404, "not_found")["detail"] == "There is no such task."
    if not visible:
        for action in ("claim", "unclaim", "complete"):
            assert_problem(api.post(f"/tasks/{task_id}/{action}", REVIEW), 404, "not_found")


def test_an_unknown_task_looks_the_same_as_a_hidden_one(as_user: AsUser, case: dict[str, Any]) -> None:
    hidden = as_user("other_head").get(f"/tasks/{case['task']['school_response']}")
    unknown = as_user("other_head").get("/tasks/no-such-task")
    assert hidden.json == unknown.json


def test_the_form_gives_schema_ui_schema_and_only_the_data_the_form_declares(
    ctx: Context, as_user: AsUser
) -> None:
    deploy_school_check(ctx)
    started = (
        as_user("ewo")
        .post(
            "/instances",
            {
                "process_id": "school_check",
                "data": {"notes": "From the referral", "social_worker": "J. Bloggs"},
            },
        )
        .json
    )
    task_id = next(t["id"] for t in started["tasks"] if t["task_id"] == "la_review")
    form = as_user("ewo").get(f"/tasks/{task_id}/form").json
    assert form["form"] == "review-case.schema.json" and form["task"] == task_id
    assert form["schema"]["required"] == ["outcome", "reviewed_on"]
    assert "ui_schema" in form
    assert form["data"] == {"notes": "From the referral"}  # never the case's other data


# --- claiming ---------------------------------------------------------------------------------------------


def test_claim_and_release(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    make_user(ctx, "ewo2", Role.CASEWORKER)
    colleague = Api(as_user("ewo").client, users.create_token(ctx, "ewo2", "script").secret)
    task_id = case["task"]["la_review"]
    claimed = as_user("ewo").post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "ewo"
    taken = assert_problem(colleague.post(f"/tasks/{task_id}/claim"), 409, "conflict")
    assert taken["assignee"] == "ewo" and "ewo" in taken["detail"]
    assert_problem(colleague.post(f"/tasks/{task_id}/unclaim"), 409, "conflict")
    assert as_user("ewo").post(f"/tasks/{task_id}/unclaim").json["assignee"] is None
    as_user("ewo").post(f"/tasks/{task_id}/claim")
    assert as_user("manager").post(f"/tasks/{task_id}/unclaim").json["assignee"] is None  # managers may


def test_a_school_user_claims_their_own_schools_task(as_user: AsUser, case: dict[str, Any]) -> None:
    claimed = as_user("head").post(f"/tasks/{case['task']['school_response']}/claim")
    assert claimed.status_code == 200
    assert "assignee" not in claimed.json  # school users never see who holds a task
    assert as_user("manager").get(f"/tasks/{case['task']['school_response']}").json["assignee"] == "head"


# --- completing ---------------------------------------------------------------------------------------------


def test_invalid_answers_get_422_with_each_field(as_user: AsUser, case: dict[str, Any]) -> None:
    response = as_user("ewo").post(f"/tasks/{case['task']['la_review']}/complete", {"outcome": "shrug"})
    body = assert_problem(response, 422, "invalid_form_data")
    assert {error["path"] for error in body["errors"]} == {"outcome", "reviewed_on"}


def test_a_body_that_is_not_an_object_is_refused(as_user: AsUser, case: dict[str, Any]) -> None:
    response = as_user("ewo").post(f"/tasks/{case['task']['la_review']}/complete", ["support"])
    assert_problem(response, 422, "invalid_request")


def test_complete_then_complete_again_names_who_did_it(as_user: AsUser, case: dict[str, Any]) -> None:
    task_id = case["task"]["la_review"]
    done = as_user("ewo").post(f"/tasks/{task_id}/complete", REVIEW)
    assert done.status_code == 200
    assert done.json["state"] == "completed" and done.json["instance_state"] == "user_input_required"
    assert done.json["next_tasks"] == [case["task"]["school_response"]]
    again = assert_problem(
        as_user("manager").post(f"/tasks/{task_id}/complete", REVIEW), 409, "task_already_completed"
    )
    assert again["completed_by"] == "ewo" and "completed by ewo" in again["detail"]


def test_a_school_completes_its_task_and_sees_no_more_than_its_fields(
    as_user: AsUser, case: dict[str, Any]
) -> None:
    done = as_user("head").post(f"/tasks/{case['task']['school_response']}/complete", REVIEW)
    assert done.status_code == 200
    assert "next_tasks" not in done.json and "teams" not in done.json and "lane" not in done.json
    assert done.json["instance_state"] == "user_input_required"


def test_someone_elses_task_cannot_be_completed_but_a_manager_can(
    ctx: Context, as_user: AsUser, case: dict[str, Any]
) -> None:
    make_user(ctx, "ewo2", Role.CASEWORKER)
    colleague = Api(as_user("ewo").client, users.create_token(ctx, "ewo2", "script").secret)
    task_id = case["task"]["la_review"]
    as_user("ewo").post(f"/tasks/{task_id}/claim")
    assert_problem(colleague.post(f"/tasks/{task_id}/complete", REVIEW), 409, "conflict")
    assert as_user("manager").post(f"/tasks/{task_id}/complete", REVIEW).status_code == 200


def test_a_suspended_case_refuses_completion(as_user: AsUser, case: dict[str, Any]) -> None:
    as_user("manager").post(f"/instances/{case['id']}/suspend", {"reason": "complaint"})
    response = as_user("ewo").post(f"/tasks/{case['task']['la_review']}/complete", REVIEW)
    assert_problem(response, 409, "instance_not_running")


# --- audit --------------------------------------------------------------------------------------------------


def test_views_and_changes_are_audited(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    task_id = case["task"]["la_review"]
    ewo = as_user("ewo")
    ewo.get("/tasks")
    ewo.get(f"/tasks/{task_id}")
    ewo.get(f"/tasks/{task_id}/form")
    ewo.post(f"/tasks/{task_id}/claim")
    ewo.post(f"/tasks/{task_id}/complete", REVIEW)
    trail = audit.trail(ctx, "task", task_id)
    assert [(e.actor, e.action) for e in reversed(trail)] == [
        ("ewo", "view"),
        ("ewo", "view"),
        ("ewo", "claim"),
        ("ewo", "complete"),
    ]
    assert all(e.source_ip for e in trail)
    listed = audit.trail(ctx, "task", "list")
    assert listed[0].actor == "ewo" and listed[0].details["ids"] == [task_id]


def test_other_schools_data_is_never_listed(ctx: Context, as_user: AsUser, case: dict[str, Any]) -> None:
    start_school_check(as_user("ewo"), ctx, laestab=OTHER_SCHOOL, key="C801200026003")
    head_sees = as_user("head").get("/tasks").json["items"]
    other_sees = as_user("other_head").get("/tasks").json["items"]
    assert [t["business_key"] for t in head_sees] == ["A801200026001"]
    assert [t["business_key"] for t in other_sees] == ["C801200026003"]
