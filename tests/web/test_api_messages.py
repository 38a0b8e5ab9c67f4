"""/api/v1/messages: administrators and integrations' tokens (accounts in the ``integrations`` team) send
messages to cases; nobody else may, and an integration's person signed in through a browser may not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from engine.context import Context
from engine.services import audit, processes
from tests.web.support import page_token, sign_in
from tests.web.test_api_support import FIXTURES, Api, assert_problem, make_accounts

AsUser = Callable[[str], Api]
REFERRAL = {
    "name": "school_referral",
    "correlation": {"business_key": "A801200026001"},
    "payload": {"pupil": "A801200026001", "reason": "persistent absence"},
}


@pytest.fixture
def as_user(client: FlaskClient, ctx: Context) -> AsUser:
    tokens = make_accounts(ctx)
    processes.deploy_sources(
        ctx, processes.read_sources([FIXTURES / "bpmn" / "message_start.bpmn"]), actor="t"
    )
    return lambda username: Api(client, tokens[username])


@pytest.mark.parametrize("username", ["admin", "feed"])
def test_administrators_and_integration_tokens_send_messages(
    ctx: Context, as_user: AsUser, username: str
) -> None:
    response = as_user(username).post("/messages", REFERRAL)
    assert response.status_code == 200, response.json
    assert response.json["delivered_to"] == [] and len(response.json["started"]) == 1
    started = as_user("manager").get(f"/instances/{response.json['started'][0]}").json
    assert started["business_key"] == "A801200026001" and started["started_by"] == username
    sent = audit.trail(ctx, "message", response.json["message_id"])
    assert [(e.actor, e.action) for e in sent] == [(username, "send_message")]


@pytest.mark.parametrize("username", ["manager", "ewo", "head"])
def test_nobody_else_sends_messages(as_user: AsUser, username: str) -> None:
    assert_problem(as_user(username).post("/messages", REFERRAL), 403, "permission_denied")


def test_an_integrations_account_signed_in_through_a_browser_may_not(
    client: FlaskClient, as_user: AsUser
) -> None:
    sign_in(client, "feed")
    csrf = {"X-CSRFToken": page_token(client, "/")}
    assert_problem(client.post("/api/v1/messages", json=REFERRAL, headers=csrf), 403, "permission_denied")


def test_a_message_nobody_waits_for_is_kept_and_reported(as_user: AsUser) -> None:
    response = as_user("feed").post(
        "/messages", {"name": "payment_received", "correlation": {"notice_ref": "PN-1"}}
    )
    body = assert_problem(response, 400, "message_not_delivered")
    assert isinstance(body["message_id"], int)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": "x", "correlation": "PN-1"}, "correlation"), ({"name": "x", "to": "all"}, "to")],
)
def test_bad_messages_are_refused_field_by_field(
    as_user: AsUser, body: dict[str, object], field: str
) -> None:
    response = as_user("feed").post("/messages", body)
    assert [e["path"] for e in assert_problem(response, 422, "invalid_request")["errors"]] == [field]
