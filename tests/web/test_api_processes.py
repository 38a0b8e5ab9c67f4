"""/api/v1/processes: the list each role gets, and deploying BPMN uploads (administrators only; 422 with
every problem for files that cannot run)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.context import Context
from engine.services import audit, processes
from tests.web.test_api_support import (
    FIXTURES,
    SCHOOL_CHECK,
    Api,
    assert_problem,
    deploy_school_check,
    make_accounts,
)

AsUser = Callable[[str], Api]
BPMN = FIXTURES / "bpmn"


@pytest.fixture
def as_user(client: FlaskClient, ctx: Context) -> AsUser:
    tokens = make_accounts(ctx)
    return lambda username: Api(client, tokens[username])


def upload(api: Api, *files: tuple[str, bytes], query: dict[str, Any] | None = None) -> TestResponse:
    return api.client.post(
        "/api/v1/processes",
        headers=api.headers,
        query_string=query,
        data={"files": [(io.BytesIO(content), name) for name, content in files]},
        content_type="multipart/form-data",
    )


def fixture(name: str) -> tuple[str, bytes]:
    return name, (BPMN / name).read_bytes()


# --- listing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "listed", "fields"),
    [
        ("head", ["cme_enquiry"], {"process_id", "name", "latest_version"}),
        ("ewo", ["cme_enquiry", "school_check"], {"process_id", "name", "latest_version", "start_messages"}),
        (
            "manager",
            ["cme_enquiry", "school_check"],
            {
                "process_id",
                "name",
                "latest_version",
                "start_messages",
                "open_instances",
                "deployed_at",
                "deployed_by",
            },
        ),
    ],
)
def test_each_role_gets_its_list(
    ctx: Context, as_user: AsUser, username: str, listed: list[str], fields: set[str]
) -> None:
    deploy_school_check(ctx)
    processes.deploy_sources(
        ctx,
        processes.read_sources([FIXTURES.parent.parent / "process_library" / "cme_enquiry.bpmn"]),
        actor="t",
    )
    response = as_user(username).get("/processes")
    assert response.status_code == 200
    assert [p["process_id"] for p in response.json] == listed  # school users: their portal's only
    assert all(set(p) == fields for p in response.json)


# --- deploying ----------------------------------------------------------------------------------------------


def test_an_administrator_deploys_files_together(ctx: Context, as_user: AsUser) -> None:
    admin = as_user("admin")
    files = [("school_check.bpmn", SCHOOL_CHECK.encode()), fixture("message_start.bpmn")]
    first = upload(admin, *files)
    assert first.status_code == 201, first.json
    assert {(d["process_id"], d["version"], d["status"]) for d in first.json["deployed"]} == {
        ("school_check", 1, "new"),
        ("school_referral_intake", 1, "new"),
    }
    assert {p["file"] for p in first.json["processes"]} == {"school_check.bpmn", "message_start.bpmn"}
    again = upload(admin, *files)
    assert again.status_code == 200 and {d["status"] for d in again.json["deployed"]} == {"unchanged"}
    assert [e.actor for e in audit.by_actor(ctx, "admin") if e.action == "deploy"] == ["admin", "admin"]


def test_validate_only_deploys_nothing(as_user: AsUser) -> None:
    admin = as_user("admin")
    checked = upload(admin, ("school_check.bpmn", SCHOOL_CHECK.encode()), query={"validate_only": "true"})
    assert checked.status_code == 200
    assert checked.json["deployed"] == [] and checked.json["processes"][0]["user_tasks"] == 2
    assert admin.get("/processes").json == []


def test_files_that_cannot_run_are_refused_with_every_problem(as_user: AsUser) -> None:
    response = upload(
        as_user("admin"),
        fixture("service_task_no_operator.bpmn"),
        fixture("script_syntax_error.bpmn"),
        fixture("missing_call_target.bpmn"),
    )
    body = assert_problem(response, 422, "invalid_bpmn")
    found = {(p["file"], p["element_id"]) for p in body["problems"]}
    assert found == {
        ("service_task_no_operator.bpmn", "Activity_SendLetter"),
        ("service_task_no_operator.bpmn", "Activity_NotifySchool"),
        ("script_syntax_error.bpmn", "Activity_Score"),
        ("script_syntax_error.bpmn", "Flow_Concern"),
        ("script_syntax_error.bpmn", "Activity_Review"),
        ("missing_call_target.bpmn", "Activity_Visit"),
    }
    assert all(p["line"] for p in body["problems"]) and all(p["reason"] for p in body["problems"])
    assert as_user("admin").get("/processes").json == []  # all or nothing


def test_malformed_xml_is_refused_with_its_line(as_user: AsUser) -> None:
    body = assert_problem(upload(as_user("admin"), fixture("malformed.bpmn")), 422, "invalid_bpmn")
    assert body["problems"] == [
        {"file": "malformed.bpmn", "line": 9, "element_id": None, "reason": body["problems"][0]["reason"]}
    ]
    assert "not well-formed" in body["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("files", "path"),
    [
        ([], "files"),
        ([("notes.txt", b"hello")], "files.0"),
        ([("a.bpmn", SCHOOL_CHECK.encode()), ("a.bpmn", SCHOOL_CHECK.encode())], "files"),
    ],
)
def test_uploads_that_are_not_bpmn_files_are_refused(
    as_user: AsUser, files: list[tuple[str, bytes]], path: str
) -> None:
    body = assert_problem(upload(as_user("admin"), *files), 422, "invalid_request")
    assert [e["path"] for e in body["errors"]] == [path]


def test_a_path_in_the_file_name_is_dropped(ctx: Context, as_user: AsUser) -> None:
    response = upload(as_user("admin"), ("../../etc/school_check.bpmn", SCHOOL_CHECK.encode()))
    assert response.status_code == 201 and response.json["deployed"][0]["file"] == "school_check.bpmn"


@pytest.mark.parametrize("username", ["manager", "ewo", "head", "feed"])
def test_only_administrators_deploy(as_user: AsUser, username: str) -> None:
    response = upload(as_user(username), ("school_check.bpmn", SCHOOL_CHECK.encode()))
    assert_problem(response, 403, "permission_denied")
