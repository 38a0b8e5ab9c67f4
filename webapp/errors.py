"""One place that turns errors into responses: a GOV.UK error page, or under ``/api`` an
``application/problem+json`` body (RFC 9457) carrying the engine error's stable ``code``.

Routes raise engine errors and never build error responses themselves. A record someone may not
know exists is reported as not found (``engine.access.require``): the 404 page says nothing about it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from engine.errors import (
    Conflict,
    EduCaseError,
    FormDataInvalid,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ScriptError,
    WorkflowError,
)
from engine.services.users import NotAuthenticated

from .security import is_api_request

log = logging.getLogger(__name__)

#: HTTP status of each engine error (the first class that matches); anything else a person caused: 400.
STATUS_OF = [
    (NotAuthenticated, 401),
    (NotFound, 404),
    (PermissionDenied, 403),
    (FormDataInvalid, 422),
    (InvalidInput, 400),
    (Conflict, 409),
    (ScriptError, 422),
    (WorkflowError, 422),
]

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
}

PAGES = {
    404: (
        "Page not found",
        [
            "If you typed the web address, check it is correct.",
            "If you pasted the web address, check you copied the entire address.",
            "If you followed a link, the record may have been closed, or it is not one you can see.",
        ],
    ),
    403: ("You cannot do that", []),
    500: (
        "Sorry, there is a problem with the service",
        [
            "Try again later. Nothing you entered on the last page has been lost if it was saved before.",
            "If it keeps happening, tell your EduCase administrator the time it happened.",
        ],
    ),
}
CSRF_PAGE = (
    "Your form could not be sent",
    [
        "This happens when the page was opened before you last signed in, or was open in another window.",
        "Go back, reload the page and send the form again.",
    ],
)


def status_of(error: EduCaseError) -> int:
    return next((status for cls, status in STATUS_OF if isinstance(error, cls)), 400)


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    """An ``application/problem+json`` response; ``code`` is the stable error code."""
    body = {
        "type": f"urn:educase:problem:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({name: value for name, value in extra.items() if name not in body})
    response = current_app.response_class(
        json.dumps(body, default=str), status, mimetype="application/problem+json"
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="EduCase"'
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(EduCaseError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _engine_error(error: EduCaseError) -> Any:
    status = status_of(error)
    if is_api_request():
        return problem(status, error.code, error.message, **_extension_members(error))
    if status == 401:
        return redirect(url_for("auth.sign_in"))
    if status == 404:
        return _page(404)
    return _page(status, error.message)


def _extension_members(error: EduCaseError) -> dict[str, Any]:
    if isinstance(error, FormDataInvalid):
        return {"errors": [{"path": e.path, "message": e.message} for e in error.errors]}
    if isinstance(error, NotFound):
        return {}  # nothing about the record beyond "not found"
    return {k: v for k, v in error.details.items() if v is not None}


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status >= 500:
        return _server_error(error)
    code = "csrf_failed" if isinstance(error, CSRFError) else HTTP_CODES.get(status, "http_error")
    if is_api_request():
        detail = error.description if isinstance(error, CSRFError) else HTTP_STATUS_CODES.get(status, "Error")
        return problem(status, code, str(detail))
    if isinstance(error, CSRFError):
        return _page(status, heading_and_text=CSRF_PAGE)
    response = _page(status, None if status == 404 else HTTP_STATUS_CODES.get(status))
    if "Allow" in (allowed := dict(error.get_headers())):
        response.headers["Allow"] = allowed["Allow"]
    return response


def _server_error(error: Exception) -> Any:
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, HTTPException):
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    if is_api_request():
        return problem(500, "internal_error", "Something went wrong on our side. It has been logged.")
    return _page(500)


def _page(
    status: int, message: str | None = None, heading_and_text: tuple[str, list[str]] | None = None
) -> Response:
    heading, paragraphs = heading_and_text or PAGES.get(status, ("There is a problem", []))
    if message:
        paragraphs = [message, *paragraphs]
    html = render_template("errors/error.html", heading=heading, paragraphs=paragraphs, page_title=heading)
    return current_app.response_class(html, status, mimetype="text/html")
