"""Write cell values so that no spreadsheet program ever runs them as formulas.

School names, communes and free text come from files the schools control. A value such as
`=HYPERLINK(...)` or `@SUM(...)` typed into a school's workbook must reach the district's
report as the text it is. openpyxl turns any string starting with "=" into a formula, and
Excel and LibreOffice evaluate text starting with "+", "-" or "@" when a user edits the cell,
and CSV exports of it elsewhere. Every text cell the project writes goes through `set_value`:
the cell is stored as a string (`t="inlineStr"`, never a formula) and carries Excel's
quote-prefix flag, the stored form of a leading apostrophe.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

# Characters that make a spreadsheet treat text as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

CellValue = str | int | float | date | datetime | None


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def clean_text(text: str) -> str:
    """Drop the control characters that the xlsx format cannot hold (openpyxl refuses them)."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", text))


def set_value(cell: Cell, value: CellValue) -> Cell:
    """Put a value in a cell; text is always stored as text, never as a formula."""
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        # Assigning a str beginning with "=" makes openpyxl write a formula: force a string.
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def write(ws: Worksheet, row: int, column: int, value: CellValue, **style: Any) -> Cell:
    """`ws.cell(row, column)` with a safe value and the given style attributes (font, border…)."""
    cell = set_value(ws.cell(row=row, column=column), value)
    for name, setting in style.items():
        if setting is not None:
            setattr(cell, name, setting)
    return cell
