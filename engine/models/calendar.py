"""School calendars: an LA's term dates, and closures added by one establishment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime

LA_CALENDAR = "LA"


class CalendarRecord(Base):
    """One calendar file as loaded. ``scope`` is ``LA`` or an establishment's LAESTAB."""

    __tablename__ = "school_calendar"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), unique=True)
    terms: Mapped[list[Any]]
    closures: Mapped[list[Any]]
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str | None] = mapped_column(String(500))
