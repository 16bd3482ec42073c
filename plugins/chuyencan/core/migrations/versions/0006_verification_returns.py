"""Commune verification lists and their returns (issue 13): which commune was sent which list
(ops.verification_list, restricted.verification_list_entry), the workbooks communes send back
(ops.verification_return, ops.verification_return_issue), what they found
(restricted.verification_finding) and whether each commune answers (report.commune_verification).
Existing tables unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FILE_SIZE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verification_list",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("recipient_key", sa.Text(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "commune_code"),
        schema="ops",
    )
    op.create_table(
        "verification_list_entry",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "commune_code", "student_key"),
        schema="restricted",
    )
    op.create_table(
        "verification_return",
        sa.Column("return_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("inbox_path", sa.Text(), nullable=False),
        sa.Column("file_size", _FILE_SIZE, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("list_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("return_id"),
        sa.UniqueConstraint("sha256"),
        schema="ops",
    )
    op.create_table(
        "verification_return_issue",
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column_key", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        schema="ops",
    )
    op.create_index(
        "ix_ops_verification_return_issue_return_id",
        "verification_return_issue",
        ["return_id"],
        unique=False,
        schema="ops",
    )
    op.create_table(
        "verification_finding",
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.Text(), nullable=True),
        sa.Column("workplace", sa.String(length=24), nullable=True),
        sa.Column("cause", sa.String(length=16), nullable=True),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("return_id", "student_key"),
        schema="restricted",
    )
    op.create_table(
        "commune_verification",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("lists_sent", sa.Integer(), nullable=False),
        sa.Column("last_list_date", sa.Date(), nullable=True),
        sa.Column("last_return_on", sa.Date(), nullable=True),
        sa.Column("lists_without_return", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("reporting_unit", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "commune_code"),
        schema="report",
    )


def downgrade() -> None:
    op.drop_table("commune_verification", schema="report")
    op.drop_table("verification_finding", schema="restricted")
    op.drop_index("ix_ops_verification_return_issue_return_id", "verification_return_issue", schema="ops")
    op.drop_table("verification_return_issue", schema="ops")
    op.drop_table("verification_return", schema="ops")
    op.drop_table("verification_list_entry", schema="restricted")
    op.drop_table("verification_list", schema="ops")
