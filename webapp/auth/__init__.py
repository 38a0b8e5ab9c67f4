"""Signing in and out (Flask-Login over ``engine.services.users``), and the home page.

The session remembers the username and a stamp of the password hash: changing the password or
closing the account ends every session at the next request.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_login import LoginManager, UserMixin

from engine.access import Principal
from engine.errors import NotFound
from engine.services import users

from ..security import engine_context

bp = Blueprint("auth", __name__)


class SignedInUser(UserMixin):
    """What Flask-Login keeps for a request: the engine's Principal (routes use
    ``webapp.security.current_principal()`` rather than this)."""

    def __init__(self, principal: Principal, stamp: str) -> None:
        self.principal = principal
        self.stamp = stamp

    def get_id(self) -> str:
        return f"{self.stamp}:{self.principal.username}"


def load_user(user_id: str) -> SignedInUser | None:
    stamp, _, username = user_id.partition(":")
    try:
        return SignedInUser(users.principal_for(engine_context(), username, stamp=stamp), stamp)
    except NotFound:
        return None


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.user_loader(load_user)
    manager.login_view = "auth.sign_in"


from . import views  # noqa: E402, F401  (registers the routes on bp)
