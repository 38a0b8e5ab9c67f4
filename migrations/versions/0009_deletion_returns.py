"""deletion returns: what a school told the LA through its portal about a pupil leaving its roll

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deletion_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("ground", sa.String(length=60), nullable=False),
        sa.Column("deleted_on", sa.Date(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=False),
        sa.Column("sent_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_deletion_return_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_deletion_return_instance_id_process_instance"),
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_deletion_return_pupil_id_pupil")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_return")),
    )
    with op.batch_alter_table("deletion_return", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deletion_return_establishment_sent", ["establishment_id", "sent_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deletion_return_pupil_id"), ["pupil_id"], unique=False)


def downgrade() -> None:
    op.drop_table("deletion_return")
