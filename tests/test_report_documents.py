"""The fortnightly report's documents: the district's Excel report and its Markdown/HTML twin,
the restricted per-school lists, and the district email through a real SMTP server.

The warehouse state is built by hand (rows inserted into the report, ops and restricted
tables), so every expected number below comes from this file's own construction.
"""

from __future__ import annotations

import dataclasses
import json
import re
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, select, update

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.mail import send_pending
from chuyencan.core.reference import Reference, load_reference
from chuyencan.core.schema import case_verdict, fortnight_summary, student_risk
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.orchestration.smtp import airflow_smtp_sender
from chuyencan.report.early_warning import RULES
from chuyencan.report.email import queue_district_report
from chuyencan.report.excel import write_report
from chuyencan.report.files import ReportFiles
from chuyencan.report.lists import reason_labels, write_school_risk_lists
from tests.helpers import SUMMARY_COLUMNS
from tests.workbook_snapshot import golden, workbook_snapshot

REPORT = date(2025, 4, 4)
WEEK_1, WEEK_2 = date(2025, 3, 28), date(2025, 4, 4)
EARLIER = date(2025, 3, 21)
DISTRICT_EMAIL = "pgd.batxat@example.org"

# Text that a spreadsheet would run as a formula, as a school could type it into a name.
INJECTED_SCHOOL_NAME = '=HYPERLINK("http://evil.example/x","Bấm vào đây")'
INJECTED_SCHOOL_NAME_2 = "+cmd|' /C calc'!A0"
INJECTED_COMMUNE = "@SUM(1+1)*cmd"

# --- the scenario -----------------------------------------------------------------------------

COLUMNS = SUMMARY_COLUMNS


def _figures(*values: float | None) -> dict[str, Any]:
    assert len(values) == len(COLUMNS)
    return dict(zip(COLUMNS, values, strict=True))


# scope -> key -> the 20 numbers, in docs/contracts.md#5-warehouse order. Distinct values so a
# misplaced column shows.
SUMMARY: dict[tuple[str, str], dict[str, Any]] = {
    ("district", "BAT_XAT"): _figures(
        14, 20, 3, 4, 1, 6789, 0.9734, 159, 12, 7, 31, 45, 76, 23, 41, 95, 101, 58, 9, 37
    ),
    ("level", "THCS"): _figures(
        11, 16, 2, 3, 1, 4321, 0.982, 83, 5, 3, 17, 20, 43, 11, 22, 50, 60, 23, 4, 21
    ),
    ("level", "THPT"): _figures(4, 6, 1, 1, 0, 2468, 0.961, 76, 7, 4, 14, 25, 33, 12, 19, 45, 41, 35, 5, 16),
    ("commune", "Y Tý"): _figures(1, 2, 0, 0, 0, 512, 0.95, 13, 2, 1, 3, 4, 5, 6, 4, 3, 8, 5, 1, 6),
    ("commune", INJECTED_COMMUNE): _figures(0, 0, 0, 0, 0, None, None, 2, 0, 0, 1, 1, 0, 0, 0, 2, 1, 1, 0, 0),
    ("school", "BX-YTY"): _figures(1, 1, 1, 0, 0, 512, 0.95, 13, 2, 1, 3, 4, 5, 6, 4, 3, 8, 5, 1, 6),
    ("school", "BX-SMS"): _figures(1, 0, 0, 1, 1, 300, 0.9, 4, 0, 0, 1, 1, 2, 0, 0, 4, 2, 2, 0, 3),
}

# Weekly attendance: (week, school, level, grade, scheduled, excused, unexcused).
ATTENDANCE = [
    (EARLIER, "BX-YTY", "THCS", 6, 1000, 30, 20),
    (WEEK_1, "BX-YTY", "THCS", 6, 1000, 10, 10),
    (WEEK_1, "BX-SMS", "THCS", 7, 500, 5, 15),
    (WEEK_2, "BX-YTY", "THCS", 6, 800, 8, 0),
    (WEEK_2, "BX-SMS", "THCS", 7, 400, 0, 0),
]
# District rates, worked out by hand from the rows above.
EXPECTED_RATES = {EARLIER: 1 - 50 / 1000, WEEK_1: 1 - 40 / 1500, WEEK_2: 1 - 8 / 1200}

# Submission statuses of the fortnight (school, week, status, received_at, errors).
STATUSES = [
    ("BX-YTY", WEEK_1, "on_time", datetime(2025, 3, 28, 2, 0, tzinfo=UTC), 0),
    ("BX-YTY", WEEK_2, "late", datetime(2025, 4, 4, 5, 12, tzinfo=UTC), 0),  # 12:12 in Vietnam
    ("BX-SMS", WEEK_1, "missing", None, 0),
    ("BX-SMS", WEEK_2, "rejected", datetime(2025, 4, 4, 1, 0, tzinfo=UTC), 3),
]


@dataclasses.dataclass(frozen=True)
class Student:
    key: str
    name: str
    personal_id: str | None
    school: str
    week: date  # the list it is on
    status: str
    sessions: int
    first_day: date | None = None
    reasons: str | None = None  # flagged at risk on the report date with these rules


# Lists: BX-YTY sent lists for EARLIER and WEEK_1 (none for WEEK_2), BX-SMS for WEEK_1 and WEEK_2.
STUDENTS = [
    Student("k-yty-1", "Giàng A Páo", "010209001234", "BX-YTY", EARLIER, "bo_hoc", 50, date(2025, 2, 10)),
    Student("k-yty-2", "Sùng Thị Mỷ", "010309005678", "BX-YTY", EARLIER, "bo_hoc", 20, date(2024, 11, 4)),
    Student("k-yty-1", "Giàng A Páo", "010209001234", "BX-YTY", WEEK_1, "bo_hoc", 52, date(2025, 2, 10)),
    Student("k-yty-2", "Sùng Thị Mỷ", "010309005678", "BX-YTY", WEEK_1, "bo_hoc", 22, date(2024, 11, 4)),
    Student("k-yty-3", "Lý Seo Chứ", None, "BX-YTY", WEEK_1, "bo_hoc", 60, date(2025, 3, 3)),
    Student(
        "k-yty-4",
        "Thào Thị Dung",
        "010310004321",
        "BX-YTY",
        WEEK_1,
        "nguy_co",
        30,
        None,
        "school_flag,approaching_limit",
    ),
    Student("k-yty-5", "Vàng A Sình", None, "BX-YTY", WEEK_1, "vang_dai_ngay", 14, None, "chronic_absence"),
    Student("k-sms-1", "Tẩn Láo Lở", None, "BX-SMS", WEEK_1, "bo_hoc", 10, date(2025, 3, 10)),
    Student("k-sms-1", "Tẩn Láo Lở", None, "BX-SMS", WEEK_2, "bo_hoc", 12, date(2025, 3, 10)),
    Student("k-sms-2", "Chảo Mẩy Phin", "010311007777", "BX-SMS", WEEK_2, "bo_hoc", 8, date(2025, 3, 31)),
    Student(
        "k-sms-3",
        "Phàn Văn Lìn",
        None,
        "BX-SMS",
        WEEK_2,
        "nguy_co",
        5,
        None,
        "sibling_dropout,rising_absence",
    ),
]
# Open dropouts on each Friday (each school's latest list so far), counted by hand:
# 21/03: YTY 2; 28/03: YTY 3 + SMS 1 = 4; 04/04: YTY 3 (list of 28/03) + SMS 2 = 5.
# The published summary says 159 on 04/04, and the chart ends on the published figure.
EXPECTED_OPEN = {EARLIER: 2, WEEK_1: 4, WEEK_2: 159}
PERSONAL = [s.name for s in STUDENTS] + [s.personal_id for s in STUDENTS if s.personal_id]


def _reference() -> Reference:
    ref = load_reference()
    schools = dict(ref.schools)
    schools["BX-YTY"] = dataclasses.replace(schools["BX-YTY"], name=INJECTED_SCHOOL_NAME)
    schools["BX-SMS"] = dataclasses.replace(schools["BX-SMS"], name=INJECTED_SCHOOL_NAME_2)
    return Reference(schools=schools, communes=ref.communes, years=ref.years)


def _build(engine: Engine) -> None:
    wh.ensure_schema(engine)
    submission_ids: dict[tuple[str, date], int] = {}
    with engine.begin() as conn:
        conn.execute(
            fortnight_summary.insert(),
            [
                {"report_date": REPORT, "reporting_unit": "BAT_XAT", "scope": s, "scope_key": k, **v}
                for (s, k), v in SUMMARY.items()
            ],
        )
        conn.execute(
            schema.report_attendance_weekly.insert(),
            [
                {
                    "week_ending": w,
                    "school_code": code,
                    "commune": "Y Tý",
                    "level": level,
                    "grade": grade,
                    "classes": 2,
                    "enrolled": scheduled // 5,
                    "student_days_scheduled": scheduled,
                    "absent_excused": exc,
                    "absent_unexcused": unexc,
                    "attendance_rate": 1 - (exc + unexc) / scheduled,
                    "reporting_unit": "BAT_XAT",
                }
                for w, code, level, grade, scheduled, exc, unexc in ATTENDANCE
            ],
        )
        conn.execute(
            schema.report_submission_status.insert(),
            [
                {
                    "school_code": code,
                    "week_ending": w,
                    "status": status,
                    "received_at": received,
                    "version": 1 if status in ("on_time", "late") else 0,
                    "error_count": errors,
                    "reporting_unit": "BAT_XAT",
                }
                for code, w, status, received, errors in STATUSES
            ],
        )
        for n, (code, week) in enumerate(sorted({(s.school, s.week) for s in STUDENTS}), start=1):
            submission_ids[(code, week)] = 100 + n
            conn.execute(
                schema.ops_current_submission.insert().values(
                    school_code=code, week_ending=week, submission_id=100 + n
                )
            )
        conn.execute(
            schema.restricted_student_entry.insert(),
            [
                {
                    "submission_id": submission_ids[(s.school, s.week)],
                    "school_code": s.school,
                    "week_ending": s.week,
                    "source_row": row,
                    "student_key": s.key,
                    "personal_id": s.personal_id,
                    "full_name": s.name,
                    "birth_date": date(2011, 5, 17),
                    "sex": "F" if "Thị" in s.name else "M",
                    "ethnicity": "Mông",
                    "grade": 7,
                    "class_name": "7A",
                    "commune": "Y Tý",
                    "village": "Lao Chải",
                    "parent_name": "Giàng A Lử",
                    "status": s.status,
                    "first_day_missed": s.first_day,
                    "sessions_missed": s.sessions,
                    "reason_code": "di_lam_an_xa" if s.status == "bo_hoc" else None,
                    "reason_text": None,
                    "destination": "Khu công nghiệp Bắc Ninh" if s.status == "bo_hoc" else None,
                }
                for row, s in enumerate(STUDENTS, start=5)
            ],
        )
        conn.execute(
            student_risk.insert(),
            [
                {
                    "report_date": REPORT,
                    "student_key": s.key,
                    "school_code": s.school,
                    "grade": 7,
                    "level": "THCS",
                    "commune": "Y Tý",
                    "reasons": s.reasons,
                    "sessions_missed": s.sessions,
                }
                for s in STUDENTS
                if s.reasons
            ],
        )
        conn.execute(
            case_verdict.insert().values(
                student_key="k-yty-1",
                school_code="BX-YTY",
                verdict="left_locality",
                decided_by="auto",
                decided_at=datetime(2025, 4, 3, tzinfo=UTC),
            )
        )


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    eng = wh.make_engine(warehouse_url)
    _build(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def report(engine: Engine, tmp_path: Path) -> ReportFiles:
    return write_report(engine, REPORT, tmp_path / "reports", _reference())


# --- helpers ----------------------------------------------------------------------------------------


def _find(ws: Any, text: str) -> tuple[int, int]:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.row, cell.column
    raise AssertionError(f"no cell {text!r} on sheet {ws.title}")


def _column_of(ws: Any, header: str) -> int:
    return _find(ws, header)[1]


def _xlsx_text(path: Path, prefix: str = "") -> str:
    """Every XML part of a workbook (under a prefix), as text: what a reader of the file could see."""
    with zipfile.ZipFile(path) as z:
        return "".join(
            z.read(n).decode("utf-8")
            for n in z.namelist()
            if n.startswith(prefix) and n.endswith((".xml", ".rels"))
        )


def _assert_no_personal_data(text: str, where: str) -> None:
    leaked = [value for value in PERSONAL if value in text]
    # Report counts only: the values themselves must not reach test output either.
    assert not leaked, f"{len(leaked)} personal values found in {where}"


# --- the district report -----------------------------------------------------------------------------


def test_report_files_open_with_openpyxl_and_calamine(report: ReportFiles, tmp_path: Path) -> None:
    assert report.xlsx == tmp_path / "reports" / "bao_cao_chuyen_can_2025-04-04.xlsx"
    assert report.markdown.name == "bao_cao_chuyen_can_2025-04-04.md"
    assert report.html.name == "bao_cao_chuyen_can_2025-04-04.html"
    wb = load_workbook(report.xlsx)
    expected_sheets = [
        "Tổng hợp",
        "Theo cấp học",
        "Theo xã",
        "Theo trường",
        "Nguyên nhân, nơi đến",
        "Nộp báo cáo",
        "Biểu đồ",
        "Đi làm (Nội vụ)",  # the Home Affairs office's counts (docs/offices.md)
        "Công an xã gửi dữ liệu",  # the police rounds
    ]
    assert wb.sheetnames == expected_sheets
    calamine = CalamineWorkbook.from_path(str(report.xlsx))
    assert calamine.sheet_names == expected_sheets
    summary = calamine.get_sheet_by_name("Tổng hợp").to_python()
    flat = [v for row in summary for v in row]
    assert "BÁO CÁO TÌNH HÌNH CHUYÊN CẦN VÀ HỌC SINH BỎ HỌC" in flat
    assert 159 in flat  # open dropouts, district


def test_the_district_workbook_is_the_one_written_before_the_organisation_became_data(
    report: ReportFiles,
) -> None:
    """Every sheet's cells, merged ranges and the document properties of Bát Xát's report, as
    the code before issue 12 wrote them from issuer.json (tests/golden/district_report_2025-04-04.json);
    the letterhead now comes from include/reference/reporting_units.json."""
    snapshot = workbook_snapshot(report.xlsx)
    # Issue 13 adds the Home Affairs and police sheets after the report's own (docs/offices.md);
    # everything else is as it was.
    added = ["Đi làm (Nội vụ)", "Công an xã gửi dữ liệu"]
    assert snapshot["order"][-len(added) :] == added
    snapshot["order"] = snapshot["order"][: -len(added)]
    for name in added:
        del snapshot["sheets"][name]
    assert snapshot == golden("district_report_2025-04-04.json")
    _assert_no_personal_data(json.dumps(snapshot, ensure_ascii=False), "the golden snapshot")


def test_summary_sheet_is_an_official_vietnamese_report(report: ReportFiles) -> None:
    ws = load_workbook(report.xlsx)["Tổng hợp"]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for heading in (
        "UBND HUYỆN BÁT XÁT",
        "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO TÌNH HÌNH CHUYÊN CẦN VÀ HỌC SINH BỎ HỌC",
        "Bát Xát, ngày 04 tháng 4 năm 2025",
        "Ngày báo cáo: 04/04/2025 – năm học 2024-2025",
        # The fortnight: the Saturday after the last report Friday to this one.
        "Kỳ báo cáo: từ ngày 22/03/2025 đến ngày 04/04/2025 (các tuần kết thúc ngày 28/03/2025 và 04/04/2025)",
        "Nơi nhận:",
        "TRƯỞNG PHÒNG",
    ):
        assert heading in texts, heading
    assert ws.page_setup.orientation == "portrait"  # a long table: causes, workplaces, destinations
    assert int(ws.page_setup.paperSize) == 9  # A4
    # Scaled so that page 1 holds the header block and the whole table.
    assert 50 <= int(ws.page_setup.scale) <= 100
    header_row = _find(ws, "Nội dung")[0]
    assert ws.cell(header_row, 1).font.b
    # Page 1 ends with the table; notes and signatures are on page 2.
    [page_break] = ws.row_breaks.brk
    assert ws.cell(page_break.id, 2).value == "Học sinh có nguy cơ bỏ học"
    assert _find(ws, "Ghi chú:")[0] > page_break.id


# Summary sheet line -> the district's value, its share, and THCS / THPT, all from SUMMARY.
SUMMARY_LINES = {
    "Số trường phải báo cáo": ("schools_expected", None),
    "Số lần phải nộp (mỗi trường, mỗi tuần một lần)": (None, None),  # 20 + 3 + 4 + 1
    "- Nộp đúng hạn": ("submissions_on_time", 20 / 28),
    "- Nộp muộn": ("submissions_late", 3 / 28),
    "- Chưa nộp": ("submissions_missing", 4 / 28),
    "- Bị trả lại, chưa có bản đạt yêu cầu": ("submissions_rejected", 1 / 28),
    "Sĩ số học sinh (tuần gần nhất)": ("enrolled", None),
    "Tỷ lệ chuyên cần bình quân 2 tuần": ("attendance_rate", None),
    "Tổng số học sinh bỏ học chưa trở lại": ("dropouts_open", None),
    "- Trong đó: mới bỏ học trong kỳ báo cáo": ("dropouts_new", 12 / 159),
    "- Trong hè": ("dropouts_summer", 7 / 159),
    "- Học kỳ I": ("dropouts_hk1", 31 / 159),
    "- Học kỳ II, trước Tết": ("dropouts_hk2", 45 / 159),
    "- Sau Tết": ("dropouts_after_tet", 76 / 159),
    "- Đã rời khỏi địa phương": ("left_locality", 23 / 159),
    "- Còn ở địa phương": ("in_locality", 41 / 159),
    "- Chưa xác minh được": ("unverified", 95 / 159),
    # No primary dropouts in this summary: the secondary line is every eligible one.
    "- Đủ điều kiện lên lớp (THCS, THPT: nghỉ không quá 45 buổi)": ("eligible_to_continue", 101 / 159),
    "- Không đủ điều kiện lên lớp (THCS, THPT: nghỉ quá 45 buổi)": ("not_eligible", 58 / 159),
    "Học sinh đã trở lại lớp trong kỳ báo cáo": ("returned", None),
    "Học sinh có nguy cơ bỏ học": ("at_risk", None),
}


def test_summary_numbers_are_the_published_ones(report: ReportFiles) -> None:
    ws = load_workbook(report.xlsx)["Tổng hợp"]
    header = _find(ws, "Nội dung")[0]
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    assert list(columns) == [
        "STT",
        "Nội dung",
        "Toàn huyện",
        "Tỷ lệ",
        "Kỳ trước (21/03/2025)",
        "Tăng (+), giảm (-)",
        "Cấp THCS",
        "Cấp THPT",
    ]
    district, thcs, thpt = (
        SUMMARY[k] for k in (("district", "BAT_XAT"), ("level", "THCS"), ("level", "THPT"))
    )
    for text, (field, ratio) in SUMMARY_LINES.items():
        row = _find(ws, text)[0]
        value = ws.cell(row, columns["Toàn huyện"]).value
        if field is None:
            assert value == 28
            continue
        assert value == pytest.approx(district[field]), text
        assert ws.cell(row, columns["Cấp THCS"]).value == pytest.approx(thcs[field]), text
        assert ws.cell(row, columns["Cấp THPT"]).value == pytest.approx(thpt[field]), text
        share = ws.cell(row, columns["Tỷ lệ"]).value
        assert (share is None) if ratio is None else share == pytest.approx(ratio), text
        expected_format = "0.0%" if field == "attendance_rate" else "#,##0"
        assert ws.cell(row, columns["Toàn huyện"]).number_format == expected_format, text
    completeness_row = _find(ws, "Tỷ lệ báo cáo đầy đủ (đúng hạn và muộn)")[0]
    assert ws.cell(completeness_row, 3).value == pytest.approx(23 / 28)


# Table header (second header row, or the merged one) -> field; checked on every scope sheet.
TABLE_HEADERS = {
    "Sĩ số (tuần gần nhất)": "enrolled",
    "Tỷ lệ chuyên cần 2 tuần": "attendance_rate",
    "Tổng số": "dropouts_open",
    "Mới bỏ học trong kỳ": "dropouts_new",
    "Trong hè": "dropouts_summer",
    "Học kỳ I": "dropouts_hk1",
    "Học kỳ II, trước Tết": "dropouts_hk2",
    "Sau Tết": "dropouts_after_tet",
    "Đã rời địa phương": "left_locality",
    "Còn ở địa phương": "in_locality",
    "Chưa xác minh": "unverified",
    "Đủ điều kiện lên lớp (THCS, THPT) hoặc tiểu học": "eligible_to_continue",
    "Không đủ điều kiện lên lớp (nghỉ quá 45 buổi)": "not_eligible",
    "Đã trở lại trong kỳ": "returned",
    "Có nguy cơ bỏ học": "at_risk",
}


@pytest.mark.parametrize(
    ("sheet", "label_column", "rows"),
    [
        (
            "Theo cấp học",
            "Cấp học",
            {"Trung học cơ sở": ("level", "THCS"), "Trung học phổ thông": ("level", "THPT")},
        ),
        (
            "Theo xã",
            "Xã, thị trấn",
            {"Y Tý": ("commune", "Y Tý"), INJECTED_COMMUNE: ("commune", INJECTED_COMMUNE)},
        ),
        ("Theo trường", "Mã trường", {"BX-YTY": ("school", "BX-YTY"), "BX-SMS": ("school", "BX-SMS")}),
    ],
)
def test_scope_tables_hold_every_column_of_the_summary(
    report: ReportFiles, sheet: str, label_column: str, rows: dict[str, tuple[str, str]]
) -> None:
    ws = load_workbook(report.xlsx)[sheet]
    label_col = _column_of(ws, label_column)
    header_rows = {_find(ws, label_column)[0], _find(ws, label_column)[0] + 1}
    columns = {
        ws.cell(r, c).value: c
        for r in header_rows
        for c in range(1, ws.max_column + 1)
        if ws.cell(r, c).value
    }
    assert set(TABLE_HEADERS) <= set(columns)
    found = {}
    for r in range(max(header_rows) + 1, ws.max_row + 1):
        label = ws.cell(r, label_col).value
        if label in rows:
            found[label] = r
        if ws.cell(r, 1).value == "Toàn huyện":
            found["Toàn huyện"] = r
    assert set(found) == {*rows, "Toàn huyện"}
    for label, key in {**rows, "Toàn huyện": ("district", "BAT_XAT")}.items():
        for header, field in TABLE_HEADERS.items():
            assert ws.cell(found[label], columns[header]).value == pytest.approx(SUMMARY[key][field]), (
                label,
                header,
            )
    assert ws.freeze_panes is not None
    assert ws.print_title_rows is not None
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.fitToWidth) == 1


def test_completeness_sheet_by_school(report: ReportFiles) -> None:
    ws = load_workbook(report.xlsx)["Nộp báo cáo"]
    yty_row = _find(ws, "BX-YTY")[0]
    sms_row = _find(ws, "BX-SMS")[0]
    week_1 = _column_of(ws, "Tuần kết thúc 28/03/2025")
    week_2 = _column_of(ws, "Tuần kết thúc 04/04/2025")
    assert ws.cell(yty_row, week_1).value == "Đúng hạn"
    assert ws.cell(yty_row, week_2).value == "Nộp muộn (04/04 12:12)"
    assert ws.cell(sms_row, week_1).value == "Chưa nộp"
    assert ws.cell(sms_row, week_2).value == "Bị trả lại (3 lỗi)"
    counts = [_column_of(ws, h) for h in ("Đúng hạn", "Nộp muộn", "Chưa nộp", "Bị trả lại")]
    assert [ws.cell(yty_row, c).value for c in counts] == [1, 1, 0, 0]
    assert [ws.cell(sms_row, c).value for c in counts] == [0, 0, 1, 1]
    # Every active school is listed; those with no status row show a dash.
    quang_kim = _find(ws, "BX-THCS-QK")[0]
    assert ws.cell(quang_kim, week_1).value == "—"
    total = _find(ws, "Toàn huyện (số lần nộp)")[0]
    assert [ws.cell(total, c).value for c in counts] == [20, 3, 4, 1]


def test_chart_of_the_school_year_references_its_data(report: ReportFiles) -> None:
    ws = load_workbook(report.xlsx)["Biểu đồ"]
    header = _find(ws, "Tuần kết thúc")[0]
    weeks = {}
    r = header + 1
    while ws.cell(r, 1).value is not None:
        weeks[ws.cell(r, 1).value.date()] = r
        r += 1
    first, last = header + 1, r - 1
    # The school year from its first Friday to the report date, one row per school week.
    assert min(weeks) == date(2024, 9, 6)
    assert max(weeks) == REPORT
    for week, rate in EXPECTED_RATES.items():
        assert ws.cell(weeks[week], 3).value == pytest.approx(rate)
    for week, count in EXPECTED_OPEN.items():
        assert ws.cell(weeks[week], 4).value == count
    assert ws.cell(weeks[date(2025, 3, 14)], 4).value is None  # no list yet
    assert ws.cell(weeks[date(2025, 3, 14)], 3).value is None  # no attendance yet

    [chart] = ws._charts
    with zipfile.ZipFile(report.xlsx) as z:
        [chart_xml] = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    sheet = "'Biểu đồ'"
    assert f"{sheet}!$D${first}:$D${last}" in chart_xml  # bars: open dropouts
    assert f"{sheet}!$C${first}:$C${last}" in chart_xml  # line: attendance rate
    assert f"{sheet}!$B${first}:$B${last}" in chart_xml  # categories: the weeks
    assert "<barChart>" in chart_xml
    assert "<lineChart>" in chart_xml
    assert chart is not None


def test_formula_injection_comes_out_as_text(report: ReportFiles) -> None:
    wb = load_workbook(report.xlsx)
    injected = {INJECTED_SCHOOL_NAME, INJECTED_SCHOOL_NAME_2, INJECTED_COMMUNE}
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {ws.title}!{cell.coordinate}"
                if cell.value in injected:
                    assert cell.data_type == "s"
                    assert cell.quotePrefix
                    seen.add(cell.value)
    assert seen == injected
    # No formula element anywhere in the file, whatever reads it.
    assert "<f>" not in _xlsx_text(report.xlsx, "xl/worksheets/")
    calamine = CalamineWorkbook.from_path(str(report.xlsx))
    values = {v for row in calamine.get_sheet_by_name("Theo trường").to_python() for v in row}
    assert {INJECTED_SCHOOL_NAME, INJECTED_SCHOOL_NAME_2} <= values


def test_district_report_files_hold_no_personal_data(report: ReportFiles) -> None:
    _assert_no_personal_data(_xlsx_text(report.xlsx), "the Excel report")
    _assert_no_personal_data(report.markdown.read_text(encoding="utf-8"), "the Markdown twin")
    _assert_no_personal_data(report.html.read_text(encoding="utf-8"), "the HTML twin")


def test_markdown_and_html_twins_carry_the_same_tables(report: ReportFiles) -> None:
    md = report.markdown.read_text(encoding="utf-8")
    html = report.html.read_text(encoding="utf-8")
    assert "# BÁO CÁO TÌNH HÌNH CHUYÊN CẦN VÀ HỌC SINH BỎ HỌC" in md
    # No report a fortnight earlier in this warehouse: the previous figure and the change are "—".
    assert "| 6 | Tổng số học sinh bỏ học chưa trở lại | 159 |  | — | — | 83 | 76 |\n" in md
    assert "| 1 | Trung học cơ sở | 11 | 4.321 | 98,2% | 83 |" in md
    # Markdown's table syntax in a name is escaped, not interpreted.
    assert "+cmd\\|' /C calc'!A0" in md
    assert '<html lang="vi">' in html
    assert "Bát Xát, ngày 04 tháng 4 năm 2025" in html
    assert "<td" in html
    assert "159" in html
    # Names are escaped in HTML.
    assert "=HYPERLINK(&#34;http://evil.example/x&#34;,&#34;Bấm vào đây&#34;)" in html
    for text in ("Biểu 1.", "Biểu 2.", "Biểu 3.", "Biểu 4.", "Biểu 5."):
        assert text in md
        assert text in html


def test_rerun_gives_the_same_twin(engine: Engine, tmp_path: Path) -> None:
    first = write_report(engine, REPORT, tmp_path / "a", _reference())
    second = write_report(engine, REPORT, tmp_path / "b", _reference())
    assert first.markdown.read_bytes() == second.markdown.read_bytes()
    assert first.html.read_bytes() == second.html.read_bytes()


def test_public_variant_hides_small_counts(engine: Engine) -> None:
    from chuyencan.report.content import load_content
    from chuyencan.report.excel import build_workbook
    from chuyencan.report.markdown import render_twin

    content = load_content(engine, REPORT, _reference())
    public = render_twin(content, suppress_small=True).markdown
    internal = render_twin(content).markdown
    # BX-SMS has 4 open dropouts and 3 at risk: shown internally, hidden in public.
    sms_internal = next(line for line in internal.splitlines() if "| BX-SMS |" in line)
    sms_public = next(line for line in public.splitlines() if "| BX-SMS |" in line)
    assert "| 4 |" in sms_internal
    assert "\\<5" in sms_public
    assert "| 4 |" not in sms_public
    ws = build_workbook(content, suppress_small=True)["Theo trường"]
    row = _find(ws, "BX-SMS")[0]
    assert "<5" in [ws.cell(row, c).value for c in range(1, ws.max_column + 1)]


# --- restricted lists ------------------------------------------------------------------------------


def test_school_lists_are_restricted_and_hold_only_that_schools_students(
    engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    paths = write_school_risk_lists(engine, REPORT, out, _reference())

    assert sorted(p.name for p in paths) == [
        "danh_sach_hoc_sinh_BX-SMS_2025-04-04.xlsx",
        "danh_sach_hoc_sinh_BX-YTY_2025-04-04.xlsx",
    ]
    assert stat.S_IMODE((out / "restricted").stat().st_mode) == 0o700
    for path in paths:
        assert path.parent == out / "restricted"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lists = {p.name.split("_")[4]: load_workbook(p) for p in paths}

    key_of = {s.name: s.key for s in STUDENTS}

    def keys(ws: Any) -> set[str]:
        """The students a sheet lists, as keys: a failing assert then shows no names."""
        col = _column_of(ws, "Họ và tên")
        start = _find(ws, "Họ và tên")[0] + 1
        names = [ws.cell(r, col).value for r in range(start, ws.max_row + 1) if ws.cell(r, col).value]
        assert len(names) == len(set(names))
        return {key_of.get(n, "?") for n in names}

    yty, sms = lists["BX-YTY"], lists["BX-SMS"]
    # At risk on the report date, from each school's latest list (YTY: 28/03; SMS: 04/04).
    assert keys(yty["Nguy cơ bỏ học"]) == {"k-yty-4", "k-yty-5"}
    assert keys(sms["Nguy cơ bỏ học"]) == {"k-sms-3"}
    assert keys(yty["Bỏ học"]) == {"k-yty-1", "k-yty-2", "k-yty-3"}
    assert keys(sms["Bỏ học"]) == {"k-sms-1", "k-sms-2"}

    ws = yty["Nguy cơ bỏ học"]
    row = _find(ws, "Thào Thị Dung")[0]
    reasons = ws.cell(row, _column_of(ws, "Lý do cảnh báo")).value
    assert "Nhà trường đánh giá có nguy cơ bỏ học" in reasons
    assert "gần tới giới hạn 45 buổi" in reasons
    ws = yty["Bỏ học"]
    eligibility = _column_of(ws, "Điều kiện lên lớp (giới hạn 45 buổi)")
    by_name = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1)}
    assert ws.cell(by_name["Giàng A Páo"], eligibility).value == "Không đủ điều kiện"  # 52 sessions
    assert ws.cell(by_name["Sùng Thị Mỷ"], eligibility).value == "Đủ điều kiện"  # 22
    assert ws.cell(by_name["Lý Seo Chứ"], eligibility).value == "Không đủ điều kiện"  # 60
    when = _column_of(ws, "Thời điểm bỏ học")
    assert ws.cell(by_name["Giàng A Páo"], when).value == "Sau Tết"  # 10/02/2025
    assert ws.cell(by_name["Sùng Thị Mỷ"], when).value == "Học kỳ I"  # 04/11/2024
    verdict = _column_of(ws, "Kết quả xác minh của công an xã")
    assert ws.cell(by_name["Giàng A Páo"], verdict).value == "Đã rời khỏi địa phương"
    assert ws.cell(by_name["Sùng Thị Mỷ"], verdict).value == "Chưa xác minh"


def test_school_lists_rerun_drops_schools_no_longer_listed(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    write_school_risk_lists(engine, REPORT, out, _reference())
    with engine.begin() as conn:
        conn.execute(student_risk.delete().where(student_risk.c.school_code == "BX-SMS"))
        # Nobody left in any of the four parts (a returned student is one of them: the list says so).
        conn.execute(
            update(schema.restricted_student_entry)
            .where(schema.restricted_student_entry.c.school_code == "BX-SMS")
            .values(status="nguy_co")
        )
    paths = write_school_risk_lists(engine, REPORT, out, _reference())
    assert [p.name for p in paths] == ["danh_sach_hoc_sinh_BX-YTY_2025-04-04.xlsx"]
    assert sorted(p.name for p in (out / "restricted").iterdir()) == [p.name for p in paths]


def test_every_risk_rule_has_vietnamese_reasons() -> None:
    labels = reason_labels(RULES, max_sessions=45)
    assert len(labels) == len(RULES)
    assert all(label not in RULES for label in labels)


# --- the district email ------------------------------------------------------------------------------


@pytest.fixture
def smtp(smtp_sink: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_sink.port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
    return smtp_sink


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        inbox=tmp_path / "inbox",
        work_dir=tmp_path / "work",
        warehouse_url=url,
        district_emails=(DISTRICT_EMAIL,),
    )


def test_district_email_arrives_with_the_report_and_is_queued_once(
    engine: Engine, report: ReportFiles, smtp: Any, tmp_path: Path, warehouse_url: str
) -> None:
    settings = _settings(tmp_path, warehouse_url)
    assert queue_district_report(engine, settings, REPORT, report) is True
    assert queue_district_report(engine, settings, REPORT, report) is False  # same data: same key

    sent = send_pending(engine, airflow_smtp_sender(), now=datetime(2025, 4, 4, 15, 1, tzinfo=TIMEZONE))
    assert (sent.sent, sent.failed) == (1, 0)
    [message] = smtp.messages()
    assert message["To"].addresses[0].addr_spec == DISTRICT_EMAIL
    assert message["Subject"].startswith(
        "[Chuyên cần] Báo cáo tình hình chuyên cần và học sinh bỏ học ngày 04/04/2025"
    )
    assert "159 học sinh bỏ học chưa trở lại" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "bao_cao_chuyen_can_2025-04-04.xlsx"
    assert attachment.get_content() == report.xlsx.read_bytes()
    body = message.get_body(("html",)).get_content()
    assert "Kính gửi: <strong>Lãnh đạo Phòng Giáo dục và Đào tạo huyện Bát Xát</strong>" in body
    assert "Tổng số học sinh bỏ học chưa trở lại" in body  # the summary table
    assert "Bị trả lại (3 lỗi)" in body  # schools to chase
    _assert_no_personal_data(body, "the email body")
    _assert_no_personal_data(attachment.get_content().decode("latin-1"), "the attachment bytes")
    with engine.begin() as conn:
        [row] = conn.execute(select(schema.ops_email_outbox)).all()
    _assert_no_personal_data(row.body_text + row.body_html + row.subject, "the outbox row")
    assert re.fullmatch(r"fortnightly_report:2025-04-04:[0-9a-f]{16}", row.dedup_key)

    # Late files changed the figures: the rerun's report is a new email.
    with engine.begin() as conn:
        conn.execute(
            update(fortnight_summary).where(fortnight_summary.c.scope == "district").values(dropouts_open=160)
        )
    again = write_report(engine, REPORT, tmp_path / "reports", _reference())
    assert queue_district_report(engine, settings, REPORT, again) is True


def test_no_district_address_queues_nothing(engine: Engine, report: ReportFiles, tmp_path: Path) -> None:
    settings = dataclasses.replace(_settings(tmp_path, "sqlite://"), district_emails=())
    assert queue_district_report(engine, settings, REPORT, report) is False
    with engine.begin() as conn:
        assert conn.execute(select(schema.ops_email_outbox)).all() == []
