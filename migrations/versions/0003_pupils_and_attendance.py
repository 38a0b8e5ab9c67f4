"""pupils, establishments and attendance

Establishments, pupils, enrolments (dual registration), part-time timetables, AP placements,
suspensions/exclusions, shared flags; the compact mark store (one 732-byte string per enrolment and
school year), corrections history, import log and CTF attendance summaries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:05:53.794529
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attendance_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_import")),
    )
    with op.batch_alter_table("attendance_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_import_sha256"), ["sha256"], unique=False)

    op.create_table(
        "establishment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("laestab", sa.String(length=7), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=30), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("is_alternative_provision", sa.Boolean(), nullable=False),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_establishment")),
        sa.UniqueConstraint("laestab", name=op.f("uq_establishment_laestab")),
        sa.UniqueConstraint("urn", name=op.f("uq_establishment_urn")),
    )
    op.create_table(
        "pupil",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upn", sa.String(length=13), nullable=True),
        sa.Column("upn_temporary", sa.Boolean(), nullable=False),
        sa.Column("uln", sa.String(length=10), nullable=True),
        sa.Column("forename", sa.String(length=100), nullable=False),
        sa.Column("middle_names", sa.String(length=200), nullable=True),
        sa.Column("surname", sa.String(length=100), nullable=False),
        sa.Column("preferred_forename", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("uprn", sa.String(length=12), nullable=True),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil")),
        sa.UniqueConstraint("upn", name=op.f("uq_pupil_upn")),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=20), nullable=False),
        sa.Column("year_group", sa.String(length=3), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("deletion_ground", sa.String(length=60), nullable=True),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_enrolment_establishment_id_establishment"),
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_enrolment_pupil_id_pupil")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint(
            "pupil_id",
            "establishment_id",
            "start_date",
            name=op.f("uq_enrolment_pupil_id_establishment_id_start_date"),
        ),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrolment_establishment_dates", ["establishment_id", "start_date", "end_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolment_pupil_id"), ["pupil_id"], unique=False)

    op.create_table(
        "pupil_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=20), nullable=False),
        sa.Column("set_by_service", sa.String(length=100), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=True),
        sa.Column("visible_to", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_pupil_flag_pupil_id_pupil")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil_flag")),
    )
    with op.batch_alter_table("pupil_flag", schema=None) as batch_op:
        batch_op.create_index("ix_pupil_flag_pupil_flag", ["pupil_id", "flag"], unique=False)

    op.create_table(
        "ap_placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("home_enrolment_id", sa.Integer(), nullable=True),
        sa.Column("arranged_by", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("hours_per_week", sa.Float(), nullable=True),
        sa.Column("proposed_start", sa.Date(), nullable=False),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_enrolment_id"], ["enrolment.id"], name=op.f("fk_ap_placement_home_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["establishment.id"], name=op.f("fk_ap_placement_provider_id_establishment")
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"], name=op.f("fk_ap_placement_pupil_id_pupil")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ap_placement")),
    )
    with op.batch_alter_table("ap_placement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ap_placement_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ap_placement_pupil_id"), ["pupil_id"], unique=False)

    op.create_table(
        "attendance_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=2), nullable=False),
        sa.Column("old_code", sa.String(length=2), nullable=False),
        sa.Column("new_code", sa.String(length=2), nullable=False),
        sa.Column("corrected_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_attendance_correction_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["attendance_import.id"],
            name=op.f("fk_attendance_correction_import_id_attendance_import"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_correction")),
    )
    with op.batch_alter_table("attendance_correction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_correction_enrolment", ["enrolment_id", "session_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attendance_correction_import_id"), ["import_id"], unique=False)

    op.create_table(
        "attendance_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.SmallInteger(), nullable=False),
        sa.Column("sessions_possible", sa.Integer(), nullable=False),
        sa.Column("sessions_attended", sa.Integer(), nullable=False),
        sa.Column("sessions_authorised", sa.Integer(), nullable=False),
        sa.Column("sessions_unauthorised", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("received_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_attendance_summary_enrolment_id_enrolment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_summary")),
        sa.UniqueConstraint(
            "enrolment_id", "school_year", name=op.f("uq_attendance_summary_enrolment_id_school_year")
        ),
    )
    op.create_table(
        "attendance_year",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("marks", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_attendance_year_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishment.id"],
            name=op.f("fk_attendance_year_establishment_id_establishment"),
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "school_year", name=op.f("pk_attendance_year")),
    )
    with op.batch_alter_table("attendance_year", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_year_establishment", ["school_year", "establishment_id"], unique=False
        )

    op.create_table(
        "exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("length_days", sa.Float(), nullable=True),
        sa.Column("lunchtime_sessions", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_exclusion_enrolment_id_enrolment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion")),
    )
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exclusion_enrolment_id"), ["enrolment_id"], unique=False)

    op.create_table(
        "part_time_timetable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("hours_per_week", sa.Float(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("agreed_with_parent", sa.Boolean(), nullable=False),
        sa.Column("created_at", engine.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_part_time_timetable_enrolment_id_enrolment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_part_time_timetable")),
    )
    with op.batch_alter_table("part_time_timetable", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_part_time_timetable_enrolment_id"), ["enrolment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("part_time_timetable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_part_time_timetable_enrolment_id"))

    op.drop_table("part_time_timetable")
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exclusion_enrolment_id"))

    op.drop_table("exclusion")
    with op.batch_alter_table("attendance_year", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_year_establishment")

    op.drop_table("attendance_year")
    op.drop_table("attendance_summary")
    with op.batch_alter_table("attendance_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_correction_import_id"))
        batch_op.drop_index("ix_attendance_correction_enrolment")

    op.drop_table("attendance_correction")
    with op.batch_alter_table("ap_placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ap_placement_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_ap_placement_provider_id"))

    op.drop_table("ap_placement")
    with op.batch_alter_table("pupil_flag", schema=None) as batch_op:
        batch_op.drop_index("ix_pupil_flag_pupil_flag")

    op.drop_table("pupil_flag")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_pupil_id"))
        batch_op.drop_index("ix_enrolment_establishment_dates")

    op.drop_table("enrolment")
    op.drop_table("pupil")
    op.drop_table("establishment")
    with op.batch_alter_table("attendance_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_import_sha256"))

    op.drop_table("attendance_import")
