"""team inbox: each task's team rows carry the task's state, due date and process

A team's inbox read the open tasks of every team in due order and kept its own: on the web benchmark's
full-size PostgreSQL database (131,718 open tasks), a team whose tasks fall due later than others' read
32,000 index entries for a page of 26 (238 ms). With (team, state, due_at) on human_task_team, a page is
a few index entries of that team's open tasks; with (team, state, process_id, due_at), so is a page of
one process's tasks (SQLite: 156 ms before).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task_team") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=False, server_default="ready"))
        batch.add_column(sa.Column("due_at", UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("process_id", sa.String(200), nullable=True))
    op.execute(
        "UPDATE human_task_team SET "
        + ", ".join(
            f"{column} = (SELECT {column} FROM human_task WHERE human_task.id = human_task_team.task_id)"
            for column in ("state", "due_at", "process_id")
        )
    )
    op.create_index(
        "ix_human_task_team_open_due", "human_task_team", ["team", "state", "due_at"], unique=False
    )
    op.create_index(
        "ix_human_task_team_open_process",
        "human_task_team",
        ["team", "state", "process_id", "due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_human_task_team_open_process", table_name="human_task_team")
    op.drop_index("ix_human_task_team_open_due", table_name="human_task_team")
    with op.batch_alter_table("human_task_team") as batch:
        batch.drop_column("process_id")
        batch.drop_column("due_at")
        batch.drop_column("state")
