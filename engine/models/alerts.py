"""Alert rules and the alerts they raise: versions of each rule, alerts with their state history, the
teams' notifications and e-mail recipients, and a log of evaluations.

An alert is one episode of a rule's condition for one enrolment (or pupil): ``dedup_key`` =
``rule id | enrolment (or p<pupil>) | episode`` is unique, so a continuing run updates its alert
rather than raising a new one every night. Its ``facts`` are the exact marks or records that made it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class AlertState:
    """Values of ``alert.state``. An alert moves open -> acknowledged -> actioned -> closed; it may
    be closed from any state (with a reason); a closed alert stays closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    CLOSED = "closed"

    ALL = (OPEN, ACKNOWLEDGED, ACTIONED, CLOSED)


class AlertRuleRecord(Base):
    """A rule as the LA runs it now: its latest version, whether it is enabled."""

    __tablename__ = "alert_rule"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    shipped: Mapped[bool] = mapped_column(Boolean, default=False)  # one of engine/alerts/defaults.json
    definition: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(100))


class AlertRuleVersion(Base):
    """Every version of every rule, so that an old alert can be explained by the rule that raised it."""

    __tablename__ = "alert_rule_version"

    rule_id: Mapped[str] = mapped_column(ForeignKey("alert_rule.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))


class Alert(Base):
    """One episode of a rule's condition for one enrolment, and what people did about it."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_team_state", "team", "state"),
        Index("ix_alert_rule_condition_last", "rule_id", "condition_last"),
        # the managers' dashboard (engine.services.dashboard): open alerts and alerts per week
        Index("ix_alert_rule_establishment_state", "rule_id", "establishment_id", "state"),
        Index("ix_alert_created_rule", "created_at", "rule_id"),
        Index("ix_alert_state_changed_rule", "state", "state_changed_at", "rule_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    rule_id: Mapped[str] = mapped_column(ForeignKey("alert_rule.id"))
    rule_version: Mapped[int] = mapped_column(Integer)
    episode: Mapped[str] = mapped_column(String(120))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    team: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]]
    scope_flags: Mapped[list[Any]]  # the shared flags that put the pupil in the rule's scope
    condition_start: Mapped[date] = mapped_column(Date)
    condition_met: Mapped[date] = mapped_column(Date)
    condition_last: Mapped[date] = mapped_column(Date)
    ongoing: Mapped[bool] = mapped_column(Boolean)
    first_seen: Mapped[date] = mapped_column(Date)  # the evaluation date that raised it
    last_seen: Mapped[date] = mapped_column(Date)  # the latest evaluation date that found it
    process_status: Mapped[str | None] = mapped_column(String(20))  # pending / started
    process_error: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_changed_by: Mapped[str | None] = mapped_column(String(100))
    state_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertHistory(Base):
    """Append-only: raised, acknowledged, actioned, closed, condition ended, process started..."""

    __tablename__ = "alert_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None]


class AlertNotification(Base):
    """A message in a team's inbox (and, where configured, e-mailed): "alert raised"."""

    __tablename__ = "alert_notification"
    __table_args__ = (Index("ix_alert_notification_team_read", "team", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    team: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_by: Mapped[str | None] = mapped_column(String(100))
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    email_error: Mapped[str | None] = mapped_column(Text)


class AlertRecipient(Base):
    """An e-mail address that receives a team's alert notifications."""

    __tablename__ = "alert_recipient"

    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertEvaluation(Base):
    """One run of the rules: when, as of which date, why (nightly, import, cli), and what it found.
    ``import_id`` is the latest attendance import it saw, so the scheduler knows what is new."""

    __tablename__ = "alert_evaluation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(20))
    import_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[dict[str, Any]]
