"""The OpenAPI 3.1 document at ``/api/openapi.json``, generated from the route registry and the
marshmallow schemas (so it cannot drift from what the views do)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app

from ..security import public
from . import bp, docs
from .http import respond
from .registry import OPERATIONS, Operation, operation
from .schema_json import Components
from .schemas import MAX_ID, ProblemSchema

TITLE = "EduCase API"
VERSION = "1.0.0"
PROBLEM = "application/problem+json"
_RULE_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@operation(
    bp,
    "GET",
    "/openapi.json",
    summary="This document",
    tag="meta",
    public=True,
    response={"type": "object", "description": "An OpenAPI 3.1 document."},
)
@public
def openapi_json() -> Response:
    """The document (public: it describes the API, it holds no data)."""
    if "educase_openapi" not in current_app.extensions:
        current_app.extensions["educase_openapi"] = document()
    return respond(current_app.extensions["educase_openapi"])


def document() -> dict[str, Any]:
    """The whole OpenAPI document for the operations registered so far."""
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, parameters = openapi_path(op.rule)
        paths.setdefault(path, {})[op.method] = _operation(op, parameters, components)
    problem = components.ref(ProblemSchema)
    components.schemas["Problem"]["properties"]["code"]["enum"] = sorted(docs.error_codes())
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": docs.description()},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "responses": {
                docs.RESPONSE_NAMES[status]: {
                    "description": text,
                    "content": {PROBLEM: {"schema": problem}},
                }
                for status, text in docs.ERROR_RESPONSES.items()
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": docs.BEARER},
            },
        },
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name, "description": text} for name, text in docs.TAGS.items()],
    }


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/v1/tasks/<task_id>`` → ``/api/v1/tasks/{task_id}`` and its path parameters."""
    parameters = []
    for converter, name in _RULE_PARAM.findall(rule):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return bp.url_prefix + _RULE_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule), parameters


def _operation(op: Operation, parameters: list[dict[str, Any]], components: Components) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": op.endpoint.removeprefix(f"{bp.name}."),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters + (components.parameters(op.query) if op.query else []),
        "responses": _responses(op, components),
    }
    if op.description:
        described["description"] = op.description
    if op.body is not None:
        described["requestBody"] = _body(op, components)
    if op.public:
        described["security"] = []
    return described


def _body(op: Operation, components: Components) -> dict[str, Any]:
    if isinstance(op.body, dict):
        media = "multipart/form-data" if "files" in op.body.get("properties", {}) else "application/json"
        return {"required": True, "content": {media: {"schema": op.body}}}
    assert op.body is not None
    required = any(field.required for field in op.body._declared_fields.values())
    return {"required": required, "content": {"application/json": {"schema": components.ref(op.body)}}}


def _responses(op: Operation, components: Components) -> dict[str, Any]:
    schema = (
        op.response if isinstance(op.response, dict) else components.ref(op.response) if op.response else {}
    )
    if op.many:
        schema = {"type": "array", "items": schema}
    if op.paged:
        schema = docs.page_of(schema)
    success: dict[str, Any] = {"description": docs.SUCCESS.get(op.status, "OK")}
    if schema:
        success["content"] = {"application/json": {"schema": schema}}
    if op.paged:
        success["headers"] = {
            "X-Total-Count": {"description": "How many match in all.", "schema": {"type": "integer"}}
        }
    responses: dict[str, Any] = {str(op.status): success}
    for status, text in op.extra_statuses.items():
        responses[str(status)] = {**success, "description": text}
    for status in sorted({*op.errors, *docs.ALWAYS} - ({401} if op.public else set())):
        responses[str(status)] = {"$ref": f"#/components/responses/{docs.RESPONSE_NAMES[status]}"}
    return responses
