"""alert rules, alerts, their history, notifications, recipients and evaluations

Rules are data (one row per rule, every version kept); an alert is one episode of a rule's condition
for one enrolment, unique by ``dedup_key``; notifications are the teams' inbox; evaluations log each
run (and the latest attendance import it saw).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = engine.models.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("shipped", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    op.create_table(
        "alert_rule_version",
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["alert_rule.id"], name=op.f("fk_alert_rule_version_rule_id_alert_rule")
        ),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_alert_rule_version")),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("episode", sa.String(length=120), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("scope_flags", sa.JSON(), nullable=False),
        sa.Column("condition_start", sa.Date(), nullable=False),
        sa.Column("condition_met", sa.Date(), nullable=False),
        sa.Column("condition_last", sa.Date(), nullable=False),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("process_status", sa.String(length=20), nullable=True),
        sa.Column("process_error", sa.Text(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("state_changed_by", sa.String(length=100), nullable=True),
        sa.Column("state_changed_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_alert_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishment.id"], name=op.f("fk_alert_establishment_id_establishment")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instance.id"], name=op.f("fk_alert_instance_id_process_instance")
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_alert_pupil_id_pupil")),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rule.id"], name=op.f("fk_alert_rule_id_alert_rule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alert_dedup_key")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index("ix_alert_rule_condition_last", ["rule_id", "condition_last"], unique=False)
        batch_op.create_index("ix_alert_team_state", ["team", "state"], unique=False)

    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_alert_history_alert_id_alert")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_history")),
    )
    with op.batch_alter_table("alert_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_history_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "alert_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.Column("read_by", sa.String(length=100), nullable=True),
        sa.Column("emailed_at", UTC, nullable=True),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_notification_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notification")),
    )
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_notification_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_alert_notification_team_read", ["team", "read_at"], unique=False)

    op.create_table(
        "alert_recipient",
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("team", "email", name=op.f("pk_alert_recipient")),
    )
    op.create_table(
        "alert_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_evaluation")),
    )


def downgrade() -> None:
    op.drop_table("alert_evaluation")
    op.drop_table("alert_recipient")
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_notification_team_read")
        batch_op.drop_index(batch_op.f("ix_alert_notification_alert_id"))
    op.drop_table("alert_notification")
    with op.batch_alter_table("alert_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_history_alert_id"))
    op.drop_table("alert_history")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_team_state")
        batch_op.drop_index("ix_alert_rule_condition_last")
        batch_op.drop_index(batch_op.f("ix_alert_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_alert_enrolment_id"))
    op.drop_table("alert")
    op.drop_table("alert_rule_version")
    op.drop_table("alert_rule")
