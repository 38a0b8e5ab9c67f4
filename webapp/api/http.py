"""Turning a request into arguments and a result into a response, the same way for every API view."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from marshmallow import Schema, ValidationError

from engine.errors import EduCaseError, FieldError, FormDataInvalid


class RequestInvalid(FormDataInvalid):
    """The query string or JSON body does not match the operation's schema (422, one entry a field)."""

    code = "invalid_request"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        self.form = ""
        first = "; ".join(f"{e.path or '(body)'}: {e.message}" for e in errors[:3])
        EduCaseError.__init__(
            self, f"The request has {len(errors)} problem(s): {first}", errors=[e.__dict__ for e in errors]
        )


def load_query(schema: type[Schema]) -> dict[str, Any]:
    """The query string, checked and converted by ``schema`` (unknown parameters are refused)."""
    return _load(schema(), request.args.to_dict(flat=True))


def load_body(schema: type[Schema]) -> dict[str, Any]:
    """The JSON body, checked and converted by ``schema``; an empty body counts as ``{}``."""
    return _load(schema(), json_object())


def json_object() -> dict[str, Any]:
    """The JSON body as an object (``{}`` when there is none)."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestInvalid([FieldError("", "Send a JSON object (Content-Type: application/json).")])
    return body


def respond(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> Response:
    """A page of a list, with the total also in ``X-Total-Count`` for clients that read headers."""
    response = respond({"items": items, "total": total, "limit": limit, "offset": offset})
    response.headers["X-Total-Count"] = str(total)
    return response


def by_token() -> bool:
    """Whether the caller proved who they are with an API token (the gate has already checked it)."""
    return request.authorization is not None and request.authorization.type == "bearer"


def _load(schema: Schema, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(raw)
    except ValidationError as error:
        raise RequestInvalid(list(_field_errors(error.normalized_messages())))
    return loaded


def _field_errors(messages: Any, prefix: str = "") -> Any:
    """marshmallow's nested messages as flat ``FieldError``s with dotted paths."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = str(key) if key != "_schema" else ""
            yield from _field_errors(value, f"{prefix}.{path}".strip(".") if path else prefix)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield FieldError(prefix, " ".join(messages))
    elif isinstance(messages, list):
        for item in messages:
            yield from _field_errors(item, prefix)
    else:
        yield FieldError(prefix, str(messages))
