"""Tables of the fortnightly report: the contract's summary (docs/contracts.md#5-warehouse) and
early warning."""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, Integer, String, Table, Text

from chuyencan.warehouse import metadata

SCOPES = ("district", "level", "commune", "school")

# docs/contracts.md#5-warehouse, in the contract's column order; aggregates only.
fortnight_summary = Table(
    "fortnight_summary",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("scope", String(8), primary_key=True),
    Column("scope_key", String(64), primary_key=True),
    Column("schools_expected", Integer, nullable=False),
    Column("submissions_on_time", Integer, nullable=False),
    Column("submissions_late", Integer, nullable=False),
    Column("submissions_missing", Integer, nullable=False),
    Column("submissions_rejected", Integer, nullable=False),
    Column("enrolled", Integer),
    Column("attendance_rate", Float),
    Column("dropouts_open", Integer, nullable=False),
    Column("dropouts_new", Integer, nullable=False),
    Column("dropouts_summer", Integer, nullable=False),
    Column("dropouts_hk1", Integer, nullable=False),
    Column("dropouts_hk2", Integer, nullable=False),
    Column("dropouts_after_tet", Integer, nullable=False),
    Column("left_locality", Integer, nullable=False),
    Column("in_locality", Integer, nullable=False),
    Column("unverified", Integer, nullable=False),
    Column("eligible_to_continue", Integer, nullable=False),
    Column("not_eligible", Integer, nullable=False),
    Column("returned", Integer, nullable=False),
    Column("at_risk", Integer, nullable=False),
    schema="report",
)

# Early warning: one row per student flagged at risk for a report date (personal: restricted).
student_risk = Table(
    "student_risk",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("level", String(4), nullable=False),
    Column("commune", Text),  # the student's home commune (resolved)
    Column("reasons", Text, nullable=False),  # rule ids, comma-separated
    Column("sessions_missed", Integer),
    schema="restricted",
)
