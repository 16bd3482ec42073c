"""The weekly workbook each school fills in (docs/contracts.md#3-school-weekly-submission), ready
for the coming week.

The template is the cheapest place to prevent rejections: drop-downs and input checks catch
most mistakes while the school types, long before the intake validator sees the file. The
validator stays the authority; the checks here only mirror the contract, so a template filled
within its drop-downs and limits is a file the pipeline accepts.

Everything a school reads is Vietnamese: sheet names, headers and labels come from
`chuyencan.core.contract` so the template can never drift from what the readers expect, and the
sentences (titles, prompts, instructions) from `include/wording/school_template.vi.json`.

    python -m chuyencan.submissions.school_template --week 2025-04-11 --out DIR [--school CODE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
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
from chuyencan.core.reference import Reference, School, load_reference
from chuyencan.core.safe_cells import CellValue, set_value
from chuyencan.core.settings import DEADLINE, ELIGIBILITY_MAX_SESSIONS, REFERENCE_DIR
from chuyencan.core.text import fold
from chuyencan.core.wording import Wording, catalogue

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


def _wording(school: School, week_ending: date, deadline: time, max_sessions: int) -> Wording:
    """The template's catalogue with the fields its texts share."""
    w = Wording("school_template")
    grades = w("grades", grade_min=school.grade_min, grade_max=school.grade_max)
    return w.with_fields(
        week_ending=_d(week_ending),
        school_name=school.name,
        school_code=school.code,
        grade_min=school.grade_min,
        grade_max=school.grade_max,
        grades=grades,
        date_format=DATE_FORMAT,
        deadline=deadline_text(deadline),
        max_sessions=max_sessions,
        class_sheet=CLASS_SHEET.name,
        student_sheet=STUDENT_SHEET.name,
        instructions_sheet=INSTRUCTIONS_SHEET,
        sexes=w.raw("or").join(contract.SEX_LABELS.values()),
        statuses=", ".join(contract.STATUS_LABELS.values()),
        reasons=", ".join(contract.REASON_LABELS.values()),
        dropped_out=contract.STATUS_LABELS["bo_hoc"],
        cls={c.name: c.header for c in CLASS_SHEET.columns},
        stu={c.name: c.header for c in STUDENT_SHEET.columns},
    )


def deadline_text(deadline: time) -> str:
    """The schools' deadline as the template says it, e.g. "10 giờ 00 sáng thứ Sáu"."""
    entry = catalogue("school_template")["deadline"]
    part = next(name for until, name in entry["parts_of_day"] if deadline.hour < until)
    return entry["text"].format(hour=deadline.hour, minute=deadline.minute, part_of_day=part)


def _checks(sheet: Sheet, school: School, week_ending: date, communes: bool, w: Wording) -> dict[str, _Check]:
    grades = range(school.grade_min, school.grade_max + 1)
    sexes = list(contract.SEX_LABELS.values())
    statuses = list(contract.STATUS_LABELS.values())
    reasons = list(contract.REASON_LABELS.values())
    whole = {
        "type": "whole",
        "operator": "greaterThanOrEqual",
        "formula1": "0",
        "error_title": w("checks.whole.error_title"),
        "error": w("checks.whole.error"),
    }
    # Dates only warn: on a computer set to US format a correct 15/03/2025 is typed as text,
    # which the pipeline accepts, and a hard stop would leave the school unable to enter it.
    date_error = {
        "type": "date",
        "operator": "between",
        "error_title": w("checks.date.error_title"),
        "error": w("checks.date.error"),
        "error_style": "warning",
    }
    grade_check = {
        "type": "list",
        "formula1": _list_formula(grades),
        "error_title": w("checks.grade.error_title"),
        "error": w("checks.grade.error"),
    }
    if sheet is CLASS_SHEET:
        c = "checks.class"
        w = w.with_fields(absences_rule=w(f"{c}.absences_rule"))
        return {
            "school_code": _Check(w(f"{c}.school_code.prompt")),
            "week_ending": _Check(w(f"{c}.week_ending.prompt")),
            "grade": _Check(w(f"{c}.grade.prompt"), **grade_check),
            "class_name": _Check(
                w(f"{c}.class_name.prompt"),
                type="textLength",
                operator="between",
                formula1="1",
                formula2="20",
                error_title=w(f"{c}.class_name.error_title"),
                error=w(f"{c}.class_name.error"),
            ),
            "enrolled": _Check(w(f"{c}.enrolled.prompt"), **whole),
            "school_days": _Check(
                w(f"{c}.school_days.prompt"),
                type="whole",
                operator="between",
                formula1="0",
                formula2="6",
                error_title=w(f"{c}.school_days.error_title"),
                error=w(f"{c}.school_days.error"),
            ),
            "absent_excused": _Check(w(f"{c}.absent_excused.prompt"), **whole),
            "absent_unexcused": _Check(w(f"{c}.absent_unexcused.prompt"), **whole),
        }
    c = "checks.student"
    return {
        "personal_id": _Check(
            w(f"{c}.personal_id.prompt"),
            type="textLength",
            operator="equal",
            formula1="12",
            error_title=w(f"{c}.personal_id.error_title"),
            error=w(f"{c}.personal_id.error"),
        ),
        "full_name": _Check(w(f"{c}.full_name.prompt")),
        "birth_date": _Check(
            w(f"{c}.birth_date.prompt"),
            formula1=_excel_date(date(week_ending.year - 40, 1, 1)),
            formula2=_excel_date(week_ending),
            **date_error,
        ),
        "sex": _Check(
            w(f"{c}.sex.prompt"),
            type="list",
            formula1=_list_formula(sexes),
            error_title=w(f"{c}.sex.error_title"),
            error=w(f"{c}.sex.error"),
        ),
        "ethnicity": _Check(w(f"{c}.ethnicity.prompt")),
        "grade": _Check(w(f"{c}.grade.prompt"), **grade_check),
        "class_name": _Check(w(f"{c}.class_name.prompt")),
        "commune": _Check(
            w(f"{c}.commune.prompt_with_list" if communes else f"{c}.commune.prompt"),
            **(
                {
                    "type": "list",
                    "formula1": f"{LISTS_SHEET}!$A$2:$A$200",
                    "error_title": w(f"{c}.commune.error_title"),
                    "error": w(f"{c}.commune.error"),
                    "error_style": "warning",
                }
                if communes
                else {}
            ),
        ),
        "village": _Check(w(f"{c}.village.prompt")),
        "parent_name": _Check(w(f"{c}.parent_name.prompt")),
        "status": _Check(
            w(f"{c}.status.prompt"),
            type="list",
            formula1=_list_formula(statuses),
            error_title=w(f"{c}.status.error_title"),
            error=w(f"{c}.status.error"),
        ),
        "first_day_missed": _Check(
            w(f"{c}.first_day_missed.prompt"),
            formula1=_excel_date(date(week_ending.year - 2, 1, 1)),
            formula2=_excel_date(week_ending),
            **date_error,
        ),
        "sessions_missed": _Check(w(f"{c}.sessions_missed.prompt"), **whole),
        "reason": _Check(
            w(f"{c}.reason.prompt"),
            type="list",
            formula1=_list_formula(reasons),
            # Free text is allowed by the contract: the drop-down only suggests.
            error_title=w(f"{c}.reason.error_title"),
            error=w(f"{c}.reason.error"),
            error_style="information",
        ),
        "destination": _Check(w(f"{c}.destination.prompt")),
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
    ws: Worksheet, school: School, week_ending: date, classes: Sequence[ClassRow] | None, w: Wording
) -> None:
    sheet = CLASS_SHEET
    ws.title = sheet.name
    ws.sheet_properties.tabColor = _NAVY
    _write_titles(ws, sheet, w("class_sheet.title"), w("class_sheet.subtitle"))
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
    _add_checks(ws, sheet, _checks(sheet, school, week_ending, False, w), last_row)

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


def _student_sheet(
    ws: Worksheet, school: School, week_ending: date, communes: Sequence[str] | None, w: Wording
) -> None:
    sheet = STUDENT_SHEET
    ws.title = sheet.name
    ws.sheet_properties.tabColor = "C00000"
    _write_titles(ws, sheet, w("student_sheet.title"), w("student_sheet.subtitle"))
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
    _add_checks(ws, sheet, _checks(sheet, school, week_ending, bool(communes), w), check_last)

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


def _instructions(w: Wording) -> list[tuple[str, str]]:
    meanings = w.raw("instructions.status_meanings")
    statuses = "\n".join(
        w("instructions.status_line", label=label, meaning=meanings[code])
        for code, label in contract.STATUS_LABELS.items()
    )
    w = w.with_fields(status_meanings=statuses)
    return [(w.fill(heading), w.fill(body)) for heading, body in w.raw("instructions.sections")]


def _instructions_sheet(ws: Worksheet, w: Wording) -> None:
    ws.title = INSTRUCTIONS_SHEET
    ws.sheet_properties.tabColor = "548235"
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100
    ws.merge_cells("A1:B1")
    ws.merge_cells("A2:B2")
    set_value(ws["A1"], w("instructions.title"))
    ws["A1"].font = Font(name=_FONT, size=14, bold=True, color=_NAVY)
    set_value(ws["A2"], w("instructions.subtitle"))
    ws["A2"].font = Font(name=_FONT, size=12, italic=True)
    for ref in ("A1", "A2"):
        ws[ref].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 20
    for row, (heading, text) in enumerate(_instructions(w), start=4):
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


def _lists_sheet(ws: Worksheet, communes: Sequence[str], w: Wording) -> None:
    ws.title = LISTS_SHEET
    set_value(ws["A1"], w("lists_sheet.communes"))
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
    deadline: time = DEADLINE,
    max_sessions: int = ELIGIBILITY_MAX_SESSIONS,
) -> Path:
    """Write the school's workbook for the week ending on `week_ending` (a Friday) to `path`.

    `classes` prefills one row per class from the school's last accepted file; `communes`, when
    given, becomes the drop-down of the students' home commune. The instructions state the
    deadline and the missed-sessions limit of the settings.
    """
    check_friday(week_ending)
    w = _wording(school, week_ending, deadline, max_sessions)
    wb = Workbook()
    # Instructions come first so a school opening the file sees them once; the class sheet is
    # active because that is where the weekly work starts.
    _instructions_sheet(wb.active, w)
    _class_sheet(wb.create_sheet(), school, week_ending, classes, w)
    _student_sheet(wb.create_sheet(), school, week_ending, communes, w)
    if communes:
        _lists_sheet(wb.create_sheet(), communes, w)
    wb.active = 1
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == CLASS_SHEET.name
    wb.properties.title = w("properties.title")
    wb.properties.subject = w("properties.subject")
    wb.properties.creator = w("properties.creator")
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
    *,
    deadline: time = DEADLINE,
    max_sessions: int = ELIGIBILITY_MAX_SESSIONS,
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
            deadline=deadline,
            max_sessions=max_sessions,
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
