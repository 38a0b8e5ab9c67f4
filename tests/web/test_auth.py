"""Signing in and out, lock-out, sessions, CSRF, security headers, the API's token authentication,
refusals that leak nothing, escaping, and the audit trail of sign-ins and viewed records."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Blueprint, Flask, request
from flask.testing import FlaskClient

from engine import access, clock
from engine.context import Context
from engine.errors import Conflict, FieldError, FormDataInvalid, NotFound, PermissionDenied
from engine.models.access import Role
from engine.services import audit, users
from tests.web.support import OTHER_SCHOOL, PASSWORD, SCHOOL, csrf_token, make_user, page_token, sign_in
from webapp.security import audit_view, current_principal, restrict_area

# --- a few routes standing in for the feature blueprints -------------------------------------------------

probe = Blueprint("probe", __name__)
CASES = {7: [SCHOOL], 8: [OTHER_SCHOOL]}  # case id -> the establishments it concerns
ERRORS = {
    "not_found": NotFound("There is no such case."),
    "denied": PermissionDenied("You are not allowed to suspend this case."),
    "conflict": Conflict("Someone else has just completed this task."),
    "invalid": FormDataInvalid([FieldError("reason", "Enter a reason")], form="review"),
}


@probe.get("/probe/cases/<int:case_id>")
def case(case_id: int) -> str:
    establishments = CASES.get(case_id)
    access.require(
        establishments is not None
        and access.may_see_instance(
            current_principal(), establishments=establishments, task_teams=["attendance"]
        ),
        "case",
    )
    audit_view("instance", case_id)
    return f"case {case_id}"


@probe.post("/probe/form")
def form() -> dict[str, Any]:
    return {"received": request.form.to_dict(flat=False)}


@probe.get("/api/probe/me")
def me() -> dict[str, Any]:
    return {"username": current_principal().username}


@probe.post("/api/probe/echo")
def echo() -> dict[str, Any]:
    return {"by": current_principal().username}


@probe.get("/probe/error/<name>")
@probe.get("/api/probe/error/<name>")
def error(name: str) -> str:
    raise ERRORS[name]


@probe.get("/probe/boom")
@probe.get("/api/probe/boom")
def boom() -> str:
    raise RuntimeError("a bug")


admin_area = Blueprint("probe_admin", __name__)
restrict_area(admin_area, "admin")


@admin_area.get("/probe/admin")
def admin_page() -> str:
    return "admin page"


@pytest.fixture
def app(app: Flask) -> Flask:
    app.register_blueprint(probe)
    app.register_blueprint(admin_area)
    return app


@pytest.fixture
def ewo(ctx: Context) -> users.UserSummary:
    return make_user(ctx, "ewo", display_name="Erin Welfare")


def audit_actions(ctx: Context, object_type: str, object_id: object) -> list[str]:
    return [e.action for e in reversed(audit.trail(ctx, object_type, object_id))]


# --- signing in ------------------------------------------------------------------------------------------


def test_sign_in_goes_home_and_is_audited(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    response = sign_in(client, "ewo")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/tasks"  # a caseworker's home is the inbox
    home = client.get("/tasks")
    assert home.status_code == 200 and "Erin Welfare" in home.text
    assert audit_actions(ctx, "user", "ewo") == ["create", "sign_in"]
    assert audit.trail(ctx, "user", "ewo")[0].source_ip == "127.0.0.1"


def test_usernames_are_not_case_sensitive(client: FlaskClient, ewo: Any) -> None:
    assert sign_in(client, "  EWO ").status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: FlaskClient, ctx: Context, ewo: Any
) -> None:
    wrong = sign_in(client, "ewo", "not the password at all")
    unknown = sign_in(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert (
        _errors(wrong.text)
        == _errors(unknown.text)
        == ["Enter a correct username and password. Both are case-sensitive."]
    )
    assert "<title>Error: Sign in" in wrong.text
    assert (
        audit_actions(ctx, "user", "ewo")[-1] == audit_actions(ctx, "user", "nobody")[-1] == "sign_in_failed"
    )
    assert client.get("/").status_code == 302  # still signed out


def test_empty_fields_are_named(client: FlaskClient) -> None:
    response = sign_in(client, "", "")
    assert _errors(response.text) == ["Enter your username", "Enter your password"]
    assert 'href="#username"' in response.text and 'href="#password"' in response.text


def test_five_failures_lock_the_account_for_fifteen_minutes(
    client: FlaskClient, ctx: Context, ewo: Any
) -> None:
    with clock.frozen_at(datetime(2026, 1, 15, 10, 27, tzinfo=UTC)):  # winter: London is on UTC
        for _ in range(4):
            assert _errors(sign_in(client, "ewo", "wrong password here").text)[0].startswith(
                "Enter a correct"
            )
        fifth = sign_in(client, "ewo", "wrong password here")
        locked = "Your account is locked until 10:42; try again then or ask an administrator"
        assert _errors(fifth.text) == [locked]
        assert _errors(sign_in(client, "ewo", PASSWORD).text) == [locked]  # even the right password
    with clock.frozen_at(datetime(2026, 1, 15, 10, 41, tzinfo=UTC)):
        assert _errors(sign_in(client, "ewo", PASSWORD).text) == [locked]
    with clock.frozen_at(datetime(2026, 1, 15, 10, 42, 1, tzinfo=UTC)):
        assert sign_in(client, "ewo", PASSWORD).status_code == 302
    assert "account_locked" in audit_actions(ctx, "user", "ewo")


def test_lock_out_is_configurable_and_lifted_by_an_administrator(ctx: Context, ewo: Any) -> None:
    from dataclasses import replace

    ctx.settings = replace(ctx.settings, login_lockout_failures=2, login_lockout_minutes=60)
    at = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # summer: London is an hour ahead
    with pytest.raises(users.SignInFailed):
        users.authenticate(ctx, "ewo", "wrong password here", at)
    with pytest.raises(users.AccountLocked, match="locked until 11:00"):
        users.authenticate(ctx, "ewo", "wrong password here", at)
    users.unlock(ctx, "ewo")
    assert users.authenticate(ctx, "ewo", PASSWORD, at).username == "ewo"


def test_a_name_without_an_account_locks_the_same_way(client: FlaskClient, ctx: Context) -> None:
    """Otherwise locking would tell an attacker which usernames exist."""
    with clock.frozen_at(datetime(2026, 1, 15, 10, 27, tzinfo=UTC)):
        answers = [_errors(sign_in(client, "ghost", "wrong password here").text)[0] for _ in range(6)]
    assert answers[:4] == ["Enter a correct username and password. Both are case-sensitive."] * 4
    assert (
        answers[4]
        == answers[5]
        == "Your account is locked until 10:42; try again then or ask an administrator"
    )
    with clock.frozen_at(datetime(2026, 1, 15, 10, 43, tzinfo=UTC)):
        assert _errors(sign_in(client, "ghost", "wrong password here").text)[0].startswith("Enter a correct")


def test_signed_in_person_visiting_sign_in_goes_home(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    assert client.get("/sign-in").headers["Location"] == "/"


# --- sessions ----------------------------------------------------------------------------------------------


def test_session_cookie_is_secure_http_only_lax_and_ends_after_eight_hours(
    client: FlaskClient, ewo: Any
) -> None:
    cookie = sign_in(client, "ewo").headers["Set-Cookie"]
    assert cookie.startswith("educase_session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    expires = datetime.strptime(re.search(r"Expires=([^;]+)", cookie).group(1), "%a, %d %b %Y %H:%M:%S GMT")
    assert (
        timedelta(hours=7, minutes=59) < expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(hours=8)
    )


def test_sign_out_ends_the_session(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    sign_in(client, "ewo")
    token = page_token(client, "/")
    assert client.get("/sign-out").status_code == 405  # only a form (with its CSRF token) signs out
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "You have signed out." in client.get("/sign-in").text
    assert client.get("/").status_code == 302
    assert audit_actions(ctx, "user", "ewo")[-1] == "sign_out"


def test_signing_out_after_the_session_has_ended_just_shows_sign_in(client: FlaskClient, ewo: Any) -> None:
    response = client.post("/sign-out", data={"csrf_token": "stale"}, headers={"Origin": "http://localhost"})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"


def test_changing_the_password_ends_other_sessions(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    sign_in(client, "ewo")
    assert client.get("/tasks").status_code == 200
    users.set_password(ctx, "ewo", "a brand new passphrase")
    assert client.get("/tasks").status_code == 302


def test_closed_account_is_signed_out(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    from sqlalchemy import update

    from engine.models.access import UserAccount

    sign_in(client, "ewo")
    with ctx.db.transaction() as session:
        session.execute(update(UserAccount).values(active=False))
    assert client.get("/").status_code == 302
    assert _errors(sign_in(client, "ewo").text) == [
        "Your account has been closed. Ask an administrator if you need it back."
    ]
    assert _errors(sign_in(client, "ewo", "wrong password here").text)[0].startswith("Enter a correct")


def test_expired_session_mid_form_keeps_the_draft(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    token = page_token(client, "/")
    answers = {"csrf_token": token, "reason": "Parent says <b>ill</b>", "days": ["3", "4"]}
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=9), tick=False):
        page = client.post("/probe/form?step=2", data=answers, headers={"Origin": "http://localhost"})
        assert page.status_code == 401
        assert "Sign in again to send them" in page.text
        assert 'name="draft:reason" value="Parent says &lt;b&gt;ill&lt;/b&gt;"' in page.text
        assert 'name="next" value="/probe/form?step=2"' in page.text
        kept = dict(re.findall(r'name="(draft:[^"]+)" value="([^"]*)"', page.text))
        assert "draft:csrf_token" not in kept
        resumed = client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token(page.text),
                "username": "ewo",
                "password": PASSWORD,
                "next": "/probe/form?step=2",
                "draft:reason": "Parent says <b>ill</b>",
                "draft:days": ["3", "4"],
            },
        )
        assert resumed.status_code == 200 and "Your answers have been kept" in resumed.text
        assert 'action="/probe/form?step=2"' in resumed.text
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resumed.text)
        sent = client.post("/probe/form?step=2", data=_multi(fields))
    assert sent.status_code == 200
    assert sent.json == {
        "received": {"csrf_token": [fields[0][1]], "reason": ["Parent says <b>ill</b>"], "days": ["3", "4"]}
    }


def test_a_draft_from_another_site_is_not_kept(client: FlaskClient) -> None:
    response = client.post(
        "/probe/form", data={"reason": "planted"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"


# --- anonymous requests, next, CSRF --------------------------------------------------------------------------


def test_anonymous_page_request_goes_to_sign_in_and_comes_back(client: FlaskClient, ewo: Any) -> None:
    response = client.get("/probe/cases/7?tab=notes")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/probe/cases/7?tab%3Dnotes"
    assert client.get("/").headers["Location"] == "/sign-in"
    assert client.get("/no/such/page").headers["Location"].startswith("/sign-in")  # nothing to learn
    back = sign_in(client, "ewo", next_url="/probe/cases/7?tab=notes")
    assert back.headers["Location"] == "/probe/cases/7?tab=notes"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\tevil",
        "evil.example",
        "/sign-out",
    ],
)
def test_next_never_leaves_the_site(client: FlaskClient, ewo: Any, target: str) -> None:
    assert sign_in(client, "ewo", next_url=target).headers["Location"] == "/"


def test_htmx_requests_are_sent_to_sign_in_with_a_full_page_load(client: FlaskClient) -> None:
    response = client.get(
        "/probe/cases/7", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/tasks"}
    )
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/sign-in?next=/tasks"


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient, ewo: Any) -> None:
    response = client.post("/sign-in", data={"username": "ewo", "password": PASSWORD})
    assert response.status_code == 400 and "Your form could not be sent" in response.text
    assert client.get("/").status_code == 302


def test_signed_in_post_needs_the_csrf_token(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    token = page_token(client, "/")
    assert client.post("/probe/form", data={"reason": "x"}).status_code == 400
    assert client.post("/probe/form", data={"reason": "x", "csrf_token": "forged"}).status_code == 400
    assert client.post("/probe/form", data={"reason": "x", "csrf_token": token}).status_code == 200
    assert client.post("/probe/form", data={"reason": "x"}, headers={"X-CSRFToken": token}).status_code == 200


# --- the API ---------------------------------------------------------------------------------------------------


def test_anonymous_api_call_gets_401_problem_json(client: FlaskClient) -> None:
    for path in ("/api/probe/me", "/api/no/such/thing"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["code"] == "not_authenticated" and response.json["status"] == 401
        assert {"type", "title", "detail"} <= response.json.keys()


def test_bearer_token_works_until_revoked(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    token = users.create_token(ctx, "ewo", "attendance feed")
    bearer = {"Authorization": f"Bearer {token.secret}"}
    assert client.get("/api/probe/me", headers=bearer).json == {"username": "ewo"}
    assert client.post("/api/probe/echo", headers=bearer).json == {"by": "ewo"}  # no CSRF token needed
    assert "Set-Cookie" not in client.get("/api/probe/me", headers=bearer).headers
    assert users.list_tokens(ctx, "ewo")[0].last_used_at is not None
    users.revoke_token(ctx, token.id)
    refused = client.get("/api/probe/me", headers=bearer)
    assert refused.status_code == 401 and refused.json["code"] == "not_authenticated"
    wrong = client.get("/api/probe/me", headers={"Authorization": "Bearer educase_guessed"})
    assert wrong.status_code == 401


def test_a_token_is_not_a_session_for_pages(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    token = users.create_token(ctx, "ewo", "feed")
    assert client.get("/", headers={"Authorization": f"Bearer {token.secret}"}).status_code == 302


def test_api_with_the_session_cookie_still_needs_csrf(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    assert client.get("/api/probe/me").json == {"username": "ewo"}
    refused = client.post("/api/probe/echo")
    assert refused.status_code == 400 and refused.json["code"] == "csrf_failed"
    token = page_token(client, "/")
    assert client.post("/api/probe/echo", headers={"X-CSRFToken": token}).json == {"by": "ewo"}


# --- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("not_found", 404, "not_found"),
        ("denied", 403, "permission_denied"),
        ("conflict", 409, "conflict"),
        ("invalid", 422, "invalid_form_data"),
    ],
)
def test_engine_errors_become_problem_json_and_pages(
    client: FlaskClient, ewo: Any, name: str, status: int, code: str
) -> None:
    sign_in(client, "ewo")
    api = client.get(f"/api/probe/error/{name}")
    assert api.status_code == status and api.content_type == "application/problem+json"
    assert api.json["code"] == code and api.json["type"] == f"urn:educase:problem:{code}"
    page = client.get(f"/probe/error/{name}")
    assert page.status_code == status and page.content_type.startswith("text/html")
    if name == "invalid":
        assert api.json["errors"] == [{"path": "reason", "message": "Enter a reason"}]
    if name == "conflict":
        assert "Someone else has just completed this task." in page.text


def test_unexpected_errors_show_the_sorry_page(app: Flask, client: FlaskClient, ewo: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    sign_in(client, "ewo")
    page = client.get("/probe/boom")
    assert page.status_code == 500 and "Sorry, there is a problem with the service" in page.text
    assert "a bug" not in page.text
    api = client.get("/api/probe/boom")
    assert api.status_code == 500 and api.json["code"] == "internal_error" and "a bug" not in api.text


def test_unknown_pages_and_wrong_methods(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    assert "Page not found" in client.get("/no/such/page").text
    assert client.get("/api/no/such/thing").json["code"] == "not_found"
    wrong = client.delete("/sign-in", headers={"X-CSRFToken": page_token(client, "/")})
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


# --- records one may not know exist ----------------------------------------------------------------------------


def test_school_user_guessing_another_schools_case_sees_not_found(client: FlaskClient, ctx: Context) -> None:
    make_user(ctx, "head", Role.SCHOOL)
    sign_in(client, "head")
    assert client.get("/probe/cases/7").text == "case 7"
    other, missing = client.get("/probe/cases/8"), client.get("/probe/cases/999")
    assert other.status_code == missing.status_code == 404
    assert _main(other.text) == _main(missing.text)
    assert audit_actions(ctx, "instance", 8) == []
    assert audit_actions(ctx, "instance", 7) == ["view"]


def test_areas_are_closed_to_everyone_else(client: FlaskClient, ctx: Context) -> None:
    make_user(ctx, "head", Role.SCHOOL)
    make_user(ctx, "root", Role.ADMINISTRATOR)
    sign_in(client, "head")
    assert client.get("/probe/admin").status_code == 404
    client.post("/sign-out", data={"csrf_token": page_token(client, "/")})
    sign_in(client, "root")
    assert client.get("/probe/admin").text == "admin page"


def test_viewing_a_record_is_audited(client: FlaskClient, ctx: Context, ewo: Any) -> None:
    sign_in(client, "ewo")
    client.get("/probe/cases/7")
    (entry,) = audit.trail(ctx, "instance", 7)
    assert (entry.actor, entry.action, entry.object_id, entry.source_ip) == ("ewo", "view", "7", "127.0.0.1")


# --- home ------------------------------------------------------------------------------------------------------


def test_home_sends_each_role_to_its_area_when_it_exists(app: Flask, ctx: Context) -> None:
    tasks = Blueprint("probe_tasks", __name__)
    tasks.add_url_rule("/tasks", "inbox", lambda: "inbox")
    app.register_blueprint(tasks)
    make_user(ctx, "ewo")
    make_user(ctx, "boss", Role.MANAGER)
    make_user(ctx, "root", Role.ADMINISTRATOR)
    caseworker, manager, administrator = app.test_client(), app.test_client(), app.test_client()
    sign_in(caseworker, "ewo")
    sign_in(manager, "boss")
    sign_in(administrator, "root")
    assert caseworker.get("/").headers["Location"] == "/tasks"
    assert manager.get("/").headers["Location"] == "/manage"
    home = administrator.get("/")  # no /admin area installed yet: the areas they may use, as links
    assert home.status_code == 200
    assert 'href="/tasks"' in home.text and 'href="/manage"' in home.text and "Manage casework" in home.text
    assert "Administration</span> (not available yet)" in home.text and "School portal" not in home.text


# --- escaping and headers ---------------------------------------------------------------------------------------


def test_html_in_display_names_is_escaped(client: FlaskClient, ctx: Context) -> None:
    make_user(ctx, "mallory", display_name='<script>alert("x")</script><b>Mal</b>')
    sign_in(client, "mallory")
    home = client.get("/tasks").text
    assert "<script>alert" not in home and "<b>Mal" not in home
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Mal&lt;/b&gt;" in home


def test_security_headers_on_every_response(client: FlaskClient, ewo: Any) -> None:
    anonymous = [
        client.get("/sign-in"),
        client.get("/"),
        client.get("/api/probe/me"),
        client.get("/static/educase.js"),
        client.get("/healthz"),
        client.post("/sign-in"),
    ]
    sign_in(client, "ewo")
    signed_in = [client.get("/"), client.get("/no/such/page"), client.get("/api/probe/me")]
    for response in anonymous + signed_in:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "camera=()" in headers["Permissions-Policy"]
    for response in signed_in:
        assert response.headers["Cache-Control"] == "no-store"
    for response in anonymous + signed_in:
        response.close()  # the static file's


def test_the_only_inline_script_is_the_one_the_policy_allows(client: FlaskClient, ewo: Any) -> None:
    sign_in(client, "ewo")
    page = client.get("/tasks")
    csp = page.headers["Content-Security-Policy"]
    inline = [s for s in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page.text, re.S)]
    assert len(inline) == 1  # GOV.UK Frontend's js-enabled class
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert " style=" not in page.text and "<style" not in page.text


def test_next_keeps_an_encoded_path(client: FlaskClient, ewo: Any) -> None:
    response = client.get("/probe/cases/a%20b?q=%3Cx%3E")
    assert response.headers["Location"] == "/sign-in?next=/probe/cases/a%2520b?q%3D%253Cx%253E"
    assert sign_in(client, "ewo", next_url="/probe/cases/a%20b?q=%3Cx%3E").headers["Location"] == (
        "/probe/cases/a%20b?q=%3Cx%3E"
    )


def test_what_was_typed_as_a_username_is_escaped(client: FlaskClient) -> None:
    page = sign_in(client, '"><script>alert(1)</script>', "wrong password here").text
    assert "<script>alert(1)" not in page and 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


# --- helpers ---------------------------------------------------------------------------------------------------


def _errors(page: str) -> list[str]:
    """The messages in the page's error summary."""
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.S)
    return [m.strip() for m in re.findall(r"<a [^>]*>(.*?)</a>", summary.group(1), re.S)] if summary else []


def _main(page: str) -> str:
    return re.search(r"<main.*?</main>", page, re.S).group(0)


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(html.unescape(value))  # as a browser reads the attribute
    return data
