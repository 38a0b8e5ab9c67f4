"""Returns schools send the local authority through their portal (domain.md section 2): the deletion
return, sent no later than the day a pupil comes off the admission register, with its ground.

The school's own roll is updated by its MIS feed, not by the return: the return is what the school
told the LA, when and by whom, and the children missing education enquiry it started, if any.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class DeletionReturn(Base):
    """A school's notice that a pupil comes off its roll on ``deleted_on``, on ``ground``."""

    __tablename__ = "deletion_return"
    __table_args__ = (Index("ix_deletion_return_establishment_sent", "establishment_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    ground: Mapped[str] = mapped_column(String(60))  # engine.attendance.vocabulary.DELETION_GROUNDS
    deleted_on: Mapped[date] = mapped_column(Date)
    data: Mapped[dict[str, Any]]  # the return as sent (portal-deletion-return.schema.json)
    sent_by: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))  # the CME enquiry
