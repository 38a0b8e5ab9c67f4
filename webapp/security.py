"""What every request passes through, and the helpers routes use to know who is asking.

* The gate (a ``before_request``): API calls under ``/api`` may present a personal token
  (``Authorization: Bearer ...``); everything else uses the signed-in session. Anonymous callers
  reach only views marked :func:`public`: pages send them to sign in, the API answers 401. Every
  state-changing request that does not carry a token must carry the CSRF token (form field
  ``csrf_token`` or the ``X-CSRFToken`` header, which htmx sends).
* Security headers on every response: a Content-Security-Policy allowing only this site's own
  scripts and styles, no framing, no sniffing, ``Cache-Control: no-store`` on pages.

Routes call :func:`current_principal` and ask ``engine.access`` about each record; they record who
looked at a case record with :func:`audit_view`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import flask_login
import govuk_frontend_jinja
from flask import Blueprint, Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from engine import access
from engine.access import Principal
from engine.services import audit, users

if TYPE_CHECKING:
    from engine.context import Context

F = TypeVar("F", bound=Callable[..., Any])

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


# --- for routes ----------------------------------------------------------------------------------------


def current_principal() -> Principal:
    """The person (or API token's owner) making this request. Raises ``NotAuthenticated`` (401) if
    nobody is signed in, which the gate only lets happen in :func:`public` views."""
    principal = g.get("principal")
    if principal is None:
        raise users.NotAuthenticated("Sign in to use EduCase.")
    return principal


def signed_in_principal() -> Principal | None:
    """The signed-in person, or ``None`` (for public pages that change when someone is signed in)."""
    return g.get("principal")


def engine_context() -> Context:
    """The engine context the app was built with: pass it to services."""
    return current_app.extensions["educase"]


def audit_view(object_type: str, object_id: object, details: dict[str, Any] | None = None) -> None:
    """Record that the current person viewed a case record (instance, task, pupil, episode, document...)."""
    audit_event("view", object_type, object_id, details)


def audit_event(
    action: str, object_type: str, object_id: object, details: dict[str, Any] | None = None
) -> None:
    """Record an action by the current person in its own transaction. Changes are better recorded by
    the service that makes them, in the same unit of work (``engine.services.audit.record(session, ...)``)."""
    audit.record(engine_context(), current_principal(), action, object_type, object_id, details, source_ip())


def source_ip() -> str | None:
    """The caller's address (behind a proxy, set EDUCASE_PROXY_HOPS so that this is the real one)."""
    return request.remote_addr


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def public(view: F) -> F:
    """Let anonymous people reach this view (the sign-in page, health checks). CSRF still applies."""
    view.educase_public = True  # type: ignore[attr-defined]
    return view


def restrict_area(bp: Blueprint, area: str) -> None:
    """Close every view of ``bp`` to those ``engine.access.may_enter`` keeps out of ``area``: to them
    its pages do not exist (404)."""
    if area not in access.AREAS:
        raise ValueError(f"unknown area {area!r}; engine.access.AREAS lists them")

    @bp.before_request
    def _enter_area() -> None:
        if not _is_public():
            access.require(access.may_enter(current_principal(), area), "page")


# --- the gate -----------------------------------------------------------------------------------------


def _gate() -> ResponseReturnValue | None:
    g.principal = None
    if is_api_request() and (secret := _bearer_secret()) is not None:
        g.principal = users.principal_for_token(engine_context(), secret)
        return None  # a token is not sent by browsers on their own: no CSRF check needed
    user = flask_login.current_user
    if user.is_authenticated:
        g.principal = user.principal
    elif not _is_public():
        from .auth.views import ask_to_sign_in

        return ask_to_sign_in()
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        current_app.extensions["csrf"].protect()
    return None


def _bearer_secret() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _is_public() -> bool:
    if _is_static():
        return True
    return getattr(current_app.view_functions.get(request.endpoint or ""), "educase_public", False)


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


# --- headers ------------------------------------------------------------------------------------------


def content_security_policy(script_hashes: list[str]) -> str:
    """Only this site's scripts and styles. ``script_hashes``: the inline scripts allowed by hash (GOV.UK
    Frontend's page template sets the ``js-enabled`` class with one)."""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self'",
        "img-src": "'self' data:",  # bpmn-js's stylesheet draws small icons as data: SVGs
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def template_script_hashes() -> list[str]:
    """CSP hashes of the fixed inline scripts in govuk-frontend-jinja's page template."""
    source = (Path(govuk_frontend_jinja.__file__).parent / "templates" / "template.html").read_text()
    scripts = [s for s in re.findall(r"<script[^>]*>(.*?)</script>", source, re.S) if s.strip()]
    return [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts]


def _headers_adder(csp: str) -> Callable[[Response], Response]:
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not _is_static():
            headers["Cache-Control"] = "no-store"  # pages hold pupils' personal data
        return response

    return add_headers


def init_app(app: Flask) -> None:
    """Install the gate, the headers and the ``principal`` template variable (before the CSRF
    extension, whose own check is switched off in favour of the gate's)."""
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    app.before_request(_gate)
    app.after_request(_headers_adder(content_security_policy(template_script_hashes())))
    app.context_processor(lambda: {"principal": g.get("principal")})
