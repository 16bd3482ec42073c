"""The weekly school template: real .xlsx files, read back the way the pipeline and schools do."""

from __future__ import annotations

import csv
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from chuyencan.core import contract
from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, Sheet
from chuyencan.core.reference import Reference, School, load_reference
from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.core.text import fold
from chuyencan.submissions import school_template as tpl
from tests.helpers import examples
from tests.school_files import ClassRow
from tests.workbook_snapshot import golden, workbook_snapshot

WEEK = date(2025, 4, 11)


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def _school(ref: Reference, kind: str) -> School:
    return next(s for s in ref.active_schools(WEEK) if s.kind == kind)


def _columns(ws: Worksheet, sheet: Sheet) -> dict[str, int]:
    """Column index by contract name, found from the header row as the reader does."""
    headers = {fold(c.value): c.column for c in ws[tpl.HEADER_ROW] if c.value}
    return {col.name: headers[fold(col.header)] for col in sheet.columns}


def _validations(ws: Worksheet, sheet: Sheet) -> dict[str, Any]:
    cols = _columns(ws, sheet)
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for name, index in cols.items():
                if rng.min_col == index:
                    out[name] = dv
    return out


# -- structure ------------------------------------------------------------------------------------


def test_template_opens_with_openpyxl_and_calamine(ref: Reference, tmp_path: Path) -> None:
    school = _school(ref, "TH&THCS")
    path = tpl.write_template(school, WEEK, tmp_path / "t.xlsx")

    wb = load_workbook(path)
    assert CLASS_SHEET.name in wb.sheetnames
    assert STUDENT_SHEET.name in wb.sheetnames
    assert tpl.INSTRUCTIONS_SHEET in wb.sheetnames
    for sheet in (CLASS_SHEET, STUDENT_SHEET):
        ws = wb[sheet.name]
        assert [c.value for c in ws[tpl.HEADER_ROW]] == [c.header for c in sheet.columns]
        assert "11/04/2025" in ws["A1"].value
        assert school.name in ws["A2"].value
        assert ws.freeze_panes.endswith(str(tpl.FIRST_DATA_ROW))

    book = CalamineWorkbook.from_path(str(path))
    for sheet in (CLASS_SHEET, STUDENT_SHEET):
        rows = book.get_sheet_by_name(sheet.name).to_python()
        assert rows[tpl.HEADER_ROW - 1] == [c.header for c in sheet.columns]
    first = book.get_sheet_by_name(CLASS_SHEET.name).to_python()[tpl.FIRST_DATA_ROW - 1]
    assert first[:2] == [school.code, WEEK]
    assert all(v == "" for v in first[2:])


def test_blank_template_prefills_code_and_week_on_every_row(ref: Reference, tmp_path: Path) -> None:
    school = _school(ref, "THCS")
    ws = load_workbook(tpl.write_template(school, WEEK, tmp_path / "t.xlsx"))[CLASS_SHEET.name]
    cols = _columns(ws, CLASS_SHEET)
    rows = range(tpl.FIRST_DATA_ROW, tpl.FIRST_DATA_ROW + tpl.BLANK_CLASS_ROWS)
    assert ws.max_row == rows[-1]
    for row in rows:
        code = ws.cell(row=row, column=cols["school_code"])
        week = ws.cell(row=row, column=cols["week_ending"])
        assert code.value == school.code
        assert code.data_type == "s"
        assert code.number_format == "@"
        assert week.is_date
        assert week.value.date() == WEEK
        assert week.number_format == "dd/mm/yyyy"
        for cell in (code, week):
            assert cell.protection.locked
            assert cell.fill.fgColor.rgb.endswith(tpl._GREY)
        for name in ("grade", "class_name", "enrolled", "school_days", "absent_excused"):
            cell = ws.cell(row=row, column=cols[name])
            assert cell.value is None
            assert not cell.protection.locked
    assert ws.protection.sheet
    assert not ws.protection.password


def test_known_classes_are_prefilled_with_spare_rows(ref: Reference, tmp_path: Path) -> None:
    school = _school(ref, "THPT")
    classes = [(10, "10A1", 42), (10, "10A2", 40), (12, "12A1", 38)]
    ws = load_workbook(tpl.write_template(school, WEEK, tmp_path / "t.xlsx", classes))[CLASS_SHEET.name]
    cols = _columns(ws, CLASS_SHEET)
    read = [
        tuple(ws.cell(row=r, column=cols[n]).value for n in ("grade", "class_name", "enrolled"))
        for r in range(tpl.FIRST_DATA_ROW, ws.max_row + 1)
    ]
    assert read[: len(classes)] == classes
    assert read[len(classes) :] == [(None, None, None)] * tpl.SPARE_CLASS_ROWS
    for r in range(tpl.FIRST_DATA_ROW, ws.max_row + 1):
        assert ws.cell(row=r, column=cols["school_code"]).value == school.code


def test_student_sheet_is_blank_with_text_id_and_date_formats(ref: Reference, tmp_path: Path) -> None:
    ws = load_workbook(tpl.write_template(_school(ref, "THCS"), WEEK, tmp_path / "t.xlsx"))[
        STUDENT_SHEET.name
    ]
    cols = _columns(ws, STUDENT_SHEET)
    assert ws.max_row == tpl.HEADER_ROW + tpl.STUDENT_ROWS
    assert all(c.value is None for row in ws.iter_rows(min_row=tpl.FIRST_DATA_ROW) for c in row)
    row = tpl.FIRST_DATA_ROW
    assert ws.cell(row=row, column=cols["personal_id"]).number_format == "@"
    for name in ("birth_date", "first_day_missed"):
        assert ws.cell(row=row, column=cols[name]).number_format == "dd/mm/yyyy"


@pytest.mark.parametrize(("kind", "grades"), [("TH&THCS", range(1, 10)), ("THPT", range(10, 13))])
def test_validations_follow_the_contract_and_the_school(
    ref: Reference, tmp_path: Path, kind: str, grades: range
) -> None:
    school = _school(ref, kind)
    assert (school.grade_min, school.grade_max) == (grades[0], grades[-1])
    wb = load_workbook(tpl.write_template(school, WEEK, tmp_path / "t.xlsx"))
    grade_list = '"' + ",".join(map(str, grades)) + '"'

    cls = _validations(wb[CLASS_SHEET.name], CLASS_SHEET)
    assert cls["grade"].type == "list"
    assert cls["grade"].formula1 == grade_list
    assert (
        str(cls["grade"].sqref) == f"C{tpl.FIRST_DATA_ROW}:C{tpl.FIRST_DATA_ROW + tpl.BLANK_CLASS_ROWS - 1}"
    )
    for name in ("enrolled", "absent_excused", "absent_unexcused"):
        assert (cls[name].type, cls[name].operator, cls[name].formula1) == (
            "whole",
            "greaterThanOrEqual",
            "0",
        )
    days = cls["school_days"]
    assert (days.type, days.operator, days.formula1, days.formula2) == ("whole", "between", "0", "6")

    stu = _validations(wb[STUDENT_SHEET.name], STUDENT_SHEET)
    assert stu["grade"].formula1 == grade_list
    assert stu["sex"].formula1 == '"' + ",".join(contract.SEX_LABELS.values()) + '"'
    assert stu["status"].formula1 == '"' + ",".join(contract.STATUS_LABELS.values()) + '"'
    reason = stu["reason"]
    assert reason.formula1 == '"' + ",".join(contract.REASON_LABELS.values()) + '"'
    assert not reason.showErrorMessage or reason.errorStyle in ("information", "warning")
    for name in ("birth_date", "first_day_missed"):
        assert stu[name].type == "date"
        assert stu[name].formula2 == "DATE(2025,4,11)"
    pid = stu["personal_id"]
    assert (pid.type, pid.operator, pid.formula1) == ("textLength", "equal", "12")
    assert (stu["sessions_missed"].type, stu["sessions_missed"].formula1) == ("whole", "0")
    for dv in (*cls.values(), *stu.values()):
        if dv.type in ("list", "whole", "textLength") and dv is not reason:
            assert dv.showErrorMessage
            assert dv.errorStyle == "stop"


def test_messages_fit_excel_limits_and_are_vietnamese(ref: Reference, tmp_path: Path) -> None:
    wb = load_workbook(tpl.write_template(_school(ref, "THCS&THPT"), WEEK, tmp_path / "t.xlsx"))
    texts = []
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            assert dv.showInputMessage
            assert len(dv.promptTitle or "") <= tpl.PROMPT_TITLE_MAX
            assert len(dv.errorTitle or "") <= tpl.PROMPT_TITLE_MAX
            assert 0 < len(dv.prompt) <= tpl.PROMPT_TEXT_MAX
            assert len(dv.error or "") <= tpl.PROMPT_TEXT_MAX
            texts += [dv.prompt, dv.error or ""]
        texts += [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    joined = " ".join(texts)
    for phrase in ("Chọn Nam hoặc Nữ", "Số định danh cá nhân có đúng 12 chữ số", "từ 0 đến 6"):
        assert phrase in joined


def test_no_formulas_anywhere(ref: Reference, tmp_path: Path) -> None:
    path = tpl.write_template(_school(ref, "THPT"), WEEK, tmp_path / "t.xlsx", [(10, "10A1", 40)])
    for ws in load_workbook(path).worksheets:
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_instructions_sheet_says_what_schools_need(ref: Reference, tmp_path: Path) -> None:
    wb = load_workbook(tpl.write_template(_school(ref, "THCS"), WEEK, tmp_path / "t.xlsx"))
    ws = wb[tpl.INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for phrase in (
        "10 giờ 00 sáng thứ Sáu",
        "11/04/2025",
        "Mỗi lớp ghi một dòng",
        "vắng học từ 3 ngày trở lên trong tuần",
        "có nguy cơ bỏ học",
        "đã trở lại học trong tuần",
        "thay thế hoàn toàn danh sách tuần trước",
        "dd/mm/yyyy",
        "tệp gửi sau thay thế tệp gửi trước",
        "bí mật",
        "Sĩ số × Số ngày học",
    ):
        assert phrase in text, phrase
    for label in contract.STATUS_LABELS.values():
        assert f"• {label}:" in text
    assert ws.column_dimensions["B"].width >= 80
    assert ws["B4"].alignment.wrap_text
    assert wb.active.title == CLASS_SHEET.name


@pytest.mark.parametrize(
    ("deadline", "said"),
    [(time(13, 30), "13 giờ 30 chiều thứ Sáu"), (time(8, 5), "8 giờ 05 sáng thứ Sáu")],
)
def test_instructions_state_the_deadline_and_the_limit_of_the_settings(
    ref: Reference, tmp_path: Path, deadline: time, said: str
) -> None:
    """The deadline and the missed-sessions limit are settings: a deployment that moves them
    tells its schools so (the weekly run passes its settings, see chuyencan.submissions.pipeline)."""
    path = tpl.write_template(
        _school(ref, "THCS"), WEEK, tmp_path / "t.xlsx", deadline=deadline, max_sessions=40
    )
    ws = load_workbook(path)[tpl.INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert f"Gửi tệp này trước {said} ngày 11/04/2025" in text
    assert "nghỉ quá 40 buổi" in text
    assert "10 giờ 00" not in text
    assert "quá 45 buổi" not in text


def test_week_must_be_a_friday(ref: Reference, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Friday"):
        tpl.write_template(_school(ref, "THCS"), date(2025, 4, 10), tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="Friday"):
        tpl.write_templates(ref, date(2025, 4, 12), tmp_path)


def test_cli_refuses_a_week_that_is_not_a_friday(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        tpl.main(["--week", "2025-04-10", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "2025-04-10 is a Thursday" in err
    assert "Friday" in err
    assert not list(tmp_path.iterdir())


def test_cli_writes_one_file_per_active_school(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A copy of the reference data in which one school closed before the week and one opens after.
    ref_dir = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, ref_dir)
    schools_csv = ref_dir / "schools.csv"
    with schools_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["valid_to"] = "2025-03-31"
    rows[1]["valid_from"] = "2025-09-01"
    with schools_csv.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"

    assert tpl.main(["--week", "2025-04-11", "--out", str(out), "--reference", str(ref_dir)]) == 0

    expected = {s.code for s in load_reference(ref_dir).active_schools(WEEK)}
    assert len(expected) == len(rows) - 2
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{code}_tuan_2025-04-11.xlsx" for code in expected)
    assert capsys.readouterr().out.count(".xlsx") == len(expected)

    one = tmp_path / "one"
    assert tpl.main(["--week", "2025-04-11", "--out", str(one), "--school", "bx-ams"]) == 0
    assert [p.name for p in one.iterdir()] == ["BX-AMS_tuan_2025-04-11.xlsx"]
    with pytest.raises(SystemExit):
        tpl.main(["--week", "2025-04-11", "--out", str(one), "--school", "NOPE"])


def test_commune_drop_down_lists_the_communes_valid_that_week(ref: Reference, tmp_path: Path) -> None:
    [path] = [p for p in tpl.write_templates(ref, WEEK, tmp_path) if p.name.startswith("BX-ALU")]
    wb = load_workbook(path)
    lists = wb[tpl.LISTS_SHEET]
    assert lists.sheet_state == "hidden"
    names = [c.value for c in lists["A"][1:] if c.value]
    assert "A Lù" in names
    assert "Ngải Thầu" not in names  # merged into A Lù in 2020
    dv = _validations(wb[STUDENT_SHEET.name], STUDENT_SHEET)["commune"]
    assert dv.formula1.startswith(f"{tpl.LISTS_SHEET}!")
    assert dv.errorStyle == "warning"


# -- a template filled in correctly is accepted by the intake validator ---------------------------


@pytest.fixture(scope="module")
def validate() -> Any:
    return pytest.importorskip("chuyencan.submissions.validate")


def _describe(checked: Any) -> str:
    return "\n".join(
        f"{e.rule} sheet={e.sheet} row={e.row} column={e.column} value={e.value!r}" for e in checked.errors
    )


def test_blank_template_holds_no_class_rows(validate: Any, ref: Reference, tmp_path: Path) -> None:
    path = tpl.write_template(_school(ref, "THCS"), WEEK, tmp_path / "t.xlsx")
    [checked] = validate.check_workbooks([path], ref, today=WEEK)
    # Prefilled rows alone are empty rows: the only complaint is that no class was reported.
    assert [e.rule for e in checked.errors] == ["no_classes"], _describe(checked)


@dataclass(frozen=True)
class StudentFill:
    full_name: str
    birth_date: date
    sex: str  # contract code
    with_id: bool
    ethnicity: str | None
    klass: int  # index into the filled classes
    commune: str
    village: str
    parent: str | None
    status: str  # contract code
    first_day_missed: date | None
    sessions: int
    reason: str | None
    destination: str | None
    dates_as_text: bool


_SURNAMES = ["Giàng", "Sùng", "Vàng", "Lý", "Thào", "Tẩn", "Chảo", "Phàn", "Lò", "Nguyễn"]
_MIDDLES = ["A", "Seo", "Thị", "Láo", "Văn", "Mí"]
_GIVEN = ["Páo", "Mẩy", "Chử", "Sú", "Mai", "Dín", "Lở", "Hoa", "Tả", "Sử"]


@st.composite
def _filled_week(
    draw: st.DrawFn, ref: Reference
) -> tuple[School, date, list[ClassRow], list[StudentFill], bool]:
    weeks = sorted(w for w, (_, days) in ref.school_weeks.items() if days and w <= WEEK)
    week = draw(st.sampled_from(weeks))
    school = draw(st.sampled_from(ref.active_schools(week)))
    year = ref.school_year_of(week)
    assert year is not None
    classes = []
    for i in range(draw(st.integers(1, 5))):
        grade = draw(st.integers(school.grade_min, school.grade_max))
        enrolled = draw(st.integers(0, 45))
        days = draw(st.integers(0, 6))
        excused = draw(st.integers(0, enrolled * days))
        unexcused = draw(st.integers(0, enrolled * days - excused))
        classes.append(ClassRow(grade, f"{grade}A{i + 1}", enrolled, days, excused, unexcused))

    communes = tpl.active_commune_names(ref, week)
    # A student cannot have missed more sessions (two a school day) than the year has had.
    sessions_so_far = 2 * sum(d for w, (y, d) in ref.school_weeks.items() if y == year.name and w <= week)

    def day_between(low: date, high: date) -> st.SearchStrategy[date]:
        return st.integers(0, (high - low).days).map(lambda n: low + timedelta(days=n))

    @st.composite
    def student(draw: st.DrawFn) -> StudentFill:
        klass = draw(st.integers(0, len(classes) - 1))
        # Ethnic-minority children often start late: up to three years over age.
        birth_year = year.start.year - classes[klass].grade - 5 - draw(st.integers(0, 3))
        status = draw(st.sampled_from(list(contract.STATUS_LABELS)))
        if status == "bo_hoc":  # required; summer dropouts count too
            missed = draw(day_between(date(year.start.year, 6, 1), week))
        else:
            missed = draw(st.none() | day_between(year.start, week))
        return StudentFill(
            full_name=" ".join(draw(st.sampled_from(p)) for p in (_SURNAMES, _MIDDLES, _GIVEN)),
            birth_date=draw(day_between(date(birth_year, 1, 1), date(birth_year, 12, 31))),
            sex=draw(st.sampled_from(list(contract.SEX_LABELS))),
            with_id=draw(st.booleans()),
            ethnicity=draw(st.none() | st.sampled_from(["Mông", "Dao", "Hà Nhì", "Giáy", "Kinh", "Phù Lá"])),
            klass=klass,
            commune=draw(st.sampled_from(communes)),
            village=draw(
                st.sampled_from(["Thôn Phìn Hồ", "Bản Tả Suối Câu", "Thôn Làng Mới", "Ky Quan San"])
            ),
            parent=draw(st.none() | st.sampled_from(["Giàng A Sử", "Lý Thị Mẩy", "Chảo Láo Lở"])),
            status=status,
            first_day_missed=missed,
            sessions=draw(st.integers(0, min(150, sessions_so_far))),
            reason=draw(
                st.none() | st.sampled_from([*contract.REASON_LABELS.values(), "Theo bố mẹ lên nương"])
            ),
            destination=draw(
                st.none() | st.sampled_from(["Bắc Ninh", "KCN Tằng Loỏng, Lào Cai", "Trung Quốc"])
            ),
            dates_as_text=draw(st.booleans()),
        )

    students = draw(st.lists(student(), max_size=6, unique_by=lambda s: (fold(s.full_name), s.birth_date)))
    prefill_classes = draw(st.booleans())
    return school, week, classes, students, prefill_classes


def _personal_id(s: StudentFill, serial: int) -> str:
    # Province 010 (Lào Cai), then century-and-sex and the year of birth (Circular 59/2021 layout).
    sex_digit = (2 if s.birth_date.year >= 2000 else 0) + (s.sex == "F")
    return f"010{sex_digit}{s.birth_date.year % 100:02d}{serial:06d}"


def _fill(path: Path, classes: list[ClassRow], students: list[StudentFill], prefilled: bool) -> None:
    """Type the week into the template as a school would, leaving the spare rows untouched."""
    wb = load_workbook(path)
    ws = wb[CLASS_SHEET.name]
    cols = _columns(ws, CLASS_SHEET)
    for offset, c in enumerate(classes):
        row = tpl.FIRST_DATA_ROW + offset
        values: dict[str, object] = {
            "school_days": c.days,
            "absent_excused": c.excused,
            "absent_unexcused": c.unexcused,
        }
        if prefilled:
            assert ws.cell(row=row, column=cols["class_name"]).value == c.name
        else:
            values |= {"grade": c.grade, "class_name": c.name, "enrolled": c.enrolled}
        for name, value in values.items():
            ws.cell(row=row, column=cols[name], value=value)

    ws = wb[STUDENT_SHEET.name]
    cols = _columns(ws, STUDENT_SHEET)

    def as_date(s: StudentFill, day: date | None) -> object:
        return day.strftime("%d/%m/%Y") if day is not None and s.dates_as_text else day

    for serial, s in enumerate(students):
        row = tpl.FIRST_DATA_ROW + serial
        klass = classes[s.klass]
        values = {
            "personal_id": _personal_id(s, serial) if s.with_id else None,
            "full_name": s.full_name,
            "birth_date": as_date(s, s.birth_date),
            "sex": contract.SEX_LABELS[s.sex],
            "ethnicity": s.ethnicity,
            "grade": klass.grade,
            "class_name": klass.name,
            "commune": s.commune,
            "village": s.village,
            "parent_name": s.parent,
            "status": contract.STATUS_LABELS[s.status],
            "first_day_missed": as_date(s, s.first_day_missed),
            "sessions_missed": s.sessions,
            "reason": s.reason,
            "destination": s.destination,
        }
        for name, value in values.items():
            ws.cell(row=row, column=cols[name], value=value)
    wb.save(path)


def test_a_template_filled_in_correctly_is_always_accepted(validate: Any, ref: Reference) -> None:
    @settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=_filled_week(ref))
    def check(case: tuple[School, date, list[ClassRow], list[StudentFill], bool]) -> None:
        school, week, classes, students, prefill = case
        known = [(c.grade, c.name, c.enrolled) for c in classes] if prefill else None
        with tempfile.TemporaryDirectory() as tmp:
            path = tpl.write_template(
                school,
                week,
                Path(tmp) / tpl.template_name(school, week),
                known,
                communes=tpl.active_commune_names(ref, week),
            )
            _fill(path, classes, students, prefill)
            [checked] = validate.check_workbooks([path], ref, today=week)
            assert checked.accepted, _describe(checked)
            assert checked.school_code == school.code
            assert len(checked.classes) == len(classes)
            assert len(checked.students if checked.students is not None else []) == len(students)

    check()


def test_templates_read_as_they_did_before_their_wording_moved_to_a_catalogue(
    ref: Reference, tmp_path: Path
) -> None:
    """Every cell, input check, format and property of four schools' templates (a prefilled
    one, and the TH&THCS, THPT and GDTX kinds) against golden files written by the code
    before `include/wording/school_template.vi.json` existed."""
    expected = golden("school_templates_2025-04-11.json")
    classes = {"BX-THCS-QK": [(6, "6A", 32), (7, "7A", 30), (9, "9B", 28)]}
    paths = tpl.write_templates(ref, WEEK, tmp_path, classes_by_school=classes)
    got = {p.name: workbook_snapshot(p) for p in paths if p.name in expected}
    assert got == expected
