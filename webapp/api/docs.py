"""The prose of the OpenAPI document, and the list of stable error codes taken from the error classes."""

from __future__ import annotations

from typing import Any

from engine.errors import EduCaseError

from ..errors import HTTP_CODES, STATUS_OF
from .errors import API_STATUS_OF

BEARER = (
    "A personal API token: `Authorization: Bearer educase_...`. An administrator makes one with "
    "`educase user token USERNAME NAME`; it is shown once. Revoked tokens get 401."
)

TAGS = {
    "tasks": "Human tasks: the inbox, claiming, completing with the task's form.",
    "instances": "Cases (process instances): starting, showing, a manager's actions.",
    "processes": "The process library: deployed processes, deploying BPMN files.",
    "messages": "Events from other systems for the cases waiting for them.",
    "meta": "About the API itself.",
}

SUCCESS = {200: "OK", 201: "Created"}
ALWAYS = (401, 500)

ERROR_RESPONSES = {
    400: "The request is not one the API can act on (`code` says why).",
    401: "No valid API token or session (`not_authenticated`).",
    403: "Your role may not do this to a record you can see (`permission_denied`).",
    404: "No such record, or not one you may see: the two are never told apart (`not_found`).",
    409: "The record's state does not allow it now (`conflict`, `task_already_completed`...).",
    422: "The data sent is not valid: `errors` lists each field's problem (`invalid_request`, "
    "`invalid_form_data`), or `problems` each BPMN problem (`invalid_bpmn`).",
    500: "Something went wrong on our side; it has been logged (`internal_error`).",
}
RESPONSE_NAMES = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    409: "Conflict",
    422: "Unprocessable",
    500: "InternalError",
}

#: What the codes whose error classes carry no docstring mean.
MEANINGS = {
    "not_found": "No such record, or not one you may see.",
    "permission_denied": "Your role may not do this.",
    "invalid_input": "A value sent is not acceptable; `detail` says which and why.",
    "task_not_ready": "The task is not open (it closed, or its deadline passed first).",
    "task_already_completed": "Someone completed the task first; `completed_by` says who.",
    "instance_not_running": "The case has ended, is suspended, or is not in the state the action needs.",
    "message_not_delivered": "No case waits for the message and no process starts with it; kept as undelivered.",
    "script_timeout": "A script in the process ran too long.",
    "configuration_error": "EduCase is not configured correctly.",
    "bad_request": "The request is malformed.",
    "method_not_allowed": "This path does not take that method.",
    "too_large": "The request is too large.",
    "too_many_requests": "Slow down.",
    "sign_in_failed": "Signing in failed.",
    "account_locked": "The account is locked for a while after failed sign-ins.",
    "account_disabled": "The account is closed.",
}


#: Codes the web layer gives for HTTP-level failures that no engine error class carries.
WEB_CODES = {
    **{code: (status, MEANINGS.get(code, "")) for status, code in HTTP_CODES.items()},
    "csrf_failed": (400, "A signed-in browser's change without its CSRF token."),
    "internal_error": (500, "A bug; it has been logged."),
}


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a paged list."""
    return {
        "type": "object",
        "required": ["items", "total", "limit", "offset"],
        "properties": {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer", "description": "How many match in all."},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    }


def error_codes() -> dict[str, tuple[int, str]]:
    """Every stable ``code`` the API may answer with: its HTTP status and what it means."""
    found = dict(WEB_CODES)
    for cls in _subclasses(EduCaseError):
        doc = (cls.__doc__ or "").strip().splitlines()
        found[cls.code] = (status_of_class(cls), doc[0] if doc else MEANINGS.get(cls.code, ""))
    return found


def status_of_class(cls: type[EduCaseError]) -> int:
    """The status ``webapp.errors`` (with the API's own statuses first) gives errors of ``cls``."""
    rules = [*API_STATUS_OF, *STATUS_OF]
    return next((status for base, status in rules if issubclass(cls, base)), 400)


def description() -> str:
    rows = "\n".join(
        f"| `{code}` | {status} | {text} |" for code, (status, text) in sorted(error_codes().items())
    )
    return f"""The REST API of EduCase, for integrations and scripts.

**Authentication.** Send a personal API token (`Authorization: Bearer ...`). A signed-in browser session
also works, with its CSRF token (`X-CSRFToken`) on changes. Anonymous calls get 401.

**Who sees what.** Every record is checked against the caller's role: what one may not see answers 404
(never 403, so that its existence is not revealed); an action one's role may not take on a visible
record answers 403. Fields depend on the role: school users see no lanes, teams, assignees, message
correlations or case history; managers and administrators also see the audit fields.

**Lists** are paged with `limit` and `offset`; the total is in the body and in `X-Total-Count`.

**Errors** are `application/problem+json` (RFC 9457) with a stable `code`:

| code | status | meaning |
| --- | --- | --- |
{rows}
"""


def _subclasses(cls: type[EduCaseError]) -> list[type[EduCaseError]]:
    found = []
    for sub in cls.__subclasses__():
        found.extend([sub, *_subclasses(sub)])
    return found
