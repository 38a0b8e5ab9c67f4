"""/api/openapi.json: a valid OpenAPI 3.1 document that lists every API route with its errors and codes;
and what holds for every operation in it: anonymous calls and revoked tokens get 401 problem+json."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from engine.context import Context
from engine.services import users
from tests.web.test_api_support import PROBLEM, assert_problem, make_accounts
from webapp.api.registry import OPERATIONS, Operation

PROTECTED = [op for op in OPERATIONS if not op.public]


def concrete(op: Operation) -> str:
    """The operation's path with made-up ids."""
    path = "/api" + op.rule
    return re.sub(r"<[^>]+>", "1", path)


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")  # public: no token
    assert response.status_code == 200 and response.mimetype == "application/json"
    body: dict[str, Any] = response.json
    return body


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_lists_every_api_route(app: Flask, document: dict[str, Any]) -> None:
    routes = {
        (method.lower(), re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == routes
    assert len(routes) == 17


def test_every_operation_names_its_errors_as_problems(document: dict[str, Any]) -> None:
    problem_responses = document["components"]["responses"]
    assert all(set(r["content"]) == {PROBLEM} for r in problem_responses.values())
    for path, item in document["paths"].items():
        for method, described in item.items():
            responses = described["responses"]
            assert "500" in responses, (method, path)
            assert ("401" in responses) != (path == "/api/openapi.json"), (method, path)
            assert described["security"] == [] if path == "/api/openapi.json" else "security" not in described
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_stable_error_codes_are_listed(document: dict[str, Any]) -> None:
    codes = document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
    for code in (
        "not_authenticated",
        "not_found",
        "permission_denied",
        "invalid_request",
        "invalid_form_data",
        "invalid_bpmn",
        "task_already_completed",
        "instance_not_running",
        "message_not_delivered",
        "conflict",
        "csrf_failed",
        "internal_error",
    ):
        assert code in codes
        assert f"| `{code}` |" in document["info"]["description"]


def test_role_field_sets_come_from_the_schemas(document: dict[str, Any]) -> None:
    task = document["components"]["schemas"]["Task"]["properties"]
    assert {"lane", "teams", "assignee", "completed_by"} <= set(task)
    assert task["due_at"] == {"type": ["string", "null"], "format": "date-time"}
    start = document["components"]["schemas"]["StartInstance"]
    assert start["required"] == ["process_id"] and start["additionalProperties"] is False
    limit = next(p for p in document["paths"]["/api/v1/tasks"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: f"{op.method} {op.rule}")
def test_anonymous_calls_get_401(client: FlaskClient, op: Operation) -> None:
    response = client.open(concrete(op), method=op.method.upper(), json={})
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: f"{op.method} {op.rule}")
def test_revoked_tokens_get_401(client: FlaskClient, ctx: Context, op: Operation) -> None:
    make_accounts(ctx)
    token = users.create_token(ctx, "admin", "old script")
    users.revoke_token(ctx, token.id)
    response = client.open(
        concrete(op), method=op.method.upper(), json={}, headers={"Authorization": f"Bearer {token.secret}"}
    )
    assert_problem(response, 401, "not_authenticated")


def test_an_unknown_api_path_is_a_problem_too(client: FlaskClient, ctx: Context) -> None:
    token = make_accounts(ctx)["ewo"]
    response = client.get("/api/v1/nothing", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 404, "not_found")
    wrong_method = client.delete("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert_problem(wrong_method, 405, "method_not_allowed")
