"""Read a school's weekly workbook into canonical tables (docs/contracts.md#3-school-weekly-submission).

What the contract allows, the reader accepts: title rows above the header row, headers in any
case, with or without diacritics, or the ASCII keys; extra columns and sheets; Excel dates or
text dd/mm/yyyy. What it cannot read it reports as an Issue (sheet, row, column, value) and
leaves the cell empty; rule checks happen later, in the GX suites (`validate.py`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine as pc

from chuyencan.core.contract import SHEETS, STUDENT_SHEET, Column, Sheet, header_keys, sex_code, status_code
from chuyencan.core.inbox import READ_FAILURES, SCHOOL_LIMITS, Limits, Refusal, XlsxScan, check_file
from chuyencan.core.messages import CellError, to_date
from chuyencan.core.text import clean_cell_text, fold, nfc
from chuyencan.submissions.issues import Issue

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
MAX_ROWS_PER_SHEET = 5_000  # a district school has < 100 classes and a few hundred students
MAX_CELL_CHARS = 500
# No count in a school's weekly file comes near this (a class's absences are at most sĩ số x 6,
# a year's sessions a few hundred); anything above is a pasted ID or phone number, and would
# overflow the warehouse's integer columns.
MAX_COUNT = 100_000

_INT_TEXT = re.compile(r"^[+-]?\d{1,18}(?:[.,]0{1,18})?$")


@dataclass
class SheetData:
    frame: pd.DataFrame  # canonical columns (contract names) + source_row, for validation
    header_row: int
    records: list[dict[str, Any]] = field(default_factory=list)  # the same rows, for loading


@dataclass
class ParsedWorkbook:
    path: Path
    sheets: dict[str, SheetData] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not any(i.rule in UNREADABLE_RULES for i in self.issues)

    def frame(self, sheet: Sheet) -> pd.DataFrame | None:
        data = self.sheets.get(sheet.name)
        return None if data is None else data.frame


UNREADABLE_RULES = frozenset(
    {
        "not_xlsx",
        "xls_format",
        "password_protected",
        "corrupt_file",
        "empty_file",
        "too_large",
        "macro_file",
        "file_too_large",
        "sheet_too_big",
        "reader_failed",
        "unreadable_file",
        "unreadable_folder",
        "link_outside_inbox",
        "not_a_file",
    }
)


def refusal_issue(refusal: Refusal) -> Issue:
    return Issue("error", refusal.rule, params=refusal.params)


def read_workbook(path: Path, limits: Limits = SCHOOL_LIMITS) -> ParsedWorkbook:
    """The workbook's two sheets, or why they cannot be read. Never raises on what a file
    holds: a reader failure on hostile bytes is the file's problem (`reader_failed`)."""
    try:
        return _read_workbook(path, limits)
    except READ_FAILURES as exc:
        log.warning("reading %s failed: %s", path.name, type(exc).__name__)
        parsed = ParsedWorkbook(path=path)
        parsed.issues.append(Issue("error", "reader_failed"))
        return parsed


def _read_workbook(path: Path, limits: Limits) -> ParsedWorkbook:
    parsed = ParsedWorkbook(path=path)
    scan: XlsxScan = check_file(path, limits)
    if scan.refusal is not None:
        parsed.issues.append(refusal_issue(scan.refusal))
        return parsed
    try:
        workbook = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        parsed.issues.append(Issue("error", "password_protected"))
        return parsed
    except (pc.CalamineError, OSError, ValueError):
        parsed.issues.append(Issue("error", "corrupt_file"))
        return parsed
    by_fold: dict[str, list[str]] = {}
    for name in workbook.sheet_names:
        by_fold.setdefault(fold(name), []).append(name)
    for sheet in SHEETS:
        candidates = by_fold.get(fold(sheet.name), []) + [
            n for n in by_fold.get(fold(sheet.title), []) if fold(sheet.title) != fold(sheet.name)
        ]
        if not candidates:
            parsed.issues.append(Issue("error", "missing_sheet", sheet=sheet.name))
            continue
        if len(candidates) > 1:
            # "ChuyenCan" and an old draft "Chuyên Cần": which one the school means is a guess.
            parsed.issues.append(
                Issue(
                    "error", "ambiguous_sheet", sheet=sheet.name, params=(("names", ", ".join(candidates)),)
                )
            )
            continue
        actual = candidates[0]
        if actual in scan.uncomputed:
            # The cells read as empty; "missing value" would send the school looking for a
            # number it can see in Excel.
            parsed.issues.append(Issue("error", "formula_not_computed", sheet=sheet.name))
            continue
        try:
            rows = workbook.get_sheet_by_name(actual).to_python(skip_empty_area=False)
        except (pc.CalamineError, ValueError):
            parsed.issues.append(Issue("error", "corrupt_file", sheet=sheet.name))
            continue
        data = _read_sheet(sheet, rows, parsed.issues)
        if data is not None:
            parsed.sheets[sheet.name] = data
    return parsed


def _find_header(sheet: Sheet, rows: list[list[Any]]) -> tuple[int, dict[int, Column], list[Issue]] | None:
    index = {key: col for col in sheet.columns for key in header_keys(col)}
    best: tuple[int, dict[int, list[Column]]] | None = None
    best_hits = 0
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[int, list[Column]] = {}
        for c, cell in enumerate(row):
            col = index.get(fold(cell)) if isinstance(cell, str) else None
            if col is not None:
                found.setdefault(c, []).append(col)
        hits = len({col.name for cols in found.values() for col in cols})
        if hits > best_hits:
            best, best_hits = (r, found), hits
    if best is None or best_hits < 2:
        return None
    r, found = best
    issues: list[Issue] = []
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for c, cols in sorted(found.items()):
        col = cols[0]
        if col.name in seen:
            issues.append(Issue("error", "duplicate_column", sheet=sheet.name, row=r + 1, column=col.key))
            continue
        seen[col.name] = c
        mapping[c] = col
    for col in sheet.columns:
        if col.required and col.name not in seen:
            issues.append(Issue("error", "missing_column", sheet=sheet.name, row=r + 1, column=col.key))
    return r, mapping, issues


def _read_sheet(sheet: Sheet, rows: list[list[Any]], issues: list[Issue]) -> SheetData | None:
    header = _find_header(sheet, rows)
    if header is None:
        if sheet.name == STUDENT_SHEET.name and not any(_present(v) for row in rows for v in row):
            # A school with nobody to report may leave the list sheet entirely blank.
            return SheetData(frame=pd.DataFrame(columns=["source_row", *sheet.names]), header_row=0)
        issues.append(Issue("error", "header_not_found", sheet=sheet.name))
        return None
    header_idx, mapping, header_issues = header
    issues.extend(header_issues)
    if any(i.severity == "error" for i in header_issues):
        return None

    records: list[dict[str, Any]] = []
    data_rows = rows[header_idx + 1 :]
    if len(data_rows) > MAX_ROWS_PER_SHEET:
        # Trailing formatted-but-empty rows are common; count only rows that hold something.
        filled = sum(1 for row in data_rows if any(_present(v) for v in row))
        if filled > MAX_ROWS_PER_SHEET:
            issues.append(
                Issue("error", "too_many_rows", sheet=sheet.name, params=(("limit", MAX_ROWS_PER_SHEET),))
            )
            return None
    for offset, row in enumerate(data_rows):
        excel_row = header_idx + offset + 2
        cells = {col: row[c] if c < len(row) else None for c, col in mapping.items()}
        if not any(_present(v) for col, v in cells.items() if not col.prefilled):
            continue  # empty, or a template row with only the prefilled school and week
        if _is_total_row(cells):
            # Schools add a "Tổng cộng" line out of habit; it is not a class or a student, and
            # "grade missing" on it would send them looking for a mistake they did not make.
            issues.append(Issue("error", "total_row", sheet=sheet.name, row=excel_row))
            continue
        record: dict[str, Any] = {"source_row": excel_row}
        for col, value in cells.items():
            record[col.name] = _coerce(sheet, col, value, excel_row, issues)
        records.append(record)

    for record in records:
        for name in sheet.names:
            record.setdefault(name, None)  # optional columns the school left out
    frame = pd.DataFrame.from_records(records, columns=["source_row", *sheet.names])
    if sheet.name == "ChuyenCan" and frame.empty:
        issues.append(Issue("error", "no_classes", sheet=sheet.name))
    return SheetData(frame=frame, header_row=header_idx + 1, records=records)


# A totals line says "Tổng cộng", "Tổng số", "Tổng" or "Cộng" where a class or a student's name
# goes (any case, with or without diacritics, maybe followed by more words). The second words
# allowed depend on the column: a student may be called "Tống Khôi" or "Tống Toàn", a class not.
_TOTAL_SECOND_WORDS = {
    "class_name": {"cong", "so", "khoi", "toan"},
    "grade": {"cong", "so", "khoi", "toan"},
    "full_name": {"cong", "so"},
}


def _is_total_row(cells: dict[Column, Any]) -> bool:
    for col, value in cells.items():
        seconds = _TOTAL_SECOND_WORDS.get(col.name)
        if seconds is not None and isinstance(value, str):
            # Word by word: "Tống Sơn Tùng" is a student, "Tổng số" and "TỔNG CỘNG" are not.
            words = [fold(w) for w in value.split()][:2]
            if words and words[0] in {"tong", "cong"} and (len(words) == 1 or words[1] in seconds):
                return True
    return False


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _coerce(sheet: Sheet, col: Column, value: Any, row: int, issues: list[Issue]) -> Any:
    if not _present(value):
        return None
    try:
        match col.kind:
            case "int":
                return _to_int(value)
            case "date":
                return to_date(value)
            case "code":
                return _to_code(col, value)
            case "sex":
                text = _to_text(value)
                return sex_code(text) or text
            case "status":
                text = _to_text(value)
                return status_code(text) or text
            case _:
                text = _to_text(value)
                if len(text) > MAX_CELL_CHARS:
                    raise CellError("text_too_long")
                return text
    except CellError as exc:
        issues.append(
            Issue("error", exc.rule, sheet=sheet.name, row=row, column=col.key, value=_display(value))
        )
        return None


def _display(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell_text(str(value))


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        raise CellError("not_text")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return nfc(clean_cell_text(str(value)))


def _to_code(col: Column, value: Any) -> str:
    if col.name == "personal_id" and isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer():
            raise CellError("personal_id_format")
        digits = str(int(value))
        # Typed as a number, the ID loses its leading zeros. Every province code is 001-096,
        # so a 12-digit ID always starts with 0: restoring them is exact, not a guess.
        return digits.zfill(12) if 10 <= len(digits) <= 11 else digits
    text = _to_text(value)
    if len(text) > MAX_CELL_CHARS:
        raise CellError("text_too_long")
    if col.name == "personal_id":
        return re.sub(r"[\s.\-]", "", text)
    return text.upper() if col.name == "school_code" else text


def _to_int(value: Any) -> int:
    number = _as_int(value)
    if abs(number) > MAX_COUNT:
        raise CellError("number_too_large")
    return number


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("not_integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():  # False for inf and nan
            return int(value)
        raise CellError("not_integer")
    if isinstance(value, str):
        text = clean_cell_text(value).replace(" ", "")
        if _INT_TEXT.match(text):
            return int(re.split(r"[.,]", text)[0])
        if re.fullmatch(r"[+-]?\d{19,}+", text[: MAX_CELL_CHARS + 1]):
            raise CellError("number_too_large")
    raise CellError("not_integer")
