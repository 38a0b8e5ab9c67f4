"""drop two indexes that longer ones make redundant

``ix_process_instance_state (state)`` is the first column of ``ix_process_instance_state_process_ended``
and ``ix_human_task_state_due (state, due_at)`` the first two of ``ix_human_task_state_due_id``: any
query one could use, the longer one serves as well. Each cost a B-tree update on every instance write
and task completion, the engine's hot path.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_process_instance_state", table_name="process_instance")
    op.drop_index("ix_human_task_state_due", table_name="human_task")


def downgrade() -> None:
    op.create_index("ix_human_task_state_due", "human_task", ["state", "due_at"], unique=False)
    op.create_index("ix_process_instance_state", "process_instance", ["state"], unique=False)
