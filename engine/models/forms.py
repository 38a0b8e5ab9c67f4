"""Form versions: every distinct content of a form file is kept, so each submission can name its version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class FormVersion(Base):
    __tablename__ = "form_version"
    __table_args__ = (
        UniqueConstraint("form_ref", "content_hash"),
        UniqueConstraint("form_ref", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_ref: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    schema: Mapped[dict[str, Any]]
    ui_schema_ref: Mapped[str | None] = mapped_column(String(200))
    ui_schema: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("form_version.id"))
