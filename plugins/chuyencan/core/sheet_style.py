"""The look of every sheet the report writes: Times New Roman, thin black borders, A4 landscape.

Shared by the district report and the schools' restricted lists; every value goes through
`safe_cells.write`, so no text is ever stored as a formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from copy import copy
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from chuyencan.core.safe_cells import CellValue, write

# Per workbook: (font, alignment, format, border, fill) -> the StyleArray of a cell styled so.
_style_cache: WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = WeakKeyDictionary()

COUNT_FORMAT = "#,##0"
CHANGE_FORMAT = "+#,##0;-#,##0;0"  # a change since the last report, with its sign
CHANGE_RATE_FORMAT = "+0.0%;-0.0%;0.0%"
RATE_FORMAT = "0.0%"
DATE_FORMAT = "dd/mm/yyyy"

# Vietnamese administrative documents are set in Times New Roman (Decree 30/2020/NĐ-CP).
FONT_NAME = "Times New Roman"
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")

CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center", indent=1)
OVERFLOW = Alignment(horizontal="left", vertical="center")  # long text runs into empty cells


@cache
def font(
    size: int = 12,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: str | None = None,
    color: str | None = None,
) -> Font:
    # Cached: the same arguments give the same object, so `put` recognises a style by identity.
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic, underline=underline, color=color)


def put(
    ws: Worksheet,
    row: int,
    col: int,
    value: CellValue,
    *,
    style: Font | None = None,
    align: Alignment | None = None,
    fmt: str | None = None,
    border: bool = False,
    fill: PatternFill | None = None,
) -> None:
    """Write a value with a style. Styles are looked up once per workbook, then copied.

    openpyxl hashes every style object on every assignment, which made styling most of the
    time spent writing a workbook; a cell's style is a small array of indices that can be
    copied from the first cell that had the same style.
    """
    cell = write(ws, row, col, value)
    styles = _style_cache.setdefault(ws.parent, {})
    key = (id(style or font()), id(align), fmt, border, id(fill), cell.quotePrefix)
    known = styles.get(key)
    if known is not None:
        cell._style = copy(known)
        return
    cell.font = style or font()
    if align is not None:
        cell.alignment = align
    if fmt is not None:
        cell.number_format = fmt
    if border:
        cell.border = BORDER
    if fill is not None:
        cell.fill = fill
    styles[key] = copy(cell._style)


def merge(
    ws: Worksheet,
    row: int,
    first: int,
    last: int,
    value: CellValue,
    *,
    style: Font | None = None,
    align: Alignment = CENTER,
    height: float | None = None,
) -> None:
    """A value written across columns first..last of one row."""
    put(ws, row, first, value, style=style, align=align)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    if height is not None:
        ws.row_dimensions[row].height = height


def header_row(
    ws: Worksheet, row: int, headers: Sequence[str], *, size: int = 11, height: float = 32
) -> None:
    for col, text in enumerate(headers, start=1):
        put(ws, row, col, text, style=font(size, bold=True), align=CENTER, border=True, fill=HEADER_FILL)
    ws.row_dimensions[row].height = height


def confidential_heading(
    ws: Worksheet, col: int, *, holder: str, confidential: str, title: str, as_of: str, summary: str
) -> None:
    """Rows 1-5 of a restricted list from column `col`: who holds it, the confidentiality line
    in red, the title, the date and a one-line summary. The lines overflow into the empty cells
    to their right; no merged cells: a province writes hundreds of these files and merging is
    the slowest thing openpyxl does."""
    put(ws, 1, col, holder, style=font(12, bold=True), align=OVERFLOW)
    put(ws, 2, col, confidential, style=font(11, bold=True, color="C00000"), align=OVERFLOW)
    put(ws, 3, col, title, style=font(14, bold=True), align=OVERFLOW)
    ws.row_dimensions[3].height = 24
    put(ws, 4, col, as_of, style=font(12, italic=True), align=OVERFLOW)
    put(ws, 5, col, summary, style=font(12), align=OVERFLOW)


def widths(ws: Worksheet, values: Sequence[float]) -> None:
    for i, width in enumerate(values, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


# A4 landscape less the margins below, in points.
_MARGIN_SIDE, _MARGIN_TOP = 0.5, 0.6
PRINTABLE_WIDTH = (11.69 - 2 * _MARGIN_SIDE) * 72
PRINTABLE_HEIGHT = (8.27 - 2 * _MARGIN_TOP) * 72 - 24  # less the footer
# Portrait A4, for a first page whose table is longer than it is wide.
PORTRAIT_WIDTH = (8.27 - 2 * _MARGIN_SIDE) * 72
PORTRAIT_HEIGHT = (11.69 - 2 * _MARGIN_TOP) * 72 - 24
DEFAULT_ROW_HEIGHT = 15.75  # Excel's row height for 12 pt Times New Roman
POINTS_PER_WIDTH_UNIT = 5.6


def page_setup(
    ws: Worksheet,
    title_rows: str | None,
    *,
    freeze: str | None = None,
    first_page_rows: int | None = None,
    portrait: bool = False,
) -> None:
    """A4 landscape (or portrait), fit to the page width, header rows repeated on every page.

    With `first_page_rows`, the sheet is scaled instead so that those rows fill page 1 exactly
    (a report's first page: the header block and its table, never split).
    """
    ws.page_setup.orientation = "portrait" if portrait else "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if first_page_rows is None:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as needed
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        ws.page_setup.scale = _scale_for(ws, first_page_rows, portrait=portrait)
    ws.page_margins.left = ws.page_margins.right = _MARGIN_SIDE
    ws.page_margins.top = ws.page_margins.bottom = _MARGIN_TOP
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = FONT_NAME
    if title_rows:
        ws.print_title_rows = title_rows
    if freeze:
        ws.freeze_panes = freeze


def fit_rows(ws: Worksheet, first: int, last: int, *, size: int = 12) -> None:
    """Give wrapped text rows the height their longest cell needs.

    Neither openpyxl nor LibreOffice sizes rows on opening, so a long school name or a long
    heading would otherwise spill over the next row when printed.
    """
    line_height = size * 1.35
    for row in range(first, last + 1):
        lines = 1
        for cell in ws[row]:
            if not isinstance(cell.value, str) or not (cell.alignment and cell.alignment.wrap_text):
                continue
            if cell.coordinate in ws.merged_cells:  # spans several columns: sized by the caller
                continue
            width = ws.column_dimensions[cell.column_letter].width or 8.43
            # About one character per width unit at 11 pt; fewer as the font grows.
            per_line = max(1.0, width * 11 / size * 1.15)
            lines = max(lines, math.ceil(len(cell.value) / per_line))
        if lines > 1:
            current = ws.row_dimensions[row].height or 0
            ws.row_dimensions[row].height = max(current, lines * line_height + 2)


def _scale_for(ws: Worksheet, rows: int, *, portrait: bool = False) -> int:
    height = sum(ws.row_dimensions[r].height or DEFAULT_ROW_HEIGHT for r in range(1, rows + 1))
    width = sum(
        (ws.column_dimensions[get_column_letter(c)].width or 8.43) * POINTS_PER_WIDTH_UNIT
        for c in range(1, ws.max_column + 1)
    )
    page_height, page_width = (
        (PORTRAIT_HEIGHT, PORTRAIT_WIDTH) if portrait else (PRINTABLE_HEIGHT, PRINTABLE_WIDTH)
    )
    return max(10, min(100, math.floor(100 * min(page_height / height, page_width / width))))
