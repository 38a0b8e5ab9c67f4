"""Answers a person saved on a task's form without sending them ("Save draft"): not validated, not
seen by anyone else, removed when the task is completed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class TaskDraft(Base):
    """One person's unsent answers to one task (at most one draft each)."""

    __tablename__ = "task_draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)
