"""Web fixtures: the app on the test database (CSRF on, as in production) and a client. Helpers to
make accounts and sign in through the real form are in ``tests.web.support``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from engine.context import Context
from engine.services import users
from webapp import create_app


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes ~150 ms a hash; tests sign in hundreds of times."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(ctx: Context) -> Iterator[Flask]:
    """The app on the shared test database (the ``ctx`` fixture empties the tables afterwards)."""
    yield create_app({"TESTING": True, "EDUCASE_CONTEXT": ctx})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
