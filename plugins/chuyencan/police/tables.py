"""Tables of the police reconciliation. Personal data: schema `restricted` only."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Float, String, Table, Text

from chuyencan.core.warehouse import metadata
from chuyencan.police import extract_tables  # noqa: F401  (intake, review and audit tables)

VERDICTS = ("left_locality", "in_locality", "deceased", "ambiguous", "not_found", "no_police_data")

# The current verdict about each open case (a student on a school's latest list with status
# bo_hoc, vang_dai_ngay or nguy_co), keyed like restricted.student_entry.student_key. The
# fortnightly report counts left_locality / in_locality from here; anything else, or no row,
# is unverified.
case_verdict = Table(
    "case_verdict",
    metadata,
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("score", Float),  # match probability of the chosen record, when there is one
    Column("agreed", Text),  # fields that agreed, comma-separated (no values)
    Column("disagreed", Text),  # fields that disagreed, comma-separated (no values)
    Column("destination", Text),  # where the student went (left_locality only)
    Column("workplace", Text),
    Column("extract_commune", Text),
    Column("extract_round", Date),
    Column("decided_by", String(16), nullable=False),  # auto / reviewer
    Column("decided_at", DateTime(timezone=True), nullable=False),
    schema="restricted",
)
