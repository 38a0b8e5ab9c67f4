"""EduCase web application (Flask app factory).

Every request passes, in this order: the gate (webapp.security: who is asking, by session or API
token; CSRF), the blueprint's own area check, the view (which asks engine.access about each record),
and the error handlers (webapp.errors: GOV.UK error pages, or problem+json under /api).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.config import ENV_PREFIX, Settings
from engine.errors import ConfigurationError

SECRET_KEY_FILE = "secret_key"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app. The engine context is created here, once, from the environment.

    ``test_config`` may carry Flask settings, ``EDUCASE_SETTINGS`` (overrides for
    ``engine.config.load_settings``) or ``EDUCASE_CONTEXT`` (an engine context to use as it is).
    """
    from engine.config import load_settings
    from engine.context import create_context

    from . import (
        alerts,
        api,
        auth,
        dashboard,
        episodes,
        errors,
        forms_render,
        instances,
        navigation,
        portal,
        pupils,
        security,
        tasks,
    )

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(_config_from_environment())
    app.config.update(test_config or {})
    ctx = app.config.pop("EDUCASE_CONTEXT", None) or create_context(
        load_settings(**app.config.get("EDUCASE_SETTINGS", {}))
    )
    app.extensions["educase"] = ctx
    app.config["SECRET_KEY"] = _secret_key(app, ctx.settings)
    if app.config["EDUCASE_PROXY_HOPS"]:
        hops = app.config["EDUCASE_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    forms_render.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    navigation.init_app(app)
    errors.init_app(app)

    # --- blueprints ---
    # One line per feature. A blueprint for one part of EduCase closes itself to everyone else with
    # webapp.security.restrict_area(bp, "tasks" | "manage" | "admin" | "portal" | "api"); signing in,
    # CSRF and security headers already apply to every route.
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(pupils.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(episodes.bp)
    app.register_blueprint(portal.bp)
    # --- end of blueprints ---

    if ctx.settings.scheduler_enabled and not app.testing:
        from engine.scheduler import start_in_background

        app.extensions["educase_scheduler"] = start_in_background(ctx)

    @app.get("/healthz")
    @security.public
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _config_from_environment() -> dict[str, Any]:
    demo = _flag("DEMO", False)
    return {
        "EDUCASE_DEMO": demo,
        "EDUCASE_PROXY_HOPS": int(os.environ.get(f"{ENV_PREFIX}PROXY_HOPS", "0")),
        "SESSION_COOKIE_NAME": "educase_session",
        # Off only for a demo on plain http://localhost; production is served over HTTPS.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not demo),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=float(os.environ.get(f"{ENV_PREFIX}SESSION_HOURS", "8"))
        ),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not demo),
        # The gate (webapp.security) checks CSRF itself, so that Bearer-token API calls can skip it.
        "WTF_CSRF_CHECK_DEFAULT": False,
        # A form's token lasts as long as the session: a long form must not fail for its token's age.
        "WTF_CSRF_TIME_LIMIT": None,
    }


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None:
        return default
    if raw.strip().lower() not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
        raise ConfigurationError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(app: Flask, settings: Settings) -> str:
    """The key that signs sessions: EDUCASE_SECRET_KEY; a random one in tests; a generated one kept
    in the instance folder for a demo or debug run. Never a key written in the source."""
    key = app.config.get("SECRET_KEY") or os.environ.get(f"{ENV_PREFIX}SECRET_KEY")
    if key:
        if len(key) < 32 and not app.testing:
            raise ConfigurationError(f"{ENV_PREFIX}SECRET_KEY must be at least 32 characters long")
        return str(key)
    if app.testing:
        return secrets.token_hex(32)
    if app.config["EDUCASE_DEMO"] or app.debug:
        return _instance_key(Path(settings.instance_path) / SECRET_KEY_FILE)
    raise ConfigurationError(
        f"Set {ENV_PREFIX}SECRET_KEY to a long random value, for example the output of"
        " `python -c 'import secrets; print(secrets.token_hex(32))'` (or EDUCASE_DEMO=true for a local demo)"
    )


def _instance_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()
