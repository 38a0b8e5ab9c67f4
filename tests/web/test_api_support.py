"""Shared by the API tests (this module holds no tests): accounts with API tokens for each role, a small
process with a task in the school lane and one in the LA's, and helpers to call the API as someone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.context import Context
from engine.models.access import Role
from engine.services import instance_store, processes, users
from tests.web.support import OTHER_SCHOOL, SCHOOL, make_user

FIXTURES = Path(__file__).parents[1] / "fixtures"
PROBLEM = "application/problem+json"

#: username → (role, extra account settings). ``feed`` is an integration's service account.
ACCOUNTS: dict[str, tuple[str, dict[str, Any]]] = {
    "admin": (Role.ADMINISTRATOR, {}),
    "manager": (Role.MANAGER, {}),
    "ewo": (Role.CASEWORKER, {"teams": ["attendance"]}),
    "ep": (Role.CASEWORKER, {"teams": ["ep"]}),
    "head": (Role.SCHOOL, {"establishment": SCHOOL}),
    "other_head": (Role.SCHOOL, {"establishment": OTHER_SCHOOL}),
    "feed": (Role.CASEWORKER, {"teams": ["integrations"]}),
}

#: Two tasks at once: one for the school (lane ``school``), one for the LA (lane ``attendance``),
#: both with the ``review-case`` test form.
SCHOOL_CHECK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_school_check"
    targetNamespace="http://educase.org/bpmn/tests">
  <bpmn:collaboration id="Collab_school_check">
    <bpmn:participant id="Participant_school_check" name="School check" processRef="school_check" />
  </bpmn:collaboration>
  <bpmn:process id="school_check" name="School check" isExecutable="true">
    <bpmn:laneSet id="LaneSet_school_check">
      <bpmn:lane id="Lane_school" name="school"><bpmn:flowNodeRef>school_response</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_attendance" name="attendance">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>fork</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>la_review</bpmn:flowNodeRef><bpmn:flowNodeRef>join</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Check requested"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="fork">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:userTask id="school_response" name="Tell us what the school has done">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="review-case.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="la_review" name="Review the case">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="review-case.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:endEvent id="done" name="Checked"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="school_response" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="la_review" />
    <bpmn:sequenceFlow id="f4" sourceRef="school_response" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="la_review" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="done" />
  </bpmn:process>
</bpmn:definitions>
"""

REVIEW = {"outcome": "support", "reviewed_on": "2026-01-12", "notes": "Spoke to the family."}


class Api:
    """A test client that calls the API with one person's token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(_url(path), headers=self.headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.post(_url(path), headers=self.headers, json=json, **kwargs)


def _url(path: str) -> str:
    return path if path.startswith("/api/") else f"/api/v1{path}"


def make_accounts(ctx: Context) -> dict[str, str]:
    """Every account of :data:`ACCOUNTS` with a fresh API token: username → token."""
    tokens = {}
    for username, (role, settings) in ACCOUNTS.items():
        make_user(ctx, username, role, **settings)
        tokens[username] = users.create_token(ctx, username, f"{username}'s script").secret
    return tokens


def deploy_school_check(ctx: Context) -> None:
    processes.deploy_sources(ctx, [("school_check.bpmn", SCHOOL_CHECK.encode())], actor="tester")


def link_school(ctx: Context, instance_id: int, laestab: str = SCHOOL) -> None:
    """Say which school a case concerns. The engine links the schools its start data names; the
    school_check fixture's start data names none, so tests that need a school's view link it here."""
    with ctx.db.transaction() as session:
        instance_store.link_establishments(session, instance_id, [laestab])


def start_school_check(
    api: Api, ctx: Context, laestab: str | None = SCHOOL, key: str = "A801200026001"
) -> dict[str, Any]:
    """Start a school check as ``api``'s caller; link it to ``laestab``. Returns the instance and its tasks
    by BPMN id."""
    response = api.post("/instances", {"process_id": "school_check", "business_key": key})
    assert response.status_code == 201, response.json
    started: dict[str, Any] = response.json
    if laestab:
        link_school(ctx, started["id"], laestab)
    started["task"] = {task["task_id"]: task["id"] for task in started["tasks"]}
    return started


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The response is a problem+json with ``status`` and ``code``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.json
    assert body["code"] == code and body["status"] == status
    return body
