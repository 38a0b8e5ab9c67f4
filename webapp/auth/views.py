"""GET/POST /sign-in, POST /sign-out and the home page, which sends each person to their own area.

When a session has ended while someone was filling in a form, their POST does not reach the form's
view: they are asked to sign in again, their answers ride along in the sign-in form (never stored on
the server), and once signed in they are offered to send them on.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from engine import access
from engine.models.access import Role
from engine.services import audit, users

from ..security import engine_context, is_api_request, public, signed_in_principal, source_ip
from . import SignedInUser, bp

DRAFT_PREFIX = "draft:"
NOT_KEPT = {"csrf_token"}

#: Where each role starts, and the areas the home page links to when that start is not there.
HOME_BY_ROLE = {
    Role.ADMINISTRATOR: "/admin",
    Role.MANAGER: "/manage",
    Role.CASEWORKER: "/tasks",
    Role.SCHOOL: "/portal",
}
AREA_LINKS = [
    ("tasks", "/tasks", "Tasks", "Work offered to your teams and work assigned to you."),
    ("manage", "/manage", "Manage casework", "Every case and task: reassign, suspend, resume."),
    ("admin", "/admin", "Administration", "Processes, forms, rules and people's accounts."),
    ("portal", "/portal", "School portal", "Your school's pupils, referrals and submissions."),
]


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    next_url = local_path(request.values.get("next"))
    if request.method == "GET":
        if signed_in_principal() is not None:
            return redirect(next_url or url_for("auth.home"))
        return _sign_in_page(next_url)
    username, password = request.form.get("username", "").strip(), request.form.get("password", "")
    draft = _draft(request.form, DRAFT_PREFIX)
    errors = _missing(username, password)
    if not errors:
        try:
            principal = users.authenticate(engine_context(), username, password, source_ip=source_ip())
        except users.SignInFailed as refusal:
            errors = {"username": refusal.message}
    if errors:
        return _sign_in_page(next_url, errors=errors, username=username, draft=draft)
    _start_session(principal)
    if draft and next_url:
        return render_template(
            "auth/restore_draft.html", action=next_url, draft=draft, page_title="Your answers"
        )
    return redirect(next_url or url_for("auth.home"))


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    principal = signed_in_principal()
    if principal is not None:
        audit.record(
            engine_context(), principal, "sign_out", "user", principal.username, source_ip=source_ip()
        )
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"), 303)


@bp.get("/")
def home() -> ResponseReturnValue:
    principal = signed_in_principal()
    assert principal is not None  # the gate sends anonymous people to sign in
    start = HOME_BY_ROLE.get(principal.role)
    if start and _routable(start):
        return redirect(start)
    links = [
        {"href": href, "text": text, "hint": hint, "available": _routable(href)}
        for area, href, text, hint in AREA_LINKS
        if access.may_enter(principal, area)
    ]
    return render_template("home/dashboard.html", links=links, page_title="Home")


def ask_to_sign_in() -> ResponseReturnValue:
    """What an anonymous request for a page gets (the gate calls this)."""
    if is_api_request():
        raise users.NotAuthenticated(
            "Sign in, or send a personal API token in the header 'Authorization: Bearer <token>'."
        )
    if request.headers.get("HX-Request"):  # htmx: reload the whole page at the sign-in form
        page = local_path(urlsplit(request.headers.get("HX-Current-URL", "")).path)
        return "", 401, {"HX-Redirect": url_for("auth.sign_in", next=page)}
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("auth.sign_in", next=_here() if request.path != "/" else None))
    draft = _draft(request.form) if _same_origin() else []
    if not draft:
        return redirect(url_for("auth.sign_in"), 303)
    notice = "You were signed out, so your answers have not been sent yet. Sign in again to send them."
    return _sign_in_page(_here(), draft=draft, notice=notice), 401


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (``/tasks?team=ep``), otherwise ``None``: never redirect
    anywhere else after signing in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 32 or c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/sign-in", "/sign-out"):
        return None
    return value


def _here() -> str:
    """This request's path and query, still URL-encoded (``request.full_path`` is decoded)."""
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/:@!$&'()*+,;=-._~%") + (f"?{query}" if query else "")


def _sign_in_page(
    next_url: str | None,
    *,
    errors: dict[str, str] | None = None,
    username: str = "",
    draft: list[tuple[str, str]] | None = None,
    notice: str | None = None,
) -> str:
    return render_template(
        "auth/sign_in.html",
        page_title=("Error: " if errors else "") + "Sign in",
        errors=errors or {},
        error_list=[{"text": message, "href": f"#{field}"} for field, message in (errors or {}).items()],
        username=username,
        next_url=next_url,
        draft=[(DRAFT_PREFIX + name, value) for name, value in draft or []],
        notice=notice,
    )


def _missing(username: str, password: str) -> dict[str, str]:
    errors = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"
    return errors


def _start_session(principal: access.Principal) -> None:
    session.clear()  # a fresh session at sign-in: nothing carried over from before
    login_user(SignedInUser(principal, users.session_stamp(engine_context(), principal.username)))
    session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME without a request


def _draft(form: MultiDict[str, str], prefix: str = "") -> list[tuple[str, str]]:
    """The answers of a form (every value of every field, in order), without its CSRF token."""
    return [
        (name[len(prefix) :], value)
        for name in form
        if name.startswith(prefix) and name[len(prefix) :] not in NOT_KEPT
        for value in form.getlist(name)
    ]


def _same_origin() -> bool:
    """Keep answers only from this site's own pages: another site must not be able to plant answers
    that someone then sends after signing in."""
    origin = request.headers.get("Origin") or request.referrer or ""
    parts = urlsplit(origin)
    return bool(parts.netloc) and f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _routable(path: str) -> bool:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True
