"""start event forms, and message waits of event subprocesses

The initial data of a process must satisfy its start event's form; a message wait may belong to an
event subprocess's start event (named event-subprocess:<subprocess>:<start event>, longer than a guid).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_form_ref", sa.String(length=200), nullable=True))
    with op.batch_alter_table("message_wait", schema=None) as batch_op:
        batch_op.alter_column(
            "task_guid",
            existing_type=sa.String(length=36),
            type_=sa.String(length=300),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("message_wait", schema=None) as batch_op:
        batch_op.alter_column(
            "task_guid",
            existing_type=sa.String(length=300),
            type_=sa.String(length=36),
            existing_nullable=False,
        )
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_column("start_form_ref")
