"""report.fortnight_breakdown (docs/contracts.md#5-warehouse): the fortnightly report's breakdowns in long form,
one row per report date, scope, dimension and category (issue 11). Existing tables unchanged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fortnight_breakdown",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_key", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=24), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "scope", "scope_key", "dimension", "category"),
        schema="report",
    )


def downgrade() -> None:
    op.drop_table("fortnight_breakdown", schema="report")
