"""Per-school restricted lists for principals: students at risk of dropping out, open dropouts.

These files hold children's personal data (names, birth dates, villages, parents): they are
written with mode 0600 into `<out_dir>/restricted/` (mode 0700), never emailed, and nothing
about a student reaches the logs (counts and school codes only).

One workbook per school that has at-risk students or open dropouts on its latest list:
- sheet "Nguy cơ bỏ học": restricted.student_risk for the report date, joined by student_key
  to the school's latest list of the school year (restricted.student_entry), with the
  reasons in Vietnamese;
- sheet "Bỏ học": the open dropouts on that list, when they left, sessions missed against
  the eligibility limit (45) and the police verdict when there is one.
A rerun replaces the files of that report date and removes those of schools no longer listed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine, column, select, table

from chuyencan.core import schema as wh  # the tables
from chuyencan.core.contract import REASON_LABELS, SEX_LABELS, STATUS_LABELS
from chuyencan.core.reference import Reference
from chuyencan.core.schema import case_verdict, student_risk
from chuyencan.core.sheet_style import (
    CENTER,
    DATE_FORMAT,
    LEFT,
    OVERFLOW,
    RIGHT,
    fit_rows,
    font,
    header_row,
    page_setup,
    put,
    widths,
)
from chuyencan.report.calendar_periods import report_year, year_boundaries
from chuyencan.report.content import DEFAULT_MAX_SESSIONS, PERIOD_LABELS, REPORT_TEMPLATE_DIR
from chuyencan.report.files import RESTRICTED_MODE, restricted_dir, save_workbook
from chuyencan.report.scratch import load_latest_lists

log = logging.getLogger(__name__)

FILE_PREFIX = "danh_sach_hoc_sinh"
SHEET_RISK = "Nguy cơ bỏ học"
SHEET_DROPOUTS = "Bỏ học"
CONFIDENTIAL = (
    "TÀI LIỆU CÓ THÔNG TIN CÁ NHÂN CỦA HỌC SINH – CHỈ DÙNG TRONG NHÀ TRƯỜNG, KHÔNG CHIA SẺ, KHÔNG ĐĂNG TẢI"
)
VERDICT_LABELS = {
    "left_locality": "Đã rời khỏi địa phương",
    "in_locality": "Còn ở địa phương",
    "deceased": "Đã mất",
    "ambiguous": "Chưa khẳng định được",
    "not_found": "Không có trong dữ liệu cư trú",
    "no_police_data": "Chưa có dữ liệu của công an xã",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")

_fortnight_list = table("fortnight_list", column("school_code"), column("submission_id"))


@dataclass
class _School:
    at_risk: list[tuple[Any, Any | None]]  # (risk row, latest list entry or None)
    dropouts: list[Any]


def write_school_risk_lists(
    engine: Engine,
    report_date: date,
    out_dir: Path,
    ref: Reference,
    *,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> list[Path]:
    """Write one restricted workbook per school with at-risk students or open dropouts."""
    schools = _read(engine, ref, report_date)
    folder = restricted_dir(out_dir)
    boundaries = year_boundaries(ref, report_date)
    written = []
    for code in sorted(schools):
        school = ref.school(code)
        name = school.name if school else code
        wb = _workbook(name, report_date, schools[code], boundaries, max_sessions)
        written.append(save_workbook(wb, folder / list_file_name(code, report_date), mode=RESTRICTED_MODE))
    _remove_stale(folder, report_date, keep=set(written))
    log.info(
        "restricted lists for %s: %d schools, %d at-risk students, %d open dropouts",
        report_date,
        len(written),
        sum(len(s.at_risk) for s in schools.values()),
        sum(len(s.dropouts) for s in schools.values()),
    )
    return written


def list_file_name(school_code: str, report_date: date) -> str:
    return f"{FILE_PREFIX}_{_UNSAFE_NAME.sub('_', school_code)}_{report_date.isoformat()}.xlsx"


def _remove_stale(folder: Path, report_date: date, keep: set[Path]) -> None:
    for path in folder.glob(f"{FILE_PREFIX}_*_{report_date.isoformat()}.xlsx"):
        if path not in keep:
            path.unlink()


def _read(engine: Engine, ref: Reference, report_date: date) -> dict[str, _School]:
    se, risk, verdict = wh.restricted_student_entry, student_risk, case_verdict
    year_start = report_year(ref, report_date).start
    # The latest list of each school: the same scratch table the summary and early warning use.
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, year_start)
        entries = conn.execute(
            select(se, verdict.c.verdict)
            .select_from(
                se.join(_fortnight_list, _fortnight_list.c.submission_id == se.c.submission_id).outerjoin(
                    verdict, verdict.c.student_key == se.c.student_key
                )
            )
            .order_by(se.c.school_code, se.c.grade, se.c.class_name, se.c.source_row)
        ).all()
        risks = conn.execute(
            select(risk).where(risk.c.report_date == report_date).order_by(risk.c.school_code, risk.c.grade)
        ).all()
    by_key = {(e.school_code, e.student_key): e for e in entries}
    schools: dict[str, _School] = {}
    for r in risks:
        schools.setdefault(r.school_code, _School([], [])).at_risk.append(
            (r, by_key.get((r.school_code, r.student_key)))
        )
    for e in entries:
        if e.status == "bo_hoc":
            schools.setdefault(e.school_code, _School([], [])).dropouts.append(e)
    return schools


# --- the workbook -------------------------------------------------------------------------------


def _workbook(
    school_name: str, report_date: date, school: _School, boundaries: Any, max_sessions: int
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_RISK
    _risk_sheet(ws, school_name, report_date, school.at_risk, max_sessions)
    _dropout_sheet(
        wb.create_sheet(SHEET_DROPOUTS),
        school_name,
        report_date,
        school.dropouts,
        boundaries=boundaries,
        max_sessions=max_sessions,
    )
    wb.properties.title = f"Danh sách học sinh – {school_name} – {report_date:%d/%m/%Y}"
    wb.properties.keywords = "restricted"
    return wb


def _heading(ws: Worksheet, school_name: str, title: str, report_date: date, *, summary: str) -> int:
    # Heading lines overflow into the empty cells to their right; no merged cells: a
    # province writes hundreds of these files and merging is the slowest thing openpyxl does.
    put(ws, 1, 1, school_name.upper(), style=font(12, bold=True), align=OVERFLOW)
    put(ws, 2, 1, CONFIDENTIAL, style=font(11, bold=True, color="C00000"), align=OVERFLOW)
    put(ws, 3, 1, title, style=font(14, bold=True), align=OVERFLOW)
    ws.row_dimensions[3].height = 24
    put(ws, 4, 1, f"Tính đến ngày {report_date:%d/%m/%Y}", style=font(12, italic=True), align=OVERFLOW)
    put(ws, 5, 1, summary, style=font(12), align=OVERFLOW)
    return 7


def _risk_sheet(
    ws: Worksheet,
    school_name: str,
    report_date: date,
    rows: Sequence[tuple[Any, Any | None]],
    max_sessions: int,
) -> None:
    headers = [
        ("STT", 6),
        ("Họ và tên", 26),
        ("Ngày sinh", 12),
        ("Giới tính", 9),
        ("Lớp", 8),
        ("Xã", 16),
        ("Thôn", 16),
        ("Họ tên cha/mẹ", 22),
        ("Số buổi nghỉ lũy kế", 11),
        ("Tình trạng (theo báo cáo của trường)", 16),
        ("Lý do cảnh báo", 48),
    ]
    widths(ws, [w for _, w in headers])
    top = _heading(
        ws,
        school_name,
        "DANH SÁCH HỌC SINH CÓ NGUY CƠ BỎ HỌC",
        report_date,
        summary=f"Số học sinh có nguy cơ bỏ học: {len(rows)}. Đề nghị nhà trường phối hợp với gia đình và "
        "chính quyền xã thăm hỏi, vận động từng trường hợp.",
    )
    header_row(ws, top, [h for h, _ in headers])
    row = top + 1
    for i, (risk, entry) in enumerate(rows, start=1):
        values = [
            i,
            entry.full_name if entry else "(không có trong danh sách mới nhất của trường)",
            entry.birth_date if entry else None,
            SEX_LABELS.get(entry.sex, entry.sex) if entry else None,
            entry.class_name if entry else str(risk.grade),
            entry.commune if entry else risk.commune,
            entry.village if entry else None,
            entry.parent_name if entry else None,
            risk.sessions_missed,
            STATUS_LABELS.get(entry.status, entry.status) if entry else None,
            "; ".join(reason_labels(risk.reasons.split(","), max_sessions)),
        ]
        _row(ws, row, values, date_cols={3}, number_cols={1, 9})
        row += 1
    fit_rows(ws, top + 1, row - 1)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


def _dropout_sheet(
    ws: Worksheet,
    school_name: str,
    report_date: date,
    rows: Sequence[Any],
    *,
    boundaries: Any,
    max_sessions: int,
) -> None:
    headers = [
        ("STT", 6),
        ("Họ và tên", 26),
        ("Ngày sinh", 12),
        ("Giới tính", 9),
        ("Lớp", 8),
        ("Xã", 16),
        ("Thôn", 16),
        ("Ngày nghỉ học", 12),
        ("Thời điểm bỏ học", 14),
        ("Số buổi nghỉ lũy kế", 11),
        (f"Điều kiện học tiếp (giới hạn {max_sessions} buổi)", 18),
        ("Lý do", 20),
        ("Nơi đến / nơi làm việc", 24),
        ("Kết quả xác minh của công an xã", 20),
    ]
    widths(ws, [w for _, w in headers])
    eligible = sum(e.sessions_missed <= max_sessions for e in rows)
    top = _heading(
        ws,
        school_name,
        "DANH SÁCH HỌC SINH BỎ HỌC CHƯA TRỞ LẠI",
        report_date,
        summary=f"Tổng số: {len(rows)} học sinh; đủ điều kiện học tiếp nếu trở lại: {eligible}; "
        f"không đủ điều kiện (nghỉ quá {max_sessions} buổi): {len(rows) - eligible}.",
    )
    header_row(ws, top, [h for h, _ in headers])
    row = top + 1
    for i, e in enumerate(rows, start=1):
        period = boundaries.period_of(e.first_day_missed) if e.first_day_missed else None
        values = [
            i,
            e.full_name,
            e.birth_date,
            SEX_LABELS.get(e.sex, e.sex),
            e.class_name,
            e.commune,
            e.village,
            e.first_day_missed,
            PERIOD_LABELS.get(period or "", "—"),
            e.sessions_missed,
            "Đủ điều kiện" if e.sessions_missed <= max_sessions else "Không đủ điều kiện",
            REASON_LABELS.get(e.reason_code or "", "")
            if e.reason_code != "khac"
            else (e.reason_text or "Khác"),
            e.destination,
            VERDICT_LABELS.get(e.verdict, "Chưa xác minh") if e.verdict else "Chưa xác minh",
        ]
        _row(ws, row, values, date_cols={3, 8}, number_cols={1, 10})
        row += 1
    fit_rows(ws, top + 1, row - 1)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


def _row(
    ws: Worksheet, row: int, values: Sequence[Any], *, date_cols: set[int], number_cols: set[int]
) -> None:
    for col, value in enumerate(values, start=1):
        if col in date_cols:
            put(ws, row, col, value, align=CENTER, fmt=DATE_FORMAT, border=True)
        elif col in number_cols:
            put(ws, row, col, value, align=RIGHT, border=True)
        else:
            put(ws, row, col, value, align=LEFT, border=True)


# --- reasons ------------------------------------------------------------------------------------


@cache
def _reason_texts() -> dict[str, str]:
    data = json.loads((REPORT_TEMPLATE_DIR / "risk_reasons.vi.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def reason_labels(rule_ids: Iterable[str], max_sessions: int = DEFAULT_MAX_SESSIONS) -> list[str]:
    """Vietnamese reasons for rule ids; an unknown id is shown as it is (and logged)."""
    texts = _reason_texts()
    out = []
    for rule in (r.strip() for r in rule_ids):
        if not rule:
            continue
        if rule not in texts:
            log.warning("no Vietnamese text for risk rule %r", rule)
        out.append(texts.get(rule, rule).format(max_sessions=max_sessions))
    return out
