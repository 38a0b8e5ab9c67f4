"""EduCase web application (Flask app factory)."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app. The engine context is created here, once, from the environment."""
    from engine.config import load_settings
    from engine.context import create_context

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev-only-change-me")
    if test_config:
        app.config.update(test_config)
    settings = load_settings(**app.config.get("EDUCASE_SETTINGS", {}))
    app.extensions["educase"] = create_context(settings)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
