"""episodes, their templates, work items, notes and links to cases and documents

An episode is a piece of LA casework about exactly one pupil or one establishment; work items are the
form submissions it holds, with the provenance of copies (copied from, by whom, when) and the fields a
copy left behind.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "episode_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("icon", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("default_form_refs", sa.JSON(), nullable=False),
        sa.Column("start_process_id", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode_template")),
        sa.UniqueConstraint("slug", name=op.f("uq_episode_template_slug")),
    )
    op.create_table(
        "episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closing_reason", sa.Text(), nullable=True),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "(pupil_id IS NULL) <> (establishment_id IS NULL)", name=op.f("ck_episode_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishment.id"], name=op.f("fk_episode_establishment_id_establishment")
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_episode_pupil_id_pupil")),
        sa.ForeignKeyConstraint(
            ["template_id"], ["episode_template.id"], name=op.f("fk_episode_template_id_episode_template")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode")),
    )
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_episode_establishment_id"), ["establishment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index("ix_episode_team_state", ["team", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_episode_template_id"), ["template_id"], unique=False)

    op.create_table(
        "episode_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_note_episode_id_episode")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode_note")),
    )
    with op.batch_alter_table("episode_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_episode_note_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "work_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("form_ref", sa.String(length=200), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("copied_from_work_item_id", sa.Integer(), nullable=True),
        sa.Column("copied_by", sa.String(length=100), nullable=True),
        sa.Column("copied_at", engine.models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("dropped_fields", sa.JSON(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copied_from_work_item_id"],
            ["work_item.id"],
            name=op.f("fk_work_item_copied_from_work_item_id_work_item"),
        ),
        sa.ForeignKeyConstraint(["episode_id"], ["episode.id"], name=op.f("fk_work_item_episode_id_episode")),
        sa.ForeignKeyConstraint(
            ["form_version_id"], ["form_version.id"], name=op.f("fk_work_item_form_version_id_form_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_item")),
    )
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_item_copied_from_work_item_id"), ["copied_from_work_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_item_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "episode_instance",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(length=100), nullable=False),
        sa.Column("linked_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_instance_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_episode_instance_instance_id_process_instance"),
        ),
        sa.PrimaryKeyConstraint("episode_id", "instance_id", name=op.f("pk_episode_instance")),
    )
    with op.batch_alter_table("episode_instance", schema=None) as batch_op:
        batch_op.create_index("ix_episode_instance_instance", ["instance_id"], unique=False)

    op.create_table(
        "episode_document",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(length=100), nullable=False),
        sa.Column("linked_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_episode_document_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_document_episode_id_episode")
        ),
        sa.PrimaryKeyConstraint("episode_id", "document_id", name=op.f("pk_episode_document")),
    )
    with op.batch_alter_table("episode_document", schema=None) as batch_op:
        batch_op.create_index("ix_episode_document_document", ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("episode_document", schema=None) as batch_op:
        batch_op.drop_index("ix_episode_document_document")

    op.drop_table("episode_document")
    with op.batch_alter_table("episode_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_episode_instance_instance")

    op.drop_table("episode_instance")
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_item_episode_id"))
        batch_op.drop_index(batch_op.f("ix_work_item_copied_from_work_item_id"))

    op.drop_table("work_item")
    with op.batch_alter_table("episode_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episode_note_episode_id"))

    op.drop_table("episode_note")
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episode_template_id"))
        batch_op.drop_index("ix_episode_team_state")
        batch_op.drop_index(batch_op.f("ix_episode_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_episode_owner"))
        batch_op.drop_index(batch_op.f("ix_episode_establishment_id"))

    op.drop_table("episode")
    op.drop_table("episode_template")
