"""task drafts: answers saved on a task's form without sending them

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_draft",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["human_task.id"],
            name=op.f("fk_task_draft_task_id_human_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "username", name=op.f("pk_task_draft")),
    )


def downgrade() -> None:
    op.drop_table("task_draft")
