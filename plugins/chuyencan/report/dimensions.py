"""The vocabulary of report.fortnight_breakdown (docs/contracts.md#5-warehouse; docs/report-figures.md): its
dimensions, their categories in the report's order, what each adds up to, and the commune key
of what has no known commune. The table itself is in chuyencan.core.schema."""

from __future__ import annotations

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
# Whether a commune's home visit verified the dropout (docs/verification.md).
LOCAL_VERIFICATION = ("da_xac_minh", "chua_xac_minh")
BREAKDOWN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "cause": CAUSES,
    "grade": tuple(str(g) for g in range(1, 13)),
    "left_period": LEFT_PERIODS,
    "destination": DESTINATIONS,
    "workplace_kind": WORKPLACES,
    "returned_eligibility": ELIGIBILITY,
    "local_verification": LOCAL_VERIFICATION,
}
# In report.fortnight_breakdown but not a table of the Excel report and its twins: the report
# says it in a note when there is something to say (chuyencan.report.verification_findings), so
# a unit whose communes send nothing back gets the report it always had.
NOT_IN_WORKBOOK = frozenset({"local_verification"})
# What each dimension's categories add up to, in report.fortnight_summary of the same scope.
BREAKDOWN_TOTALS: dict[str, str] = {
    "cause": "dropouts_open",
    "grade": "dropouts_open",
    "workplace_kind": "dropouts_open",
    "left_period": "left_locality",
    "destination": "left_locality",
    "returned_eligibility": "returned",
    "local_verification": "dropouts_open",
}
