"""Workflow tables: deployed process versions, running instances and their projections.

The serialized workflow in ``process_instance.state_json`` is the truth about one instance; the
projection rows (``human_task``, ``timer``, ``message_wait``) are written in the same transaction and
are what inboxes, dashboards and schedulers read. ``workflow_event`` is append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import UtcDateTime


class BpmnFile(Base):
    """A BPMN file exactly as deployed (kept so a version can always be re-read and diffed)."""

    __tablename__ = "bpmn_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(100))


class ProcessVersion(Base):
    """An immutable, runnable version of one BPMN process (with the processes it calls)."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        UniqueConstraint("process_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_file_id: Mapped[int] = mapped_column(ForeignKey("bpmn_file.id"))
    spec: Mapped[dict[str, Any]] = mapped_column(deferred=True)  # large; cached once restored
    task_meta: Mapped[dict[str, Any]]
    start_messages: Mapped[list[Any]]
    start_form_ref: Mapped[str | None] = mapped_column(String(200))  # initial data must satisfy it
    called_processes: Mapped[list[Any]]
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(100))

    bpmn_file: Mapped[BpmnFile] = relationship(lazy="raise")


class InstanceState:
    """Values of ``process_instance.state``."""

    RUNNING = "running"  # engine work pending (only seen mid-transaction)
    WAITING = "waiting"  # waiting for a timer or a message, no human task
    USER_INPUT_REQUIRED = "user_input_required"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    ERROR = "error"

    FINISHED = (COMPLETE, CANCELLED)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    # the managers' dashboard: cases by state and completions per week, never reading a row's state_json
    __table_args__ = (Index("ix_process_instance_state_process_ended", "state", "process_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(30))  # indexed by ix_process_instance_state_process_ended
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    state_json: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer)
    error: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    version: Mapped[ProcessVersion] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": lock_version}


class TaskState:
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# On SQLite, the indexes that serve open work (inboxes, dashboards, due lists) hold open tasks only:
# a task leaves them when it closes instead of moving within them, so completing a task rewrites fewer
# pages, and they stay a tenth of the size at LA scale. SQLite uses them for ``state = ?`` bound to
# 'ready' (it plans again for the value). PostgreSQL keeps full indexes: a prepared statement's
# generic plan, which psycopg uses after five runs, cannot choose a partial index for a bound state.
OPEN_TASKS_ONLY = {"sqlite_where": text("state = 'ready'")}
# A person's open tasks: assigned ones only. A list of *unassigned* tasks must not be planned through
# it: at LA scale SQLite then read every unassigned open task (~100,000) to count a team's few hundred
# (156 ms; 20 people completing tasks fell from 12.6 to 7.4 a second). ``assignee = ?`` implies
# ``assignee IS NOT NULL`` to SQLite, so "my tasks" still uses it.
OPEN_ASSIGNED_ONLY = {"sqlite_where": text("state = 'ready' AND assignee IS NOT NULL")}


class HumanTask(Base):
    """Inbox projection of a user or manual task. ``id`` is SpiffWorkflow's task guid."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_assignee_open", "assignee", "state", "due_at", **OPEN_ASSIGNED_ONLY),
        # the managers' dashboard (engine.services.dashboard): counts from the index entries alone
        Index(
            "ix_human_task_open_stage",
            "state",
            "process_id",
            "task_spec_id",
            "instance_id",
            **OPEN_TASKS_ONLY,
        ),
        Index("ix_human_task_state_due_id", "state", "due_at", "id", **OPEN_TASKS_ONLY),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    task_spec_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(100))
    form_ref: Mapped[str | None] = mapped_column(String(200))
    ui_form_ref: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))

    teams: Mapped[list[HumanTaskTeam]] = relationship(
        cascade="all, delete-orphan", lazy="raise_on_sql", back_populates="task"
    )

    @property
    def team_names(self) -> list[str]:
        return [t.team for t in self.teams]


class HumanTaskTeam(Base):
    """The teams a task is offered to: its lane, or each ``candidateGroups`` entry."""

    __tablename__ = "human_task_team"
    __table_args__ = (
        Index("ix_human_task_team_team", "team", "task_id"),
        # a team's inbox, soonest due first: a few index entries per page, however many tasks other
        # teams have due sooner (state and due_at are the task's, kept in step by instance_store/tasks)
        Index("ix_human_task_team_open_due", "team", "state", "due_at", **OPEN_TASKS_ONLY),
        Index("ix_human_task_team_open_process", "team", "state", "process_id", "due_at", **OPEN_TASKS_ONLY),
    )

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="ready", server_default="ready")
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    process_id: Mapped[str | None] = mapped_column(String(200))

    task: Mapped[HumanTask] = relationship(back_populates="teams")


class Timer(Base):
    """A timer an instance waits on. The table is the truth; the scheduler only wakes instances."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_pending", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    task_spec_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(20))  # waiting / fired / cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MessageWait(Base):
    """A message an instance is waiting for, with the correlation values it expects."""

    __tablename__ = "message_wait"
    __table_args__ = (Index("ix_message_wait_lookup", "message_name", "state", "business_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(300))  # a task guid, or event-subprocess:<id>:<start>
    task_spec_id: Mapped[str] = mapped_column(String(200))
    message_name: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(100))
    correlation: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20))  # waiting / received / cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WorkflowEvent(Base):
    """Append-only history: who did what to which instance, when, with which data."""

    __tablename__ = "workflow_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    task_guid: Mapped[str | None] = mapped_column(String(36))
    task_spec_id: Mapped[str | None] = mapped_column(String(200))
    task_name: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any] | None]
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_version.id"))


class MessageRecord(Base):
    """Every message sent, with where it went. Undelivered messages stay visible, never dropped."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    correlation: Mapped[dict[str, Any]]
    payload: Mapped[dict[str, Any] | None]
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_by: Mapped[str | None] = mapped_column(String(100))
    delivered_to: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(20))  # delivered / started / undelivered
