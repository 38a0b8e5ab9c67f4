"""The app factory: its secret key, cookie settings and the health check."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine.context import Context
from engine.errors import ConfigurationError
from webapp import create_app


@pytest.fixture
def no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EDUCASE_SECRET_KEY", "EDUCASE_DEMO", "EDUCASE_SESSION_COOKIE_SECURE", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_outside_tests_and_demos_the_secret_key_must_be_set(ctx: Context, no_secret: None) -> None:
    with pytest.raises(ConfigurationError, match="EDUCASE_SECRET_KEY"):
        create_app({"EDUCASE_CONTEXT": ctx})


def test_a_short_secret_key_is_refused(
    ctx: Context, no_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCASE_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        create_app({"EDUCASE_CONTEXT": ctx})


def test_the_secret_key_comes_from_the_environment(
    ctx: Context, no_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCASE_SECRET_KEY", "k" * 40)
    app = create_app({"EDUCASE_CONTEXT": ctx})
    assert app.config["SECRET_KEY"] == "k" * 40
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_demo_keeps_its_generated_key_in_the_instance_folder(
    ctx: Context, no_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCASE_DEMO", "true")
    first = create_app({"EDUCASE_CONTEXT": ctx})
    second = create_app({"EDUCASE_CONTEXT": ctx})
    key_file = ctx.settings.instance_path / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) == 64 and oct(key_file.stat().st_mode)[-3:] == "600"
    assert first.config["SESSION_COOKIE_SECURE"] is False  # a demo runs on plain http://localhost


def test_secure_cookies_can_be_switched_off(
    ctx: Context, no_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCASE_SESSION_COOKIE_SECURE", "false")
    assert create_app({"TESTING": True, "EDUCASE_CONTEXT": ctx}).config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("EDUCASE_SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ConfigurationError, match="true or false"):
        create_app({"TESTING": True, "EDUCASE_CONTEXT": ctx})


def test_tests_get_a_random_key(ctx: Context, no_secret: None) -> None:
    keys = {create_app({"TESTING": True, "EDUCASE_CONTEXT": ctx}).config["SECRET_KEY"] for _ in range(2)}
    assert len(keys) == 2


def test_health_check_is_public(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
