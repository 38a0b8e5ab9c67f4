"""SQLite: the indexes that serve open work hold open tasks only

Five indexes exist for open tasks (a person's and a team's inbox, the dashboard's stages, the due
lists) and are always read with ``state = 'ready'``. On SQLite they become partial indexes
(``WHERE state = 'ready'``): closing a task removes its entries instead of moving them to the closed
tasks' end of each index, so a completion rewrites fewer pages, and at LA scale (a million task rows,
a tenth of them open) they are a tenth of the size. The assignee index holds assigned open tasks
only, so that no list of unassigned tasks is planned through it (see ``engine.models.workflow``).
PostgreSQL keeps them whole: psycopg runs a statement prepared after its fifth use, and such a generic
plan cannot use a partial index for a state given as a parameter.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = "state = 'ready'"
INDEXES = (  # name, table, columns, which rows (SQLite)
    (
        "ix_human_task_assignee_open",
        "human_task",
        ["assignee", "state", "due_at"],
        f"{OPEN} AND assignee IS NOT NULL",
    ),
    ("ix_human_task_open_stage", "human_task", ["state", "process_id", "task_spec_id", "instance_id"], OPEN),
    ("ix_human_task_state_due_id", "human_task", ["state", "due_at", "id"], OPEN),
    ("ix_human_task_team_open_due", "human_task_team", ["team", "state", "due_at"], OPEN),
    ("ix_human_task_team_open_process", "human_task_team", ["team", "state", "process_id", "due_at"], OPEN),
)


def _rebuild(*, open_only: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, columns, rows in INDEXES:
        where = {"sqlite_where": sa.text(rows)} if open_only else {}
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False, **where)


def upgrade() -> None:
    _rebuild(open_only=True)


def downgrade() -> None:
    _rebuild(open_only=False)
