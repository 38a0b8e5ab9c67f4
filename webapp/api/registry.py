"""The route registry: each API view is declared once, with what the OpenAPI document needs to describe
it (its input and output schemas, its success status, the errors it may answer and who may call it).

Views register themselves with :func:`operation`; ``webapp.api.openapi`` reads :data:`OPERATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint
from marshmallow import Schema

F = TypeVar("F", bound=Callable[..., Any])

#: A request body described by hand (form data, file uploads) rather than by a marshmallow schema.
RawBody = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the OpenAPI document shows it."""

    method: str
    rule: str  # the Flask rule under the blueprint, e.g. "/v1/tasks/<task_id>"
    endpoint: str
    summary: str
    tag: str
    description: str = ""
    query: type[Schema] | None = None
    body: type[Schema] | RawBody | None = None
    response: type[Schema] | RawBody | None = None
    many: bool = False  # the response is a list of ``response``
    paged: bool = False  # the response is a page: {items: [response], total, limit, offset}
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False
    extra_statuses: dict[int, str] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def operation(bp: Blueprint, method: str, rule: str, **described: Any) -> Callable[[F], F]:
    """Register ``view`` on ``bp`` for ``method`` ``rule`` and record how to describe it."""

    def register(view: F) -> F:
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
        OPERATIONS.append(Operation(method.lower(), rule, f"{bp.name}.{view.__name__}", **described))
        return view

    return register
