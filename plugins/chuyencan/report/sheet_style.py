"""The look of every sheet the report writes: Times New Roman, thin black borders, A4 landscape.

Shared by the district report and the schools' restricted lists; every value goes through
`safe_cells.write`, so no text is ever stored as a formula.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from chuyencan.report.safe_cells import CellValue, write

COUNT_FORMAT = "#,##0"
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
RIGHT = Alignment(horizontal="right", vertical="center")


def font(
    size: int = 12,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: str | None = None,
    color: str | None = None,
) -> Font:
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
    write(
        ws,
        row,
        col,
        value,
        font=style or font(),
        alignment=align,
        number_format=fmt,
        border=BORDER if border else None,
        fill=fill,
    )


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


def widths(ws: Worksheet, values: Sequence[float]) -> None:
    for i, width in enumerate(values, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def page_setup(ws: Worksheet, title_rows: str | None, *, freeze: str | None = None) -> None:
    """A4 landscape, fit to the page width, header rows repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = FONT_NAME
    if title_rows:
        ws.print_title_rows = title_rows
    if freeze:
        ws.freeze_panes = freeze
