"""The warehouse as release 6ff0b66 created it (before Alembic): every table of ref, ops, report
and restricted.

A warehouse created by that release has exactly these tables and carries `ops.meta`
schema_version = 1; `chuyencan.core.warehouse.ensure_schema` stamps it at this revision instead of
running it (tests/test_migrations.py upgrades one with data in it).

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "class_attendance",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("school_days", sa.Integer(), nullable=False),
        sa.Column("absent_excused", sa.Integer(), nullable=False),
        sa.Column("absent_unexcused", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.UniqueConstraint("submission_id", "class_name"),
        schema="ops",
    )
    op.create_index(
        "ix_class_attendance_week",
        "class_attendance",
        ["week_ending", "school_code"],
        unique=False,
        schema="ops",
    )

    op.create_table(
        "current_submission",
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("school_code", "week_ending"),
        schema="ops",
    )
    op.create_table(
        "email_outbox",
        sa.Column("email_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("email_id"),
        sa.UniqueConstraint("dedup_key"),
        schema="ops",
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        schema="ops",
    )
    op.create_table(
        "police_extract",
        sa.Column("extract_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("inbox_path", sa.Text(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("extract_round", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("extract_id"),
        sa.UniqueConstraint("sha256"),
        schema="ops",
    )
    op.create_index(
        "ix_police_extract_commune",
        "police_extract",
        ["commune", "extract_round"],
        unique=False,
        schema="ops",
    )

    op.create_table(
        "police_extract_current",
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("extract_round", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("commune"),
        schema="ops",
    )
    op.create_table(
        "police_extract_issue",
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column_key", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        schema="ops",
    )
    op.create_index(
        op.f("ix_ops_police_extract_issue_extract_id"),
        "police_extract_issue",
        ["extract_id"],
        unique=False,
        schema="ops",
    )

    op.create_table(
        "submission",
        sa.Column("submission_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("inbox_path", sa.Text(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=True),
        sa.Column("week_ending", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("submission_id"),
        sa.UniqueConstraint("sha256"),
        schema="ops",
    )
    op.create_index(
        "ix_submission_school_week", "submission", ["school_code", "week_ending"], unique=False, schema="ops"
    )

    op.create_table(
        "submission_issue",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("sheet", sa.String(length=32), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column_key", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("class_name", sa.Text(), nullable=True),
        schema="ops",
    )
    op.create_index(
        op.f("ix_ops_submission_issue_submission_id"),
        "submission_issue",
        ["submission_id"],
        unique=False,
        schema="ops",
    )

    op.create_table(
        "calendar_event",
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("school_year", "event", "start_date"),
        schema="ref",
    )
    op.create_table(
        "commune",
        sa.Column("commune_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor", sa.Text(), nullable=True),
        sa.Column("aliases", sa.Text(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("commune_name"),
        schema="ref",
    )
    op.create_table(
        "grade_level",
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.PrimaryKeyConstraint("grade"),
        schema="ref",
    )
    op.create_table(
        "school",
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("grade_min", sa.Integer(), nullable=False),
        sa.Column("grade_max", sa.Integer(), nullable=False),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("boarding", sa.String(length=16), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("school_code"),
        schema="ref",
    )
    op.create_table(
        "school_week",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("school_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week_ending"),
        schema="ref",
    )
    op.create_table(
        "attendance_weekly",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("classes", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("student_days_scheduled", sa.Integer(), nullable=False),
        sa.Column("absent_excused", sa.Integer(), nullable=False),
        sa.Column("absent_unexcused", sa.Integer(), nullable=False),
        sa.Column("attendance_rate", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("week_ending", "school_code", "grade"),
        schema="report",
    )
    op.create_table(
        "fortnight_summary",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_key", sa.String(length=64), nullable=False),
        sa.Column("schools_expected", sa.Integer(), nullable=False),
        sa.Column("submissions_on_time", sa.Integer(), nullable=False),
        sa.Column("submissions_late", sa.Integer(), nullable=False),
        sa.Column("submissions_missing", sa.Integer(), nullable=False),
        sa.Column("submissions_rejected", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=True),
        sa.Column("attendance_rate", sa.Float(), nullable=True),
        sa.Column("dropouts_open", sa.Integer(), nullable=False),
        sa.Column("dropouts_new", sa.Integer(), nullable=False),
        sa.Column("dropouts_summer", sa.Integer(), nullable=False),
        sa.Column("dropouts_hk1", sa.Integer(), nullable=False),
        sa.Column("dropouts_hk2", sa.Integer(), nullable=False),
        sa.Column("dropouts_after_tet", sa.Integer(), nullable=False),
        sa.Column("left_locality", sa.Integer(), nullable=False),
        sa.Column("in_locality", sa.Integer(), nullable=False),
        sa.Column("unverified", sa.Integer(), nullable=False),
        sa.Column("eligible_to_continue", sa.Integer(), nullable=False),
        sa.Column("not_eligible", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("at_risk", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "scope", "scope_key"),
        schema="report",
    )
    op.create_table(
        "submission_status",
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week_ending", "school_code"),
        schema="report",
    )
    op.create_table(
        "case_match",
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("extract_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("resident_id", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=True),
        sa.Column("agreed", sa.Text(), nullable=True),
        sa.Column("disagreed", sa.Text(), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_key"),
        schema="restricted",
    )
    op.create_table(
        "case_verdict",
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("agreed", sa.Text(), nullable=True),
        sa.Column("disagreed", sa.Text(), nullable=True),
        sa.Column("destination", sa.Text(), nullable=True),
        sa.Column("workplace", sa.Text(), nullable=True),
        sa.Column("extract_commune", sa.Text(), nullable=True),
        sa.Column("extract_round", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_key"),
        schema="restricted",
    )
    op.create_table(
        "match_audit",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audit_key", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("extract_round", sa.Date(), nullable=False),
        sa.Column("matcher_decision", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("resident_key", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("audit_id"),
        sa.UniqueConstraint("audit_key"),
        schema="restricted",
    )
    op.create_index(
        op.f("ix_restricted_match_audit_student_key"),
        "match_audit",
        ["student_key"],
        unique=False,
        schema="restricted",
    )

    op.create_table(
        "police_resident",
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("resident_key", sa.String(length=32), nullable=False),
        sa.Column("name_key", sa.String(length=32), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("village", sa.Text(), nullable=True),
        sa.Column("household_head", sa.Text(), nullable=True),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("residence_status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_on", sa.Date(), nullable=True),
        sa.Column("destination", sa.Text(), nullable=True),
        sa.Column("workplace", sa.Text(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("extract_id", "source_row"),
        schema="restricted",
    )
    op.create_index(
        "ix_police_resident_key", "police_resident", ["resident_key"], unique=False, schema="restricted"
    )

    op.create_table(
        "review_decision",
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("resident_key", sa.String(length=32), nullable=False),
        sa.Column("name_key", sa.String(length=32), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("student_key", "resident_key"),
        schema="restricted",
    )
    op.create_table(
        "student_entry",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("ethnicity", sa.Text(), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("village", sa.Text(), nullable=False),
        sa.Column("parent_name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_day_missed", sa.Date(), nullable=True),
        sa.Column("sessions_missed", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=16), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("destination", sa.Text(), nullable=True),
        schema="restricted",
    )
    op.create_index(
        op.f("ix_restricted_student_entry_submission_id"),
        "student_entry",
        ["submission_id"],
        unique=False,
        schema="restricted",
    )

    op.create_table(
        "student_risk",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("sessions_missed", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("report_date", "student_key"),
        schema="restricted",
    )


def downgrade() -> None:
    op.drop_table("student_risk", schema="restricted")
    op.drop_index(
        op.f("ix_restricted_student_entry_submission_id"), table_name="student_entry", schema="restricted"
    )

    op.drop_table("student_entry", schema="restricted")
    op.drop_table("review_decision", schema="restricted")
    op.drop_index("ix_police_resident_key", table_name="police_resident", schema="restricted")

    op.drop_table("police_resident", schema="restricted")
    op.drop_index(
        op.f("ix_restricted_match_audit_student_key"), table_name="match_audit", schema="restricted"
    )

    op.drop_table("match_audit", schema="restricted")
    op.drop_table("case_verdict", schema="restricted")
    op.drop_table("case_match", schema="restricted")
    op.drop_table("submission_status", schema="report")
    op.drop_table("fortnight_summary", schema="report")
    op.drop_table("attendance_weekly", schema="report")
    op.drop_table("school_week", schema="ref")
    op.drop_table("school", schema="ref")
    op.drop_table("grade_level", schema="ref")
    op.drop_table("commune", schema="ref")
    op.drop_table("calendar_event", schema="ref")
    op.drop_index(op.f("ix_ops_submission_issue_submission_id"), table_name="submission_issue", schema="ops")

    op.drop_table("submission_issue", schema="ops")
    op.drop_index("ix_submission_school_week", table_name="submission", schema="ops")

    op.drop_table("submission", schema="ops")
    op.drop_index(
        op.f("ix_ops_police_extract_issue_extract_id"), table_name="police_extract_issue", schema="ops"
    )

    op.drop_table("police_extract_issue", schema="ops")
    op.drop_table("police_extract_current", schema="ops")
    op.drop_index("ix_police_extract_commune", table_name="police_extract", schema="ops")

    op.drop_table("police_extract", schema="ops")
    op.drop_table("meta", schema="ops")
    op.drop_table("email_outbox", schema="ops")
    op.drop_table("current_submission", schema="ops")
    op.drop_index("ix_class_attendance_week", table_name="class_attendance", schema="ops")

    op.drop_table("class_attendance", schema="ops")
