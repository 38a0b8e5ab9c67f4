"""How a deadline reads. Deadlines in school days end at midnight UK time, which "10 March at
midnight" would leave people reading as the wrong day: they read "by the end of 9 March"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..forms_render.answers import UK_TIME
from ..forms_render.templating import uk_date, uk_datetime


def uk_deadline(value: Any) -> str:
    """``2026-03-10T00:00Z`` → ``end of 9 March 2026``; other moments as ``uk_datetime`` writes them."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return uk_datetime(value)
    local = moment.astimezone(UK_TIME)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"end of {uk_date((local - timedelta(days=1)).date())}"
    return uk_datetime(moment)
