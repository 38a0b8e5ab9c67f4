"""The one-time submission token a task form carries.

It is signed for one task and one person, so answers sent for another task, or by someone else (a
colleague signing in on the same computer after a session ended mid-form), are refused. The task can
be completed only once; the token's nonce tells a second press of the same form's button (which is
sent to where the first went) from a second, different submission (which is told who completed it).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

FIELD = "_submission"
_SALT = "educase-task-submission"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def issue(task_id: str, username: str) -> str:
    """A new token for ``username``'s form of ``task_id``."""
    return str(_serializer().dumps({"t": task_id, "u": username, "n": secrets.token_urlsafe(12)}))


def nonce_of(token: str | None, task_id: str, username: str) -> str | None:
    """The token's nonce if it was issued for this task and person, else ``None``."""
    if not token:
        return None
    try:
        payload: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("t") != task_id or payload.get("u") != username:
        return None
    nonce = payload.get("n")
    return nonce if isinstance(nonce, str) else None
