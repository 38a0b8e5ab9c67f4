"""Property-based calls generated from /api/openapi.json (schemathesis): whatever is sent, the API never
fails with a 500 and answers only with the statuses, media types and bodies the document describes."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import checks

from engine.context import Context
from tests.web.test_api_support import REVIEW, Api, deploy_school_check, make_accounts, start_school_check
from webapp.api import openapi

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def admin_headers(app: Flask, ctx: Context) -> dict[str, str]:
    """An administrator's token, on a database with a case, a claimed task and a completed one."""
    tokens = make_accounts(ctx)
    deploy_school_check(ctx)
    ewo = Api(app.test_client(), tokens["ewo"])
    case = start_school_check(ewo, ctx)
    ewo.post(f"/tasks/{case['task']['la_review']}/complete", REVIEW)
    return {"Authorization": f"Bearer {tokens['admin']}"}


# Loaded from the generator rather than through an app fixture: schemathesis's lazy fixture loader does
# not work with pytest 9; the document is the same one /api/openapi.json serves.
schema = schemathesis.openapi.from_dict(openapi.document())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case: Any, app: Flask, admin_headers: dict[str, str]) -> None:
    case.call_and_validate(app=app, headers=admin_headers, checks=CHECKS)
