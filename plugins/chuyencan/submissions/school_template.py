"""The weekly workbook each school fills in (docs/contracts.md#3-school-weekly-submission), ready
for the coming week.

The template is the cheapest place to prevent rejections: drop-downs and input checks catch
most mistakes while the school types, long before the intake validator sees the file. The
validator stays the authority; the checks here only mirror the contract, so a template filled
within its drop-downs and limits is a file the pipeline accepts.

Everything a school reads is Vietnamese; sheet names, headers and labels come from
`chuyencan.core.contract` so the template can never drift from what the readers expect.

    python -m chuyencan.submissions.school_template --week 2025-04-11 --out DIR [--school CODE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from math import ceil
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from chuyencan.core import contract
from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, Column, Sheet
from chuyencan.core.reference import REFERENCE_DIR, Reference, School, load_reference
from chuyencan.core.safe_cells import CellValue, set_value
from chuyencan.core.text import fold

ClassRow = tuple[int, str, int]  # (grade, class name, enrolled) from the last accepted file

INSTRUCTIONS_SHEET = "HuongDan"
LISTS_SHEET = "DanhMuc"  # hidden: the commune list is too long for an inline drop-down

TITLE_ROWS = 2
HEADER_ROW = TITLE_ROWS + 1
FIRST_DATA_ROW = HEADER_ROW + 1
BLANK_CLASS_ROWS = 40
# Prefilled templates get a few empty rows too, so a class opened this week needs no row insert
# on the protected sheet.
SPARE_CLASS_ROWS = 5
STUDENT_ROWS = 60
# Drop-downs and checks reach far below the formatted rows: schools paste long lists.
STUDENT_CHECK_ROWS = 1000

DEADLINE_TEXT = "10 giờ 00 sáng thứ Sáu"
DATE_FORMAT = "dd/mm/yyyy"
# Excel refuses longer prompt and error texts in data validations.
PROMPT_TITLE_MAX = 32
PROMPT_TEXT_MAX = 255

_FONT = "Times New Roman"
_NAVY = "1F4E78"
_LIGHT_BLUE = "9DC3E6"
_GREY = "D9D9D9"
_DARK_GREY = "595959"
_THIN = Side(style="thin", color="8C8C8C")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WARN_FILL = PatternFill("solid", fgColor="F4B6B6")

_WIDTHS: dict[str, float] = {
    "school_code": 15,
    "week_ending": 14,
    "grade": 8,
    "class_name": 11,
    "enrolled": 10,
    "school_days": 11,
    "absent_excused": 13,
    "absent_unexcused": 13,
    "personal_id": 16,
    "full_name": 26,
    "birth_date": 13,
    "sex": 10,
    "ethnicity": 12,
    "commune": 17,
    "village": 18,
    "parent_name": 24,
    "status": 18,
    "first_day_missed": 14,
    "sessions_missed": 12,
    "reason": 18,
    "destination": 28,
}


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _list_formula(values: Iterable[object]) -> str:
    return '"' + ",".join(str(v) for v in values) + '"'


def _excel_date(day: date) -> str:
    return f"DATE({day.year},{day.month},{day.day})"


# -- what the school reads next to each column ----------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One column's input check: the data validation plus the prompt shown on the cell."""

    prompt: str
    type: str | None = None  # None: prompt only, anything may be typed
    operator: str | None = None
    formula1: str | None = None
    formula2: str | None = None
    error_title: str | None = None
    error: str | None = None
    # "stop" refuses the value; "warning" and "information" let the school keep it.
    error_style: str = "stop"


def _checks(sheet: Sheet, school: School, week_ending: date, communes: bool) -> dict[str, _Check]:
    grades = range(school.grade_min, school.grade_max + 1)
    grade_text = f"từ {school.grade_min} đến {school.grade_max}"
    sexes = list(contract.SEX_LABELS.values())
    statuses = list(contract.STATUS_LABELS.values())
    reasons = list(contract.REASON_LABELS.values())
    whole = {
        "type": "whole",
        "operator": "greaterThanOrEqual",
        "formula1": "0",
        "error_title": "Số không hợp lệ",
        "error": "Nhập số nguyên từ 0 trở lên.",
    }
    # Dates only warn: on a computer set to US format a correct 15/03/2025 is typed as text,
    # which the pipeline accepts, and a hard stop would leave the school unable to enter it.
    date_error = {
        "type": "date",
        "operator": "between",
        "error_title": "Kiểm tra lại ngày",
        "error": f"Ghi ngày theo dạng ngày/tháng/năm ({DATE_FORMAT}), ví dụ {_d(week_ending)}. "
        "Ngày không được sau ngày kết thúc tuần báo cáo.",
        "error_style": "warning",
    }
    grade_check = {
        "type": "list",
        "formula1": _list_formula(grades),
        "error_title": "Khối không hợp lệ",
        "error": f"Chọn khối {grade_text} (các khối của trường).",
    }
    if sheet is CLASS_SHEET:
        absences = "Vắng có phép + Vắng không phép không được vượt quá Sĩ số × Số ngày học."
        return {
            "school_code": _Check("Do Phòng GD&ĐT điền sẵn, không cần sửa."),
            "week_ending": _Check(
                f"Ngày thứ Sáu kết thúc tuần báo cáo ({_d(week_ending)}), điền sẵn, không cần sửa."
            ),
            "grade": _Check(f"Chọn khối {grade_text}.", **grade_check),
            "class_name": _Check(
                "Tên lớp, ví dụ 6A1. Mỗi lớp ghi một dòng, tên lớp không trùng nhau.",
                type="textLength",
                operator="between",
                formula1="1",
                formula2="20",
                error_title="Tên lớp không hợp lệ",
                error="Tên lớp dài từ 1 đến 20 ký tự, ví dụ 6A1.",
            ),
            "enrolled": _Check("Số học sinh hiện có của lớp trong tuần (số nguyên, từ 0 trở lên).", **whole),
            "school_days": _Check(
                "Số ngày học của lớp trong tuần, từ 0 đến 6.",
                type="whole",
                operator="between",
                formula1="0",
                formula2="6",
                error_title="Số ngày học không hợp lệ",
                error="Số ngày học trong tuần là số nguyên từ 0 đến 6.",
            ),
            "absent_excused": _Check(
                "Tổng số ngày vắng CÓ PHÉP của cả lớp trong tuần (mỗi học sinh vắng 1 ngày tính 1). "
                + absences,
                **whole,
            ),
            "absent_unexcused": _Check(
                "Tổng số ngày vắng KHÔNG PHÉP của cả lớp trong tuần (mỗi học sinh vắng 1 ngày tính 1). "
                + absences,
                **whole,
            ),
        }
    return {
        "personal_id": _Check(
            "12 chữ số của số định danh cá nhân, nếu có (để trống nếu chưa có). "
            "Ô đã để dạng văn bản để giữ số 0 ở đầu.",
            type="textLength",
            operator="equal",
            formula1="12",
            error_title="Số định danh không hợp lệ",
            error="Số định danh cá nhân có đúng 12 chữ số, ví dụ 010312001234.",
        ),
        "full_name": _Check("Họ, chữ đệm và tên của học sinh, viết đầy đủ, có dấu."),
        "birth_date": _Check(
            f"Ngày sinh, dạng ngày/tháng/năm ({DATE_FORMAT}), ví dụ 05/09/2012.",
            formula1=_excel_date(date(week_ending.year - 40, 1, 1)),
            formula2=_excel_date(week_ending),
            **date_error,
        ),
        "sex": _Check(
            f"Chọn {' hoặc '.join(sexes)}.",
            type="list",
            formula1=_list_formula(sexes),
            error_title="Giới tính không hợp lệ",
            error=f"Chỉ chọn {' hoặc '.join(sexes)}.",
        ),
        "ethnicity": _Check("Dân tộc của học sinh, ví dụ Mông, Dao, Hà Nhì (không bắt buộc)."),
        "grade": _Check(f"Khối lớp của học sinh, {grade_text}.", **grade_check),
        "class_name": _Check(f"Tên lớp của học sinh, ghi như ở trang {CLASS_SHEET.name}, ví dụ 6A1."),
        "commune": _Check(
            "Xã, thị trấn nơi học sinh cư trú"
            + ("; chọn trong danh sách hoặc ghi đúng tên xã." if communes else ", ghi đúng tên xã."),
            **(
                {
                    "type": "list",
                    "formula1": f"{LISTS_SHEET}!$A$2:$A$200",
                    "error_title": "Tên xã chưa có trong danh sách",
                    "error": "Tên xã này không có trong danh sách của huyện. Kiểm tra lại chính tả.",
                    "error_style": "warning",
                }
                if communes
                else {}
            ),
        ),
        "village": _Check("Thôn, bản nơi học sinh cư trú."),
        "parent_name": _Check("Họ tên cha, mẹ hoặc người giám hộ (không bắt buộc)."),
        "status": _Check(
            f"Chọn một trong: {', '.join(statuses)}. Ý nghĩa từng tình trạng: xem trang {INSTRUCTIONS_SHEET}.",
            type="list",
            formula1=_list_formula(statuses),
            error_title="Tình trạng không hợp lệ",
            error=f"Chọn tình trạng trong danh sách: {', '.join(statuses)}.",
        ),
        "first_day_missed": _Check(
            f"Ngày đầu tiên học sinh nghỉ học ({DATE_FORMAT}). "
            f"Bắt buộc khi Tình trạng là {contract.STATUS_LABELS['bo_hoc']}.",
            formula1=_excel_date(date(week_ending.year - 2, 1, 1)),
            formula2=_excel_date(week_ending),
            **date_error,
        ),
        "sessions_missed": _Check(
            "Tổng số buổi học sinh đã nghỉ từ đầu năm học, cả có phép và không phép (số nguyên, từ 0).",
            **whole,
        ),
        "reason": _Check(
            "Chọn lý do trong danh sách, hoặc ghi ngắn gọn lý do khác.",
            type="list",
            formula1=_list_formula(reasons),
            # Free text is allowed by the contract: the drop-down only suggests.
            error_title="Lý do khác",
            error="Lý do này không có trong danh sách; hệ thống sẽ ghi nhận là lý do khác.",
            error_style="information",
        ),
        "destination": _Check("Nơi học sinh đã đến hoặc đang làm việc, nếu biết (tỉnh, huyện, cơ sở)."),
    }


# -- cell styles ----------------------------------------------------------------------------------


def _header_fill(column: Column) -> PatternFill:
    if column.prefilled:
        return PatternFill("solid", fgColor=_DARK_GREY)
    return PatternFill("solid", fgColor=_NAVY if column.required else _LIGHT_BLUE)


def _number_format(column: Column) -> str:
    if column.kind == "date":
        return DATE_FORMAT
    if column.kind == "int":
        return "0"
    # Codes and names stay text even when they look like numbers: IDs keep their leading zero.
    if column.kind in ("code", "text"):
        return "@"
    return "General"


def _alignment(column: Column) -> Alignment:
    if column.kind in ("int", "date", "sex", "code"):
        return Alignment(horizontal="center", vertical="center")
    return Alignment(horizontal="left", vertical="center")


def _write_titles(ws: Worksheet, sheet: Sheet, title: str, subtitle: str) -> None:
    last = get_column_letter(len(sheet.columns))
    for row, text, font, height in (
        (1, title, Font(name=_FONT, size=14, bold=True, color=_NAVY), 24),
        (2, subtitle, Font(name=_FONT, size=12, italic=True), 20),
    ):
        ws.merge_cells(f"A{row}:{last}{row}")
        cell = set_value(ws.cell(row=row, column=1), text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.row_dimensions[row].height = height


def _write_header(ws: Worksheet, sheet: Sheet) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        cell = set_value(ws.cell(row=HEADER_ROW, column=index), column.header)
        cell.font = Font(name=_FONT, size=11, bold=True, color="FFFFFF" if column.required else "000000")
        cell.fill = _header_fill(column)
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(
            column.name, max(12, len(column.header) + 4)
        )
    ws.row_dimensions[HEADER_ROW].height = 36


def _style_data_cell(ws: Worksheet, row: int, index: int, column: Column) -> None:
    cell = ws.cell(row=row, column=index)
    cell.border = _BORDER
    cell.number_format = _number_format(column)
    cell.alignment = _alignment(column)
    if column.prefilled:
        cell.font = Font(name=_FONT, size=11, color=_DARK_GREY)
        cell.fill = PatternFill("solid", fgColor=_GREY)
        cell.protection = Protection(locked=True)
    else:
        cell.font = Font(name=_FONT, size=11)
        cell.protection = Protection(locked=False)


def _add_checks(ws: Worksheet, sheet: Sheet, checks: dict[str, _Check], last_row: int) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        check = checks.get(column.name)
        if check is None:
            continue
        letter = get_column_letter(index)
        dv = DataValidation(
            type=check.type,
            operator=check.operator,
            formula1=check.formula1,
            formula2=check.formula2,
            allow_blank=True,
            showInputMessage=True,
            promptTitle=column.header[:PROMPT_TITLE_MAX],
            prompt=check.prompt,
            showErrorMessage=check.type is not None,
            errorStyle=check.error_style if check.type is not None else None,
            errorTitle=check.error_title,
            error=check.error,
        )
        dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}")
        ws.add_data_validation(dv)


def _letter(sheet: Sheet, name: str) -> str:
    return get_column_letter(sheet.names.index(name) + 1)


def _print_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True


# -- the three sheets -----------------------------------------------------------------------------


def _class_sheet(
    ws: Worksheet, school: School, week_ending: date, classes: Sequence[ClassRow] | None
) -> None:
    sheet = CLASS_SHEET
    ws.title = sheet.name
    ws.sheet_properties.tabColor = _NAVY
    _write_titles(
        ws,
        sheet,
        f"BÁO CÁO CHUYÊN CẦN TUẦN KẾT THÚC NGÀY {_d(week_ending)}",
        f"{school.name} – {school.code}",
    )
    _write_header(ws, sheet)
    rows = BLANK_CLASS_ROWS if classes is None else len(classes) + SPARE_CLASS_ROWS
    last_row = FIRST_DATA_ROW + rows - 1
    known = list(classes or ())
    for offset in range(rows):
        row = FIRST_DATA_ROW + offset
        values: dict[str, CellValue] = {"school_code": school.code, "week_ending": week_ending}
        if offset < len(known):
            grade, class_name, enrolled = known[offset]
            values |= {"grade": int(grade), "class_name": str(class_name), "enrolled": int(enrolled)}
        for index, column in enumerate(sheet.columns, start=1):
            _style_data_cell(ws, row, index, column)
            if column.name in values:
                # Class names come from the school's last file: "=HYPERLINK(…)" stays text.
                set_value(ws.cell(row=row, column=index), values[column.name])
    _add_checks(ws, sheet, _checks(sheet, school, week_ending, communes=False), last_row)

    # The pipeline recomputes rates from the counts, so the sheet holds no formulas; the
    # sĩ số × số ngày học limit is shown by highlighting instead.
    e, f, g, h = (
        _letter(sheet, n) for n in ("enrolled", "school_days", "absent_excused", "absent_unexcused")
    )
    r = FIRST_DATA_ROW
    ws.conditional_formatting.add(
        f"{g}{r}:{h}{last_row}",
        FormulaRule(
            formula=[f"AND(ISNUMBER(${e}{r}),ISNUMBER(${f}{r}),N(${g}{r})+N(${h}{r})>${e}{r}*${f}{r})"],
            fill=_WARN_FILL,
            font=Font(color="9C0006", bold=True),
        ),
    )
    lop = _letter(sheet, "class_name")
    ws.conditional_formatting.add(
        f"{lop}{r}:{lop}{last_row}",
        Rule(type="duplicateValues", dxf=DifferentialStyle(fill=_WARN_FILL)),
    )

    # No password: the grey cells are a guard against slips, and a school that needs more rows
    # can unprotect the sheet (the instructions say how).
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    _print_setup(ws)


def _student_sheet(ws: Worksheet, school: School, week_ending: date, communes: Sequence[str] | None) -> None:
    sheet = STUDENT_SHEET
    ws.title = sheet.name
    ws.sheet_properties.tabColor = "C00000"
    _write_titles(
        ws,
        sheet,
        "DANH SÁCH HỌC SINH BỎ HỌC, VẮNG DÀI NGÀY, CÓ NGUY CƠ BỎ HỌC, ĐÃ TRỞ LẠI – "
        f"TUẦN KẾT THÚC NGÀY {_d(week_ending)}",
        f"{school.name} – {school.code}. Thông tin cá nhân của học sinh: giữ bí mật, "
        "không chia sẻ ngoài phạm vi báo cáo.",
    )
    _write_header(ws, sheet)
    last_row = FIRST_DATA_ROW + STUDENT_ROWS - 1
    for index, column in enumerate(sheet.columns, start=1):
        # Column-wide formats so rows added below the prepared ones keep dates and the ID as text.
        dim = ws.column_dimensions[get_column_letter(index)]
        dim.number_format = _number_format(column)
        dim.alignment = _alignment(column)
        for row in range(FIRST_DATA_ROW, last_row + 1):
            _style_data_cell(ws, row, index, column)
    check_last = FIRST_DATA_ROW + STUDENT_CHECK_ROWS - 1
    _add_checks(ws, sheet, _checks(sheet, school, week_ending, communes=bool(communes)), check_last)

    r = FIRST_DATA_ROW
    status, missed = _letter(sheet, "status"), _letter(sheet, "first_day_missed")
    ws.conditional_formatting.add(
        f"{missed}{r}:{missed}{check_last}",
        FormulaRule(
            formula=[f'AND(${status}{r}="{contract.STATUS_LABELS["bo_hoc"]}",ISBLANK(${missed}{r}))'],
            fill=_WARN_FILL,
        ),
    )
    pid = _letter(sheet, "personal_id")
    ws.conditional_formatting.add(
        f"{pid}{r}:{pid}{check_last}",
        Rule(type="duplicateValues", dxf=DifferentialStyle(fill=_WARN_FILL)),
    )
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(sheet.columns))}{last_row}"
    # Keep the ID and the name in view while scrolling right through fifteen columns.
    ws.freeze_panes = f"{_letter(sheet, 'birth_date')}{FIRST_DATA_ROW}"
    _print_setup(ws)


_STATUS_MEANINGS: dict[str, str] = {
    "bo_hoc": "đã nghỉ học hẳn trong năm học này (kể cả nghỉ từ hè) và chưa đi học trở lại. "
    "Bắt buộc ghi Ngày nghỉ học (ngày đầu tiên nghỉ).",
    "vang_dai_ngay": "vắng học từ 3 ngày trở lên trong tuần này, chưa xác định là bỏ học.",
    "nguy_co": "đang đi học nhưng có dấu hiệu có thể bỏ học (hay nghỉ học, học lực yếu, "
    "gia đình khó khăn, sắp đi làm ăn xa, sắp lấy vợ/chồng…).",
    "da_tro_lai": "học sinh đã bỏ học hoặc vắng dài ngày, nay đã đi học trở lại trong tuần này.",
}


def _instructions(school: School, week_ending: date) -> list[tuple[str, str]]:
    cls = {c.name: c.header for c in CLASS_SHEET.columns}
    stu = {c.name: c.header for c in STUDENT_SHEET.columns}
    statuses = "\n".join(
        f"• {label}: {_STATUS_MEANINGS[code]}" for code, label in contract.STATUS_LABELS.items()
    )
    reasons = ", ".join(contract.REASON_LABELS.values())
    cs, hs = CLASS_SHEET.name, STUDENT_SHEET.name
    return [
        (
            "Thời hạn gửi",
            f"Gửi tệp này trước {DEADLINE_TEXT} ngày {_d(week_ending)} (ngày kết thúc tuần báo cáo) "
            "vào thư mục dùng chung của Phòng GD&ĐT. Mỗi tuần gửi một tệp. Giữ định dạng .xlsx; "
            f"không đổi tên các trang {cs}, {hs} và không sửa tên các cột ở dòng tiêu đề.",
        ),
        (
            f"Trang {cs}",
            "Mỗi lớp ghi một dòng, tên lớp không trùng nhau. Các ô nền xám "
            f"({cls['school_code']}, {cls['week_ending']}) đã được điền sẵn, không cần sửa. "
            f"Ghi {cls['grade']} (chọn trong danh sách, từ {school.grade_min} đến {school.grade_max}), "
            f"{cls['class_name']}, {cls['enrolled']} (số học sinh hiện có của lớp), "
            f"{cls['school_days']} trong tuần (từ 0 đến 6), {cls['absent_excused']} và "
            f"{cls['absent_unexcused']}.\n"
            "Số vắng tính theo ngày của từng học sinh: một học sinh vắng cả ngày tính 1; "
            "ví dụ 2 học sinh, mỗi em vắng 3 ngày, thì ghi 6.\n"
            f"Điều kiện: {cls['absent_excused']} + {cls['absent_unexcused']} không được lớn hơn "
            f"{cls['enrolled']} × {cls['school_days']}; ô vượt quá sẽ tô đỏ.\n"
            "Không cần tính tỷ lệ chuyên cần: hệ thống tự tính từ số liệu. Dòng không dùng thì để "
            "trống; lớp nào không còn thì xóa nội dung các ô trắng của dòng đó.",
        ),
        (
            f"Trang {hs}",
            "Ghi mỗi học sinh một dòng, gồm tất cả học sinh thuộc một trong các trường hợp sau:\n"
            "• đã bỏ học trong năm học này và chưa trở lại;\n"
            "• vắng học từ 3 ngày trở lên trong tuần;\n"
            "• có nguy cơ bỏ học;\n"
            "• đã trở lại học trong tuần.\n"
            "Danh sách là toàn bộ tình hình hiện tại của trường: danh sách tuần này thay thế hoàn "
            "toàn danh sách tuần trước, vì vậy phải ghi lại cả những học sinh đã báo ở các tuần "
            "trước nếu các em vẫn bỏ học, vắng hoặc có nguy cơ bỏ học. Nếu không có học sinh nào "
            "thì để trống (giữ nguyên dòng tiêu đề).",
        ),
        (f"{stu['status']}", statuses),
        (
            f"Các cột trang {hs}",
            f"• {stu['personal_id']}: 12 chữ số của số định danh cá nhân, nếu có. Khi dán từ nơi "
            "khác, kiểm tra còn đủ số 0 ở đầu.\n"
            f"• {stu['full_name']}: đầy đủ, có dấu. {stu['sex']}: "
            f"{' hoặc '.join(contract.SEX_LABELS.values())}.\n"
            f"• {stu['commune']}, {stu['village']}: nơi học sinh cư trú.\n"
            f"• {stu['sessions_missed']}: tổng số buổi đã nghỉ từ đầu năm học, cả có phép và không "
            "phép. Học sinh nghỉ quá 45 buổi trong năm học thì không đủ điều kiện lên lớp.\n"
            f"• {stu['reason']}: chọn một trong {reasons}; hoặc ghi ngắn gọn lý do khác.\n"
            f"• {stu['destination']}: nơi học sinh đã đến hoặc đang làm việc, nếu biết.",
        ),
        (
            "Cách ghi ngày",
            f"Ghi ngày theo thứ tự ngày/tháng/năm ({DATE_FORMAT}), ví dụ {_d(week_ending)}; "
            "không ghi tháng trước ngày.",
        ),
        (
            "Màu tiêu đề",
            "Cột có tiêu đề xanh đậm: bắt buộc. Cột có tiêu đề xanh nhạt: ghi nếu biết. "
            "Cột có tiêu đề xám: đã điền sẵn.",
        ),
        (
            "Sửa và gửi lại",
            "Tệp có lỗi sẽ bị trả lại cả tệp; thư báo lỗi ghi rõ trang, dòng, cột và cách sửa. "
            "Sửa rồi gửi lại cả tệp: tệp gửi sau thay thế tệp gửi trước của cùng tuần. "
            "Cũng gửi lại như vậy khi phát hiện số liệu đã gửi bị sai.",
        ),
        (
            "Thêm dòng",
            f"Trang {cs} có sẵn các dòng trống. Nếu cần thêm dòng: chọn Xem lại (Review) → Bỏ bảo vệ "
            "trang (Unprotect Sheet), không có mật khẩu; sao chép một dòng có sẵn xuống dưới rồi "
            f"sửa lại, giữ nguyên {cls['school_code']} và {cls['week_ending']}. Trang {hs} ghi tiếp "
            "xuống dưới như bình thường.",
        ),
        (
            "Bảo mật",
            f"Trang {hs} chứa thông tin cá nhân của trẻ em (họ tên, ngày sinh, số định danh, dân "
            "tộc, gia đình), phải được giữ bí mật theo Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá "
            "nhân. Chỉ gửi tệp qua thư mục dùng chung của Phòng GD&ĐT; không gửi qua Zalo, Facebook "
            "hay thư điện tử cá nhân; không in, không chia sẻ cho người không có trách nhiệm; "
            "xóa các bản sao không còn cần.",
        ),
    ]


def _instructions_sheet(ws: Worksheet, school: School, week_ending: date) -> None:
    ws.title = INSTRUCTIONS_SHEET
    ws.sheet_properties.tabColor = "548235"
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100
    ws.merge_cells("A1:B1")
    ws.merge_cells("A2:B2")
    set_value(ws["A1"], "HƯỚNG DẪN ĐIỀN BÁO CÁO CHUYÊN CẦN HẰNG TUẦN")
    ws["A1"].font = Font(name=_FONT, size=14, bold=True, color=_NAVY)
    set_value(ws["A2"], f"{school.name} – {school.code} – tuần kết thúc ngày {_d(week_ending)}")
    ws["A2"].font = Font(name=_FONT, size=12, italic=True)
    for ref in ("A1", "A2"):
        ws[ref].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 20
    for row, (heading, text) in enumerate(_instructions(school, week_ending), start=4):
        head = set_value(ws.cell(row=row, column=1), heading)
        head.font = Font(name=_FONT, size=12, bold=True, color="FFFFFF")
        head.fill = PatternFill("solid", fgColor=_NAVY)
        head.alignment = Alignment(vertical="top", wrap_text=True)
        body = set_value(ws.cell(row=row, column=2), text)
        body.font = Font(name=_FONT, size=12)
        body.alignment = Alignment(vertical="top", wrap_text=True)
        for cell in (head, body):
            cell.border = _BORDER
        # Excel does not grow rows for wrapped text written by openpyxl, so size them here.
        lines = sum(max(1, ceil(len(part) / 92)) for part in text.split("\n"))
        ws.row_dimensions[row].height = 16.5 * lines + 6
    ws.sheet_view.showGridLines = False
    ws.protection.sheet = True
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _lists_sheet(ws: Worksheet, communes: Sequence[str]) -> None:
    ws.title = LISTS_SHEET
    set_value(ws["A1"], "Xã, thị trấn")
    for row, name in enumerate(communes, start=2):
        set_value(ws.cell(row=row, column=1), name)
    ws.column_dimensions["A"].width = 24
    ws.sheet_state = "hidden"


# -- public API -----------------------------------------------------------------------------------


def check_friday(week_ending: date) -> None:
    if week_ending.weekday() != 4:
        raise ValueError(
            f"{week_ending.isoformat()} is a {week_ending.strftime('%A')}: "
            "the week ending must be the Friday that closes the school week"
        )


def template_name(school: School, week_ending: date) -> str:
    return f"{school.code}_tuan_{week_ending.isoformat()}.xlsx"


def active_commune_names(ref: Reference, day: date) -> list[str]:
    """Commune names a student's home can have on that day, the spellings the validator prefers."""
    names = {
        c.name for c in ref.communes if c.valid_from <= day and (c.valid_to is None or day <= c.valid_to)
    }
    return sorted(names, key=fold)


def write_template(
    school: School,
    week_ending: date,
    path: Path,
    classes: list[ClassRow] | None = None,
    *,
    communes: Sequence[str] | None = None,
) -> Path:
    """Write the school's workbook for the week ending on `week_ending` (a Friday) to `path`.

    `classes` prefills one row per class from the school's last accepted file; `communes`, when
    given, becomes the drop-down of the students' home commune.
    """
    check_friday(week_ending)
    wb = Workbook()
    # Instructions come first so a school opening the file sees them once; the class sheet is
    # active because that is where the weekly work starts.
    _instructions_sheet(wb.active, school, week_ending)
    _class_sheet(wb.create_sheet(), school, week_ending, classes)
    _student_sheet(wb.create_sheet(), school, week_ending, communes)
    if communes:
        _lists_sheet(wb.create_sheet(), communes)
    wb.active = 1
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == CLASS_SHEET.name
    wb.properties.title = f"Báo cáo chuyên cần tuần kết thúc ngày {_d(week_ending)}"
    wb.properties.subject = f"{school.name} ({school.code})"
    wb.properties.creator = "Phòng GD&ĐT huyện Bát Xát"
    wb.properties.keywords = f"chuyencan;{school.code};{week_ending.isoformat()}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(
    ref: Reference,
    week_ending: date,
    out_dir: Path,
    classes_by_school: dict[str, list[ClassRow]] | None = None,
) -> list[Path]:
    """One template per school active in that week, named `<code>_tuan_<yyyy-mm-dd>.xlsx`."""
    check_friday(week_ending)
    communes = active_commune_names(ref, week_ending)
    classes_by_school = classes_by_school or {}
    return [
        write_template(
            school,
            week_ending,
            Path(out_dir) / template_name(school, week_ending),
            classes_by_school.get(school.code),
            communes=communes,
        )
        for school in ref.active_schools(week_ending)
    ]


# -- command line ---------------------------------------------------------------------------------


def _friday_arg(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form yyyy-mm-dd") from exc
    try:
        check_friday(day)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return day


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chuyencan.submissions.school_template",
        description="Write next week's attendance workbook for every active school (or one).",
    )
    parser.add_argument("--week", required=True, type=_friday_arg, help="Friday ending the week, yyyy-mm-dd")
    parser.add_argument("--out", required=True, type=Path, help="directory for the .xlsx files")
    parser.add_argument("--school", help="only this school code")
    parser.add_argument(
        "--reference", type=Path, default=REFERENCE_DIR, help="reference data directory (schools.csv …)"
    )
    args = parser.parse_args(argv)

    ref = load_reference(args.reference)
    if not ref.is_school_week(args.week):
        print(f"warning: {args.week} ends no school week in the calendar", file=sys.stderr)
    if args.school:
        school = ref.school(args.school)
        if school is None:
            parser.error(f"unknown school code {args.school!r}")
        if not school.active_on(args.week):
            parser.error(f"school {school.code} is not active in the week ending {args.week}")
        paths = [
            write_template(
                school,
                args.week,
                args.out / template_name(school, args.week),
                communes=active_commune_names(ref, args.week),
            )
        ]
    else:
        paths = write_templates(ref, args.week, args.out)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
