"""Weekly files as a school makes them: our template for the week, filled in with openpyxl."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET
from chuyencan.core.reference import Reference
from chuyencan.submissions.school_template import FIRST_DATA_ROW, write_template


@dataclass(frozen=True)
class ClassRow:
    grade: int
    name: str
    enrolled: int
    days: int
    excused: int
    unexcused: int

    @property
    def scheduled(self) -> int:
        return self.enrolled * self.days


@dataclass
class SchoolWeek:
    school_code: str
    week: date
    classes: list[ClassRow]
    students: list[dict[str, object]] = field(default_factory=list)  # contract names -> values


def _typed(cell: Any, value: object) -> None:
    """A value as a school types it: text starting with '=' stays text (Excel would compute a
    formula and store its result; openpyxl would store a formula with no result)."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def write_school_file(ref: Reference, data: SchoolWeek, path: Path, received_at: datetime) -> Path:
    school = ref.school(data.school_code)
    assert school is not None, data.school_code
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(school, data.week, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[CLASS_SHEET.name]
    for offset, c in enumerate(data.classes):
        values = {
            "grade": c.grade,
            "class_name": c.name,
            "enrolled": c.enrolled,
            "school_days": c.days,
            "absent_excused": c.excused,
            "absent_unexcused": c.unexcused,
        }
        for idx, col in enumerate(CLASS_SHEET.columns, start=1):
            if col.name in values:
                _typed(ws.cell(row=FIRST_DATA_ROW + offset, column=idx), values[col.name])
    hs = wb[STUDENT_SHEET.name]
    for offset, student in enumerate(data.students):
        for idx, col in enumerate(STUDENT_SHEET.columns, start=1):
            if col.name in student:
                _typed(hs.cell(row=FIRST_DATA_ROW + offset, column=idx), student[col.name])
    wb.save(path)
    stamp = received_at.timestamp()
    os.utime(path, (stamp, stamp))
    return path
