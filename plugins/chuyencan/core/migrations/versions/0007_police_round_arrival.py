"""report.police_round_arrival (docs/contracts.md#5-warehouse): per reporting unit, police round
(include/reference/police_rounds.csv) and commune, whether its extract arrived by the due date
and when the commune police were told it was missing (issue 13). Existing tables unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "police_round_arrival",
        sa.Column("reporting_unit", sa.String(length=64), nullable=False),
        sa.Column("round", sa.String(length=32), nullable=False),
        sa.Column("commune", sa.String(length=128), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extract_id", sa.Integer(), nullable=True),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reporting_unit", "round", "commune"),
        schema="report",
    )


def downgrade() -> None:
    op.drop_table("police_round_arrival", schema="report")
