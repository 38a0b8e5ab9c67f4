"""Configuration: one place, read from ``EDUCASE_*`` environment variables, validated at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigurationError

ENV_PREFIX = "EDUCASE_"


def _default_instance_path() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH", Path.cwd() / "instance"))


@dataclass(frozen=True)
class Settings:
    """Validated settings. Units are in the names."""

    database_url: str
    instance_path: Path
    timezone: str = "Europe/London"
    timer_poll_seconds: float = 5.0
    timer_batch_size: int = 100
    script_time_limit_seconds: float = 2.0
    scheduler_enabled: bool = False
    live_workflow_cache_size: int = 2000
    login_lockout_failures: int = 5  # consecutive wrong passwords that lock an account...
    login_lockout_minutes: float = 15.0  # ...for this long
    process_library_path: Path | None = None
    form_library_path: Path | None = None
    # Alerts: the nightly evaluation (local time, in ``timezone``), the check for new imports, and
    # e-mail to the teams' recipients (no e-mail when SMTP_HOST is not set).
    alerts_nightly_at: str = "02:00"
    alerts_import_poll_seconds: float = 60.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "educase@localhost"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.timer_poll_seconds <= 0:
            raise ConfigurationError("EDUCASE_TIMER_POLL_SECONDS must be a positive number of seconds")
        if self.script_time_limit_seconds <= 0:
            raise ConfigurationError("EDUCASE_SCRIPT_TIME_LIMIT_SECONDS must be positive")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.alerts_nightly_at):
            raise ConfigurationError("EDUCASE_ALERTS_NIGHTLY_AT must be a time of day, HH:MM (e.g. 02:00)")
        if self.alerts_import_poll_seconds <= 0 or not 0 < self.smtp_port < 65536:
            raise ConfigurationError(
                "EDUCASE_ALERTS_IMPORT_POLL_SECONDS must be positive and EDUCASE_SMTP_PORT a port number"
            )
        if self.login_lockout_failures < 1 or self.login_lockout_minutes <= 0:
            raise ConfigurationError(
                "EDUCASE_LOGIN_LOCKOUT_FAILURES must be at least 1 and EDUCASE_LOGIN_LOCKOUT_MINUTES positive"
            )


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"expected true/false, got {value!r}")


def _number(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides (used by tests and the app factory)."""
    instance_path = Path(str(overrides.pop("instance_path", _default_instance_path())))
    default_db = f"sqlite:///{instance_path / 'educase.sqlite'}"
    values: dict[str, object] = {
        "database_url": os.environ.get(f"{ENV_PREFIX}DATABASE_URL", default_db),
        "instance_path": instance_path,
        "timezone": os.environ.get(f"{ENV_PREFIX}TIMEZONE", "Europe/London"),
        "timer_poll_seconds": _number("TIMER_POLL_SECONDS", 5.0),
        "timer_batch_size": int(_number("TIMER_BATCH_SIZE", 100)),
        "script_time_limit_seconds": _number("SCRIPT_TIME_LIMIT_SECONDS", 2.0),
        "scheduler_enabled": _bool(os.environ.get(f"{ENV_PREFIX}SCHEDULER_ENABLED", "false")),
        "live_workflow_cache_size": int(_number("LIVE_WORKFLOW_CACHE_SIZE", 2000)),
        "login_lockout_failures": int(_number("LOGIN_LOCKOUT_FAILURES", 5)),
        "login_lockout_minutes": _number("LOGIN_LOCKOUT_MINUTES", 15.0),
        "alerts_nightly_at": os.environ.get(f"{ENV_PREFIX}ALERTS_NIGHTLY_AT", "02:00"),
        "alerts_import_poll_seconds": _number("ALERTS_IMPORT_POLL_SECONDS", 60.0),
        "smtp_host": os.environ.get(f"{ENV_PREFIX}SMTP_HOST") or None,
        "smtp_port": int(_number("SMTP_PORT", 25)),
        "smtp_from": os.environ.get(f"{ENV_PREFIX}SMTP_FROM", "educase@localhost"),
    }
    for name in ("PROCESS_LIBRARY_PATH", "FORM_LIBRARY_PATH"):
        if os.environ.get(ENV_PREFIX + name):
            values[name.lower()] = Path(os.environ[ENV_PREFIX + name])
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
