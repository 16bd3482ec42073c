"""Tables of the fortnightly report: the contract's summary and breakdown (CONTRACTS §5), and
early warning."""

from __future__ import annotations

from sqlalchemy import Column, Date, Float, Integer, String, Table, Text

from chuyencan.warehouse import metadata

SCOPES = ("district", "level", "commune", "school")
# The commune scope's key for what has no known commune (a school without one in the reference,
# a home commune the reference does not know): counted there, never dropped.
UNKNOWN_COMMUNE = "Chưa xác định xã"

# report.fortnight_breakdown: dimension -> its categories, in the report's order
# (docs/report-figures.md says what each means and where it comes from).
CAUSES = ("kinh_te", "di_lam_an_xa", "tao_hon", "hoc_luc", "xa_truong", "gia_dinh", "khac")
LEFT_PERIODS = ("he", "hk1", "hk2", "sau_tet")
DESTINATIONS = ("trong_tinh", "ngoai_tinh", "nuoc_ngoai", "chua_ro")
WORKPLACES = ("karaoke", "nha_hang", "nha_nghi", "cong_ty", "lam_thue", "khong_ro")
ELIGIBILITY = ("du_dieu_kien", "khong_du_dieu_kien", "khong_ap_dung")
BREAKDOWN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "cause": CAUSES,
    "grade": tuple(str(g) for g in range(1, 13)),
    "left_period": LEFT_PERIODS,
    "destination": DESTINATIONS,
    "workplace_kind": WORKPLACES,
    "returned_eligibility": ELIGIBILITY,
}
# What each dimension's categories add up to, in report.fortnight_summary of the same scope.
BREAKDOWN_TOTALS: dict[str, str] = {
    "cause": "dropouts_open",
    "grade": "dropouts_open",
    "workplace_kind": "dropouts_open",
    "left_period": "left_locality",
    "destination": "left_locality",
    "returned_eligibility": "returned",
}

# CONTRACTS §5, in the contract's column order; aggregates only.
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

# CONTRACTS §5: long form, one row per report date, scope, dimension and category; counts only.
fortnight_breakdown = Table(
    "fortnight_breakdown",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("scope", String(8), primary_key=True),
    Column("scope_key", String(64), primary_key=True),
    Column("dimension", String(24), primary_key=True),
    Column("category", String(24), primary_key=True),
    Column("students", Integer, nullable=False),
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
