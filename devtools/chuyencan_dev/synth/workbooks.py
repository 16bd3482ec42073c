"""The weekly .xlsx files: content from the simulation, layout the way schools vary it.

Content (`Table`: contract columns and typed values) is built once per school and week; a broken
file is that content with one mistake applied (see mistakes.py); `render` then writes it with the
school's layout. Everything the layout varies is allowed by the contract: title rows, header
spellings, dates as text dd/mm/yyyy, an STT column, an extra sheet, labels or codes.
"""

from __future__ import annotations

import random
import zipfile
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter

from chuyencan.core.contract import (
    CLASS_SHEET,
    REASON_LABELS,
    SEX_LABELS,
    STATUS_LABELS,
    STUDENT_SHEET,
    Column,
    Sheet,
    header_keys,
)
from chuyencan.core.text import fold, strip_diacritics

# Header spellings seen in district spreadsheets, each checked below against the contract.
HUMAN_HEADERS = {
    "week_ending": "Tuần kết thúc ngày",
    "full_name": "Họ tên",
    "personal_id": "Mã định danh",
    "village": "Thôn/bản",
    "commune": "Xã/phường",
    "sessions_missed": "Số buổi nghỉ",
    "first_day_missed": "Ngày nghỉ",
    "destination": "Nơi làm việc",
}
for _sheet in (CLASS_SHEET, STUDENT_SHEET):
    for _col in _sheet.columns:
        if _col.name in HUMAN_HEADERS and fold(HUMAN_HEADERS[_col.name]) not in header_keys(_col):
            raise RuntimeError(
                f"header spelling {HUMAN_HEADERS[_col.name]!r} is not accepted by the contract"
            )

HEADER_STYLES = ("template", "plain", "key", "upper", "human")
REASON_TEXTS = {
    "kinh_te": "Nhà nghèo, khó khăn",
    "di_lam_an_xa": "Đi làm thuê",
    "tao_hon": "Lấy chồng sớm",
    "hoc_luc": "Học yếu, chán học",
    "xa_truong": "Nhà xa trường",
    "gia_dinh": "Bố mẹ không cho đi học",
    "khac": "Khác",
}
EXTRA_SHEETS = ("Hướng dẫn", "Sheet1", "Tổng hợp")


@dataclass
class Table:
    sheet: Sheet
    columns: list[str]  # contract column names, in file order
    rows: list[dict[str, Any]]
    # Filled by render: the worksheet row number of the header (1-based).
    header_row: int = 0

    def copy(self) -> Table:
        return Table(self.sheet, list(self.columns), [dict(r) for r in self.rows])

    def excel_row(self, index: int) -> int:
        return self.header_row + 1 + index


@dataclass(frozen=True)
class Layout:
    title_rows: int
    blank_after_title: bool
    header_style: str
    text_dates: bool
    stt: bool
    sheet_titles: bool  # Vietnamese sheet titles ("Chuyên cần") instead of "ChuyenCan"
    extra_sheet: str | None
    extra_first: bool
    status_style: str  # code | label | plain
    reason_style: str  # code | label | text
    commune_style: str  # name | prefixed | alias
    village_prefix: str
    ethnicity: bool
    parent: bool
    sort_by_status: bool


def school_layout(rng: random.Random) -> Layout:
    """A school's habitual layout; schools reuse last week's file, so it is stable per school."""
    titles = rng.choices((0, 1, 2, 3), weights=(40, 20, 20, 20))[0]
    return Layout(
        title_rows=titles,
        blank_after_title=titles > 0 and rng.random() < 0.3,
        header_style=rng.choices(HEADER_STYLES, weights=(45, 22, 13, 10, 10))[0],
        text_dates=rng.random() < 0.25,
        stt=rng.random() < 0.35,
        sheet_titles=rng.random() < 0.15,
        extra_sheet=rng.choice(EXTRA_SHEETS) if rng.random() < 0.15 else None,
        extra_first=rng.random() < 0.5,
        status_style=rng.choices(("code", "label", "plain"), weights=(40, 50, 10))[0],
        reason_style=rng.choices(("code", "label", "text"), weights=(25, 45, 30))[0],
        commune_style=rng.choices(("name", "prefixed", "alias"), weights=(70, 15, 15))[0],
        village_prefix=rng.choices(("", "Thôn ", "Bản "), weights=(70, 20, 10))[0],
        ethnicity=rng.random() < 0.85,
        parent=rng.random() < 0.8,
        sort_by_status=rng.random() < 0.3,
    )


def vary(layout: Layout, rng: random.Random) -> Layout:
    """Now and then someone else fills the file in and it comes out a bit different."""
    if rng.random() >= 0.1:
        return layout
    other = school_layout(rng)
    return Layout(
        **{f.name: getattr(other if rng.random() < 0.3 else layout, f.name) for f in fields(Layout)}
    )


def header_text(column: Column, style: str) -> str:
    if style == "plain":
        return strip_diacritics(column.header)
    if style == "key":
        return column.key
    if style == "upper":
        return column.header.upper()
    if style == "human":
        return HUMAN_HEADERS.get(column.name, column.header)
    return column.header


def status_text(code: str, style: str) -> str:
    if style == "code":
        return code
    label = STATUS_LABELS[code]
    return strip_diacritics(label).lower() if style == "plain" else label


def reason_text(code: str, style: str) -> str:
    if style == "code":
        return code
    return REASON_TEXTS[code] if style == "text" else REASON_LABELS[code]


def sex_text(female: bool) -> str:
    return SEX_LABELS["F" if female else "M"]


@dataclass
class WorkbookContent:
    school_code: str
    week: date
    titles: list[str]  # title lines, most general first
    tables: list[Table] = field(default_factory=list)

    def copy(self) -> WorkbookContent:
        return WorkbookContent(
            self.school_code, self.week, list(self.titles), [t.copy() for t in self.tables]
        )

    def table(self, sheet: Sheet) -> Table:
        return next(t for t in self.tables if t.sheet is sheet)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp, so the same content gives the same bytes."""

    def __init__(self, path: Path, stamp: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(path, "w", zipfile.ZIP_DEFLATED)
        self._stamp = stamp

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            self.writestr(arcname or str(filename), fh.read())


def save_workbook(wb: Workbook, path: Path, when: datetime) -> None:
    """Save with document properties and zip timestamps set to the file time (deterministic)."""
    utc = when.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    wb.properties.created = utc
    wb.properties.modified = utc
    wb.properties.creator = "Microsoft Office User"
    local = when.replace(tzinfo=None)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    archive = _FixedTimeZip(path, stamp)
    try:
        ExcelWriter(wb, archive).save()
    finally:
        archive.close()


_GUIDE = (
    "Hướng dẫn điền báo cáo chuyên cần",
    "Sheet ChuyenCan: mỗi lớp một dòng; số ngày vắng tính theo lượt học sinh.",
    "Sheet HocSinh: học sinh bỏ học, vắng từ 3 ngày trở lên trong tuần, có nguy cơ bỏ học hoặc đã trở lại.",
    "Tình trạng: Bỏ học / Vắng dài ngày / Nguy cơ bỏ học / Đã trở lại.",
    "Ngày tháng ghi theo dạng ngày/tháng/năm.",
)


def _cell(ws: Any, value: Any, layout: Layout) -> Any:
    """A value as the layout writes it: dates as text dd/mm/yyyy or as Excel dates."""
    if not isinstance(value, date):
        return value
    if layout.text_dates:
        return f"{value:%d/%m/%Y}"
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "dd/mm/yyyy"
    return cell


def render(content: WorkbookContent, layout: Layout, path: Path, when: datetime) -> None:
    wb = Workbook(write_only=True)

    def extra() -> None:
        ws = wb.create_sheet(layout.extra_sheet or "Sheet1")
        if layout.extra_sheet == "Hướng dẫn":
            for line in _GUIDE:
                ws.append([line])
        elif layout.extra_sheet == "Tổng hợp":
            ws.append(["Tổng số lớp", len(content.tables[0].rows)])
            ws.append(["Tổng số học sinh trong danh sách", len(content.tables[-1].rows)])

    if layout.extra_sheet and layout.extra_first:
        extra()
    for table in content.tables:
        ws = wb.create_sheet(table.sheet.title if layout.sheet_titles else table.sheet.name)
        row = 0
        if layout.title_rows:
            titles = list(content.titles)
            if table.sheet is STUDENT_SHEET:
                titles[-1] = "DANH SÁCH HỌC SINH BỎ HỌC, VẮNG DÀI NGÀY, CÓ NGUY CƠ BỎ HỌC"
            for line in titles[-layout.title_rows :]:
                ws.append([line])
                row += 1
            if layout.blank_after_title:
                ws.append([])
                row += 1
        headers = [header_text(table.sheet.column(name), layout.header_style) for name in table.columns]
        ws.append((["STT"] if layout.stt else []) + headers)
        row += 1
        table.header_row = row
        for n, values in enumerate(table.rows, start=1):
            cells: list[Any] = [n] if layout.stt else []
            cells += [_cell(ws, values.get(name), layout) for name in table.columns]
            ws.append(cells)
    if layout.extra_sheet and not layout.extra_first:
        extra()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(wb, path, when)
