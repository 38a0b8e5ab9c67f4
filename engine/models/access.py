"""Who may use EduCase: users, teams, API tokens; and the audit trail of who saw or changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import UtcDateTime


class Role:
    """Values of ``user_account.role``: what a person may do across EduCase."""

    ADMINISTRATOR = "administrator"  # designs processes, forms, rules; manages users
    MANAGER = "manager"  # monitors instances, reassigns work, sees the whole LA's casework
    CASEWORKER = "caseworker"  # EWO, CME officer, inclusion officer, EP, SEND caseworker: their teams' work
    SCHOOL = "school"  # staff of one establishment: its own pupils and submissions only

    ALL = (ADMINISTRATOR, MANAGER, CASEWORKER, SCHOOL)


class Team(Base):
    """A team; its slug is the BPMN lane name (``attendance``, ``cme``, ``inclusion``, ``ep``...)."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    job_title: Mapped[str | None] = mapped_column(String(100))
    establishment: Mapped[str | None] = mapped_column(String(7))  # LAESTAB, for school users
    flags_visible: Mapped[list[Any]]  # shared flags this person may see (EHCP, CLA, CP...)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    teams: Mapped[list[Team]] = relationship(secondary="team_membership", lazy="selectin")


class TeamMembership(Base):
    __tablename__ = "team_membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)


class ApiToken(Base):
    """A personal API token for an integration; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InstanceEstablishment(Base):
    """The establishments a process instance concerns: their school users may see it."""

    __tablename__ = "instance_establishment"
    __table_args__ = (Index("ix_instance_establishment_laestab", "laestab", "instance_id"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    laestab: Mapped[str] = mapped_column(String(7), primary_key=True)


class AuditEvent(Base):
    """Append-only: every view and change of a case record (who, what, when)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40))  # view, create, update, complete, claim, export...
    object_type: Mapped[str] = mapped_column(String(40))  # instance, task, pupil, episode, document...
    object_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any] | None]
    source_ip: Mapped[str | None] = mapped_column(String(64))
