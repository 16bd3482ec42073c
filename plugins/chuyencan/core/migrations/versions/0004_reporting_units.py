"""Reports per reporting unit (issue 12, docs/organisation.md): every `report` table gains
`reporting_unit` in its primary key (the rows written so far are Bát Xát's education office's,
`BAT_XAT`, and keep their scope keys), and the organisation's reference files get their `ref`
tables (admin_unit, reporting_unit, school_unit), reloaded on every run like ref.school.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import SAWarning

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The only unit that had reports before this revision: the district's education office.
EXISTING_UNIT = "BAT_XAT"
# report table -> its primary key before this revision.
PRIMARY_KEYS = {
    "submission_status": ("week_ending", "school_code"),
    "attendance_weekly": ("week_ending", "school_code", "grade"),
    "fortnight_summary": ("report_date", "scope", "scope_key"),
    "fortnight_breakdown": ("report_date", "scope", "scope_key", "dimension", "category"),
}


def _column() -> sa.Column[str]:
    return sa.Column("reporting_unit", sa.String(64), nullable=False, server_default=EXISTING_UNIT)


def _add_unit_to_key(table: str, key: tuple[str, ...]) -> None:
    """Add reporting_unit (EXISTING_UNIT in every row so far) at the end of the primary key."""
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(table, _column(), schema="report")
        # PostgreSQL named the key <table>_pkey (0001 left the names to it).
        op.drop_constraint(f"{table}_pkey", table, type_="primary", schema="report")
        op.create_primary_key(f"{table}_pkey", table, [*key, "reporting_unit"], schema="report")
    else:
        # SQLite cannot change a primary key in place: the batch copies the table. SQLAlchemy
        # warns that the copied columns' old key flags differ from the new key, which wins.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*as primary_key=True, not matching", category=SAWarning
            )
            with op.batch_alter_table(table, schema="report", recreate="always") as batch:
                batch.add_column(_column())
                batch.create_primary_key(f"{table}_pkey", [*key, "reporting_unit"])
    # New rows always name their unit.
    with op.batch_alter_table(table, schema="report") as batch:
        batch.alter_column("reporting_unit", existing_type=sa.String(64), server_default=None)


def _drop_unit_from_key(table: str, key: tuple[str, ...]) -> None:
    # Only the district's rows fit the old keys.
    op.execute(
        sa.text(f"DELETE FROM report.{table} WHERE reporting_unit <> :unit").bindparams(unit=EXISTING_UNIT)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(f"{table}_pkey", table, type_="primary", schema="report")
        op.create_primary_key(f"{table}_pkey", table, list(key), schema="report")
    with op.batch_alter_table(table, schema="report", recreate="auto") as batch:
        batch.drop_column("reporting_unit")


def upgrade() -> None:
    for table, key in PRIMARY_KEYS.items():
        _add_unit_to_key(table, key)

    op.create_table(
        "admin_unit",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(16)),
        sa.Column("successors", sa.Text()),
        sa.Column("aliases", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", "valid_from"),
        schema="ref",
    )
    op.create_table(
        "reporting_unit",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("admin_unit", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(64)),
        sa.Column("schedule", sa.String(16), nullable=False),
        sa.Column("emails", sa.Text()),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("letterhead", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", "valid_from"),
        schema="ref",
    )
    op.create_table(
        "school_unit",
        sa.Column("school_code", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("reporting_unit", sa.String(64), nullable=False),
        sa.Column("basis", sa.Text()),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("school_code", "valid_from"),
        schema="ref",
    )


def downgrade() -> None:
    for name in ("school_unit", "reporting_unit", "admin_unit"):
        op.drop_table(name, schema="ref")
    for table, key in PRIMARY_KEYS.items():
        _drop_unit_from_key(table, key)
