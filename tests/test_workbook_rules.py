"""docs/contracts.md#3-school-weekly-submission, rule by rule, on real .xlsx files written with openpyxl.

Every workbook is the valid baseline (tests/workbooks.py) with one thing changed. The expected
rule, sheet, Excel row and column come from what the test changed, never from running the
checker. GX has a fixed cost per `check_workbooks` call, so all variants go through one call
(which also proves that files checked together do not leak into each other) and the
parametrized tests assert on the results.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from chuyencan.core.contract import CLASS_SHEET, SHEETS, STATUS_LABELS, STUDENT_SHEET
from chuyencan.core.reference import Reference, load_reference
from chuyencan.core.text import strip_diacritics
from chuyencan.submissions.issues import MASK, Issue, messages
from chuyencan.submissions.reader import read_workbook
from chuyencan.submissions.validate import CheckedFile, check_workbooks
from tests.bad_input import raw as raw_files
from tests.workbooks import (
    CLASSES,
    SCHOOL,
    STUDENTS,
    WEEK,
    Workbook,
    baseline,
    baseline_classes,
    baseline_students,
    class_row,
    personal_strings,
    reference_with_school_closed,
)

# 'Now' for the checks: the baseline week (14 Mar 2025) is past, 25 Apr 2025 is in the future,
# and 11 Apr 2025 (a four-day week: Monday 7 Apr is a holiday) is the current week.
TODAY = date(2025, 4, 11)
FUTURE_WEEK = date(2025, 4, 25)
HOLIDAY_WEEK = date(2025, 4, 11)
USUAL_RATES = {SCHOOL: 0.98}
# Rejection variants carry title rows so that Excel row numbers differ from data indexes.
TITLE_ROWS = 2

Found = tuple[str, str | None, int | None, str | None]  # rule, sheet, Excel row, contract key

STATUS_CODES = ["bo_hoc", "vang_dai_ngay", "nguy_co", "da_tro_lai"]  # of the baseline students
SEX_CODES = ["M", "F", "F", "M"]
S_DROPPED, S_ABSENT, S_AT_RISK, S_BACK = range(4)  # baseline student indexes, by status


def found(issue: Issue) -> Found:
    return (issue.rule, issue.sheet, issue.row, issue.column)


def header_of(sheet_name: str | None, key: str | None) -> str | None:
    for sheet in SHEETS:
        if sheet.name == sheet_name:
            for col in sheet.columns:
                if col.key == key:
                    return col.header
    return None


def is_personal(sheet_name: str | None, key: str | None) -> bool:
    return any(
        sheet.name == sheet_name and col.key == key and col.personal
        for sheet in SHEETS
        for col in sheet.columns
    )


# -- cases ---------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    book: Workbook
    errors: set[Found] = field(default_factory=set)  # exactly these errors …
    tolerated: set[Found] = field(default_factory=set)  # … plus, optionally, these
    warnings: set[Found] | None = None  # exactly these warnings; None: not asserted


def _broken() -> Workbook:
    return baseline(title_rows=TITLE_ROWS)


def _at(book: Workbook, rule: str, sheet: str, index: int, key: str) -> Found:
    return (rule, sheet, book.excel_row(index), key)


def _cell(case_id: str, sheet: str, index: int, key: str, value: object, *, rule: str) -> Case:
    """One cell changed; the error is on that very cell."""
    book = _broken().set(sheet, index, key, value)
    return Case(case_id, book, {_at(book, rule, sheet, index, key)})


def _every_class_row(book: Workbook, rule: str, key: str) -> set[Found]:
    return {_at(book, rule, CLASSES, i, key) for i in range(len(book.classes))}


def _structure_cases() -> list[Case]:
    cases = []
    for sheet in SHEETS:
        book = _broken().rename_sheet(sheet.name, None)
        cases.append(Case(f"missing_sheet-{sheet.name}", book, {("missing_sheet", sheet.name, None, None)}))
        for col in sheet.columns:
            if col.required:
                book = _broken().drop_column(sheet.name, col.key)
                cases.append(
                    Case(
                        f"missing_column-{sheet.name}-{col.key}",
                        book,
                        {("missing_column", sheet.name, book.header_row, col.key)},
                    )
                )
        book = _broken()
        for n, col in enumerate(sheet.columns, start=1):
            book.rename_header(sheet.name, col.key, f"Cột {n}")
        cases.append(
            Case(f"header_not_found-{sheet.name}", book, {("header_not_found", sheet.name, None, None)})
        )
    for sheet_name, key in ((CLASSES, "lop"), (CLASSES, "si_so"), (STUDENTS, "ngay_sinh")):
        book = _broken().duplicate_column(sheet_name, key)
        cases.append(
            Case(
                f"duplicate_column-{sheet_name}-{key}",
                book,
                {("duplicate_column", sheet_name, book.header_row, key)},
            )
        )
    book = baseline(title_rows=TITLE_ROWS, classes=[])
    cases.append(Case("no_classes", book, {("no_classes", CLASSES, None, None)}))
    return cases


def _class_cases() -> list[Case]:
    cases = []

    book = _broken().set_all(CLASSES, "ma_truong", "BX-XYZ")
    cases.append(Case("unknown_school", book, _every_class_row(book, "unknown_school", "ma_truong")))
    # Two schools in one file: another real, active school's code on one row.
    cases.append(_cell("school_code_differs", CLASSES, 2, "ma_truong", "BX-ALU", rule="school_code_differs"))
    cases.append(_cell("week_differs", CLASSES, 2, "tuan", date(2025, 3, 7), rule="week_differs"))

    book = _broken().set_all(CLASSES, "tuan", date(2025, 3, 13))  # a Thursday
    cases.append(Case("week_not_friday", book, _every_class_row(book, "week_not_friday", "tuan")))

    # A summer Friday before school year 2024-2025 starts (5 Sep 2024). The students' first
    # days missed move before it too, or they would (rightly) be 'after the week'.
    book = (
        _broken()
        .set_all(CLASSES, "tuan", date(2024, 8, 16))
        .set(STUDENTS, S_DROPPED, "ngay_nghi", date(2024, 5, 20))
        .set(STUDENTS, S_BACK, "ngay_nghi", None)
    )
    cases.append(
        Case("week_outside_school_year", book, _every_class_row(book, "week_outside_school_year", "tuan"))
    )

    book = _broken().set_all(CLASSES, "tuan", FUTURE_WEEK)
    cases.append(Case("week_in_future", book, _every_class_row(book, "week_in_future", "tuan")))

    # Grades 0 and 13 are also outside the school's 1-9: one issue per cell, the range one.
    cases.append(_cell("grade_0", CLASSES, 1, "khoi", 0, rule="grade_range"))
    cases.append(_cell("grade_13", CLASSES, 1, "khoi", 13, rule="grade_range"))
    cases.append(_cell("grade_outside_school", CLASSES, 4, "khoi", 10, rule="grade_outside_school"))

    for spelling in ("6A", "6a "):
        book = _broken().add_row(CLASSES, class_row(6, spelling, enrolled=25, days=5, excused=1, unexcused=1))
        new, original = len(book.classes) - 1, 2  # baseline row 2 is 6A
        cases.append(
            Case(
                f"duplicate_class-{spelling.strip()}",
                book,
                {_at(book, "duplicate_class", CLASSES, new, "lop")},
                # Reporting the first occurrence as well is fair: either row may be the wrong one.
                tolerated={_at(book, "duplicate_class", CLASSES, original, "lop")},
            )
        )

    case = _cell("negative-si_so", CLASSES, 1, "si_so", -1, rule="negative")
    # With a negative sĩ số, sĩ số × số ngày học is negative too, so any absence exceeds it.
    case.tolerated.add(_at(case.book, "absences_exceed_capacity", CLASSES, 1, "vang_khong_phep"))
    cases.append(case)
    cases.append(_cell("negative-vang_co_phep", CLASSES, 1, "vang_co_phep", -2, rule="negative"))
    cases.append(_cell("negative-vang_khong_phep", CLASSES, 1, "vang_khong_phep", -1, rule="negative"))
    cases.append(_cell("school_days_7", CLASSES, 1, "so_ngay_hoc", 7, rule="school_days_range"))

    # Row 0: 30 enrolled x 5 days = 150 student-days; 100 + 60 absences exceed them.
    book = _broken().set(CLASSES, 0, "vang_co_phep", 100).set(CLASSES, 0, "vang_khong_phep", 60)
    cases.append(
        Case(
            "absences_exceed_capacity",
            book,
            {_at(book, "absences_exceed_capacity", CLASSES, 0, "vang_khong_phep")},
        )
    )

    cases.append(_cell("text_in_number-si_so", CLASSES, 1, "si_so", "ba", rule="not_integer"))
    cases.append(_cell("text_in_number-vang_co_phep", CLASSES, 1, "vang_co_phep", "3,5", rule="not_integer"))
    cases.append(_cell("mm_dd_date-tuan", CLASSES, 0, "tuan", "03/14/2025", rule="invalid_date"))
    cases.append(_cell("two_digit_year-tuan", CLASSES, 0, "tuan", "14/03/25", rule="date_two_digit_year"))
    for col in CLASS_SHEET.columns:
        if col.required:
            cases.append(_cell(f"required-{CLASSES}-{col.key}", CLASSES, 1, col.key, None, rule="required"))
    return cases


def _student_cases() -> list[Case]:
    cases = []
    for col in STUDENT_SHEET.columns:
        if col.required:
            cases.append(
                _cell(f"required-{STUDENTS}-{col.key}", STUDENTS, S_DROPPED, col.key, None, rule="required")
            )
    cases.append(
        _cell(
            "bo_hoc_without_ngay_nghi",
            STUDENTS,
            S_DROPPED,
            "ngay_nghi",
            None,
            rule="first_day_missed_required",
        )
    )
    # A first day missed that cannot be read is one issue, not also 'required for bo_hoc'.
    cases.append(
        _cell("mm_dd_date-ngay_nghi", STUDENTS, S_DROPPED, "ngay_nghi", "02/17/2025", rule="invalid_date")
    )
    cases.append(
        _cell(
            "two_digit_year-ngay_sinh",
            STUDENTS,
            S_DROPPED,
            "ngay_sinh",
            "12/04/11",
            rule="date_two_digit_year",
        )
    )
    cases.append(
        _cell("text_in_number-so_buoi_nghi", STUDENTS, S_ABSENT, "so_buoi_nghi", "ba", rule="not_integer")
    )

    # Student 0 is a boy born 2011: a consistent ID has '2' (boy, 2000s) then '11'.
    pid = "so_dinh_danh"
    cases.append(
        _cell("personal_id-11_digits", STUDENTS, S_DROPPED, pid, "01021100421", rule="personal_id_format")
    )
    cases.append(
        _cell("personal_id-letters", STUDENTS, S_DROPPED, pid, "01021A004217", rule="personal_id_format")
    )
    cases.append(
        _cell(
            "personal_id-birth_year",
            STUDENTS,
            S_DROPPED,
            pid,
            "010210004217",
            rule="personal_id_inconsistent",
        )
    )
    cases.append(
        _cell("personal_id-sex", STUDENTS, S_DROPPED, pid, "010311004217", rule="personal_id_inconsistent")
    )

    # Another boy born 2018 (so the ID stays consistent) given student 3's ID.
    book = _broken().copy_row(STUDENTS, S_BACK, ho_ten="Chảo Láo Phin", ngay_sinh=date(2018, 2, 3))
    cases.append(
        Case(
            "duplicate_student_id",
            book,
            {_at(book, "duplicate_student_id", STUDENTS, 4, pid)},
            tolerated={_at(book, "duplicate_student_id", STUDENTS, S_BACK, pid)},
        )
    )
    # Student 2 (no ID) written twice, with a different status the second time.
    book = _broken().copy_row(STUDENTS, S_AT_RISK, tinh_trang="da_tro_lai")
    cases.append(
        Case(
            "duplicate_student",
            book,
            {_at(book, "duplicate_student", STUDENTS, 4, "ho_ten")},
            tolerated={_at(book, "duplicate_student", STUDENTS, S_AT_RISK, "ho_ten")},
        )
    )
    cases.append(_cell("sex_invalid", STUDENTS, S_DROPPED, "gioi_tinh", "X", rule="sex_invalid"))
    cases.append(
        _cell("status_invalid", STUDENTS, S_ABSENT, "tinh_trang", "Chuyển trường", rule="status_invalid")
    )

    # Born 2020 and in grade 9 (student 2 has no ID, so only the age can disagree).
    book = (
        _broken().set(STUDENTS, S_AT_RISK, "khoi", 9).set(STUDENTS, S_AT_RISK, "ngay_sinh", date(2020, 1, 15))
    )
    cases.append(
        Case("age_implausible", book, {_at(book, "age_implausible", STUDENTS, S_AT_RISK, "ngay_sinh")})
    )
    cases.append(_cell("unknown_commune", STUDENTS, S_ABSENT, "xa", "Mường Khương", rule="unknown_commune"))
    cases.append(_cell("negative-so_buoi_nghi", STUDENTS, S_ABSENT, "so_buoi_nghi", -3, rule="negative"))
    cases.append(
        _cell(
            "ngay_nghi_after_week",
            STUDENTS,
            S_DROPPED,
            "ngay_nghi",
            date(2025, 3, 20),
            rule="first_day_missed_after_week",
        )
    )
    # Student 3 (boy, 2018, grade 1): grade 0 keeps his age plausible, so only the grade fails.
    cases.append(_cell("student_grade_0", STUDENTS, S_BACK, "khoi", 0, rule="grade_range"))
    # Student 0 (2011) in grade 10 is 3 years 'early' by the age rule's bounds: only the school range fails.
    cases.append(
        _cell("student_grade_outside_school", STUDENTS, S_DROPPED, "khoi", 10, rule="grade_outside_school")
    )
    return cases


REJECTS = _structure_cases() + _class_cases() + _student_cases()


def _accept_cases() -> list[Case]:
    labels = baseline()
    for i, code in enumerate(STATUS_CODES):
        labels.set(STUDENTS, i, "tinh_trang", STATUS_LABELS[code])
    labels.set_all(STUDENTS, "gioi_tinh", None)
    for i, sex in enumerate(["Nam", "Nữ", "NỮ", "nam"]):
        labels.set(STUDENTS, i, "gioi_tinh", sex)
    codes = baseline()
    for i, code in enumerate(STATUS_CODES):
        codes.set(STUDENTS, i, "tinh_trang", code)
    for i, sex in enumerate(["nam", "nu", "Nu", "Nam"]):
        codes.set(STUDENTS, i, "gioi_tinh", sex)
    folded = baseline()
    for i, code in enumerate(STATUS_CODES):
        folded.set(STUDENTS, i, "tinh_trang", strip_diacritics(STATUS_LABELS[code]).upper())

    optional = baseline()
    for key in ("so_dinh_danh", "dan_toc", "cha_me", "noi_den", "ly_do"):
        optional.drop_column(STUDENTS, key)
    everything = baseline(
        title_rows=4,
        headers="no_diacritics",
        text_dates=True,
        extra_columns=True,
        extra_sheets=("Hướng dẫn",),
    )
    everything.rename_sheet(CLASSES, CLASS_SHEET.title).rename_sheet(STUDENTS, STUDENT_SHEET.title)
    return [
        Case("baseline", baseline(), warnings=set()),
        Case("title_rows", baseline(title_rows=3), warnings=set()),
        Case("headers_without_diacritics", baseline(headers="no_diacritics"), warnings=set()),
        Case("headers_ascii_keys", baseline(headers="keys"), warnings=set()),
        Case("headers_odd_case_and_spacing", baseline(headers="messy"), warnings=set()),
        Case("text_dates", baseline(text_dates=True), warnings=set()),
        Case("status_and_sex_labels", labels, warnings=set()),
        Case("status_and_sex_codes", codes, warnings=set()),
        Case("status_labels_folded_upper", folded, warnings=set()),
        Case("extra_columns_and_sheets", baseline(extra_columns=True, extra_sheets=("Hướng dẫn", "Sheet1"))),
        Case(
            "sheets_named_with_diacritics",
            baseline().rename_sheet(CLASSES, "Chuyên cần").rename_sheet(STUDENTS, "Học sinh"),
        ),
        Case("empty_student_list", baseline(students=[]), warnings=set()),
        # Typed as a number, 010211004217 loses its leading 0; the reader restores it.
        Case("personal_id_as_number", baseline().set(STUDENTS, S_DROPPED, "so_dinh_danh", 10211004217)),
        Case(
            "commune_spellings",
            baseline()
            .set(STUDENTS, 0, "xa", "A Mù Sung")
            .set(STUDENTS, 1, "xa", "xã A Mú Sung")
            .set(STUDENTS, 2, "xa", "Xã A Mù Sung"),
            warnings=set(),
        ),
        # Without ly_do the dropped-out student lacks a reason: a warning, not an error.
        Case(
            "optional_columns_absent",
            optional,
            warnings={("reason_missing", STUDENTS, optional.excel_row(S_DROPPED), "ly_do")},
        ),
        Case("all_layout_knobs_at_once", everything),
    ]


ACCEPTS = _accept_cases()


def _warning_cases() -> list[Case]:
    cases = []
    book = baseline().set(STUDENTS, S_DROPPED, "ly_do", None)
    cases.append(
        Case("bo_hoc_without_ly_do", book, warnings={_at(book, "reason_missing", STUDENTS, 0, "ly_do")})
    )
    book = baseline().set(STUDENTS, S_ABSENT, "lop", "3B")
    cases.append(
        Case(
            "class_not_in_chuyencan",
            book,
            warnings={_at(book, "class_not_in_attendance_sheet", STUDENTS, S_ABSENT, "lop")},
        )
    )
    # Every baseline class reports 5 school days; the calendar has 4 that week.
    book = baseline(week=HOLIDAY_WEEK)
    cases.append(
        Case(
            "school_days_above_calendar",
            book,
            warnings=_every_class_row(book, "school_days_above_calendar", "so_ngay_hoc"),
        )
    )
    # Class 3A: 20 enrolled x 5 days = 100, 30 absences: 70 % against the usual 98 %.
    book = (
        baseline()
        .set(CLASSES, 1, "si_so", 20)
        .set(CLASSES, 1, "vang_co_phep", 10)
        .set(CLASSES, 1, "vang_khong_phep", 20)
    )
    cases.append(
        Case("attendance_drop", book, warnings={_at(book, "attendance_drop", CLASSES, 1, "vang_khong_phep")})
    )
    return cases


WARNINGS = _warning_cases()


def _several_errors() -> Case:
    book = _broken()
    book.set(CLASSES, 0, "si_so", "ba")
    book.set(CLASSES, 1, "vang_co_phep", -2)
    book.set(CLASSES, 3, "tuan", "03/14/2025")
    book.set(STUDENTS, S_DROPPED, "ngay_nghi", "02/17/2025")  # bo_hoc: not also 'required'
    book.set(STUDENTS, S_ABSENT, "gioi_tinh", "X")
    book.set(STUDENTS, S_AT_RISK, "ngay_sinh", "31/02/2010")  # required: not also 'required'
    book.set(STUDENTS, S_BACK, "xa", "Mường Khương")
    return Case(
        "several_errors",
        book,
        {
            _at(book, "not_integer", CLASSES, 0, "si_so"),
            _at(book, "negative", CLASSES, 1, "vang_co_phep"),
            _at(book, "invalid_date", CLASSES, 3, "tuan"),
            _at(book, "invalid_date", STUDENTS, S_DROPPED, "ngay_nghi"),
            _at(book, "sex_invalid", STUDENTS, S_ABSENT, "gioi_tinh"),
            _at(book, "invalid_date", STUDENTS, S_AT_RISK, "ngay_sinh"),
            _at(book, "unknown_commune", STUDENTS, S_BACK, "xa"),
        },
    )


SEVERAL = _several_errors()


def _personal_errors() -> Case:
    """Errors on every personal column, each holding the student's real value."""
    book = _broken()
    book.copy_row(STUDENTS, S_AT_RISK, so_buoi_nghi=13)  # row 4: the same name and birth date
    # Row 5: a girl's ID (digit 3) on a boy, born 2018 like the ID says.
    book.copy_row(STUDENTS, S_BACK, ho_ten="Chảo Mùi Phin", so_dinh_danh="010318005599")
    book.set(STUDENTS, S_DROPPED, "so_dinh_danh", "01021A004217")
    book.set(STUDENTS, S_ABSENT, "ngay_sinh", "31/02/2016")
    book.set(STUDENTS, S_BACK, "thon", "Lao Chải " * 70)  # longer than a cell may be
    book.set(STUDENTS, S_BACK, "cha_me", "Chảo Láo Tả " * 50)
    book.set(STUDENTS, S_BACK, "noi_den", "Khu công nghiệp Quế Võ, Bắc Ninh " * 20)
    return Case(
        "personal_values",
        book,
        {
            _at(book, "personal_id_format", STUDENTS, S_DROPPED, "so_dinh_danh"),
            _at(book, "invalid_date", STUDENTS, S_ABSENT, "ngay_sinh"),
            _at(book, "text_too_long", STUDENTS, S_BACK, "thon"),
            _at(book, "text_too_long", STUDENTS, S_BACK, "cha_me"),
            _at(book, "text_too_long", STUDENTS, S_BACK, "noi_den"),
            _at(book, "duplicate_student", STUDENTS, 4, "ho_ten"),
            _at(book, "personal_id_inconsistent", STUDENTS, 5, "so_dinh_danh"),
        },
        tolerated={_at(book, "duplicate_student", STUDENTS, S_AT_RISK, "ho_ten")},
    )


PERSONAL = _personal_errors()
ALL_CASES = [*REJECTS, *ACCEPTS, *WARNINGS, SEVERAL, PERSONAL]


# -- checking, once -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


@pytest.fixture(scope="module")
def batch(ref: Reference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckedFile]:
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES), "case ids must be unique"
    folder = tmp_path_factory.mktemp("workbooks")
    paths = [case.book.save(folder / f"{n:03d}.xlsx") for n, case in enumerate(ALL_CASES)]
    checked = check_workbooks(paths, ref, today=TODAY, usual_rates=USUAL_RATES)
    assert [c.path for c in checked] == paths
    return {case.id: c for case, c in zip(ALL_CASES, checked, strict=True)}


def _assert_explained(issue: Issue) -> None:
    """A Vietnamese message and fix, every placeholder filled, naming the column and value."""
    template = messages()[issue.rule]
    message, fix = issue.message(), issue.fix()
    for text in (message, fix):
        assert text, issue
        assert not {"{", "}"} & set(text), (issue.rule, text)
        assert strip_diacritics(text) != text, f"not Vietnamese: {text!r}"
    header = header_of(issue.sheet, issue.column)
    if "{column}" in template["message"]:
        assert header is not None
        assert header in message, (issue, message)
    if "{sheet}" in template["message"]:
        assert issue.sheet is not None
        assert issue.sheet in message
    if "{value}" in template["message"] and issue.value and not is_personal(issue.sheet, issue.column):
        assert issue.value in message, (issue, message)


def _assert_errors(case: Case, checked: CheckedFile) -> None:
    got = {found(i) for i in checked.errors}
    assert case.errors <= got, f"missing {case.errors - got}, got {got}"
    assert got - case.errors <= case.tolerated, f"unexpected {got - case.errors - case.tolerated}"
    # One issue per broken cell: a cell that failed to parse is not also 'required'.
    cells = Counter((i.sheet, i.row, i.column) for i in checked.errors if i.row is not None)
    assert all(n == 1 for n in cells.values()), cells
    for issue in checked.errors:
        _assert_explained(issue)


# -- the contract's layouts are accepted ----------------------------------------------------------


@pytest.mark.parametrize("case", ACCEPTS, ids=lambda c: c.id)
def test_allowed_layout_is_accepted(case: Case, batch: dict[str, CheckedFile]) -> None:
    checked = batch[case.id]
    assert checked.errors == [], [(found(i), i.value) for i in checked.errors]
    assert checked.accepted
    if case.warnings is not None:
        assert {found(i) for i in checked.warnings} == case.warnings

    # Accepted because it was read right, not because columns went missing quietly.
    classes = checked.classes
    assert classes is not None
    expected = baseline_classes()
    assert list(classes["class_name"]) == [c["lop"] for c in expected]
    assert list(classes["grade"]) == [c["khoi"] for c in expected]
    assert list(classes["enrolled"]) == [c["si_so"] for c in expected]
    assert list(classes["absent_unexcused"]) == [c["vang_khong_phep"] for c in expected]
    assert checked.school_code == SCHOOL
    assert checked.week_ending == WEEK
    students = checked.students
    assert students is not None
    if case.book.students:
        assert list(students["status"]) == STATUS_CODES
        assert list(students["sex"]) == SEX_CODES
        assert list(students["birth_date"]) == [s["ngay_sinh"] for s in baseline_students()]
        assert list(students["commune"].map(lambda v: v is not None)) == [True] * 4
    else:
        assert students.empty


def test_personal_id_typed_as_number_is_restored(batch: dict[str, CheckedFile]) -> None:
    students = batch["personal_id_as_number"].students
    assert students is not None
    assert students["personal_id"].iloc[S_DROPPED] == baseline_students()[S_DROPPED]["so_dinh_danh"]


# -- every rule rejects, at the right place -------------------------------------------------------


@pytest.mark.parametrize("case", REJECTS, ids=lambda c: c.id)
def test_rule_rejects(case: Case, batch: dict[str, CheckedFile]) -> None:
    checked = batch[case.id]
    assert not checked.accepted
    _assert_errors(case, checked)


def test_vang_dai_ngay_without_first_day_missed_is_fine(batch: dict[str, CheckedFile]) -> None:
    # Only bo_hoc needs ngay_nghi: the accepted baseline has an absent student without one.
    checked = batch["baseline"]
    assert checked.accepted
    students = checked.students
    assert students is not None
    absent = students.iloc[S_ABSENT]
    assert absent["status"] == "vang_dai_ngay"
    assert absent["first_day_missed"] is None


def test_school_year_example_matches_the_calendar(batch: dict[str, CheckedFile], ref: Reference) -> None:
    # The fix tells the school when the year runs: those dates must be the reference calendar's.
    issue = batch["week_outside_school_year"].errors[0]
    shown = [date(int(y), int(m), int(d)) for d, m, y in re.findall(r"(\d{2})/(\d{2})/(\d{4})", issue.fix())]
    assert len(shown) == 2
    assert tuple(shown) in {(year.start, year.end) for year in ref.years}


def test_messages_carry_the_numbers(batch: dict[str, CheckedFile]) -> None:
    (exceed,) = batch["absences_exceed_capacity"].errors
    assert "160" in exceed.message()
    assert "150" in exceed.message()
    (outside,) = batch["grade_outside_school"].errors
    assert {"10", "1", "9"} <= set(re.findall(r"\d+", outside.message()))  # grade 10, school 1-9
    (text,) = batch["text_in_number-si_so"].errors
    assert '"ba"' in text.message()
    assert "Sĩ số" in text.message()


# -- warnings do not reject -----------------------------------------------------------------------


@pytest.mark.parametrize("case", WARNINGS, ids=lambda c: c.id)
def test_warning_does_not_reject(case: Case, batch: dict[str, CheckedFile]) -> None:
    checked = batch[case.id]
    assert checked.errors == [], [(found(i), i.value) for i in checked.errors]
    assert checked.accepted
    assert {found(i) for i in checked.warnings} == case.warnings
    for issue in checked.warnings:
        _assert_explained(issue)


def test_warning_messages_carry_the_numbers(batch: dict[str, CheckedFile]) -> None:
    days = batch["school_days_above_calendar"].warnings[0]
    assert "(5)" in days.message()
    assert "(4)" in days.message()
    (drop,) = batch["attendance_drop"].warnings
    assert "70%" in drop.message()
    assert "98%" in drop.message()


# -- several errors, personal data ----------------------------------------------------------------


def test_file_with_several_errors_lists_them_all(batch: dict[str, CheckedFile]) -> None:
    checked = batch[SEVERAL.id]
    assert len(checked.errors) == len(SEVERAL.errors)
    _assert_errors(SEVERAL, checked)


def test_personal_values_never_shown(batch: dict[str, CheckedFile]) -> None:
    checked = batch[PERSONAL.id]
    _assert_errors(PERSONAL, checked)
    secrets = personal_strings(PERSONAL.book.students) | {"Lao Chải", "Chảo Láo Tả", "Quế Võ"}
    for issue in checked.issues:
        if is_personal(issue.sheet, issue.column):
            assert issue.public_value in (MASK, None), issue
        shown = " ".join(filter(None, (issue.public_value, issue.message(), issue.fix())))
        assert not [s for s in secrets if s in shown], (issue.rule, shown)


def test_no_personal_value_in_any_report(batch: dict[str, CheckedFile]) -> None:
    """Across every variant: whatever broke, no student's personal value reaches the school's report."""
    for case in ALL_CASES:
        secrets = personal_strings(case.book.students)
        for issue in batch[case.id].issues:
            shown = " ".join(filter(None, (issue.public_value, issue.message(), issue.fix())))
            assert not [s for s in secrets if s in shown], (case.id, issue.rule, shown)


# -- files checked together -----------------------------------------------------------------------


def test_files_checked_together_do_not_interfere(ref: Reference, tmp_path: Path) -> None:
    # Same classes and students in every file: uniqueness is per file, not across files.
    books = [
        baseline("BX-AMS"),
        baseline("BX-ALU").set(CLASSES, 2, "si_so", "ba"),
        baseline("BX-NTH"),
        baseline("BX-NPU").set(STUDENTS, S_ABSENT, "xa", "Mường Khương"),
        baseline("BX-AMS", date(2025, 3, 7)),
    ]
    # First, a file that cannot be read at all: the readable files' positions shift by one.
    unreadable = tmp_path / "bao_cao.xlsx"
    unreadable.write_text("STT;Lớp;Sĩ số\n1;6A;32\n", encoding="utf-8")
    paths = [unreadable, *(book.save(tmp_path / f"{i}.xlsx") for i, book in enumerate(books))]
    checked = check_workbooks(paths, ref, today=TODAY)
    assert [c.path for c in checked] == paths
    assert [c.accepted for c in checked] == [False, True, False, True, False, True]
    assert [(c.school_code, c.week_ending) for c in checked[1:]] == [(b.school, b.week) for b in books]
    assert [{found(i) for i in c.errors} for c in checked] == [
        {("not_xlsx", None, None, None)},
        set(),
        {("not_integer", CLASSES, books[1].excel_row(2), "si_so")},
        set(),
        {("unknown_commune", STUDENTS, books[3].excel_row(S_ABSENT), "xa")},
        set(),
    ]


def test_closed_school_is_rejected(ref: Reference, tmp_path: Path) -> None:
    closed_on = date(2024, 12, 31)
    closed_ref = load_reference(reference_with_school_closed(tmp_path / "reference", SCHOOL, closed_on))

    after = baseline(title_rows=TITLE_ROWS)
    # A week before the closure is still fine (first days missed moved before that week).
    before = (
        baseline(week=date(2024, 12, 13))
        .set(STUDENTS, S_DROPPED, "ngay_nghi", date(2024, 11, 18))
        .set(STUDENTS, S_BACK, "ngay_nghi", None)
    )
    paths = [after.save(tmp_path / "after.xlsx"), before.save(tmp_path / "before.xlsx")]
    checked_after, checked_before = check_workbooks(paths, closed_ref, today=TODAY)
    _assert_errors(
        Case("closed", after, _every_class_row(after, "school_inactive", "ma_truong")), checked_after
    )
    assert checked_before.accepted, [found(i) for i in checked_before.errors]


# --- what the school sent instead of an .xlsx, named in its own words ------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "make", "detected"),
    [
        ("ods", raw_files.write_ods, "bảng tính LibreOffice/OpenOffice (.ods)"),
        ("docx", lambda p: _zip(p, {"word/document.xml": b"<w:document/>"}), "văn bản Word (.docx)"),
        ("zip", lambda p: _zip(p, {"a.txt": b"x"}), "tệp nén (zip) không phải Excel"),
        ("pdf", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "PDF"),
        (
            "csv_utf8",
            lambda p: p.write_bytes("Mã trường,Tuần\r\nBX-AMS,14/03/2025\r\n".encode()),
            "văn bản (CSV/TXT)",
        ),
        # Excel's "CSV" on Vietnamese Windows is Windows-1258, not UTF-8: still text.
        (
            "csv_cp1258",
            lambda p: p.write_bytes("Mã trường,Lớp\r\nBX-AMS,6A\r\n".encode("cp1258", errors="replace")),
            "văn bản (CSV/TXT)",
        ),
        ("csv_utf16", lambda p: p.write_bytes("Mã trường\tLớp\r\n".encode("utf-16")), "văn bản (CSV/TXT)"),
        (
            "html",
            lambda p: p.write_bytes(b"<html><body><table><tr><td>1</td></tr></table>"),
            "trang web/HTML",
        ),
        ("binary", lambda p: p.write_bytes(bytes(range(256)) * 4), "không rõ"),
    ],
)
def test_a_file_that_is_not_an_xlsx_is_named_for_what_it_is(
    tmp_path: Path, name: str, make: Callable[[Path], object], detected: str
) -> None:
    path = tmp_path / "bao cao.xlsx"
    make(path)
    parsed = read_workbook(path)
    [issue] = parsed.issues
    assert issue.rule == "not_xlsx"
    assert dict(issue.params)["detected"].startswith(detected)
    assert detected in issue.message()


# --- a totals line is not a class or a student -----------------------------------------------------


@pytest.mark.parametrize(
    "label", ["Tổng cộng", "TỔNG CỘNG:", "tong cong", "Tổng số", "Tổng", "Cộng", "Cộng khối 6"]
)
def test_a_totals_line_under_the_classes_is_named_as_such(ref: Reference, tmp_path: Path, label: str) -> None:
    book = baseline()
    classes = book.rows(CLASSES)
    total = {"lop": label, **{k: sum(int(r[k]) for r in classes) for k in ("si_so", "vang_co_phep")}}
    row = book.excel_row(len(classes))  # the line after the last class
    book.add_row(CLASSES, total)
    [checked] = check_workbooks([book.save(tmp_path / "f.xlsx")], ref, today=TODAY)
    # Only this: not also "grade missing" or "school days missing" on the same line.
    assert [found(i) for i in checked.errors] == [("total_row", CLASSES, row, None)]
    assert "dòng tổng cộng" in checked.errors[0].message()


def test_a_totals_line_under_the_students_is_named_as_such(ref: Reference, tmp_path: Path) -> None:
    book = baseline().add_row(STUDENTS, {"ho_ten": "Tổng số: 4 học sinh"})
    [checked] = check_workbooks([book.save(tmp_path / "f.xlsx")], ref, today=TODAY)
    assert [found(i) for i in checked.errors] == [("total_row", STUDENTS, book.excel_row(4), None)]


@pytest.mark.parametrize("name", ["Tống Sơn Tùng", "Tống Khôi Nguyên", "Tống Toàn", "Cống Thị Mai"])
def test_a_student_whose_name_begins_like_a_total_is_a_student(
    ref: Reference, tmp_path: Path, name: str
) -> None:
    book = baseline().set(STUDENTS, 0, "ho_ten", name)
    [checked] = check_workbooks([book.save(tmp_path / "f.xlsx")], ref, today=TODAY)
    assert checked.accepted, [found(i) for i in checked.errors]
