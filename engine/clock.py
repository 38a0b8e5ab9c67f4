"""The engine's notion of "now".

Everything in the engine that needs the current time asks :func:`now`. Tests, the scenario runner and
``educase timers run-due --now`` move the clock with :func:`frozen_at` instead of patching the system.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

_override: ContextVar[datetime | None] = ContextVar("educase_clock", default=None)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    fixed = _override.get()
    return fixed if fixed is not None else datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Reject naive datetimes: every time the engine stores carries its offset (design trap 7)."""
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset; give times with an offset, e.g. ...Z")
    return value.astimezone(UTC)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make :func:`now` return ``moment`` inside the block."""
    token = _override.set(as_utc(moment))
    try:
        yield
    finally:
        _override.reset(token)
