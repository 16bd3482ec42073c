"""Hand-made school workbooks for the rule tests of docs/contracts.md#3-school-weekly-submission
(a builder, not a test module).

`baseline()` is a valid weekly file for one school and week: a few classes and one student of
each status. Every knob the contract allows (title rows, header spellings, text dates, extra
columns and sheets) and every way to break it (override a cell, drop or duplicate a column,
rename or drop a sheet, add rows) is a field or a chainable method, so a test states in one
line what it changed and can compute the expected sheet/row/column from the same object.

Headers come from `chuyencan.core.contract`, never retyped here, so a contract change moves the
tests with it.
"""

from __future__ import annotations

import copy
import csv
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from chuyencan.core.contract import CLASS_SHEET, SHEETS, STUDENT_SHEET, Column, Sheet
from chuyencan.core.reference import REFERENCE_DIR
from chuyencan.core.text import strip_diacritics

CLASSES = CLASS_SHEET.name
STUDENTS = STUDENT_SHEET.name

SCHOOL = "BX-AMS"  # TH&THCS, grades 1-9, commune A Mú Sung
WEEK = date(2025, 3, 14)  # a Friday of school year 2024-2025 with five school days

HeaderStyle = Literal["vietnamese", "no_diacritics", "keys", "messy"]

# Extra columns schools add around the template's: a row number first, a note last.
EXTRA_FIRST = "STT"
EXTRA_LAST = "Ghi chú"


def _sheet(name: str) -> Sheet:
    return next(s for s in SHEETS if s.name == name)


def header_text(col: Column, style: HeaderStyle) -> str:
    match style:
        case "vietnamese":
            return col.header
        case "no_diacritics":
            return strip_diacritics(col.header)
        case "keys":
            return col.key
        case "messy":
            # Odd case and stray spacing, as typed by hand: "  mÃ   TrƯờNg " style.
            mixed = "".join(ch.upper() if i % 2 else ch.lower() for i, ch in enumerate(col.header))
            return "  " + mixed.replace(" ", "   ") + " "


def class_row(
    grade: int, name: str, *, enrolled: int, days: int, excused: int, unexcused: int
) -> dict[str, Any]:
    """A ChuyenCan row by contract key; school and week are filled in by `baseline`."""
    return {
        "khoi": grade,
        "lop": name,
        "si_so": enrolled,
        "so_ngay_hoc": days,
        "vang_co_phep": excused,
        "vang_khong_phep": unexcused,
    }


def baseline_classes() -> list[dict[str, Any]]:
    # Attendance 93-99 %: far above the 78 % floor of a school whose usual rate is 98 %.
    return [
        class_row(1, "1A", enrolled=30, days=5, excused=2, unexcused=1),
        class_row(3, "3A", enrolled=28, days=5, excused=3, unexcused=2),
        class_row(6, "6A", enrolled=32, days=5, excused=1, unexcused=0),
        class_row(7, "7A", enrolled=31, days=5, excused=4, unexcused=3),
        class_row(8, "8A", enrolled=29, days=5, excused=2, unexcused=2),
    ]


def baseline_students() -> list[dict[str, Any]]:
    """One student of each status, each plausible for its grade in school year 2024-2025.

    Personal IDs follow the real layout: province (010 Lào Cai), century+sex digit (2 = boy
    born 2000-2099, 3 = girl), two digits of the birth year, six serial digits. Statuses and
    sexes mix labels and codes on purpose: the baseline itself proves both are accepted.
    """
    return [
        {
            "so_dinh_danh": "010211004217",
            "ho_ten": "Giàng Seo Chư",
            "ngay_sinh": date(2011, 4, 12),
            "gioi_tinh": "Nam",
            "dan_toc": "Mông",
            "khoi": 7,
            "lop": "7A",
            "xa": "A Mú Sung",
            "thon": "Phìn Hồ",
            "cha_me": "Giàng A Páo",
            "tinh_trang": "Bỏ học",
            "ngay_nghi": date(2025, 2, 17),
            "so_buoi_nghi": 42,
            "ly_do": "Đi làm ăn xa",
            "noi_den": "Khu công nghiệp Quế Võ, Bắc Ninh",
        },
        {
            "so_dinh_danh": "010316007351",
            "ho_ten": "Lý Thị Mỷ",
            "ngay_sinh": date(2016, 9, 2),
            "gioi_tinh": "Nữ",
            "dan_toc": "Hà Nhì",
            "khoi": 3,
            "lop": "3A",
            "xa": "A Mú Sung",
            "thon": "Tả Gì Thàng",
            "cha_me": "Lý A Sừ",
            "tinh_trang": "vang_dai_ngay",  # absent >= 3 days: no first day missed needed
            "ngay_nghi": None,
            "so_buoi_nghi": 6,
            "ly_do": None,
            "noi_den": None,
        },
        {
            "so_dinh_danh": None,  # optional: this student has none
            "ho_ten": "Sần Thị Dung",
            "ngay_sinh": date(2010, 1, 20),
            "gioi_tinh": "nu",
            "dan_toc": "Mông",
            "khoi": 8,
            "lop": "8A",
            "xa": "A Mú Sung",
            "thon": "Nhìu Cồ San",
            "cha_me": "Sần A Lử",
            "tinh_trang": "Nguy cơ bỏ học",
            "ngay_nghi": None,
            "so_buoi_nghi": 12,
            "ly_do": "Kinh tế",
            "noi_den": None,
        },
        {
            "so_dinh_danh": "010218005566",
            "ho_ten": "Chảo Láo Lở",
            "ngay_sinh": date(2018, 6, 30),
            "gioi_tinh": "Nam",
            "dan_toc": "Dao",
            "khoi": 1,
            "lop": "1A",
            "xa": "A Mú Sung",
            "thon": "Lao Chải",
            "cha_me": "Chảo Láo Tả",
            "tinh_trang": "da_tro_lai",
            "ngay_nghi": date(2025, 2, 24),
            "so_buoi_nghi": 9,
            "ly_do": "Gia đình",
            "noi_den": None,
        },
    ]


PERSONAL_KEYS = tuple(c.key for c in STUDENT_SHEET.columns if c.personal)


def personal_strings(students: list[dict[str, Any]]) -> set[str]:
    """Every personal value of these students as a school would see it written (dates both ways)."""
    out: set[str] = set()
    for student in students:
        for key in PERSONAL_KEYS:
            value = student.get(key)
            if isinstance(value, date):
                out |= {value.strftime("%d/%m/%Y"), value.isoformat()}
            elif isinstance(value, str) and key != "gioi_tinh":  # "Nam" is not identifying
                out.add(value)
    return out


@dataclass
class Workbook:
    """A school workbook to be written with openpyxl; mutators return self for chaining."""

    school: str = SCHOOL
    week: date = WEEK
    classes: list[dict[str, Any]] = field(default_factory=baseline_classes)
    students: list[dict[str, Any]] = field(default_factory=baseline_students)
    title_rows: int = 0
    headers: HeaderStyle = "vietnamese"
    text_dates: bool = False  # dates as text dd/mm/yyyy instead of Excel dates
    extra_columns: bool = False  # STT first, Ghi chú last, on both sheets
    extra_sheets: tuple[str, ...] = ()
    sheet_names: dict[str, str | None] = field(default_factory=dict)  # contract name -> actual, None = drop
    dropped: dict[str, list[str]] = field(default_factory=dict)  # sheet -> contract keys
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    header_overrides: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, key) -> text

    def __post_init__(self) -> None:
        for row in self.classes:
            row.setdefault("ma_truong", self.school)
            row.setdefault("tuan", self.week)

    # -- positions, as the school sees them in Excel --
    @property
    def header_row(self) -> int:
        return self.title_rows + 1

    def excel_row(self, index: int) -> int:
        """Excel row number of data row `index` (0-based) on either sheet."""
        return self.header_row + 1 + index

    def rows(self, sheet: str) -> list[dict[str, Any]]:
        return self.classes if sheet == CLASSES else self.students

    # -- changes --
    def set(self, sheet: str, index: int, key: str, value: Any) -> Workbook:
        self.rows(sheet)[index][key] = value
        return self

    def set_all(self, sheet: str, key: str, value: Any) -> Workbook:
        for row in self.rows(sheet):
            row[key] = value
        return self

    def add_row(self, sheet: str, row: dict[str, Any]) -> Workbook:
        if sheet == CLASSES:
            row = {"ma_truong": self.school, "tuan": self.week, **row}
        self.rows(sheet).append(copy.deepcopy(row))
        return self

    def copy_row(self, sheet: str, index: int, **changes: Any) -> Workbook:
        return self.add_row(sheet, {**self.rows(sheet)[index], **changes})

    def drop_column(self, sheet: str, key: str) -> Workbook:
        self.dropped.setdefault(sheet, []).append(key)
        return self

    def duplicate_column(self, sheet: str, key: str) -> Workbook:
        self.duplicated.setdefault(sheet, []).append(key)
        return self

    def rename_sheet(self, sheet: str, name: str | None) -> Workbook:
        self.sheet_names[sheet] = name
        return self

    def rename_header(self, sheet: str, key: str, text: str) -> Workbook:
        self.header_overrides[(sheet, key)] = text
        return self

    # -- writing --
    def _layout(self, sheet: Sheet) -> list[tuple[str, str | None]]:
        """(header text, contract key or None for an extra column), left to right."""
        layout: list[tuple[str, str | None]] = [(EXTRA_FIRST, None)] if self.extra_columns else []
        for col in sheet.columns:
            if col.key in self.dropped.get(sheet.name, []):
                continue
            text = self.header_overrides.get((sheet.name, col.key), header_text(col, self.headers))
            copies = 1 + self.duplicated.get(sheet.name, []).count(col.key)
            layout += [(text, col.key)] * copies
        if self.extra_columns:
            layout.append((EXTRA_LAST, None))
        return layout

    def _cell(self, value: Any) -> Any:
        if isinstance(value, date) and self.text_dates:
            return value.strftime("%d/%m/%Y")
        return value

    def _write_sheet(self, ws: Worksheet, sheet: Sheet) -> None:
        titles = [
            f"BÁO CÁO CHUYÊN CẦN TUẦN KẾT THÚC NGÀY {self.week:%d/%m/%Y}",
            f"Đơn vị: {self.school}",
        ]
        for r in range(self.title_rows):
            if r < len(titles):
                ws.cell(row=r + 1, column=1, value=titles[r])
        layout = self._layout(sheet)
        for c, (text, _) in enumerate(layout, start=1):
            ws.cell(row=self.header_row, column=c, value=text)
        for i, row in enumerate(self.rows(sheet.name)):
            r = self.excel_row(i)
            for c, (text, key) in enumerate(layout, start=1):
                if key is None:
                    value: Any = i + 1 if text == EXTRA_FIRST else "kiểm tra lại" if i == 0 else None
                else:
                    value = self._cell(row.get(key))
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, date):
                    cell.number_format = "dd/mm/yyyy"  # how a Vietnamese Excel shows dates

    def save(self, path: Path) -> Path:
        wb = openpyxl.Workbook()
        default = wb.active
        for sheet in SHEETS:
            name = self.sheet_names.get(sheet.name, sheet.name)
            if name is None:
                continue
            self._write_sheet(wb.create_sheet(name), sheet)
        for name in self.extra_sheets:
            extra = wb.create_sheet(name)
            extra["A1"] = "Hướng dẫn: điền mỗi lớp một dòng."
            extra["A2"] = "Số liệu nháp"
            extra["B2"] = 123
        if default is not None:
            wb.remove(default)
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path


def baseline(school: str = SCHOOL, week: date = WEEK, **knobs: Any) -> Workbook:
    """A valid workbook for `school` and `week` (its classes carry that code and date)."""
    return Workbook(school=school, week=week, **knobs)


def reference_with_school_closed(target: Path, school_code: str, closed_on: date) -> Path:
    """A copy of the project's reference data in which one school closed on `closed_on`
    (docs/contracts.md#6-reference-data: schools carry validity dates)."""
    shutil.copytree(REFERENCE_DIR, target)
    schools = target / "schools.csv"
    with schools.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["school_code"] == school_code:
            row["valid_to"] = closed_on.isoformat()
    with schools.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target
