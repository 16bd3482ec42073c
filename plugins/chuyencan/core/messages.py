"""Shared helpers for the problems a file's sender is told about: masking, shortening,
filling a catalogue sentence, and the error a cell that cannot be read raises.

Both intakes (school files and police extracts) word their problems with these; a value that
may be personal is never shown, only masked.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chuyencan.core.text import clean_cell_text
from chuyencan.core.wording import catalogue

MASK = catalogue("quarantine_report")["masked"]
SHOWN_CHARS = 60


class CellError(ValueError):
    """A cell that cannot be read as its column's kind; `rule` names the problem."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class Describable(Protocol):
    """What a catalogue sentence may name about a problem."""

    @property
    def sheet(self) -> str | None: ...

    @property
    def row(self) -> int | None: ...

    @property
    def class_name(self) -> str | None: ...

    @property
    def params(self) -> tuple[tuple[str, Any], ...]: ...

    @property
    def header(self) -> str | None: ...

    @property
    def public_value(self) -> str | None: ...


def shorten(value: str, limit: int = SHOWN_CHARS) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def format_message(template: str, issue: Describable) -> str:
    """The catalogue sentence with the issue's place and (masked) value filled in."""
    fields: dict[str, Any] = {
        "sheet": issue.sheet or "",
        "row": issue.row or "",
        "column": issue.header or "",
        "value": issue.public_value or "",
        "class_name": issue.class_name or "",
    }
    fields.update(dict(issue.params))
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        # A catalogue placeholder the caller did not fill: show the sentence rather than fail
        # the whole run over one message.
        return template


# --- dates as schools and police clerks type them -------------------------------------------------

# The year has four digits or two (refused as such); three is a typo, not a two-digit year.
# Anchored, no nested quantifiers: linear in the (already length-capped) cell text.
_DMY = re.compile(
    r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
DATE_CHARS = 40  # longer text is not a date, whatever it holds


def to_date(value: Any) -> date:
    """A cell as a date: Excel dates, Excel serial numbers, text dd/mm/yyyy or yyyy-mm-dd."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel serial date in a cell without a date format.
        if 20_000 <= value <= 80_000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError("not_date")
    if isinstance(value, str):
        text = clean_cell_text(value)
        if len(text) > DATE_CHARS:
            raise CellError("not_date")
        m = _ISO.match(text)
        if m:
            return _make_date(int(m[1]), int(m[2]), int(m[3]))
        m = _DMY.match(text)
        if m:
            if len(m[3]) != 4:
                raise CellError("date_two_digit_year")
            return _make_date(int(m[3]), int(m[2]), int(m[1]))
    raise CellError("not_date")


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError("invalid_date") from None
