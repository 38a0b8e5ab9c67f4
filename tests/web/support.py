"""Helpers for web tests: account factory, CSRF tokens, signing in through the real form."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.context import Context
from engine.models.access import Role
from engine.services import users

PASSWORD = "correct horse battery staple"
SCHOOL = "8012000"
OTHER_SCHOOL = "8012001"


def make_user(ctx: Context, username: str, role: str = Role.CASEWORKER, **kwargs: Any) -> users.UserSummary:
    """An account with defaults: a caseworker in the attendance team; school users at ``SCHOOL``."""
    if role == Role.SCHOOL:
        kwargs.setdefault("establishment", SCHOOL)
    elif role == Role.CASEWORKER:
        kwargs.setdefault("teams", ["attendance"])
    return users.create_user(
        ctx,
        username,
        kwargs.pop("display_name", username.title()),
        role,
        kwargs.pop("password", PASSWORD),
        **kwargs,
    )


def csrf_token(html: str) -> str:
    """The CSRF token of a rendered page (every page carries one in a meta tag)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, next_url: str | None = None, **extra: str
) -> TestResponse:
    """Fill in and send the sign-in form, as a person would (the CSRF token comes from the page)."""
    page = client.get("/sign-in", query_string={"next": next_url} if next_url else None)
    data = {"csrf_token": csrf_token(page.text), "username": username, "password": password, **extra}
    if next_url:
        data["next"] = next_url
    return client.post("/sign-in", data=data)


def page_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """A CSRF token for the client's current session."""
    return csrf_token(client.get(path, follow_redirects=True).text)
